package iamapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// The service-account routes (/1.0/me/api/oauth2/client, iam.md 7.4) and
// the OAuth2 token endpoint (/auth/oauth2/token, iam.md 7.2, RFC 6749 4.4,
// 5.1, 5.2), end to end over HTTP.

const (
	saPath    = "/1.0/me/api/oauth2/client"
	tokenPath = "/auth/oauth2/token"
)

var (
	clientIDValue     = regexp.MustCompile(`^[0-9a-f]{16}$`)
	clientSecretValue = regexp.MustCompile(`cof_ocs_[A-Za-z0-9_-]{43}`)
	accessTokenValue  = regexp.MustCompile(`cof_oat_[A-Za-z0-9_-]{43}`)
)

// sa is a service account created for a test, with its secret.
type sa struct{ id, secret string }

// createSA creates a service account as the root.
func (e *env) createSA(name string) sa {
	e.t.Helper()
	r := e.Must("POST", saPath, fmt.Sprintf(`{"name":%q,"description":"test","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`, name))
	v := wiretest.DecodeBody[struct{ ClientID, ClientSecret string }](e.t, r)
	if !clientIDValue.MatchString(v.ClientID) || !clientSecretValue.MatchString(v.ClientSecret) {
		e.t.Fatalf("created service account %s", r.Body)
	}
	return sa{v.ClientID, v.ClientSecret}
}

// saGolden pins r with the random client ids, secrets and tokens of the
// test's service accounts normalised.
func (e *env) saGolden(t *testing.T, name string, r *response, accounts ...sa) {
	t.Helper()
	body := string(r.Body)
	for i, a := range accounts {
		body = strings.ReplaceAll(body, a.id, fmt.Sprintf("<client-id-%d>", i+1))
	}
	body = clientSecretValue.ReplaceAllString(body, "<client-secret>")
	body = accessTokenValue.ReplaceAllString(body, "<access-token>")
	n := *r
	n.Body = []byte(body)
	e.Golden(t, name, &n)
}

func (e *env) listSAs() []string {
	e.t.Helper()
	return wiretest.DecodeBody[[]string](e.t, e.Must("GET", saPath, ""))
}

func TestServiceAccounts_Create(t *testing.T) {
	t.Parallel()
	const bad = "Client::BadRequest::InvalidServiceAccount"
	cases := []apiCase{
		{Name: "200/secret shown once", Body: `{"name":"External Secrets","description":"reads prod","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`,
			Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				v := wiretest.DecodeBody[map[string]string](t, r)
				if keys := slices.Sorted(maps.Keys(v)); !slices.Equal(keys, []string{"clientId", "clientSecret"}) {
					t.Errorf("members %v, want clientId and clientSecret", keys)
				}
				e.saGolden(t, "serviceaccount_create", r, sa{v["clientId"], v["clientSecret"]})
				for _, target := range []string{saPath, saPath + "/" + v["clientId"]} {
					if body := string(e.Must("GET", target, "").Body); strings.Contains(body, v["clientSecret"]) {
						t.Errorf("GET %s shows the secret: %s", target, body)
					}
				}
			}},
		{Name: "200/without callbackUrls and description", Body: `{"name":"ci","flow":"CLIENT_CREDENTIALS"}`, Status: 200},
		{Name: "200/unknown members ignored", Body: `{"name":"ci","flow":"CLIENT_CREDENTIALS","scope":"x"}`, Status: 200},
		{Name: "400/authorization code flow", Body: `{"name":"app","flow":"AUTHORIZATION_CODE","callbackUrls":["https://app.example/cb"]}`,
			Status: 400, Err: bad, Golden: "error_InvalidServiceAccount",
			Check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "flow") }},
		{Name: "400/no flow", Body: `{"name":"ci"}`, Status: 400, Err: bad},
		{Name: "400/callback URLs", Body: `{"name":"ci","flow":"CLIENT_CREDENTIALS","callbackUrls":["https://x"]}`, Status: 400, Err: bad,
			Check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "callbackUrls") }},
		{Name: "400/no name", Body: `{"flow":"CLIENT_CREDENTIALS"}`, Status: 400, Err: bad},
		{Name: "400/name with a control character", Body: `{"name":"a\u0007b","flow":"CLIENT_CREDENTIALS"}`, Status: 400, Err: bad},
		{Name: "400/description too long", Body: `{"name":"a","flow":"CLIENT_CREDENTIALS","description":"` + strings.Repeat("d", 1025) + `"}`,
			Status: 400, Err: bad},
		{Name: "400/flow not a string", Body: `{"name":"a","flow":1}`, Status: 400, Err: "Client::BadRequest::RequestBodyInvalidJson"},
	}
	cases = append(cases, authCases(nil, "", `{"name":"ci","flow":"CLIENT_CREDENTIALS"}`, 200)...)
	cases = append(cases, bodyCases(nil, "")...)
	for i := range cases {
		cases[i].Target = saPath
		if cases[i].Status >= 400 {
			check := cases[i].Check
			cases[i].Check = func(t *testing.T, e *env, r *response) {
				if check != nil {
					check(t, e, r)
				}
				if got := e.listSAs(); len(got) != 0 {
					t.Errorf("a refused creation left service accounts %v", got)
				}
			}
		}
	}
	runCases(t, http.MethodPost, cases)
}

func TestServiceAccounts_ListGetDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.Call("GET", saPath, "")
	r.Expect(t, 200, "")
	if string(r.Body) != "[]" {
		t.Errorf("empty list = %s, want []", r.Body)
	}
	a, b := e.createSA("eso"), e.createSA("terraform")
	r = e.Call("GET", saPath, "")
	r.Expect(t, 200, "")
	first, second := a, b
	if b.id < a.id {
		first, second = b, a
	}
	e.saGolden(t, "serviceaccount_list", r, first, second)

	r = e.Call("GET", saPath+"/"+a.id, "")
	r.Expect(t, 200, "")
	e.saGolden(t, "serviceaccount_get", r, a)
	got := wiretest.DecodeBody[map[string]any](t, r)
	if got["identity"] != "urn:v1:eu:identity:credential:coffer/oauth2-"+a.id || got["name"] != "eso" {
		t.Errorf("GET = %s", r.Body)
	}
	noMember(t, r, "clientSecret")

	for _, tc := range []struct{ name, target string }{
		{"unknown client id", saPath + "/0123456789abcdef"},
		{"upper-case client id", saPath + "/" + strings.ToUpper(a.id)},
		{"malformed client id", saPath + "/0123456789ab%2Fcdef"},
		{"not hexadecimal", saPath + "/0123456789abcdeg"},
		{"too long", saPath + "/" + a.id + "0"},
	} {
		r := e.Call("GET", tc.target, "")
		r.Expect(t, 404, "Client::NotFound::ServiceAccountNotFound")
		if tc.name == "unknown client id" {
			e.Golden(t, "error_ServiceAccountNotFound", r)
		}
	}
	e.Call("PUT", saPath+"/"+a.id, `{}`).Expect(t, 405, "Client::MethodNotAllowed")
	e.Call("DELETE", saPath, "").Expect(t, 405, "Client::MethodNotAllowed")

	r = e.Call("DELETE", saPath+"/"+a.id, "")
	r.Expect(t, 204, "")
	e.Call("DELETE", saPath+"/"+a.id, "").Expect(t, 404, "Client::NotFound::ServiceAccountNotFound")
	e.Call("GET", saPath+"/"+a.id, "").Expect(t, 404, "Client::NotFound::ServiceAccountNotFound")
	if got := e.listSAs(); !slices.Equal(got, []string{b.id}) {
		t.Errorf("after the deletion: %v, want [%s]", got, b.id)
	}
}

// TestServiceAccounts_AdminOnly: only the account root and ADMIN users
// manage service accounts; a service account's own token may not.
func TestServiceAccounts_AdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSA("eso")
	e.createUser("bob", "")
	bob := e.createToken("bob", "t", "")
	own := e.fetchToken(t, a, "basic").AccessToken
	e.createGroup("admins", "ADMIN")
	e.createUser("carol", "admins")
	carol := e.createToken("carol", "t", "")
	for who, tok := range map[string]string{"bob": bob, "the service account": own} {
		for _, rq := range []struct{ method, target, body string }{
			{"GET", saPath, ""}, {"POST", saPath, `{"name":"x","flow":"CLIENT_CREDENTIALS"}`},
			{"GET", saPath + "/" + a.id, ""}, {"DELETE", saPath + "/" + a.id, ""},
			{"GET", saPath + "/0123456789abcdef", ""},
		} {
			r := e.as(tok, rq.method, rq.target, rq.body)
			if r.Status != 403 {
				t.Errorf("%s: %s %s = %d %s, want 403", who, rq.method, rq.target, r.Status, r.Body)
				continue
			}
			r.Expect(t, 403, "Client::Forbidden")
		}
	}
	if got := e.listSAs(); !slices.Equal(got, []string{a.id}) {
		t.Errorf("refused calls changed the service accounts: %v", got)
	}
	e.as(carol, "GET", saPath+"/"+a.id, "").Expect(t, 200, "")
	e.as(carol, "DELETE", saPath+"/"+a.id, "").Expect(t, 204, "")
}

// tokenAnswer is RFC 6749 5.1's answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// tokenRequest sends a token request: form is the body, form-encoded;
// basic, if set, the Authorization header.
func (e *env) tokenRequest(form url.Values, header map[string]string) *response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	maps.Copy(h, header)
	return e.Send(request{Method: "POST", Target: tokenPath, Token: noToken, Header: h, Body: form.Encode()})
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// fetchToken obtains an access token for a with the client
// authentication "basic" or "form".
func (e *env) fetchToken(t *testing.T, a sa, how string) tokenAnswer {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}}
	var h map[string]string
	if how == "basic" {
		h = map[string]string{"Authorization": basicAuth(a.id, a.secret)}
	} else {
		form.Set("client_id", a.id)
		form.Set("client_secret", a.secret)
	}
	r := e.tokenRequest(form, h)
	oauthExpect(t, r, 200, "")
	return wiretest.DecodeBody[tokenAnswer](t, r)
}

// oauthExpect checks a token endpoint answer: status, the headers RFC 6749
// 5.1 and 5.2 call for, and for an error exactly error and
// error_description, the error being code.
func oauthExpect(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "Content-Type": "application/json"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %s", r.Body)
	}
	keys := slices.Sorted(maps.Keys(m))
	if status == 200 {
		if !slices.Equal(keys, []string{"access_token", "expires_in", "scope", "token_type"}) {
			t.Errorf("members %v, want access_token, expires_in, scope, token_type", keys)
		}
		v := wiretest.DecodeBody[tokenAnswer](t, r)
		if !accessTokenValue.MatchString(v.AccessToken) || len(v.AccessToken) != len("cof_oat_")+43 || v.TokenType != "Bearer" ||
			v.ExpiresIn != 3600 || v.Scope != "all" {
			t.Errorf("token answer %s", r.Body)
		}
		return
	}
	if !slices.Equal(keys, []string{"error", "error_description"}) {
		t.Errorf("error members %v, want error and error_description", keys)
	}
	v := wiretest.DecodeBody[struct{ Error, ErrorDescription string }](t, r)
	if err := wiretest.DecodeBody[struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}](t, r); err.Error != code || err.Desc == "" {
		t.Errorf("error %q (%q), want %q with a description; %v", err.Error, err.Desc, code, v)
	}
	if got := r.Header.Get("WWW-Authenticate"); (status == 401) != (got == `Basic realm="coffer"`) {
		t.Errorf("status %d with WWW-Authenticate %q; want Basic realm=\"coffer\" on 401 only", status, got)
	}
}

func TestOAuth2Token(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSA("eso")
	other := e.createSA("other")
	valid := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}, "client_id": {a.id}, "client_secret": {a.secret}}
	}
	with := func(change func(url.Values)) url.Values { f := valid(); change(f); return f }
	basic := map[string]string{"Authorization": basicAuth(a.id, a.secret)}
	noCreds := func(f url.Values) { f.Del("client_id"); f.Del("client_secret") }

	t.Run("200/form and Basic", func(t *testing.T) {
		for _, how := range []string{"form", "basic"} {
			e.fetchToken(t, a, how)
		}
		r := e.tokenRequest(valid(), nil)
		oauthExpect(t, r, 200, "")
		e.saGolden(t, "oauth2_token", r, a)
		// Basic with the client_id repeated in the form (RFC 6749 3.2.1),
		// and a charset in the media type.
		r = e.tokenRequest(with(func(f url.Values) { f.Del("client_secret") }),
			map[string]string{"Authorization": basicAuth(a.id, a.secret), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
		oauthExpect(t, r, 200, "")
	})

	tests := []struct {
		name   string
		form   url.Values
		header map[string]string
		raw    string // a raw body instead of form
		target string
		method string
		status int
		code   string
		golden string
	}{
		{name: "no grant_type", form: with(func(f url.Values) { f.Del("grant_type") }), status: 400, code: "invalid_request",
			golden: "oauth2_error_invalid_request"},
		{name: "repeated parameter", raw: valid().Encode() + "&scope=all", status: 400, code: "invalid_request"},
		{name: "JSON body", raw: `{"grant_type":"client_credentials"}`, header: map[string]string{"Content-Type": "application/json"},
			status: 400, code: "invalid_request"},
		{name: "no content type", raw: valid().Encode(), header: map[string]string{"Content-Type": ""}, status: 400, code: "invalid_request"},
		{name: "secret in the URL", target: tokenPath + "?client_secret=" + url.QueryEscape(a.secret), form: with(noCreds),
			status: 400, code: "invalid_request"},
		{name: "Basic and a form secret", form: valid(), header: basic, status: 400, code: "invalid_request"},
		{name: "Basic for another client_id", form: with(func(f url.Values) { f.Del("client_secret"); f.Set("client_id", other.id) }),
			header: basic, status: 400, code: "invalid_request"},
		{name: "malformed form", raw: "grant_type=%zz", status: 400, code: "invalid_request"},
		{name: "GET", method: "GET", status: 405, code: "invalid_request"},
		{name: "body over 1 MiB", raw: valid().Encode() + "&pad=" + strings.Repeat("x", 1<<20), status: 413, code: "invalid_request"},

		{name: "password grant", form: with(func(f url.Values) { f.Set("grant_type", "password") }), status: 400,
			code: "unsupported_grant_type", golden: "oauth2_error_unsupported_grant_type"},
		{name: "upper-case grant", form: with(func(f url.Values) { f.Set("grant_type", "CLIENT_CREDENTIALS") }), status: 400,
			code: "unsupported_grant_type"},

		{name: "wrong secret", form: with(func(f url.Values) { f.Set("client_secret", a.secret+"x") }), status: 401,
			code: "invalid_client", golden: "oauth2_error_invalid_client"},
		{name: "wrong secret over Basic", form: with(noCreds), header: map[string]string{"Authorization": basicAuth(a.id, "nope")},
			status: 401, code: "invalid_client"},
		{name: "another client's secret", form: with(func(f url.Values) { f.Set("client_secret", other.secret) }), status: 401,
			code: "invalid_client"},
		{name: "unknown client", form: with(func(f url.Values) { f.Set("client_id", "0123456789abcdef") }), status: 401,
			code: "invalid_client"},
		{name: "malformed client id", form: with(func(f url.Values) { f.Set("client_id", "../"+a.id) }), status: 401, code: "invalid_client"},
		{name: "no client authentication", form: with(noCreds), status: 401, code: "invalid_client"},
		{name: "client id without a secret", form: with(func(f url.Values) { f.Del("client_secret") }), status: 401, code: "invalid_client"},
		{name: "malformed Basic", form: with(noCreds), header: map[string]string{"Authorization": "Basic !!!"}, status: 401,
			code: "invalid_client"},
		{name: "a bearer token is no client authentication", form: with(noCreds),
			header: map[string]string{"Authorization": "Bearer " + rootToken}, status: 401, code: "invalid_client"},

		{name: "refresh token grant", form: with(func(f url.Values) { f.Set("grant_type", "refresh_token"); f.Set("refresh_token", "x") }),
			status: 400, code: "invalid_grant", golden: "oauth2_error_invalid_grant"},
		{name: "authorization code grant", form: with(func(f url.Values) { f.Set("grant_type", "authorization_code"); f.Set("code", "x") }),
			status: 400, code: "invalid_grant"},

		{name: "no scope", form: with(func(f url.Values) { f.Del("scope") }), status: 400, code: "invalid_scope",
			golden: "oauth2_error_invalid_scope"},
		{name: "other scope", form: with(func(f url.Values) { f.Set("scope", "read") }), status: 400, code: "invalid_scope"},
		{name: "two scopes", form: with(func(f url.Values) { f.Set("scope", "all read") }), status: 400, code: "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%s", tc.status, tc.name), func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			maps.Copy(h, tc.header)
			body := tc.raw
			if body == "" && tc.form != nil {
				body = tc.form.Encode()
			}
			r := e.Send(request{Method: cmpOr(tc.method, "POST"), Target: cmpOr(tc.target, tokenPath), Token: noToken, Header: h, Body: body})
			oauthExpect(t, r, tc.status, tc.code)
			if bytes.Contains(r.Body, []byte(a.secret)) || bytes.Contains(r.Body, []byte(other.secret)) {
				t.Errorf("the answer quotes a client secret: %s", r.Body)
			}
			if tc.golden != "" {
				e.saGolden(t, tc.golden, r, a)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestOAuth2Token_Use: an access token works on every surface, with both
// token headers, until it expires an hour later (the clock is the
// server's, moved by hand), and stops at once when its service account is
// deleted.
func TestOAuth2Token_Use(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSA("eso")
	e.createPolicy(policyDoc("eso", "urn:v1:eu:identity:credential:coffer/oauth2-"+a.id, e.domainURN(),
		[]string{"okms:apikms:secret/get", "okms:apikms:secret/version/getData", "okms:apiovh:secret/get", "okms:apiovh:secret/version/getData"}))
	e.Must("POST", "/api/{okmsId}/v2/secret", `{"path":"prod/db","version":{"data":{"pw":"x"}}}`)
	tok := e.fetchToken(t, a, "form").AccessToken
	reads := []request{
		{Method: "GET", Target: "/api/{okmsId}/v2/secret/prod%2Fdb?includeData=true", Token: tok},
		{Method: "GET", Target: "/v2/okms/resource/{okmsId}/secret/prod%2Fdb?includeData=true", Token: tok},
		{Method: "GET", Target: "/v1/secret/data/prod/db", Token: noToken, Header: map[string]string{"X-Vault-Token": tok}},
		{Method: "GET", Target: "/api/{okmsId}/v1/secret/data/prod/db", Token: tok},
	}
	// readAll sends every read: surfaces B and A answer ok, Vault's routes
	// vault (a refused Vault request is a 403).
	readAll := func(ok, vault int) {
		t.Helper()
		for i, rq := range reads {
			want := ok
			if i >= 2 {
				want = vault
			}
			if r := e.Send(rq); r.Status != want {
				t.Errorf("%s %s = %d %s, want %d", rq.Method, rq.Target, r.Status, r.Body, want)
			}
		}
	}
	readAll(200, 200)
	// Not granted: writing.
	if r := e.as(tok, "POST", "/api/{okmsId}/v2/secret", `{"path":"prod/x","version":{"data":{}}}`); r.Status != 403 {
		t.Errorf("write without the action = %d %s, want 403", r.Status, r.Body)
	}
	lookup := e.Send(request{Method: "GET", Target: "/v1/auth/token/lookup-self", Token: noToken, Header: map[string]string{"X-Vault-Token": tok}})
	var lk struct {
		Data struct {
			TTL        int    `json:"ttl"`
			ExpireTime string `json:"expire_time"`
			Renewable  bool   `json:"renewable"`
		} `json:"data"`
	}
	if err := json.Unmarshal(lookup.Body, &lk); err != nil || lookup.Status != 200 || lk.Data.TTL != 3600 ||
		lk.Data.ExpireTime != t0.Add(time.Hour).Format(time.RFC3339) || lk.Data.Renewable {
		t.Errorf("lookup-self = %d %s; want ttl 3600, expire_time %s, not renewable", lookup.Status, lookup.Body, t0.Add(time.Hour).Format(time.RFC3339))
	}
	e.Clock.Advance(59*time.Minute + 59*time.Second)
	readAll(200, 200)
	e.Clock.Advance(time.Second)
	readAll(401, 403)

	// A fresh token, then the account's deletion revokes it at once.
	tok = e.fetchToken(t, a, "basic").AccessToken
	for i := range reads {
		if reads[i].Token != noToken {
			reads[i].Token = tok
		} else {
			reads[i].Header = map[string]string{"X-Vault-Token": tok}
		}
	}
	if r := e.Send(reads[0]); r.Status != 200 {
		t.Fatalf("fresh token = %d %s", r.Status, r.Body)
	}
	e.Must("DELETE", saPath+"/"+a.id, "")
	if r := e.Send(reads[0]); r.Status != 401 {
		t.Errorf("token of a deleted service account = %d %s, want 401", r.Status, r.Body)
	}
	r := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}, "client_id": {a.id}, "client_secret": {a.secret}}, nil)
	oauthExpect(t, r, 401, "invalid_client")
}

// TestOAuth2Token_Limits: failed client authentications count against the
// address's limit (iam.md 7.1: bursts of 20, then 10 a second) and the
// client id's (issue 13: five free failures and a sixth, then a delay
// doubling from a second), answered 429 with temporarily_unavailable
// beyond them.
func TestOAuth2Token_Limits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSA("eso")
	wrong := url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}, "client_id": {a.id}, "client_secret": {"cof_ocs_wrong"}}
	statuses := map[int]int{}
	var last *response
	for range 25 {
		last = e.tokenRequest(wrong, nil)
		statuses[last.Status]++
	}
	if statuses[401] != 6 || statuses[429] != 19 {
		t.Errorf("25 failures of one client at one instant: %v, want 6 × 401 and 19 × 429", statuses)
	}
	oauthExpect(t, last, 429, "temporarily_unavailable")
	e.saGolden(t, "oauth2_error_temporarily_unavailable", last, a)
	if got := last.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	e.Clock.Advance(time.Second)
	oauthExpect(t, e.tokenRequest(wrong, nil), 401, "invalid_client")
}
