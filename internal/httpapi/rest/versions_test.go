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
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// isVersion checks a version response: id, state, deactivatedAt ("" for
// null) and data ("" for no data member).
func isVersion(id uint32, state, deactivatedAt, data string) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		checkVersion(t, wiretest.DecodeBody[api.SecretVersion](t, r), id, state, deactivatedAt, data)
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
			for _, v := range wiretest.DecodeBody[[]api.SecretVersion](t, r) {
				got = append(got, v.ID)
				if v.Data != nil {
					t.Errorf("version %d carries data", v.ID)
				}
			}
			wantIDs(t, "ids", got, want)
		}
	}
	cases := []apiCase{
		{Name: "200/ascending, with every state", Target: "/secret/prod%2Fdb/version", Status: 200, Golden: "version_list",
			Setup: func(e *env) {
				seedDB(e)
				e.WriteSecret("prod/db", `{"v":3}`)
				e.Clock.Advance(time.Hour)
				e.SetVersionState("prod/db", 2, "deactivated")
				e.SetVersionState("prod/db", 3, "deleted")
			}, Check: func(t *testing.T, e *env, r *response) {
				ids(1, 2, 3)(t, e, r)
				vs := wiretest.DecodeBody[[]api.SecretVersion](t, r)
				for i, st := range []string{"active", "deactivated", "deleted"} {
					want(t, fmt.Sprintf("version %d state", i+1), vs[i].State, st)
				}
			}},
		{Name: "200/pruned versions are absent, deleted ones present", Target: "/secret/p/version", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":3}`)
				e.writeN("p", 4)
				e.SetVersionState("p", 4, "deleted")
			}, Check: ids(3, 4, 5)},
		{Name: "200/an automatic deactivation is shown", Target: "/secret/p/version", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"90m"}`)
				e.Clock.Advance(time.Hour)
				e.WriteSecret("p", `{}`)
				e.Clock.Advance(time.Hour)
			}, Check: func(t *testing.T, e *env, r *response) {
				vs := wiretest.DecodeBody[[]api.SecretVersion](t, r)
				want(t, "version 1 state", vs[0].State, "deactivated")
				want(t, "version 1 deactivatedAt", *vs[0].DeactivatedAt, at(90*time.Minute))
				want(t, "version 2 state", vs[1].State, "active")
			}},
		{Name: "200/raw slashes: the versions of prod/db", Setup: seedDB, Target: "/secret/prod/db/version", Status: 200,
			Check: ids(1, 2)},
		{Name: "200/encoded last segment named version: the versions of prod/version", Target: "/secret/prod%2Fversion/version",
			Status: 200, Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
				e.WriteSecret("prod/version", `{}`)
			}, Check: ids(1, 2)},
		{Name: "200/raw prod/version: the versions of prod", Target: "/secret/prod/version", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
				e.WriteSecret("prod/version", `{}`)
			}, Check: ids(1)},
		{Name: "200/includeData is ignored", Setup: seedDB, Target: "/secret/prod%2Fdb/version?includeData=true", Status: 200,
			Check: ids(1, 2)},
		{Name: "404/unknown secret", Target: "/secret/prod%2Fdb/version", Status: 404, Err: "SecretNotFound"},
		{Name: "400/double-encoded path", Target: "/secret/prod%252Fdb/version", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path of 256 characters", Target: "/secret/" + esc(pathOfLen(256)) + "/version", Status: 400,
			Err: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, "/secret/prod%2Fdb/version", "", 200, false)...)
	runCases(t, "GET", cases)
}

func TestAddVersion(t *testing.T) {
	t.Parallel()
	seed := func(e *env) {
		e.CreateSecret("prod/db", `{"v":1}`)
		e.Clock.Advance(time.Hour)
	}
	const target = "/secret/prod%2Fdb/version"
	body := `{"data":{"v":2}}`
	added := func(id uint32, data string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			isVersion(id, "active", "", "")(t, e, r)
			want(t, "createdAt", wiretest.DecodeBody[api.SecretVersion](t, r).CreatedAt, at(time.Hour))
			s := e.getSecret("/secret/prod%2Fdb?includeData=true")
			want(t, "currentVersion", s.Metadata.CurrentVersion, id)
			want(t, "updatedAt", s.Metadata.UpdatedAt, at(time.Hour))
			wantData(t, "current version", s.Version, data)
		}
	}
	cases := []apiCase{
		{Name: "200/new version", Setup: seed, Target: target, Body: body, Status: 200, Golden: "version_add",
			Check: added(2, `{"v":2}`)},
		{Name: "200/data null is the empty object", Setup: seed, Target: target, Body: `{"data":null}`, Status: 200,
			Check: added(2, `{}`)},
		{Name: "200/unknown members are ignored", Setup: seed, Target: target, Body: `{"data":{"v":2},"cas":9}`, Status: 200,
			Check: added(2, `{"v":2}`)},
		{Name: "400/missing data", Setup: seed, Target: target, Body: `{}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/data is not an object", Setup: seed, Target: target, Body: `{"data":"s3cr3t"}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "200/data of 65,536 bytes", Setup: seed, Target: target, Body: `{"data":` + dataOfSize(65536) + `}`, Status: 200,
			Check: added(2, dataOfSize(65536))},
		{Name: "400/data of 65,537 bytes", Setup: seed, Target: target, Body: `{"data":` + dataOfSize(65537) + `}`, Status: 400,
			Err: "SecretDataMaxExceeded"},
		{Name: "400/duplicate key in data", Setup: seed, Target: target, Body: `{"data":{"a":{"k":1,"k":2}}}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "200/data nested 64 levels", Setup: seed, Target: target, Body: `{"data":` + nested(64) + `}`, Status: 200,
			Check: added(2, nested(64))},
		{Name: "400/data nested 65 levels", Setup: seed, Target: target, Body: `{"data":` + nested(65) + `}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/empty top-level key in data", Setup: seed, Target: target, Body: `{"data":{"":"x"}}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		// Check-and-set (okms-rest.md 3.3).
		{Name: "200/cas equal to the current version", Setup: seed, Target: target + "?cas=1", Body: body, Status: 200,
			Check: added(2, `{"v":2}`)},
		{Name: "400/cas mismatch", Setup: seed, Target: target + "?cas=2", Body: body, Status: 400, Err: "SecretCasMismatch",
			Check: casRefused},
		{Name: "400/cas=0 on a secret that has a version", Setup: seed, Target: target + "?cas=0", Body: body, Status: 400,
			Err: "SecretCasMismatch"},
		{Name: "400/cas required by the secret", Setup: seedCAS, Target: target, Body: body, Status: 400, Err: "SecretCasRequired",
			Check: casRefused},
		{Name: "400/cas required by secretConfig", Setup: seedCASDomain, Target: target, Body: body, Status: 400,
			Err: "SecretCasRequired"},
		{Name: "200/cas given while required", Setup: seedCASDomain, Target: target + "?cas=1", Body: body, Status: 200,
			Check: isVersion(2, "active", "", "")},
		{Name: "400/cas=-1", Setup: seed, Target: target + "?cas=-1", Body: body, Status: 400, Err: "SecretCasMinRequired"},
		{Name: "400/cas=24001", Setup: seed, Target: target + "?cas=24001", Body: body, Status: 400, Err: "SecretCasMaxExceeded"},
		{Name: "400/cas=abc", Setup: seed, Target: target + "?cas=abc", Body: body, Status: 400, Err: "QueryParameterInvalid"},
		// Retention and schedules.
		{Name: "200/versions beyond maxVersions are pruned", Target: "/secret/p/version", Body: body, Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("p", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				isVersion(3, "active", "", "")(t, e, r)
				wantIDs(t, "versions", e.versionIDs("p"), []uint32{2, 3})
				want(t, "oldestVersion", e.getSecret("/secret/p").Metadata.OldestVersion, 2)
			}},
		{Name: "200/a new version is scheduled for deactivation, invisibly", Target: "/secret/p/version", Body: body, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`) },
			Check: func(t *testing.T, e *env, r *response) {
				isVersion(2, "active", "", "")(t, e, r)
				e.Clock.Advance(time.Hour)
				v := e.getVersion("p", 2)
				want(t, "state one hour later", v.State, "deactivated")
				wantData(t, "one hour later", &v, "")
			}},
		{Name: "404/unknown secret", Target: target, Body: body, Status: 404, Err: "SecretNotFound"},
		// Addressing (okms-rest.md 1.2).
		{Name: "200/raw-slash path", Setup: seed, Target: "/secret/prod/db/version", Body: body, Status: 200,
			Check: added(2, `{"v":2}`)},
		{Name: "200/encoded last segment named version", Target: "/secret/prod%2Fversion/version", Body: body, Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				isVersion(2, "active", "", "")(t, e, r)
				want(t, "prod currentVersion", e.getSecret("/secret/prod").Metadata.CurrentVersion, 1)
			}},
		{Name: "405/POST on the secret itself", Setup: seed, Target: "/secret/prod%2Fdb", Body: body, Status: 405,
			Err: "MethodNotAllowed"},
		{Name: "405/POST on one version", Setup: seed, Target: "/secret/prod%2Fdb/version/1", Body: body, Status: 405,
			Err: "MethodNotAllowed"},
		{Name: "400/double-encoded path", Setup: seed, Target: "/secret/prod%252Fdb/version", Body: body, Status: 400,
			Err: "SecretPathInvalidCharacter"},
	}
	// 24000 versions take half a second, five times more under the race
	// detector, which has nothing to find in that sequential loop.
	if !testing.Short() && !raceEnabled {
		cases = append(cases, apiCase{Name: "400/version limit reached", Target: "/secret/big/version", Body: body, Status: 400,
			Err: "SecretVersionLimitReached", Golden: "error_SecretVersionLimitReached", Setup: versionLimit})
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
	svc := e.Server.Service()
	c := service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}
	p := secret.MustParsePath("big")
	d, err := secret.ParseData([]byte(`{}`))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := context.Background()
	for range secret.MaxVersionID - 1 {
		if _, _, err := svc.PutVersion(ctx, c, e.Domain, p, d, service.PutOptions{}); err != nil {
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
			e.Clock.Advance(time.Hour)
			e.SetVersionState("prod/db", id, state)
		}
	}
	scheduled := func(e *env) { e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1d"}`) }
	// rearmed: deactivated automatically after one hour, reactivated one
	// hour later (t0+2h): the next deactivation is due at t0+3h.
	rearmed := func(after time.Duration) func(*env) {
		return func(e *env) {
			e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
			e.Clock.Advance(2 * time.Hour)
			e.SetVersionState("p", 1, "active")
			e.Clock.Advance(after)
		}
	}
	cases := []apiCase{
		{Name: "200/without data", Setup: seedDB, Target: target + "1", Status: 200, Check: isVersion(1, "active", "", "")},
		{Name: "200/includeData on an active version", Setup: seedDB, Target: target + "1?includeData=true", Status: 200,
			Golden: "version_get_data", Check: isVersion(1, "active", "", `{"v":1}`)},
		{Name: "200/includeData on a deactivated version: its state, no data", Setup: withState(1, "deactivated"),
			Target: target + "1?includeData=true", Status: 200, Check: isVersion(1, "deactivated", at(time.Minute+time.Hour), "")},
		{Name: "200/includeData on a deleted version: its state, no data", Setup: withState(2, "deleted"),
			Target: target + "2?includeData=true", Status: 200, Check: isVersion(2, "deleted", "", "")},
		{Name: "400/includeData=notabool", Setup: seedDB, Target: target + "1?includeData=notabool", Status: 400,
			Err: "QueryParameterInvalid"},
		{Name: "404/version that never existed", Setup: seedDB, Target: target + "3", Status: 404, Err: "SecretVersionNotFound"},
		{Name: "404/pruned version", Target: "/secret/p/version/1", Status: 404, Err: "SecretVersionNotFound",
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("p", `{}`)
			}},
		{Name: "404/unknown secret", Target: target + "1", Status: 404, Err: "SecretNotFound"},
		{Name: "400/version 0", Setup: seedDB, Target: target + "0", Status: 400, Err: "SecretVersionMinRequired"},
		{Name: "400/version 24001", Setup: seedDB, Target: target + "24001", Status: 400, Err: "SecretVersionMaxExceeded"},
		{Name: "400/version number of 30 digits", Setup: seedDB, Target: target + strings.Repeat("9", 30), Status: 400,
			Err: "SecretVersionMaxExceeded"},
		{Name: "200/version with leading zeros", Setup: seedDB, Target: target + "002", Status: 200, Check: isVersion(2, "active", "", "")},
		{Name: "200/raw-slash path", Setup: seedDB, Target: "/secret/prod/db/version/2?includeData=true", Status: 200,
			Check: isVersion(2, "active", "", `{"v":2}`)},
		{Name: "200/encoded last segment named version", Target: "/secret/prod%2Fversion/version/1?includeData=true", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{"of":"prod"}`)
				e.CreateSecret("prod/version", `{"of":"prod/version"}`)
			}, Check: isVersion(1, "active", "", `{"of":"prod/version"}`)},
		{Name: "200/version/version/1 addresses the secret named version", Target: "/secret/prod/version/version/1?includeData=true",
			Status: 200, Setup: func(e *env) {
				e.CreateSecret("prod", `{"of":"prod"}`)
				e.CreateSecret("prod/version", `{"of":"prod/version"}`)
			}, Check: isVersion(1, "active", "", `{"of":"prod/version"}`)},
		{Name: "200/one second before deactivateVersionAfter", Target: "/secret/p/version/1?includeData=true", Status: 200,
			Setup: func(e *env) {
				scheduled(e)
				e.Clock.Advance(24*time.Hour - time.Second)
			}, Check: isVersion(1, "active", "", `{"v":1}`)},
		{Name: "200/deactivated automatically after deactivateVersionAfter", Target: "/secret/p/version/1?includeData=true",
			Status: 200, Setup: func(e *env) {
				scheduled(e)
				e.Clock.Advance(24 * time.Hour)
			}, Check: isVersion(1, "deactivated", at(24*time.Hour), "")},
		{Name: "200/reactivation re-arms the timer from the reactivation", Target: "/secret/p/version/1?includeData=true",
			Status: 200, Setup: rearmed(59 * time.Minute), Check: isVersion(1, "active", "", `{"v":1}`)},
		{Name: "200/a re-armed timer deactivates again", Target: "/secret/p/version/1?includeData=true",
			Status: 200, Setup: rearmed(time.Hour), Check: isVersion(1, "deactivated", at(3*time.Hour), "")},
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
				e.Clock.Advance(time.Hour)
				if from != "active" {
					e.SetVersionState("prod/db", 1, from)
				}
				e.Clock.Advance(time.Hour)
			}
			tc := apiCase{Name: fmt.Sprintf("200/%s to %s", from, to), Setup: setup, Target: target,
				Body: `{"state":"` + to + `"}`, Status: 200}
			if from == "deleted" && to != "deleted" {
				tc.Name, tc.Status, tc.Err = fmt.Sprintf("400/%s to %s", from, to), 400, "SecretVersionStateTransitionInvalid"
				if to == "active" {
					tc.Golden = "error_SecretVersionStateTransitionInvalid"
				}
				cases = append(cases, tc)
				continue
			}
			deactivatedAt := ""
			switch {
			case from == "active" && to == "deactivated":
				deactivatedAt = at(2 * time.Hour) // now
				tc.Golden = "version_update"
			case from == "deactivated" && to != "active":
				deactivatedAt = at(time.Hour) // kept
			}
			data := ""
			if to == "active" {
				data = `{"v":1}`
			}
			tc.Check = func(t *testing.T, e *env, r *response) {
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
		{Name: "400/deleted is final even for its data", Target: target, Body: `{"state":"active"}`, Status: 400,
			Err: "SecretVersionStateTransitionInvalid", Setup: func(e *env) {
				seedDB(e)
				e.SetVersionState("prod/db", 1, "deleted")
			}, Check: func(t *testing.T, e *env, r *response) {
				v := e.getVersion("prod/db", 1)
				want(t, "state", v.State, "deleted")
				wantData(t, "deleted version", &v, "")
			}},
		{Name: "400/unknown state activated", Setup: seedDB, Target: target, Body: `{"state":"activated"}`, Status: 400,
			Err: "SecretVersionStateInvalid", Golden: "error_SecretVersionStateInvalid"},
		{Name: "400/state in upper case", Setup: seedDB, Target: target, Body: `{"state":"DEACTIVATED"}`, Status: 400,
			Err: "SecretVersionStateInvalid"},
		{Name: "400/empty state", Setup: seedDB, Target: target, Body: `{"state":""}`, Status: 400, Err: "SecretVersionStateInvalid"},
		{Name: "400/missing state", Setup: seedDB, Target: target, Body: `{}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/null state", Setup: seedDB, Target: target, Body: `{"state":null}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/state is not a string", Setup: seedDB, Target: target, Body: `{"state":1}`, Status: 400,
			Err: "RequestBodyInvalidJson"},
		{Name: "404/version that never existed", Setup: seedDB, Target: "/secret/prod%2Fdb/version/3", Body: `{"state":"deleted"}`,
			Status: 404, Err: "SecretVersionNotFound"},
		{Name: "404/pruned version", Target: "/secret/p/version/1", Body: `{"state":"active"}`, Status: 404,
			Err: "SecretVersionNotFound", Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("p", `{}`)
			}},
		{Name: "404/unknown secret", Target: target, Body: `{"state":"deleted"}`, Status: 404, Err: "SecretNotFound"},
		{Name: "400/version 0", Setup: seedDB, Target: "/secret/prod%2Fdb/version/0", Body: `{"state":"deleted"}`, Status: 400,
			Err: "SecretVersionMinRequired"},
		{Name: "400/version 24001", Setup: seedDB, Target: "/secret/prod%2Fdb/version/24001", Body: `{"state":"deleted"}`,
			Status: 400, Err: "SecretVersionMaxExceeded"},
		{Name: "200/deleting the current version keeps currentVersion", Setup: seedDB, Target: "/secret/prod%2Fdb/version/2",
			Body: `{"state":"deleted"}`, Status: 200, Check: func(t *testing.T, e *env, r *response) {
				s := e.getSecret("/secret/prod%2Fdb?includeData=true")
				want(t, "currentVersion", s.Metadata.CurrentVersion, 2)
				want(t, "current version state", s.Version.State, "deleted")
				wantData(t, "current version", s.Version, "")
				e.WriteSecret("prod/db", `{"v":3}`)
				want(t, "next version", e.getSecret("/secret/prod%2Fdb").Version.ID, 3)
			}},
		{Name: "200/deactivating the current version", Setup: seedDB, Target: "/secret/prod%2Fdb/version/2",
			Body: `{"state":"deactivated"}`, Status: 200, Check: func(t *testing.T, e *env, r *response) {
				s := e.getSecret("/secret/prod%2Fdb?includeData=true")
				want(t, "current version state", s.Version.State, "deactivated")
				wantData(t, "current version", s.Version, "")
			}},
		{Name: "200/an automatically deactivated version keeps its time", Target: "/secret/p/version/1",
			Body: `{"state":"deactivated"}`, Status: 200, Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.Clock.Advance(3 * time.Hour)
			}, Check: isVersion(1, "deactivated", at(time.Hour), "")},
		{Name: "200/reactivation clears deactivatedAt and re-arms the timer", Target: "/secret/p/version/1",
			Body: `{"state":"active"}`, Status: 200, Setup: func(e *env) {
				e.CreateSecret("p", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.Clock.Advance(3 * time.Hour)
			}, Check: func(t *testing.T, e *env, r *response) {
				isVersion(1, "active", "", "")(t, e, r)
				e.Clock.Advance(time.Hour)
				v := e.getVersion("p", 1)
				want(t, "state one hour after reactivation", v.State, "deactivated")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(4*time.Hour))
			}},
		{Name: "200/raw-slash path", Setup: seedDB, Target: "/secret/prod/db/version/1", Body: `{"state":"deactivated"}`,
			Status: 200, Check: isVersion(1, "deactivated", at(time.Minute), "")},
		{Name: "200/encoded last segment named version", Target: "/secret/prod%2Fversion/version/1",
			Body: `{"state":"deleted"}`, Status: 200, Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				isVersion(1, "deleted", "", "")(t, e, r)
				want(t, "prod version 1", e.getVersion("prod", 1).State, "active")
			}},
		{Name: "405/PATCH on one version", Setup: seedDB, Target: target, Method: "PATCH", Body: `{"state":"deleted"}`,
			Status: 405, Err: "MethodNotAllowed"},
	}
	cases = append(cases, rest...)
	cases = append(cases, commonCases(seedDB, target, `{"state":"deactivated"}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "PUT", cases)
}
