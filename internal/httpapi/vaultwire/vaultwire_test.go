package vaultwire_test

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
)

func TestOperation(t *testing.T) {
	for _, tc := range []struct {
		method, query string
		want          vaultwire.Op
		err           error
		left          string // the query left
	}{
		{"GET", "", vaultwire.OpRead, nil, ""},
		{"GET", "list=true", vaultwire.OpList, nil, ""},
		{"GET", "list=1&x=y", vaultwire.OpList, nil, "x=y"},
		{"GET", "list=false", vaultwire.OpRead, nil, "list=false"},
		{"GET", "list=maybe", 0, vaultwire.ErrListParam, "list=maybe"},
		{"LIST", "", vaultwire.OpList, nil, ""},
		{"POST", "", vaultwire.OpWrite, nil, ""},
		{"PUT", "", vaultwire.OpWrite, nil, ""},
		{"PATCH", "", vaultwire.OpPatch, nil, ""},
		{"DELETE", "", vaultwire.OpDelete, nil, ""},
		{"HEAD", "", vaultwire.OpHead, nil, ""},
		{"TRACE", "", 0, vaultwire.ErrMethod, ""},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, err := vaultwire.Operation(httptest.NewRequest(tc.method, "/v1/x", nil), q)
		if got != tc.want || !errors.Is(err, tc.err) || q.Encode() != tc.left {
			t.Errorf("%s ?%s = %v, %v, query %q; want %v, %v, %q", tc.method, tc.query, got, err, q.Encode(), tc.want, tc.err, tc.left)
		}
	}
}

func TestCheckHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        error
	}{
		{"", "", nil}, {"X-Vault-Namespace", "root", nil}, {"X-Vault-Namespace", "root/", nil},
		{"X-Vault-Namespace", "team", vaultwire.ErrNamespace}, {"X-Vault-Wrap-TTL", "5m", vaultwire.ErrWrapping},
		{"X-Vault-Request", "true", nil},
	} {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		if tc.name != "" {
			r.Header.Set(tc.name, tc.value)
		}
		if err := vaultwire.CheckHeaders(r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %q = %v, want %v", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestMounts(t *testing.T) {
	for path, want := range map[string]string{
		"secret": "secret", "secret/data/a": "secret", "transit": "transit", "transit/encrypt/k": "transit",
		"secrets": "", "transit2/x": "", "": "", "sys/health": "",
	} {
		if got := vaultwire.MountOf(path); got != want {
			t.Errorf("MountOf(%q) = %q, want %q", path, got, want)
		}
	}
	const d = "0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c11"
	kv, ok1 := vaultwire.Mount(d, "secret")
	tr, ok2 := vaultwire.Mount(d, "transit")
	if _, ok := vaultwire.Mount(d, "kv"); ok || !ok1 || !ok2 {
		t.Fatal("Mount knows secret and transit only")
	}
	if kv.Type != "kv" || kv.Options["version"] != "2" || kv.Path != "secret/" || kv.Accessor != "kv_0b7e3f8e" {
		t.Errorf("kv mount %+v", kv)
	}
	if tr.Type != "transit" || tr.Path != "transit/" || tr.Accessor != "transit_0b7e3f8e" || tr.UUID == kv.UUID {
		t.Errorf("transit mount %+v", tr)
	}
	if again, _ := vaultwire.Mount(d, "transit"); again.UUID != tr.UUID {
		t.Error("a mount's uuid is not stable")
	}
}

func TestTimeAndMultiError(t *testing.T) {
	if got := vaultwire.Time(time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.FixedZone("x", 3600))); got != "2026-05-01T09:00:00.1234567Z" {
		t.Errorf("Time = %q", got)
	}
	if vaultwire.Time(time.Time{}) != "" {
		t.Error("the zero time is not empty")
	}
	if got := vaultwire.MultiError([]string{"a"}); got != "1 error occurred:\n\t* a\n\n" {
		t.Errorf("MultiError(1) = %q", got)
	}
	if got := vaultwire.MultiError([]string{"a", "b"}); got != "2 errors occurred:\n\t* a\n\t* b\n\n" {
		t.Errorf("MultiError(2) = %q", got)
	}
}
