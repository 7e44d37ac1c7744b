package rest_test

import (
	"net/http"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
)

// TestRoutes covers what lies around the endpoints (okms-rest.md 1, 8.1):
// routes that do not exist, methods a route does not have, and the okmsId.
// Every answer is JSON in the OKMS envelope, never a redirect or text.
func TestRoutes(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{name: "404/unknown route under /v2", target: "/servicekey", status: 404, errID: "RouteNotFound", golden: "error_RouteNotFound"},
		{name: "400/service key route with a malformed key id", target: "/api/{okmsId}/v1/servicekey/abc", status: 400, errID: "ServiceKeyIdInvalid"},
		{name: "404/service key route beyond the swagger's", target: "/api/{okmsId}/v1/servicekey/abc/def", status: 404, errID: "RouteNotFound"},
		{name: "200/random route of the OKMS API", target: "/api/{okmsId}/v1/random", status: 200},
		{name: "404/secret under another API version", target: "/api/{okmsId}/v3/secret", status: 404, errID: "RouteNotFound"},
		{name: "404/v2 alone", target: "/api/{okmsId}/v2", status: 404, errID: "RouteNotFound"},
		{name: "404/v2 with a slash", target: "/api/{okmsId}/v2/", status: 404, errID: "RouteNotFound"},
		{name: "404/okmsId alone", target: "/api/{okmsId}", status: 404, errID: "RouteNotFound"},
		{name: "404/okmsId with a slash", target: "/api/{okmsId}/", status: 404, errID: "RouteNotFound"},
		{name: "404/api alone", target: "/api/", status: 404, errID: "RouteNotFound"},
		{name: "404/secret list with a suffix", target: "/secrets", status: 404, errID: "RouteNotFound"},
		{name: "405/DELETE the secret list", method: "DELETE", target: "/secret", status: 405, errID: "MethodNotAllowed",
			golden: "error_MethodNotAllowed"},
		{name: "405/PATCH a secret", method: "PATCH", target: "/secret/prod%2Fdb", body: `{}`, status: 405, errID: "MethodNotAllowed"},
		{name: "405/POST a secret", method: "POST", target: "/secret/prod%2Fdb", body: `{}`, status: 405, errID: "MethodNotAllowed"},
		{name: "405/PUT the version collection", method: "PUT", target: "/secret/prod%2Fdb/version", body: `{}`, status: 405,
			errID: "MethodNotAllowed"},
		{name: "405/OPTIONS secretConfig", method: "OPTIONS", target: "/secretConfig", status: 405, errID: "MethodNotAllowed"},
		{name: "401/malformed okmsId without a token", okmsID: "not-a-uuid", target: "/secret", status: 401,
			errID: "Unauthenticated", header: map[string]string{"Authorization": ""}},
		{name: "404/malformed okmsId", okmsID: "not-a-uuid", target: "/secret", status: 404, errID: "DomainNotFound"},
		{name: "404/okmsId of 37 characters", okmsID: unknownDomain + "0", target: "/secret", status: 404, errID: "DomainNotFound"},
		{name: "404/unknown okmsId", okmsID: unknownDomain, target: "/secret", status: 404, errID: "DomainNotFound"},
		{name: "404/unknown okmsId on a secret", okmsID: unknownDomain, target: "/secret/prod%2Fdb", status: 404, errID: "DomainNotFound",
			setup: seedDB},
		{name: "404/unknown okmsId on a version", okmsID: unknownDomain, target: "/secret/prod%2Fdb/version/1", status: 404,
			errID: "DomainNotFound", setup: seedDB},
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
			s := decode[api.GetSecretResponse](t, r)
			want(t, "path", s.Path, path)
		}
	}
	// isVersions: the route is a version collection of n versions.
	isVersions := func(n int) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			want(t, "versions", len(decode[[]api.SecretVersion](t, r)), n)
		}
	}
	// isVersionOf: one version, with the data naming its secret.
	isVersionOf := func(path string, id uint32) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			v := decode[api.SecretVersion](t, r)
			want(t, "id", v.ID, id)
			want(t, "data", string(v.Data), `{"of":"`+path+`"}`)
		}
	}
	cases := []apiCase{
		// Rule 1: no raw slash.
		{name: "200/rule 1: encoded slashes", target: "/secret/prod%2Fdb", status: 200, check: isSecret("prod/db")},
		{name: "200/rule 1: a one-segment path", target: "/secret/prod", status: 200, check: isSecret("prod")},
		{name: "200/rule 1: a secret named version", target: "/secret/version", status: 200, check: isSecret("version")},
		{name: "200/rule 1: last segment named version, encoded", target: "/secret/prod%2Fversion", status: 200,
			check: isSecret("prod/version")},
		{name: "200/rule 1: encodeURIComponent escapes", target: "/secret/a%3Ab%3Dc%40d", status: 200, check: isSecret("a:b=c@d")},
		{name: "200/rule 1: lower-case escapes", target: "/secret/prod%2fdb", status: 200, check: isSecret("prod/db")},
		{name: "200/rule 1: an escaped letter", target: "/secret/pro%64%2Fdb", status: 200, check: isSecret("prod/db")},
		// Rule 2: ends with /version.
		{name: "200/rule 2: versions, encoded path", target: "/secret/prod%2Fdb/version", status: 200, check: isVersions(3)},
		{name: "200/rule 2: versions, raw path", target: "/secret/prod/db/version", status: 200, check: isVersions(3)},
		{name: "200/rule 2: raw prod/version is the versions of prod", target: "/secret/prod/version", status: 200,
			check: isVersions(2)},
		{name: "200/rule 2: versions of the secret named version", target: "/secret/prod%2Fversion/version", status: 200,
			check: isVersions(1)},
		{name: "200/rule 2: raw prod/version/version is the versions of prod/version", target: "/secret/prod/version/version",
			status: 200, check: isVersions(1)},
		{name: "200/rule 2: version/version", target: "/secret/version/version", status: 200, check: isVersions(1)},
		// Rule 3: ends with /version/<digits>.
		{name: "200/rule 3: encoded path", target: "/secret/prod%2Fdb/version/3?includeData=true", status: 200,
			check: isVersionOf("prod/db", 3)},
		{name: "200/rule 3: raw path", target: "/secret/prod/db/version/3?includeData=true", status: 200,
			check: isVersionOf("prod/db", 3)},
		{name: "200/rule 3: raw prod/version/2 is version 2 of prod", target: "/secret/prod/version/2?includeData=true",
			status: 200, check: isVersionOf("prod", 2)},
		{name: "200/rule 3: version 1 of prod/version", target: "/secret/prod%2Fversion/version/1?includeData=true",
			status: 200, check: isVersionOf("prod/version", 1)},
		{name: "200/rule 3: version 1 of prod/version/version", target: "/secret/prod/version/version/version/1?includeData=true",
			status: 200, check: isVersionOf("prod/version/version", 1)},
		{name: "404/rule 3: a version that does not exist", target: "/secret/prod/db/version/4", status: 404,
			errID: "SecretVersionNotFound"},
		{name: "400/rule 3: version 0", target: "/secret/prod/db/version/0", status: 400, errID: "SecretVersionMinRequired"},
		// Rule 4: raw slashes, no route suffix.
		{name: "200/rule 4: raw slashes", target: "/secret/prod/db", status: 200, check: isSecret("prod/db")},
		{name: "200/rule 4: a version suffix that is not a number", target: "/secret/prod/version/3x", status: 200,
			check: isSecret("prod/version/3x")},
		{name: "200/rule 4: mixed raw and encoded slashes", target: "/secret/prod%2Fversion/3x", status: 200,
			check: isSecret("prod/version/3x")},
		{name: "404/rule 4: an unknown secret under a version word", target: "/secret/prod/version/x", status: 404,
			errID: "SecretNotFound"},
		// Decoded once, then validated (okms-rest.md 2.2).
		{name: "400/double encoding", target: "/secret/prod%252Fdb", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/double encoding in a version route", target: "/secret/prod%252Fdb/version/1", status: 400,
			errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded trailing slash", target: "/secret/prod%2F", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded leading slash", target: "/secret/%2Fprod", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded double slash", target: "/secret/prod%2F%2Fdb", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded dot-dot segment", target: "/secret/prod%2F..%2Fdb", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded dot-dot segment, escaped dots", target: "/secret/prod%2F%2E%2E%2Fdb", status: 400,
			errID: "SecretPathInvalidCharacter"},
		{name: "400/raw dot-dot segment", target: "/secret/prod/../db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/raw dot segment before a version route", target: "/secret/./prod/version/1", status: 400,
			errID: "SecretPathInvalidCharacter"},
		{name: "400/raw double slash", target: "/secret/prod//db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded percent sign", target: "/secret/100%25", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded non-ASCII", target: "/secret/pr%C3%A9d", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/empty path", target: "/secret/", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "200/255 characters once decoded, longer encoded", target: "/secret/" + esc(pathOfLen(255)), status: 200,
			setup: func(e *env) { e.CreateSecret(pathOfLen(255), `{}`) }, check: isSecret(pathOfLen(255))},
		{name: "400/256 characters once decoded", target: "/secret/" + esc(pathOfLen(256)), status: 400,
			errID: "SecretPathMaxExceeded"},
		{name: "400/256 characters in a version route", target: "/secret/" + esc(pathOfLen(256)) + "/version/1", status: 400,
			errID: "SecretPathMaxExceeded"},
	}
	for i := range cases {
		if cases[i].setup == nil {
			cases[i].setup = setup
		}
	}
	runCases(t, "GET", cases)
}
