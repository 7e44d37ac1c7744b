package rest_test

import (
	"net/http"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// TestRoutes covers what lies around the endpoints (okms-rest.md 1, 8.1):
// routes that do not exist, methods a route does not have, and the okmsId.
// Every answer is JSON in the OKMS envelope, never a redirect or text.
func TestRoutes(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "404/unknown route under /v2", Target: "/servicekey", Status: 404, Err: "RouteNotFound", Golden: "error_RouteNotFound"},
		{Name: "400/service key route with a malformed key id", Target: "/api/{okmsId}/v1/servicekey/abc", Status: 400, Err: "ServiceKeyIdInvalid"},
		{Name: "404/service key route beyond the swagger's", Target: "/api/{okmsId}/v1/servicekey/abc/def", Status: 404, Err: "RouteNotFound"},
		{Name: "200/random route of the OKMS API", Target: "/api/{okmsId}/v1/random", Status: 200},
		{Name: "404/secret under another API version", Target: "/api/{okmsId}/v3/secret", Status: 404, Err: "RouteNotFound"},
		{Name: "404/v2 alone", Target: "/api/{okmsId}/v2", Status: 404, Err: "RouteNotFound"},
		{Name: "404/v2 with a slash", Target: "/api/{okmsId}/v2/", Status: 404, Err: "RouteNotFound"},
		{Name: "404/okmsId alone", Target: "/api/{okmsId}", Status: 404, Err: "RouteNotFound"},
		{Name: "404/okmsId with a slash", Target: "/api/{okmsId}/", Status: 404, Err: "RouteNotFound"},
		{Name: "404/api alone", Target: "/api/", Status: 404, Err: "RouteNotFound"},
		{Name: "404/secret list with a suffix", Target: "/secrets", Status: 404, Err: "RouteNotFound"},
		{Name: "405/DELETE the secret list", Method: "DELETE", Target: "/secret", Status: 405, Err: "MethodNotAllowed",
			Golden: "error_MethodNotAllowed"},
		{Name: "405/PATCH a secret", Method: "PATCH", Target: "/secret/prod%2Fdb", Body: `{}`, Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/POST a secret", Method: "POST", Target: "/secret/prod%2Fdb", Body: `{}`, Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/PUT the version collection", Method: "PUT", Target: "/secret/prod%2Fdb/version", Body: `{}`, Status: 405,
			Err: "MethodNotAllowed"},
		{Name: "405/OPTIONS secretConfig", Method: "OPTIONS", Target: "/secretConfig", Status: 405, Err: "MethodNotAllowed"},
		{Name: "401/malformed okmsId without a token", Domain: "not-a-uuid", Target: "/secret", Status: 401,
			Err: "Unauthenticated", Header: map[string]string{"Authorization": ""}},
		{Name: "404/malformed okmsId", Domain: "not-a-uuid", Target: "/secret", Status: 404, Err: "DomainNotFound"},
		{Name: "404/okmsId of 37 characters", Domain: unknownDomain + "0", Target: "/secret", Status: 404, Err: "DomainNotFound"},
		{Name: "404/unknown okmsId", Domain: unknownDomain, Target: "/secret", Status: 404, Err: "DomainNotFound"},
		{Name: "404/unknown okmsId on a secret", Domain: unknownDomain, Target: "/secret/prod%2Fdb", Status: 404, Err: "DomainNotFound",
			Setup: seedDB},
		{Name: "404/unknown okmsId on a version", Domain: unknownDomain, Target: "/secret/prod%2Fdb/version/1", Status: 404,
			Err: "DomainNotFound", Setup: seedDB},
	}
	runCases(t, "GET", cases)
}

// TestResponseHeaders checks what every response carries, on a mix of
// successes and failures (okms-rest.md 1.1): a fresh UUID in
// X-Request-Id, repeated in request_id, and Cache-Control: no-store.
func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedDB(e)
	reqs := []request{
		{Method: "GET", Target: "/secret"},
		{Method: "GET", Target: "/secret/prod%2Fdb?includeData=true"},
		{Method: "GET", Target: "/secret/nope"},
		{Method: "POST", Target: "/secret", Body: `{"path":"x","version":{"data":{}}}`},
		{Method: "DELETE", Target: "/secret/x"},
		{Method: "GET", Target: "/secretConfig", Header: map[string]string{"Authorization": ""}},
		{Method: "GET", Target: "/nope"},
	}
	seen := map[string]bool{}
	for _, rq := range reqs {
		r := e.Send(rq)
		id := r.Header.Get("X-Request-Id")
		if !uuidV4.MatchString(id) || seen[id] {
			t.Errorf("%s %s: X-Request-Id %q, want a new UUID", rq.Method, rq.Target, id)
		}
		seen[id] = true
		want(t, rq.Method+" "+rq.Target+" Cache-Control", r.Header.Get("Cache-Control"), "no-store")
		if r.Status >= 400 {
			want(t, rq.Method+" "+rq.Target+" request_id", errorOf(t, r).RequestID, id)
		}
		if r.Status != http.StatusNoContent {
			want(t, rq.Method+" "+rq.Target+" Content-Type", r.Header.Get("Content-Type"), "application/json")
		}
	}
	if got := e.Send(request{Method: "GET", Target: "/secret", Header: map[string]string{api.HeaderPageSize: "10"}}); got.Status != 200 {
		t.Errorf("GET /secret with a page size: %d", got.Status)
	}
}

// TestSecretPathInURL pins the four rules of okms-rest.md 1.2 that split
// the escaped URL into a secret path and a route, on secrets whose paths
// collide with the route words.
func TestSecretPathInURL(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.CreateSecret("prod", `{"of":"prod"}`)
		e.WriteSecret("prod", `{"of":"prod"}`)
		e.CreateSecret("prod/db", `{"of":"prod/db"}`)
		e.WriteSecret("prod/db", `{"of":"prod/db"}`)
		e.WriteSecret("prod/db", `{"of":"prod/db"}`)
		e.CreateSecret("prod/version", `{"of":"prod/version"}`)
		e.CreateSecret("prod/version/3x", `{"of":"prod/version/3x"}`)
		e.CreateSecret("prod/version/version", `{"of":"prod/version/version"}`)
		e.CreateSecret("a:b=c@d", `{"of":"a:b=c@d"}`)
		e.CreateSecret("version", `{"of":"version"}`)
	}
	// isSecret: the route is the secret itself.
	isSecret := func(path string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			s := wiretest.DecodeBody[api.GetSecretResponse](t, r)
			want(t, "path", s.Path, path)
		}
	}
	// isVersions: the route is a version collection of n versions.
	isVersions := func(n int) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			want(t, "versions", len(wiretest.DecodeBody[[]api.SecretVersion](t, r)), n)
		}
	}
	// isVersionOf: one version, with the data naming its secret.
	isVersionOf := func(path string, id uint32) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			v := wiretest.DecodeBody[api.SecretVersion](t, r)
			want(t, "id", v.ID, id)
			want(t, "data", string(v.Data), `{"of":"`+path+`"}`)
		}
	}
	cases := []apiCase{
		// Rule 1: no raw slash.
		{Name: "200/rule 1: encoded slashes", Target: "/secret/prod%2Fdb", Status: 200, Check: isSecret("prod/db")},
		{Name: "200/rule 1: a one-segment path", Target: "/secret/prod", Status: 200, Check: isSecret("prod")},
		{Name: "200/rule 1: a secret named version", Target: "/secret/version", Status: 200, Check: isSecret("version")},
		{Name: "200/rule 1: last segment named version, encoded", Target: "/secret/prod%2Fversion", Status: 200,
			Check: isSecret("prod/version")},
		{Name: "200/rule 1: encodeURIComponent escapes", Target: "/secret/a%3Ab%3Dc%40d", Status: 200, Check: isSecret("a:b=c@d")},
		{Name: "200/rule 1: lower-case escapes", Target: "/secret/prod%2fdb", Status: 200, Check: isSecret("prod/db")},
		{Name: "200/rule 1: an escaped letter", Target: "/secret/pro%64%2Fdb", Status: 200, Check: isSecret("prod/db")},
		// Rule 2: ends with /version.
		{Name: "200/rule 2: versions, encoded path", Target: "/secret/prod%2Fdb/version", Status: 200, Check: isVersions(3)},
		{Name: "200/rule 2: versions, raw path", Target: "/secret/prod/db/version", Status: 200, Check: isVersions(3)},
		{Name: "200/rule 2: raw prod/version is the versions of prod", Target: "/secret/prod/version", Status: 200,
			Check: isVersions(2)},
		{Name: "200/rule 2: versions of the secret named version", Target: "/secret/prod%2Fversion/version", Status: 200,
			Check: isVersions(1)},
		{Name: "200/rule 2: raw prod/version/version is the versions of prod/version", Target: "/secret/prod/version/version",
			Status: 200, Check: isVersions(1)},
		{Name: "200/rule 2: version/version", Target: "/secret/version/version", Status: 200, Check: isVersions(1)},
		// Rule 3: ends with /version/<digits>.
		{Name: "200/rule 3: encoded path", Target: "/secret/prod%2Fdb/version/3?includeData=true", Status: 200,
			Check: isVersionOf("prod/db", 3)},
		{Name: "200/rule 3: raw path", Target: "/secret/prod/db/version/3?includeData=true", Status: 200,
			Check: isVersionOf("prod/db", 3)},
		{Name: "200/rule 3: raw prod/version/2 is version 2 of prod", Target: "/secret/prod/version/2?includeData=true",
			Status: 200, Check: isVersionOf("prod", 2)},
		{Name: "200/rule 3: version 1 of prod/version", Target: "/secret/prod%2Fversion/version/1?includeData=true",
			Status: 200, Check: isVersionOf("prod/version", 1)},
		{Name: "200/rule 3: version 1 of prod/version/version", Target: "/secret/prod/version/version/version/1?includeData=true",
			Status: 200, Check: isVersionOf("prod/version/version", 1)},
		{Name: "404/rule 3: a version that does not exist", Target: "/secret/prod/db/version/4", Status: 404,
			Err: "SecretVersionNotFound"},
		{Name: "400/rule 3: version 0", Target: "/secret/prod/db/version/0", Status: 400, Err: "SecretVersionMinRequired"},
		// Rule 4: raw slashes, no route suffix.
		{Name: "200/rule 4: raw slashes", Target: "/secret/prod/db", Status: 200, Check: isSecret("prod/db")},
		{Name: "200/rule 4: a version suffix that is not a number", Target: "/secret/prod/version/3x", Status: 200,
			Check: isSecret("prod/version/3x")},
		{Name: "200/rule 4: mixed raw and encoded slashes", Target: "/secret/prod%2Fversion/3x", Status: 200,
			Check: isSecret("prod/version/3x")},
		{Name: "404/rule 4: an unknown secret under a version word", Target: "/secret/prod/version/x", Status: 404,
			Err: "SecretNotFound"},
		// Decoded once, then validated (okms-rest.md 2.2).
		{Name: "400/double encoding", Target: "/secret/prod%252Fdb", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/double encoding in a version route", Target: "/secret/prod%252Fdb/version/1", Status: 400,
			Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded trailing slash", Target: "/secret/prod%2F", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded leading slash", Target: "/secret/%2Fprod", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded double slash", Target: "/secret/prod%2F%2Fdb", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded dot-dot segment", Target: "/secret/prod%2F..%2Fdb", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded dot-dot segment, escaped dots", Target: "/secret/prod%2F%2E%2E%2Fdb", Status: 400,
			Err: "SecretPathInvalidCharacter"},
		{Name: "400/raw dot-dot segment", Target: "/secret/prod/../db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/raw dot segment before a version route", Target: "/secret/./prod/version/1", Status: 400,
			Err: "SecretPathInvalidCharacter"},
		{Name: "400/raw double slash", Target: "/secret/prod//db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded percent sign", Target: "/secret/100%25", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded non-ASCII", Target: "/secret/pr%C3%A9d", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/empty path", Target: "/secret/", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "200/255 characters once decoded, longer encoded", Target: "/secret/" + esc(pathOfLen(255)), Status: 200,
			Setup: func(e *env) { e.CreateSecret(pathOfLen(255), `{}`) }, Check: isSecret(pathOfLen(255))},
		{Name: "400/256 characters once decoded", Target: "/secret/" + esc(pathOfLen(256)), Status: 400,
			Err: "SecretPathMaxExceeded"},
		{Name: "400/256 characters in a version route", Target: "/secret/" + esc(pathOfLen(256)) + "/version/1", Status: 400,
			Err: "SecretPathMaxExceeded"},
	}
	for i := range cases {
		if cases[i].Setup == nil {
			cases[i].Setup = setup
		}
	}
	runCases(t, "GET", cases)
}
