package service

import (
	"math"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

func TestKeys(t *testing.T) {
	tests := []struct{ got, want string }{
		{versionKey("dom", "sid", 42), "d/dom/v/sid/0000000042"},
		{versionKey("dom", "sid", 0), "d/dom/v/sid/0000000000"},
		{versionKey("dom", "sid", math.MaxUint32), "d/dom/v/sid/4294967295"},
		{KeyFamily("d/6a0f/s/app/db"), "d/6a0f"},
		{KeyFamily("d/6a0f/config"), "d/6a0f"},
		{KeyFamily("d//x"), "sys"},
		{KeyFamily("iam/token/abc"), "sys"},
		{keyKey("dom", "kid"), "d/dom/k/kid"},
		{materialKey("dom", "kid", 3), "d/dom/km/kid/0000000003"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDomainKeyFamily(t *testing.T) {
	for _, key := range []string{configKey("6a0f"), secretKey("6a0f", secret.MustParsePath("app/db")), caKey("6a0f"), versionKey("6a0f", "sid", 1),
		keyKey("6a0f", "kid"), materialKey("6a0f", "kid", 1)} {
		if got := KeyFamily(key); got != DomainKeyFamily("6a0f") {
			t.Errorf("KeyFamily(%q) = %q, DomainKeyFamily = %q", key, got, DomainKeyFamily("6a0f"))
		}
	}
}

// TestHoldsContent checks the key scan behind Service.IsEmpty on stores
// written directly, domain ids that are prefixes of one another included.
func TestHoldsContent(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want bool
	}{
		{"empty store", nil, false},
		{"installation records", []string{keyInit, keyPepper, keyDefaultDomain, domainKey("a"), tokenKey("x"), patKey("bob", "t")}, false},
		{"domain records without secrets", []string{configKey("a"), caKey("a"), credentialKey("a", "c"), serialKey("a", "ff"), configKey("ab")}, false},
		{"a user", []string{userKey("bob")}, true},
		{"a group", []string{groupKey("ops")}, true},
		{"a policy", []string{policyKey("p")}, true},
		{"a secret", []string{configKey("a"), secretKey("a", secret.MustParsePath("x"))}, true},
		{"a secret in a later domain", []string{configKey("a"), caKey("a"), configKey("a-b"), configKey("ab"), secretKey("ab", secret.MustParsePath("x"))}, true},
		{"a secret in a domain after a stray key", []string{prefixDomainData + "a", secretKey("b", secret.MustParsePath("x"))}, true},
		{"version data without its secret record", []string{versionKey("a", "sid", 1)}, false},
		{"a service key", []string{configKey("a"), keyKey("a", "k")}, true},
		{"key material without its key record", []string{materialKey("a", "k", 1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			defer st.Close()
			ctx := t.Context()
			err := st.Update(ctx, func(tx storage.Tx) error {
				for _, k := range tc.keys {
					if err := tx.Put(k, []byte("{}")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got bool
			if err := st.View(ctx, func(tx storage.Tx) (err error) { got, err = holdsContent(tx); return err }); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("holdsContent(%q) = %v, want %v", tc.keys, got, tc.want)
			}
		})
	}
}
