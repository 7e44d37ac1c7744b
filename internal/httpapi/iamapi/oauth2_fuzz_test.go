package iamapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// fuzzServer starts a dev server (root token "root") for a fuzz target and
// returns its handler and default domain.
func fuzzServer(f *testing.F) (http.Handler, string) {
	srv := testenv.Start(f).Server
	return srv.Handler(), srv.DefaultDomain()
}

// FuzzOAuth2Token sends fuzzed token requests (body, Authorization header,
// Content-Type) to the token endpoint of a real server (dev mode) with one
// service account, and fuzzed creation bodies to the service-account
// route. A token request is answered 200 with a token, or with an RFC 6749
// 5.2 error body of a known code, never a 5xx; a creation, 2xx or a 4xx in
// the OVH envelope.
func FuzzOAuth2Token(f *testing.F) {
	h, _ := fuzzServer(f)
	send := func(target string, body []byte, auth, contentType string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://coffer"+target, bytes.NewReader(body))
		req.RemoteAddr = "192.0.2.7:4000"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := send("/1.0/me/api/oauth2/client", []byte(`{"name":"fz","flow":"CLIENT_CREDENTIALS"}`), "Bearer root", "application/json")
	var sa struct{ ClientID, ClientSecret string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &sa) != nil {
		f.Fatalf("create a service account = %d %s", rec.Code, rec.Body)
	}
	form := "application/x-www-form-urlencoded"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sa.ClientID+":"+sa.ClientSecret))
	for _, s := range []struct{ body, auth, ct string }{
		{"grant_type=client_credentials&scope=all&client_id=" + sa.ClientID + "&client_secret=" + sa.ClientSecret, "", form},
		{"grant_type=client_credentials&scope=all", basic, form},
		{"grant_type=client_credentials&scope=all", "Basic Og==", form},
		{"grant_type=client_credentials&scope=all", "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz")), form},
		{"grant_type=refresh_token&refresh_token=x", basic, form},
		{"grant_type=client_credentials&grant_type=password", "", form},
		{"grant_type=%zz", "", form},
		{"", "", "multipart/form-data; boundary=x"},
		{`{"name":"fz2","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`, "Bearer root", "application/json"},
		{`{"name":"\u0000","flow":"AUTHORIZATION_CODE","callbackUrls":[1]}`, "Bearer root", "application/json"},
	} {
		f.Add([]byte(s.body), s.auth, s.ct)
	}
	codes := []string{"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "temporarily_unavailable"}
	f.Fuzz(func(t *testing.T, body []byte, auth, contentType string) {
		if auth == "Bearer root" {
			// The creation route, as the root.
			rec := send("/1.0/me/api/oauth2/client", body, auth, contentType)
			var e struct{ Class, Message string }
			if rec.Code >= 500 || rec.Code >= 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Class == "" || e.Message == "") {
				t.Fatalf("create %q = %d %s", body, rec.Code, rec.Body)
			}
			return
		}
		rec := send("/auth/oauth2/token", body, auth, contentType)
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Pragma") != "no-cache" {
			t.Fatalf("token answer without no-store, no-cache: %v", rec.Header())
		}
		if rec.Code == 200 {
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &tok) != nil || tok.AccessToken == "" {
				t.Fatalf("200 without a token: %s", rec.Body)
			}
			return
		}
		var e struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		if rec.Code >= 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || !slices.Contains(codes, e.Error) || e.Desc == "" {
			t.Fatalf("token request %q (Authorization %q, Content-Type %q) = %d %s", body, auth, contentType, rec.Code, rec.Body)
		}
		if bytes.Contains(rec.Body.Bytes(), []byte(sa.ClientSecret)) {
			t.Fatalf("an answer quotes the client secret")
		}
		if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate")
		}
	})
}
