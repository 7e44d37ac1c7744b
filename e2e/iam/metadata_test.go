package iam

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMetadataOnlyUser: a user holding only okms:apikms:secret/get and
// okms:apiovh:secret/get lists and sees metadata and versions on surfaces
// A, B and C, but cannot read a value anywhere: includeData=true is
// refused on A and B (not answered without data, iam.md 6), and so are
// the Vault data read and subkeys (issue 4, "Must show").
func TestMetadataOnlyUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	canary := "CANARY-" + randomHex(8)
	e.must(t, "POST", e.restURL("/secret"), `{"path":"app/db","version":{"data":{"password":"`+canary+`-1"}}}`)
	e.must(t, "POST", e.restURL("/secret/app%2Fdb/version"), `{"data":{"password":"`+canary+`-2"}}`)
	e.createUser(t, "auditor", "", "")
	c := cred{token: e.createPAT(t, "auditor", "m", time.Time{})}
	e.createPolicy(t, policyDoc{name: "auditor", identities: []string{userURN("auditor")}, resources: []string{e.domainURN()},
		allow: []string{kms + "secret/get", ovh + "secret/get"}})

	allowed := []struct {
		name string
		rq   request
		want func(t *testing.T, r response)
	}{
		{"B list", getReq(e.restURL("/secret")), func(t *testing.T, r response) {
			items := decode[[]restSecret](t, r)
			if len(items) != 1 || items[0].Path != "app/db" || items[0].Version == nil || items[0].Version.ID != 2 {
				t.Errorf("list = %s, want app/db with its current version 2", r)
			}
		}},
		{"B get", getReq(e.restURL("/secret/app%2Fdb")), func(t *testing.T, r response) {
			s := decode[restSecret](t, r)
			if s.Metadata.CurrentVersion != 2 || s.Version == nil || s.Version.Data != nil {
				t.Errorf("get = %s, want metadata and version 2 without data", r)
			}
		}},
		{"B versions", getReq(e.restURL("/secret/app%2Fdb/version")), wantVersions(2)},
		{"B version 1", getReq(e.restURL("/secret/app%2Fdb/version/1")), wantVersion(1)},
		{"A list", getReq(e.centralURL("/secret")), func(t *testing.T, r response) {
			items := decode[[]restSecret](t, r)
			if len(items) != 1 || items[0].Path != "app/db" {
				t.Errorf("list = %s, want app/db", r)
			}
		}},
		{"A get", getReq(e.centralURL("/secret/app%2Fdb")), func(t *testing.T, r response) {
			s := decode[restSecret](t, r)
			if s.Metadata.CurrentVersion != 2 || s.Version == nil || s.Version.Data != nil {
				t.Errorf("get = %s, want metadata and version 2 without data", r)
			}
		}},
		{"A versions", getReq(e.centralURL("/secret/app%2Fdb/version")), wantVersions(2)},
		{"A version 2", getReq(e.centralURL("/secret/app%2Fdb/version/2")), wantVersion(2)},
		{"C metadata", vaultReq("GET", "/v1/secret/metadata/app/db", ""), func(t *testing.T, r response) {
			var v struct {
				Data struct {
					CurrentVersion int                        `json:"current_version"`
					Versions       map[string]json.RawMessage `json:"versions"`
				}
			}
			_ = json.Unmarshal(r.body, &v)
			if v.Data.CurrentVersion != 2 || len(v.Data.Versions) != 2 {
				t.Errorf("metadata = %s, want current_version 2 and two versions", r)
			}
		}},
		{"C metadata, named domain", vaultReq("GET", "/api/"+e.domain+"/v1/secret/metadata/app/db", ""), nil},
		{"C LIST root", vaultReq("LIST", "/v1/secret/metadata/", ""), wantKeys("app/")},
		{"C LIST folder", vaultReq("GET", "/v1/secret/metadata/app/?list=true", ""), wantKeys("db")},
	}
	for _, tc := range allowed {
		r := e.do(t, c, tc.rq)
		if r.status != 200 {
			t.Errorf("%s: %s %s = %s, want 200", tc.name, tc.rq.method, tc.rq.target, r)
			continue
		}
		if strings.Contains(string(r.body), canary) {
			t.Errorf("%s: the answer holds a value: %s", tc.name, r)
		}
		if tc.want != nil {
			t.Run(tc.name, func(t *testing.T) { tc.want(t, r) })
		}
	}

	refused := []struct {
		name    string
		surface string
		rq      request
	}{
		{"B secret includeData", "B", getReq(e.restURL("/secret/app%2Fdb?includeData=true"))},
		{"B version includeData", "B", getReq(e.restURL("/secret/app%2Fdb/version/1?includeData=true"))},
		{"A secret includeData", "A", getReq(e.centralURL("/secret/app%2Fdb?includeData=true"))},
		{"A version includeData", "A", getReq(e.centralURL("/secret/app%2Fdb/version/2?includeData=true"))},
		{"C data", "C", vaultReq("GET", "/v1/secret/data/app/db", "")},
		{"C data, version 1", "C", vaultReq("GET", "/v1/secret/data/app/db?version=1", "")},
		{"C data, named domain", "C", vaultReq("GET", "/api/"+e.domain+"/v1/secret/data/app/db", "")},
		{"C subkeys", "C", vaultReq("GET", "/v1/secret/subkeys/app/db", "")},
	}
	for _, tc := range refused {
		r := e.do(t, c, tc.rq)
		if r.status != 403 || refusal(tc.surface, r) != "denied" {
			t.Errorf("%s: %s %s = %s, want 403 in the surface's denial envelope", tc.name, tc.rq.method, tc.rq.target, r)
		}
		if strings.Contains(string(r.body), canary) {
			t.Errorf("%s: the refusal holds a value: %s", tc.name, r)
		}
	}
	t.Logf("metadata-only user: %d allowed reads, %d refused value reads", len(allowed), len(refused))
}

func wantVersions(n int) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		vs := decode[[]restVersion](t, r)
		if len(vs) != n {
			t.Errorf("versions = %s, want %d", r, n)
		}
		for _, v := range vs {
			if v.Data != nil {
				t.Errorf("version %d listed with data: %s", v.ID, r)
			}
		}
	}
}

func wantVersion(id uint32) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		v := decode[restVersion](t, r)
		if v.ID != id || v.Data != nil {
			t.Errorf("version = %s, want version %d without data", r, id)
		}
	}
}

func wantKeys(keys ...string) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		var v struct{ Data struct{ Keys []string } }
		_ = json.Unmarshal(r.body, &v)
		if strings.Join(v.Data.Keys, ",") != strings.Join(keys, ",") {
			t.Errorf("keys = %s, want %v", r, keys)
		}
	}
}
