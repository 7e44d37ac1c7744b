package rest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// isVersion checks a version response: id, state, deactivatedAt ("" for
// null) and data ("" for no data member).
func isVersion(id uint32, state, deactivatedAt, data string) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		checkVersion(t, decode[api.SecretVersion](t, r), id, state, deactivatedAt, data)
	}
}

func checkVersion(t *testing.T, v api.SecretVersion, id uint32, state, deactivatedAt, data string) {
	t.Helper()
	want(t, "id", v.ID, id)
	want(t, "state", v.State, state)
	got := ""
	if v.DeactivatedAt != nil {
		got = *v.DeactivatedAt
	}
	want(t, "deactivatedAt", got, deactivatedAt)
	wantData(t, "version", &v, data)
}

func TestListVersions(t *testing.T) {
	t.Parallel()
	ids := func(want ...uint32) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			var got []uint32
			for _, v := range decode[[]api.SecretVersion](t, r) {
				got = append(got, v.ID)
				if v.Data != nil {
					t.Errorf("version %d carries data", v.ID)
				}
			}
			wantIDs(t, "ids", got, want)
		}
	}
	cases := []apiCase{
		{name: "200/ascending, with every state", target: "/secret/prod%2Fdb/version", status: 200, golden: "version_list",
			setup: func(e *env) {
				seedDB(e)
				e.WriteSecret("prod/db", `{"v":3}`)
				e.clock.Advance(time.Hour)
				e.SetVersionState("prod/db", 2, "deactivated")
				e.SetVersionState("prod/db", 3, "deleted")
			}, check: func(t *testing.T, e *env, r *response) {
				ids(1, 2, 3)(t, e, r)
				vs := decode[[]api.SecretVersion](t, r)
				for i, st := range []string{"active", "deactivated", "deleted"} {
					want(t, fmt.Sprintf("version %d state", i+1), vs[i].State, st)
				}
			}},
		{name: "200/pruned versions are absent, deleted ones present", target: "/secret/p/version", status: 200,
			setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":3}`)
				e.writeN("p", 4)
				e.SetVersionState("p", 4, "deleted")
			}, check: ids(3, 4, 5)},
		{name: "200/an automatic deactivation is shown", target: "/secret/p/version", status: 200,
			setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"90m"}`)
				e.clock.Advance(time.Hour)
				e.WriteSecret("p", `{}`)
				e.clock.Advance(time.Hour)
			}, check: func(t *testing.T, e *env, r *response) {
				vs := decode[[]api.SecretVersion](t, r)
				want(t, "version 1 state", vs[0].State, "deactivated")
				want(t, "version 1 deactivatedAt", *vs[0].DeactivatedAt, at(90*time.Minute))
				want(t, "version 2 state", vs[1].State, "active")
			}},
		{name: "200/raw slashes: the versions of prod/db", setup: seedDB, target: "/secret/prod/db/version", status: 200,
			check: ids(1, 2)},
		{name: "200/encoded last segment named version: the versions of prod/version", target: "/secret/prod%2Fversion/version",
			status: 200, setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
				e.WriteSecret("prod/version", `{}`)
			}, check: ids(1, 2)},
		{name: "200/raw prod/version: the versions of prod", target: "/secret/prod/version", status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
				e.WriteSecret("prod/version", `{}`)
			}, check: ids(1)},
		{name: "200/includeData is ignored", setup: seedDB, target: "/secret/prod%2Fdb/version?includeData=true", status: 200,
			check: ids(1, 2)},
		{name: "404/unknown secret", target: "/secret/prod%2Fdb/version", status: 404, errID: "SecretNotFound"},
		{name: "400/double-encoded path", target: "/secret/prod%252Fdb/version", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path of 256 characters", target: "/secret/" + esc(pathOfLen(256)) + "/version", status: 400,
			errID: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, "/secret/prod%2Fdb/version", "", 200, false)...)
	runCases(t, "GET", cases)
}

func TestAddVersion(t *testing.T) {
	t.Parallel()
	seed := func(e *env) {
		e.CreateSecret("prod/db", `{"v":1}`)
		e.clock.Advance(time.Hour)
	}
	const target = "/secret/prod%2Fdb/version"
	body := `{"data":{"v":2}}`
	added := func(id uint32, data string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			isVersion(id, "active", "", "")(t, e, r)
			want(t, "createdAt", decode[api.SecretVersion](t, r).CreatedAt, at(time.Hour))
			s := e.getSecret("/secret/prod%2Fdb?includeData=true")
			want(t, "currentVersion", s.Metadata.CurrentVersion, id)
			want(t, "updatedAt", s.Metadata.UpdatedAt, at(time.Hour))
			wantData(t, "current version", s.Version, data)
		}
	}
	cases := []apiCase{
		{name: "200/new version", setup: seed, target: target, body: body, status: 200, golden: "version_add",
			check: added(2, `{"v":2}`)},
		{name: "200/data null is the empty object", setup: seed, target: target, body: `{"data":null}`, status: 200,
			check: added(2, `{}`)},
		{name: "200/unknown members are ignored", setup: seed, target: target, body: `{"data":{"v":2},"cas":9}`, status: 200,
			check: added(2, `{"v":2}`)},
		{name: "400/missing data", setup: seed, target: target, body: `{}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/data is not an object", setup: seed, target: target, body: `{"data":"s3cr3t"}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "200/data of 65,536 bytes", setup: seed, target: target, body: `{"data":` + dataOfSize(65536) + `}`, status: 200,
			check: added(2, dataOfSize(65536))},
		{name: "400/data of 65,537 bytes", setup: seed, target: target, body: `{"data":` + dataOfSize(65537) + `}`, status: 400,
			errID: "SecretDataMaxExceeded"},
		{name: "400/duplicate key in data", setup: seed, target: target, body: `{"data":{"a":{"k":1,"k":2}}}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "200/data nested 64 levels", setup: seed, target: target, body: `{"data":` + nested(64) + `}`, status: 200,
			check: added(2, nested(64))},
		{name: "400/data nested 65 levels", setup: seed, target: target, body: `{"data":` + nested(65) + `}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/empty top-level key in data", setup: seed, target: target, body: `{"data":{"":"x"}}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		// Check-and-set (okms-rest.md 3.3).
		{name: "200/cas equal to the current version", setup: seed, target: target + "?cas=1", body: body, status: 200,
			check: added(2, `{"v":2}`)},
		{name: "400/cas mismatch", setup: seed, target: target + "?cas=2", body: body, status: 400, errID: "SecretCasMismatch",
			check: casRefused},
		{name: "400/cas=0 on a secret that has a version", setup: seed, target: target + "?cas=0", body: body, status: 400,
			errID: "SecretCasMismatch"},
		{name: "400/cas required by the secret", setup: seedCAS, target: target, body: body, status: 400, errID: "SecretCasRequired",
			check: casRefused},
		{name: "400/cas required by secretConfig", setup: seedCASDomain, target: target, body: body, status: 400,
			errID: "SecretCasRequired"},
		{name: "200/cas given while required", setup: seedCASDomain, target: target + "?cas=1", body: body, status: 200,
			check: isVersion(2, "active", "", "")},
		{name: "400/cas=-1", setup: seed, target: target + "?cas=-1", body: body, status: 400, errID: "SecretCasMinRequired"},
		{name: "400/cas=24001", setup: seed, target: target + "?cas=24001", body: body, status: 400, errID: "SecretCasMaxExceeded"},
		{name: "400/cas=abc", setup: seed, target: target + "?cas=abc", body: body, status: 400, errID: "QueryParameterInvalid"},
		// Retention and schedules.
		{name: "200/versions beyond maxVersions are pruned", target: "/secret/p/version", body: body, status: 200,
			setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("p", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				isVersion(3, "active", "", "")(t, e, r)
				wantIDs(t, "versions", e.versionIDs("p"), []uint32{2, 3})
				want(t, "oldestVersion", e.getSecret("/secret/p").Metadata.OldestVersion, 2)
			}},
		{name: "200/a new version is scheduled for deactivation, invisibly", target: "/secret/p/version", body: body, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`) },
			check: func(t *testing.T, e *env, r *response) {
				isVersion(2, "active", "", "")(t, e, r)
				e.clock.Advance(time.Hour)
				v := e.getVersion("p", 2)
				want(t, "state one hour later", v.State, "deactivated")
				wantData(t, "one hour later", &v, "")
			}},
		{name: "404/unknown secret", target: target, body: body, status: 404, errID: "SecretNotFound"},
		// Addressing (okms-rest.md 1.2).
		{name: "200/raw-slash path", setup: seed, target: "/secret/prod/db/version", body: body, status: 200,
			check: added(2, `{"v":2}`)},
		{name: "200/encoded last segment named version", target: "/secret/prod%2Fversion/version", body: body, status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				isVersion(2, "active", "", "")(t, e, r)
				want(t, "prod currentVersion", e.getSecret("/secret/prod").Metadata.CurrentVersion, 1)
			}},
		{name: "405/POST on the secret itself", setup: seed, target: "/secret/prod%2Fdb", body: body, status: 405,
			errID: "MethodNotAllowed"},
		{name: "405/POST on one version", setup: seed, target: "/secret/prod%2Fdb/version/1", body: body, status: 405,
			errID: "MethodNotAllowed"},
		{name: "400/double-encoded path", setup: seed, target: "/secret/prod%252Fdb/version", body: body, status: 400,
			errID: "SecretPathInvalidCharacter"},
	}
	// 24000 versions take half a second, five times more under the race
	// detector, which has nothing to find in that sequential loop.
	if !testing.Short() && !raceEnabled {
		cases = append(cases, apiCase{name: "400/version limit reached", target: "/secret/big/version", body: body, status: 400,
			errID: "SecretVersionLimitReached", golden: "error_SecretVersionLimitReached", setup: versionLimit})
	}
	cases = append(cases, commonCases(seed, target, body, 200, false)...)
	cases = append(cases, bodyCases(seed, target, false)...)
	runCases(t, "POST", cases)
}

// versionLimit brings the secret "big" to version 24000 through the
// service, which is much faster than 24000 HTTP requests.
func versionLimit(e *env) {
	e.t.Helper()
	e.CreateSecret("big", `{}`, `"metadata":{"maxVersions":1}`)
	svc := e.srv.Service()
	c := service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}
	p := secret.MustParsePath("big")
	d, err := secret.ParseData([]byte(`{}`))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := context.Background()
	for range secret.MaxVersionID - 1 {
		if _, _, err := svc.PutVersion(ctx, c, e.domain, p, d, service.PutOptions{}); err != nil {
			e.t.Fatalf("PutVersion: %v", err)
		}
	}
	want(e.t, "currentVersion", e.getSecret("/secret/big").Metadata.CurrentVersion, secret.MaxVersionID)
}

func TestGetVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version/"
	withState := func(id int, state string) func(*env) {
		return func(e *env) {
			seedDB(e)
			e.clock.Advance(time.Hour)
			e.SetVersionState("prod/db", id, state)
		}
	}
	scheduled := func(e *env) { e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1d"}`) }
	// rearmed: deactivated automatically after one hour, reactivated one
	// hour later (t0+2h): the next deactivation is due at t0+3h.
	rearmed := func(after time.Duration) func(*env) {
		return func(e *env) {
			e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
			e.clock.Advance(2 * time.Hour)
			e.SetVersionState("p", 1, "active")
			e.clock.Advance(after)
		}
	}
	cases := []apiCase{
		{name: "200/without data", setup: seedDB, target: target + "1", status: 200, check: isVersion(1, "active", "", "")},
		{name: "200/includeData on an active version", setup: seedDB, target: target + "1?includeData=true", status: 200,
			golden: "version_get_data", check: isVersion(1, "active", "", `{"v":1}`)},
		{name: "200/includeData on a deactivated version: its state, no data", setup: withState(1, "deactivated"),
			target: target + "1?includeData=true", status: 200, check: isVersion(1, "deactivated", at(time.Minute+time.Hour), "")},
		{name: "200/includeData on a deleted version: its state, no data", setup: withState(2, "deleted"),
			target: target + "2?includeData=true", status: 200, check: isVersion(2, "deleted", "", "")},
		{name: "400/includeData=notabool", setup: seedDB, target: target + "1?includeData=notabool", status: 400,
			errID: "QueryParameterInvalid"},
		{name: "404/version that never existed", setup: seedDB, target: target + "3", status: 404, errID: "SecretVersionNotFound"},
		{name: "404/pruned version", target: "/secret/p/version/1", status: 404, errID: "SecretVersionNotFound",
			setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("p", `{}`)
			}},
		{name: "404/unknown secret", target: target + "1", status: 404, errID: "SecretNotFound"},
		{name: "400/version 0", setup: seedDB, target: target + "0", status: 400, errID: "SecretVersionMinRequired"},
		{name: "400/version 24001", setup: seedDB, target: target + "24001", status: 400, errID: "SecretVersionMaxExceeded"},
		{name: "400/version number of 30 digits", setup: seedDB, target: target + strings.Repeat("9", 30), status: 400,
			errID: "SecretVersionMaxExceeded"},
		{name: "200/version with leading zeros", setup: seedDB, target: target + "002", status: 200, check: isVersion(2, "active", "", "")},
		{name: "200/raw-slash path", setup: seedDB, target: "/secret/prod/db/version/2?includeData=true", status: 200,
			check: isVersion(2, "active", "", `{"v":2}`)},
		{name: "200/encoded last segment named version", target: "/secret/prod%2Fversion/version/1?includeData=true", status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod", `{"of":"prod"}`)
				e.CreateSecret("prod/version", `{"of":"prod/version"}`)
			}, check: isVersion(1, "active", "", `{"of":"prod/version"}`)},
		{name: "200/version/version/1 addresses the secret named version", target: "/secret/prod/version/version/1?includeData=true",
			status: 200, setup: func(e *env) {
				e.CreateSecret("prod", `{"of":"prod"}`)
				e.CreateSecret("prod/version", `{"of":"prod/version"}`)
			}, check: isVersion(1, "active", "", `{"of":"prod/version"}`)},
		{name: "200/one second before deactivateVersionAfter", target: "/secret/p/version/1?includeData=true", status: 200,
			setup: func(e *env) {
				scheduled(e)
				e.clock.Advance(24*time.Hour - time.Second)
			}, check: isVersion(1, "active", "", `{"v":1}`)},
		{name: "200/deactivated automatically after deactivateVersionAfter", target: "/secret/p/version/1?includeData=true",
			status: 200, setup: func(e *env) {
				scheduled(e)
				e.clock.Advance(24 * time.Hour)
			}, check: isVersion(1, "deactivated", at(24*time.Hour), "")},
		{name: "200/reactivation re-arms the timer from the reactivation", target: "/secret/p/version/1?includeData=true",
			status: 200, setup: rearmed(59 * time.Minute), check: isVersion(1, "active", "", `{"v":1}`)},
		{name: "200/a re-armed timer deactivates again", target: "/secret/p/version/1?includeData=true",
			status: 200, setup: rearmed(time.Hour), check: isVersion(1, "deactivated", at(3*time.Hour), "")},
	}
	cases = append(cases, commonCases(seedDB, target+"1", "", 200, false)...)
	runCases(t, "GET", cases)
}

func TestUpdateVersion(t *testing.T) {
	t.Parallel()
	// The transition table of okms-rest.md 3.4: version 1 of prod/db is
	// created at t0, put in its initial state at t0+1h, and the request
	// runs at t0+2h.
	const target = "/secret/prod%2Fdb/version/1"
	states := []string{"active", "deactivated", "deleted"}
	var cases []apiCase
	for _, from := range states {
		for _, to := range states {
			setup := func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`)
				e.clock.Advance(time.Hour)
				if from != "active" {
					e.SetVersionState("prod/db", 1, from)
				}
				e.clock.Advance(time.Hour)
			}
			tc := apiCase{name: fmt.Sprintf("200/%s to %s", from, to), setup: setup, target: target,
				body: `{"state":"` + to + `"}`, status: 200}
			if from == "deleted" && to != "deleted" {
				tc.name, tc.status, tc.errID = fmt.Sprintf("400/%s to %s", from, to), 400, "SecretVersionStateTransitionInvalid"
				if to == "active" {
					tc.golden = "error_SecretVersionStateTransitionInvalid"
				}
				cases = append(cases, tc)
				continue
			}
			deactivatedAt := ""
			switch {
			case from == "active" && to == "deactivated":
				deactivatedAt = at(2 * time.Hour) // now
				tc.golden = "version_update"
			case from == "deactivated" && to != "active":
				deactivatedAt = at(time.Hour) // kept
			}
			data := ""
			if to == "active" {
				data = `{"v":1}`
			}
			tc.check = func(t *testing.T, e *env, r *response) {
				isVersion(1, to, deactivatedAt, "")(t, e, r)
				// Read back: the state, the data only when active, and a
				// secret whose updatedAt did not move.
				checkVersion(t, e.getVersion("prod/db", 1), 1, to, deactivatedAt, data)
				s := e.getSecret("/secret/prod%2Fdb")
				want(t, "updatedAt", s.Metadata.UpdatedAt, at(0))
				want(t, "currentVersion", s.Metadata.CurrentVersion, 1)
			}
			cases = append(cases, tc)
		}
	}
	rest := []apiCase{
		{name: "400/deleted is final even for its data", target: target, body: `{"state":"active"}`, status: 400,
			errID: "SecretVersionStateTransitionInvalid", setup: func(e *env) {
				seedDB(e)
				e.SetVersionState("prod/db", 1, "deleted")
			}, check: func(t *testing.T, e *env, r *response) {
				v := e.getVersion("prod/db", 1)
				want(t, "state", v.State, "deleted")
				wantData(t, "deleted version", &v, "")
			}},
		{name: "400/unknown state activated", setup: seedDB, target: target, body: `{"state":"activated"}`, status: 400,
			errID: "SecretVersionStateInvalid", golden: "error_SecretVersionStateInvalid"},
		{name: "400/state in upper case", setup: seedDB, target: target, body: `{"state":"DEACTIVATED"}`, status: 400,
			errID: "SecretVersionStateInvalid"},
		{name: "400/empty state", setup: seedDB, target: target, body: `{"state":""}`, status: 400, errID: "SecretVersionStateInvalid"},
		{name: "400/missing state", setup: seedDB, target: target, body: `{}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/null state", setup: seedDB, target: target, body: `{"state":null}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/state is not a string", setup: seedDB, target: target, body: `{"state":1}`, status: 400,
			errID: "RequestBodyInvalidJson"},
		{name: "404/version that never existed", setup: seedDB, target: "/secret/prod%2Fdb/version/3", body: `{"state":"deleted"}`,
			status: 404, errID: "SecretVersionNotFound"},
		{name: "404/pruned version", target: "/secret/p/version/1", body: `{"state":"active"}`, status: 404,
			errID: "SecretVersionNotFound", setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("p", `{}`)
			}},
		{name: "404/unknown secret", target: target, body: `{"state":"deleted"}`, status: 404, errID: "SecretNotFound"},
		{name: "400/version 0", setup: seedDB, target: "/secret/prod%2Fdb/version/0", body: `{"state":"deleted"}`, status: 400,
			errID: "SecretVersionMinRequired"},
		{name: "400/version 24001", setup: seedDB, target: "/secret/prod%2Fdb/version/24001", body: `{"state":"deleted"}`,
			status: 400, errID: "SecretVersionMaxExceeded"},
		{name: "200/deleting the current version keeps currentVersion", setup: seedDB, target: "/secret/prod%2Fdb/version/2",
			body: `{"state":"deleted"}`, status: 200, check: func(t *testing.T, e *env, r *response) {
				s := e.getSecret("/secret/prod%2Fdb?includeData=true")
				want(t, "currentVersion", s.Metadata.CurrentVersion, 2)
				want(t, "current version state", s.Version.State, "deleted")
				wantData(t, "current version", s.Version, "")
				e.WriteSecret("prod/db", `{"v":3}`)
				want(t, "next version", e.getSecret("/secret/prod%2Fdb").Version.ID, 3)
			}},
		{name: "200/deactivating the current version", setup: seedDB, target: "/secret/prod%2Fdb/version/2",
			body: `{"state":"deactivated"}`, status: 200, check: func(t *testing.T, e *env, r *response) {
				s := e.getSecret("/secret/prod%2Fdb?includeData=true")
				want(t, "current version state", s.Version.State, "deactivated")
				wantData(t, "current version", s.Version, "")
			}},
		{name: "200/an automatically deactivated version keeps its time", target: "/secret/p/version/1",
			body: `{"state":"deactivated"}`, status: 200, setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.clock.Advance(3 * time.Hour)
			}, check: isVersion(1, "deactivated", at(time.Hour), "")},
		{name: "200/reactivation clears deactivatedAt and re-arms the timer", target: "/secret/p/version/1",
			body: `{"state":"active"}`, status: 200, setup: func(e *env) {
				e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.clock.Advance(3 * time.Hour)
			}, check: func(t *testing.T, e *env, r *response) {
				isVersion(1, "active", "", "")(t, e, r)
				e.clock.Advance(time.Hour)
				v := e.getVersion("p", 1)
				want(t, "state one hour after reactivation", v.State, "deactivated")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(4*time.Hour))
			}},
		{name: "200/raw-slash path", setup: seedDB, target: "/secret/prod/db/version/1", body: `{"state":"deactivated"}`,
			status: 200, check: isVersion(1, "deactivated", at(time.Minute), "")},
		{name: "200/encoded last segment named version", target: "/secret/prod%2Fversion/version/1",
			body: `{"state":"deleted"}`, status: 200, setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				isVersion(1, "deleted", "", "")(t, e, r)
				want(t, "prod version 1", e.getVersion("prod", 1).State, "active")
			}},
		{name: "405/PATCH on one version", setup: seedDB, target: target, method: "PATCH", body: `{"state":"deleted"}`,
			status: 405, errID: "MethodNotAllowed"},
	}
	cases = append(cases, rest...)
	cases = append(cases, commonCases(seedDB, target, `{"state":"deactivated"}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "PUT", cases)
}
