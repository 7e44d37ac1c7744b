package iamapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPolicyBodies sends fuzzed policy documents (and group and token
// requests) to identity management through the real handler over the
// real service (dev mode): the strict policy decoder (decodePolicy:
// unknown members, duplicate names, depth, expiredAt, URNs and actions),
// then the service's validation. Every answer must be a 2xx or a 4xx in
// the OVH envelope. User routes are left out: a password costs an
// Argon2id hash of 64 MiB per execution.
func FuzzPolicyBodies(f *testing.F) {
	h, domain := fuzzServer(f)
	send := func(method, target string, body []byte, contentType string) *httptest.ResponseRecorder {
		req, err := http.NewRequest(method, "http://coffer"+target, bytes.NewReader(body))
		if err != nil {
			return nil
		}
		req.Header.Set("Authorization", "Bearer root")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	domainURN := "urn:v1:eu:resource:okms:" + domain
	valid := `{"name":"fz","identities":["urn:v1:eu:identity:group:coffer/admins"],"resources":[{"urn":"` + domainURN + `"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`
	rec := send("POST", "/v2/iam/policy", []byte(valid), "application/json")
	var created struct{ ID string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &created) != nil || created.ID == "" {
		f.Fatalf("create a policy = %d %s", rec.Code, rec.Body)
	}
	if rec := send("POST", "/1.0/me/identity/user", []byte(`{"login":"fz"}`), ""); rec.Code >= 300 {
		f.Fatalf("create user fz = %d %s", rec.Code, rec.Body)
	}
	routes := []struct{ method, target string }{
		{"POST", "/v2/iam/policy"},
		{"PUT", "/v2/iam/policy/" + created.ID},
		{"POST", "/1.0/me/identity/group"},
		{"PUT", "/1.0/me/identity/group/fzg"},
		{"POST", "/1.0/me/identity/user/fz/token"},
	}
	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, valid},
		{0, strings.Replace(valid, `"name":"fz"`, `"name":"fz","name":"x"`, 1)},
		{0, strings.Replace(valid, `"name":"fz"`, `"name":"fz","bogus":1`, 1)},
		{0, strings.Replace(valid, `okms:apikms:secret/get`, `okms:apikms:*`, 1)},
		{0, strings.Replace(valid, domainURN, domainURN+"/secret/a/*", 1)},
		{0, strings.Replace(valid, `"name":"fz"`, `"name":"fz","expiredAt":"2030-01-01T00:00:00Z","conditions":null`, 1)},
		{0, strings.Replace(valid, `"name":"fz"`, `"name":"fz","expiredAt":"soon"`, 1)},
		{0, strings.Replace(valid, `"name":"fz"`, `"name":"fz","conditions":{"a":1}`, 1)},
		{0, `{"name":"` + strings.Repeat("n", 1000) + `"}`},
		{0, strings.Repeat("[", 10000)},
		{0, "{\"name\":\"\xff\"}"},
		{1, valid},
		{1, `{"name":"fz","identities":[],"resources":[],"permissions":{}}`},
		{1, `{"permissionsGroups":[{"urn":"urn:v1:eu:permissionsGroup:x"}]}`},
		{2, `{"name":"fzg","role":"REGULAR"}`},
		{2, `{"name":"","role":"GOD"}`},
		{3, `{"description":"d","role":"ADMIN"}`},
		{4, `{"name":"t1","expiresAt":"2030-01-01T00:00:00Z"}`},
		{4, `{"name":"t2","expiresAt":"yesterday"}`},
	} {
		f.Add(s.route, []byte(s.body), "application/json")
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte, contentType string) {
		rt := routes[int(route)%len(routes)]
		rec := send(rt.method, rt.target, body, contentType)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with body %q = %d %s", rt.method, rt.target, body, rec.Code, rec.Body)
		}
		if rec.Code < 400 {
			return
		}
		var e struct {
			Class   string `json:"class"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.HasPrefix(e.Class, "Client::") || e.Message == "" {
			t.Fatalf("%s %s = %d with a body outside the OVH envelope: %s", rt.method, rt.target, rec.Code, rec.Body)
		}
	})
}
