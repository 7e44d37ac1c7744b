package kv2

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func bodyOf(t *testing.T, s string) params {
	t.Helper()
	p, err := bodyParams([]byte(s), "", false)
	if err != nil {
		t.Fatalf("bodyParams(%s): %v", s, err)
	}
	return p
}

// TestParams_Int checks Vault's weak integers (vault-kv2.md 2.2).
func TestParams_Int(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    int64
		ok      bool
		wantErr bool
	}{
		{"number", `{"n":5}`, 5, true, false},
		{"numeric string", `{"n":"5"}`, 5, true, false},
		{"negative", `{"n":-3}`, -3, true, false},
		{"bool", `{"n":true}`, 1, true, false},
		{"null", `{"n":null}`, 0, false, false},
		{"absent", `{}`, 0, false, false},
		{"float", `{"n":1.0}`, 0, false, true},
		{"exponent", `{"n":1e3}`, 0, false, true},
		{"garbage", `{"n":"five"}`, 0, false, true},
		{"array", `{"n":[1]}`, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, ok, err := bodyOf(t, tc.body).int("n")
			if n != tc.want || ok != tc.ok || (err != nil) != tc.wantErr {
				t.Fatalf("int(%s) = %d, %t, %v; want %d, %t, error %t", tc.body, n, ok, err, tc.want, tc.ok, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), `Field validation failed: error converting input for field "n": `) {
				t.Fatalf("error %q is not Vault's field validation message", err)
			}
		})
	}
	q := queryParams(url.Values{"n": {"7"}})
	if n, ok, err := q.int("n"); n != 7 || !ok || err != nil {
		t.Fatalf("query int = %d, %t, %v", n, ok, err)
	}
}

// TestParams_Bool checks Vault's weak booleans.
func TestParams_Bool(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"b":true}`: true, `{"b":"true"}`: true, `{"b":1}`: true, `{"b":"1"}`: true,
		`{"b":false}`: false, `{"b":"false"}`: false, `{"b":0}`: false, `{"b":""}`: false,
	} {
		if b, ok, err := bodyOf(t, body).boolean("b"); b != want || !ok || err != nil {
			t.Errorf("boolean(%s) = %t, %t, %v; want %t", body, b, ok, err, want)
		}
	}
	for _, bad := range []string{`{"b":"yes"}`, `{"b":2}`, `{"b":{}}`} {
		if _, _, err := bodyOf(t, bad).boolean("b"); err == nil {
			t.Errorf("boolean(%s) accepted", bad)
		}
	}
}

// TestParams_Versions checks the version list forms of vault-kv2.md 4.6.
func TestParams_Versions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    []int64
		wantErr bool
	}{
		{`{"versions":[1,2]}`, []int64{1, 2}, false},
		{`{"versions":["1","2"]}`, []int64{1, 2}, false},
		{`{"versions":"1,2"}`, []int64{1, 2}, false},
		{`{"versions":5}`, []int64{5}, false},
		{`{"versions":[1,"2"]}`, []int64{1, 2}, false},
		{`{"versions":""}`, []int64{}, false},
		{`{"versions":[]}`, []int64{}, false},
		{`{"versions":null}`, []int64{}, false},
		{`{}`, nil, false},
		{`{"versions":"1, 2"}`, nil, true},
		{`{"versions":"a"}`, nil, true},
		{`{"versions":[1.5]}`, nil, true},
		{`{"versions":{"a":1}}`, nil, true},
		{`{"versions":true}`, nil, true},
	}
	for _, tc := range tests {
		got, err := bodyOf(t, tc.body).versions("versions")
		if (err != nil) != tc.wantErr || (!tc.wantErr && len(got)+len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("versions(%s) = %v, %v; want %v, error %t", tc.body, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestParams_Duration checks the duration formats of vault-kv2.md 5.4 and
// the stored text of okms-rest.md 2.6.
func TestParams_Duration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body     string
		want     time.Duration
		text     string // the stored text
		wantErr  bool
		unsigned bool // the unsigned form refuses it
	}{
		{`{"d":3600}`, time.Hour, "1h0m0s", false, false},
		{`{"d":"3600"}`, time.Hour, "1h0m0s", false, false},
		{`{"d":"7d"}`, 7 * 24 * time.Hour, "7d", false, false},
		{`{"d":"1d12h"}`, 36 * time.Hour, "1d12h", false, false},
		{`{"d":"1h30m"}`, 90 * time.Minute, "1h30m", false, false},
		{`{"d":"1.5h"}`, 90 * time.Minute, "1h30m0s", false, false},
		{`{"d":"90s"}`, 90 * time.Second, "90s", false, false},
		{`{"d":"500ms"}`, 500 * time.Millisecond, "0s", false, false},
		{`{"d":""}`, 0, "0s", false, false},
		{`{"d":"0s"}`, 0, "0s", false, false},
		{`{"d":"-1h"}`, -time.Hour, "-1s", false, true},
		{`{"d":-5}`, -5 * time.Second, "-1s", false, true},
		{`{"d":"-2d"}`, -48 * time.Hour, "-1s", false, true},
		{`{"d":1.5}`, 0, "", true, false},
		{`{"d":"soon"}`, 0, "", true, false},
		{`{"d":true}`, 0, "", true, false},
	}
	for _, tc := range tests {
		vd, ok, err := bodyOf(t, tc.body).duration("d")
		if (err != nil) != tc.wantErr {
			t.Errorf("duration(%s): error %v, want error %t", tc.body, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if !ok || vd.d != tc.want {
			t.Errorf("duration(%s) = %v, %t; want %v", tc.body, vd.d, ok, tc.want)
		}
		d, err := vd.value()
		if err != nil || d.Text() != tc.text {
			t.Errorf("duration(%s) stored as %q, %v; want %q", tc.body, d.Text(), err, tc.text)
		}
		if _, err := vd.unsigned("d"); (err != nil) != tc.unsigned {
			t.Errorf("unsigned(%s): %v, want refused %t", tc.body, err, tc.unsigned)
		}
	}
	if _, ok, err := bodyOf(t, `{"d":null}`).duration("d"); ok || err != nil {
		t.Errorf("a null duration is not provided: %t, %v", ok, err)
	}
	vd, _, _ := bodyOf(t, `{"d":"1000000d"}`).duration("d")
	if _, err := vd.value(); err == nil {
		t.Error("a duration over 100 years was accepted")
	}
}

// TestParams_StringMap checks custom_metadata's weak strings (vault-kv2.md
// 5.5) and the null entries a patch uses.
func TestParams_StringMap(t *testing.T) {
	t.Parallel()
	m, present, err := bodyOf(t, `{"cm":{"s":"x","n":1.50,"t":true,"f":false,"z":null}}`).stringMap("cm")
	if err != nil || !present {
		t.Fatalf("stringMap: %v, %t", err, present)
	}
	got := map[string]any{}
	for k, v := range m {
		if v == nil {
			got[k] = nil
			continue
		}
		got[k] = *v
	}
	want := map[string]any{"s": "x", "n": "1.50", "t": "1", "f": "0", "z": nil}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stringMap = %v, want %v", got, want)
	}
	if m, present, err := bodyOf(t, `{"cm":null}`).stringMap("cm"); m != nil || !present || err != nil {
		t.Fatalf("null map = %v, %t, %v", m, present, err)
	}
	if _, _, err := bodyOf(t, `{"cm":{"a":[1]}}`).stringMap("cm"); err == nil || !strings.Contains(err.Error(), "got unconvertible type") {
		t.Fatalf("array value: %v", err)
	}
	if _, _, err := bodyOf(t, `{"cm":"a=b"}`).stringMap("cm"); err == nil || !strings.Contains(err.Error(), "expected a map") {
		t.Fatalf("string map: %v", err)
	}
}

// TestParams_CAS checks options.cas (vault-kv2.md 5.2).
func TestParams_CAS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    int64 // -1: no cas
		wantErr error
	}{
		{`{}`, -1, nil},
		{`{"options":{}}`, -1, nil},
		{`{"options":null}`, -1, nil},
		{`{"options":{"method":"patch"}}`, -1, nil},
		{`{"options":{"cas":3}}`, 3, nil},
		{`{"options":{"cas":"3"}}`, 3, nil},
		{`{"options":{"cas":null}}`, 0, nil},
		{`{"options":{"cas":-1}}`, 24001, nil},
		{`{"options":{"cas":99999999999}}`, 24001, nil},
		{`{"options":{"cas":"x"}}`, -1, errCASParse},
		{`{"options":{"cas":1.5}}`, -1, errCASParse},
		{`{"cas":3}`, -1, nil},
	}
	for _, tc := range tests {
		cas, err := bodyOf(t, tc.body).cas()
		got := int64(-1)
		if cas != nil {
			got = int64(*cas)
		}
		if got != tc.want || err != tc.wantErr {
			t.Errorf("cas(%s) = %d, %v; want %d, %v", tc.body, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestBodyParams checks how bodies are read (vault-kv2.md 2.2).
func TestBodyParams(t *testing.T) {
	t.Parallel()
	if p, err := bodyParams(nil, "", false); err != nil || p.has("x") {
		t.Fatalf("empty body: %v", err)
	}
	p, err := bodyParams([]byte(`{"a":1,"a":2}`), "", false)
	if n, _, _ := p.int("a"); err != nil || n != 2 {
		t.Fatalf("duplicate top-level member keeps the last: %d, %v", n, err)
	}
	p, err = bodyParams([]byte(`data=x&versions=1`), "application/x-www-form-urlencoded", false)
	if err != nil || !p.has("versions") {
		t.Fatalf("form body: %v", err)
	}
	if p, err = bodyParams([]byte(`{"versions":[1]}`), "application/x-www-form-urlencoded", false); err != nil || p.body == nil {
		t.Fatalf("curl -d JSON with the form type is JSON: %v", err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":`, "{\"a\":\"\xff\"}"} {
		if _, err := bodyParams([]byte(bad), "", false); err == nil || !strings.HasPrefix(err.Error(), "error parsing JSON: failed to parse JSON input: ") {
			t.Errorf("bodyParams(%q): %v", bad, err)
		}
		if _, err := bodyParams([]byte(bad), "", true); err == nil || err.Error() != "error parsing JSON" {
			t.Errorf("patch bodyParams(%q): %v", bad, err)
		}
	}
	p = bodyOf(t, `{"b":1,"zz":2,"a":3,"known":4}`)
	if got := p.unknown([]string{"known"}); !reflect.DeepEqual(got, []string{"a", "b", "zz"}) {
		t.Fatalf("unknown = %v, want sorted [a b zz]", got)
	}
}

// TestVaultTime checks Vault's timestamp text (vault-kv2.md 2.6).
func TestVaultTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 22, 2, 24, 6, 945319214, time.UTC):             "2026-03-22T02:24:06.945319214Z",
		time.Date(2026, 3, 22, 2, 24, 6, 500000000, time.UTC):             "2026-03-22T02:24:06.5Z",
		time.Date(2026, 3, 22, 2, 24, 6, 0, time.UTC):                     "2026-03-22T02:24:06Z",
		time.Date(2026, 3, 22, 4, 24, 6, 0, time.FixedZone("CEST", 7200)): "2026-03-22T02:24:06Z",
		{}: "",
	} {
		if got := vaultTime(in); got != want {
			t.Errorf("vaultTime(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestRouting checks the roots of surface C and the data pattern's
// trailing-slash rule (vault-kv2.md section 1, 4.9).
func TestRouting(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/api/6a0f3c1e-0000-4000-8000-000000000000/v1/secret/data/x": true,
		"/api/x/v1/":          true,
		"/api/x/v2/secret":    false,
		"/api//v1/secret":     false,
		"/v1/secret/data/x":   false,
		"/api/x/v1":           false,
		"/api/x/y/v1/secret/": false,
	} {
		if got := HasDomainPrefix(p); got != want {
			t.Errorf("HasDomainPrefix(%q) = %t, want %t", p, got, want)
		}
	}
	for rest, want := range map[string]bool{"data/a": true, "data/a/b": true, "data/": false, "data/a/": false, "data": false} {
		if got := dataKey(rest); got != want {
			t.Errorf("dataKey(%q) = %t, want %t", rest, got, want)
		}
	}
}

// TestMultiError checks go-multierror's format, which clients print as is.
func TestMultiError(t *testing.T) {
	t.Parallel()
	if got := multiError([]string{"a"}); got != "1 error occurred:\n\t* a\n\n" {
		t.Errorf("one: %q", got)
	}
	if got := multiError([]string{"a", "b"}); got != "2 errors occurred:\n\t* a\n\t* b\n\n" {
		t.Errorf("two: %q", got)
	}
}
