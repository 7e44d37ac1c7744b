package kv2

import (
	"net/http"
	"net/url"
	"testing"
)

// paramNames are the parameters surface C decodes, each tried with every
// decoder: Vault's weak typing must refuse what it cannot convert with a
// client error, never a panic or a 500.
var paramNames = []string{"data", "options", "version", "versions", "cas_required", "delete_version_after",
	"max_versions", "custom_metadata", "exclude_deleted", "depth", "list", "ttl", "num_uses", "x"}

// FuzzParams decodes a request body (JSON or form, as the Content-Type
// says) and a query string, then every parameter with every decoder
// (vault-kv2.md 2.2, 5.2 to 5.5): versions, integers, booleans, durations,
// string maps, objects and options.cas.
func FuzzParams(f *testing.F) {
	for _, s := range []struct{ body, ct, query string }{
		{`{"data":{"a":"b"},"options":{"cas":1}}`, "application/json", ""},
		{`{"versions":[1,"2",3]}`, "", "versions=1,2,3"},
		{`{"versions":"1,2,x"}`, "", "versions=&versions=2"},
		{`{"versions":1.5}`, "", "version=-1"},
		{`{"max_versions":"10","cas_required":"true","delete_version_after":"1d12h"}`, "", ""},
		{`{"delete_version_after":"99999999999999d"}`, "", "delete_version_after=-5s"},
		{`{"delete_version_after":1e400}`, "", ""},
		{`{"max_versions":99999999999999999999}`, "", ""},
		{`{"custom_metadata":{"a":1,"b":true,"c":null,"d":[1]}}`, "", ""},
		{`{"options":{"cas":"0x10"}}`, "", ""},
		{`{"options":null}`, "", ""},
		{`{"options":[1]}`, "", ""},
		{`{"a":1,"a":2}`, "", ""},
		{"data=x&options=y", "application/x-www-form-urlencoded", ""},
		{"%zz", "application/x-www-form-urlencoded", "%zz"},
		{`[1,2]`, "", ""},
		{"\xff", "", ""},
		{`{"data":` + deep(200) + `}`, "", ""},
		{"", "", "list=true&depth=3"},
	} {
		f.Add([]byte(s.body), s.ct, s.query, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, query string, patch bool) {
		p, err := bodyParams(body, contentType, patch)
		if err != nil {
			clientError(t, "bodyParams", err)
			return
		}
		decodeAll(t, p)
		q, err := url.ParseQuery(query)
		if err != nil {
			return // net/url refuses it before coffer sees it
		}
		decodeAll(t, queryParams(q))
	})
}

func deep(n int) string {
	s := ""
	for range n {
		s += `{"a":`
	}
	s += "1"
	for range n {
		s += "}"
	}
	return s
}

func decodeAll(t *testing.T, p params) {
	for _, name := range paramNames {
		p.has(name)
		p.isNull(name)
		p.value(name)
		if _, _, err := p.int(name); err != nil {
			clientError(t, "int "+name, err)
		}
		if _, _, err := p.boolean(name); err != nil {
			clientError(t, "boolean "+name, err)
		}
		if _, err := p.versions(name); err != nil {
			clientError(t, "versions "+name, err)
		}
		if vd, ok, err := p.duration(name); err != nil {
			clientError(t, "duration "+name, err)
		} else if ok {
			if _, err := vd.unsigned(name); err != nil {
				clientError(t, "unsigned duration "+name, err)
			}
		}
		if _, _, err := p.stringMap(name); err != nil {
			clientError(t, "stringMap "+name, err)
		}
		if _, _, err := p.object(name); err != nil {
			clientError(t, "object "+name, err)
		}
	}
	if _, err := p.cas(); err != nil {
		clientError(t, "cas", err)
	}
	p.unknown(paramNames[:3])
}

// clientError fails unless surface C answers err with a 4xx.
func clientError(t *testing.T, what string, err error) {
	t.Helper()
	if we := describe(err); we.status < 400 || we.status >= http.StatusInternalServerError {
		t.Fatalf("%s: error %v is answered %d, want a 4xx", what, err, we.status)
	}
}
