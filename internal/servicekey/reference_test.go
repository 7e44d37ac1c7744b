package servicekey

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		typ    Type
		size   int
		curve  string
		want   Spec
		wantID []string // violation ids, in order
	}{
		{"oct 128", Oct, 128, "", Spec{Type: Oct, Size: 128}, nil},
		{"oct 192", Oct, 192, "", Spec{Type: Oct, Size: 192}, nil},
		{"oct 256", Oct, 256, "", Spec{Type: Oct, Size: 256}, nil},
		{"oct 512", Oct, 512, "", Spec{}, []string{"ServiceKeySizeInvalid"}},
		{"oct without size", Oct, 0, "", Spec{}, []string{"ServiceKeySizeInvalid"}},
		{"oct with curve", Oct, 256, "P-256", Spec{}, []string{"ServiceKeyCurveIncompatible"}},
		{"RSA 2048", RSA, 2048, "", Spec{Type: RSA, Size: 2048}, nil},
		{"RSA 3072", RSA, 3072, "", Spec{Type: RSA, Size: 3072}, nil},
		{"RSA 4096", RSA, 4096, "", Spec{Type: RSA, Size: 4096}, nil},
		{"RSA 1024", RSA, 1024, "", Spec{}, []string{"ServiceKeySizeInvalid"}},
		{"RSA 256", RSA, 256, "", Spec{}, []string{"ServiceKeySizeInvalid"}},
		{"RSA with curve and bad size", RSA, 1, "P-384", Spec{}, []string{"ServiceKeyCurveIncompatible", "ServiceKeySizeInvalid"}},
		{"EC P-256", EC, 0, "P-256", Spec{Type: EC, Curve: P256}, nil},
		{"EC P-384", EC, 0, "P-384", Spec{Type: EC, Curve: P384}, nil},
		{"EC P-521", EC, 0, "P-521", Spec{Type: EC, Curve: P521}, nil},
		{"EC P-224", EC, 0, "P-224", Spec{}, []string{"ServiceKeyCurveInvalid"}},
		{"EC without curve", EC, 0, "", Spec{}, []string{"ServiceKeyCurveInvalid"}},
		{"EC with size", EC, 256, "P-256", Spec{}, []string{"ServiceKeySizeIncompatible"}},
		{"unknown type", "AES", 256, "", Spec{}, []string{"ServiceKeyTypeInvalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSpec(tc.typ, tc.size, tc.curve)
			if tc.wantID == nil {
				if err != nil || got != tc.want {
					t.Fatalf("ParseSpec(%q, %d, %q) = %+v, %v; want %+v", tc.typ, tc.size, tc.curve, got, err, tc.want)
				}
				return
			}
			if ids := violationIDs(t, err); !slices.Equal(ids, tc.wantID) {
				t.Fatalf("ParseSpec(%q, %d, %q) violations %v, want %v", tc.typ, tc.size, tc.curve, ids, tc.wantID)
			}
		})
	}
}

func violationIDs(t *testing.T, err error) []string {
	t.Helper()
	vs, ok := AsViolations(err)
	if !ok {
		t.Fatalf("error %v is not Violations", err)
	}
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.ID()
		if v.Error() == "" {
			t.Errorf("violation %s has no message", v.ID())
		}
	}
	return ids
}

func TestParseUsages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		typ   Type
		class Class
		in    []string
		want  string // Usages.String(), or the violation id
	}{
		{"oct default", Oct, SecretKey, nil, "encrypt,decrypt"},
		{"oct all four", Oct, SecretKey, []string{"unwrapKey", "encrypt", "wrapKey", "decrypt"}, "encrypt,decrypt,wrapKey,unwrapKey"},
		{"oct sign", Oct, SecretKey, []string{"encrypt", "sign"}, "ServiceKeyOperationsIncompatible"},
		{"oct duplicates", Oct, SecretKey, []string{"encrypt", "encrypt"}, "encrypt"},
		{"RSA default", RSA, KeyPair, nil, "sign,verify"},
		{"RSA everything", RSA, KeyPair, []string{"sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey"}, "sign,verify,encrypt,decrypt,wrapKey,unwrapKey"},
		{"RSA public default", RSA, PublicKey, nil, "verify"},
		{"RSA public wrapKey", RSA, PublicKey, []string{"wrapKey"}, "wrapKey"},
		{"RSA public encrypt verify", RSA, PublicKey, []string{"encrypt", "verify"}, "verify,encrypt"},
		{"RSA public sign", RSA, PublicKey, []string{"sign"}, "ServiceKeyOperationsIncompatible"},
		{"RSA public unwrapKey", RSA, PublicKey, []string{"unwrapKey"}, "ServiceKeyOperationsIncompatible"},
		{"EC default", EC, KeyPair, nil, "sign,verify"},
		{"EC encrypt", EC, KeyPair, []string{"encrypt"}, "ServiceKeyOperationsIncompatible"},
		{"EC public", EC, PublicKey, []string{"verify"}, "verify"},
		{"EC public sign", EC, PublicKey, []string{"sign", "verify"}, "ServiceKeyOperationsIncompatible"},
		{"unknown usage", Oct, SecretKey, []string{"encrypt", "derive"}, "ServiceKeyOperationsInvalid"},
		{"case matters", Oct, SecretKey, []string{"Encrypt"}, "ServiceKeyOperationsInvalid"},
		{"too many", Oct, SecretKey, slices.Repeat([]string{"encrypt"}, 33), "ServiceKeyOperationsMaxExceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUsages(tc.typ, tc.class, tc.in)
			if strings.HasPrefix(tc.want, "ServiceKey") {
				if ids := violationIDs(t, err); len(ids) != 1 || ids[0] != tc.want {
					t.Fatalf("ParseUsages(%s, %s, %v) = %v, want %s", tc.typ, tc.class, tc.in, ids, tc.want)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParseUsages(%s, %s, %v) = %q, %v; want %q", tc.typ, tc.class, tc.in, got, err, tc.want)
			}
		})
	}
}

// TestReferenceTable checks that every combination the reference offers is
// accepted, and that each type has exactly one default of each kind.
func TestReferenceTable(t *testing.T) {
	t.Parallel()
	table := ReferenceTable()
	if len(table) != 3 {
		t.Fatalf("reference has %d types, want 3", len(table))
	}
	defaults := 0
	for _, r := range table {
		if r.Default {
			defaults++
		}
		countDefaults := func(n int, what string) {
			if n != 1 {
				t.Errorf("%s: %d default %s, want 1", r.Type, n, what)
			}
		}
		d := 0
		for _, s := range r.Sizes {
			if _, err := ParseSpec(r.Type, s.Value, ""); err != nil {
				t.Errorf("reference size %s %d refused: %v", r.Type, s.Value, err)
			}
			if s.Default {
				d++
			}
		}
		if r.Type != EC {
			countDefaults(d, "sizes")
		}
		d = 0
		for _, c := range r.Curves {
			if _, err := ParseSpec(r.Type, 0, string(c.Value)); err != nil {
				t.Errorf("reference curve %s %s refused: %v", r.Type, c.Value, err)
			}
			if c.Default {
				d++
			}
		}
		if r.Type == EC {
			countDefaults(d, "curves")
		}
		d = 0
		for _, o := range r.Operations {
			names := make([]string, len(o.Value))
			for i, u := range o.Value {
				names[i] = string(u)
			}
			if _, err := ParseUsages(r.Type, ClassOf(r.Type, true), names); err != nil {
				t.Errorf("reference operations %s %v refused: %v", r.Type, names, err)
			}
			if o.Default {
				d++
			}
		}
		countDefaults(d, "operations")
	}
	if defaults != 1 {
		t.Errorf("%d default types, want 1", defaults)
	}
	// The table handed out is a copy.
	table[0].Operations[0].Value[0] = Sign
	if ReferenceTable()[0].Operations[0].Value[0] != Encrypt {
		t.Error("ReferenceTable shares its slices with the package")
	}
}

func TestParseNameAndContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ctx      bool
		wantID   string
	}{
		{"name ok", "test-aes-1", false, ""},
		{"name 32 runes", strings.Repeat("é", 32), false, ""},
		{"name 33", strings.Repeat("a", 33), false, "ServiceKeyNameMaxExceeded"},
		{"name empty", "", false, "ServiceKeyNameMinRequired"},
		{"name newline", "a\nb", false, "ServiceKeyNameInvalid"},
		{"name invalid utf8", "a\xffb", false, "ServiceKeyNameInvalid"},
		{"context empty", "", true, ""},
		{"context 64", strings.Repeat("c", 64), true, ""},
		{"context 65", strings.Repeat("c", 65), true, "ServiceKeyContextMaxExceeded"},
		{"context nul", "a\x00", true, "ServiceKeyContextInvalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.ctx {
				_, err = ParseContext(tc.in)
			} else {
				_, err = ParseName(tc.in)
			}
			if tc.wantID == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if ids := violationIDs(t, err); ids[0] != tc.wantID {
				t.Fatalf("got %v, want %s", ids, tc.wantID)
			}
		})
	}
}

func TestParseEnums(t *testing.T) {
	t.Parallel()
	if _, err := ParseReason(""); violationIDs(t, err)[0] != "ServiceKeyDeactivationReasonRequired" {
		t.Errorf("empty reason: %v", err)
	}
	if _, err := ParseReason("KEY_COMPROMISE"); violationIDs(t, err)[0] != "ServiceKeyDeactivationReasonInvalid" {
		t.Errorf("upper-case reason: %v", err)
	}
	for _, r := range Reasons() {
		if got, err := ParseReason(string(r)); err != nil || got != r {
			t.Errorf("ParseReason(%q) = %q, %v", r, got, err)
		}
	}
	if err := ParseProtectionLevel("HSM"); violationIDs(t, err)[0] != "ServiceKeyProtectionLevelUnsupported" {
		t.Errorf("HSM: %v", err)
	}
	if err := ParseProtectionLevel("SOFTWARE"); err != nil {
		t.Errorf("SOFTWARE: %v", err)
	}
	if _, err := ParseType("rsa"); violationIDs(t, err)[0] != "ServiceKeyTypeInvalid" {
		t.Errorf("lower-case rsa: %v", err)
	}
	if _, err := ParseAlgorithm(""); violationIDs(t, err)[0] != "ServiceKeyFieldRequired" {
		t.Errorf("empty alg: %v", err)
	}
	if f, err := ParseSignatureFormat(""); err != nil || f != FormatRaw {
		t.Errorf("default signature format = %q, %v", f, err)
	}
	for _, s := range []string{"pre_active", "all", "ACTIVE", ""} {
		if _, ok := ParseState(s); ok {
			t.Errorf("ParseState(%q) accepted", s)
		}
	}
	for st := Active; st <= DestroyedCompromised; st++ {
		if got, ok := ParseState(st.String()); !ok || got != st {
			t.Errorf("ParseState(%q) = %v, %v", st, got, ok)
		}
	}
}

func TestAlgorithmFits(t *testing.T) {
	t.Parallel()
	specs := map[string]Spec{
		"oct": {Type: Oct, Size: 256}, "rsa": {Type: RSA, Size: 2048},
		"p256": {Type: EC, Curve: P256}, "p384": {Type: EC, Curve: P384}, "p521": {Type: EC, Curve: P521},
	}
	fits := map[Algorithm]string{
		ES256: "p256", ES384: "p384", ES512: "p521",
		RS256: "rsa", RS384: "rsa", RS512: "rsa", PS256: "rsa", PS384: "rsa", PS512: "rsa",
	}
	for _, a := range algorithms {
		for name, s := range specs {
			err := a.Fits(s)
			if want := fits[a] == name; (err == nil) != want {
				t.Errorf("%s.Fits(%s) = %v, want fit %v", a, name, err, want)
			}
			if err != nil && !errors.Is(err, ErrIncompatible) {
				t.Errorf("%s.Fits(%s) = %v, want ErrIncompatible", a, name, err)
			}
		}
	}
	if ES384.HashSize() != 48 || PS512.HashSize() != 64 || RS256.HashSize() != 32 {
		t.Error("HashSize")
	}
}

func TestKeyFormatFits(t *testing.T) {
	t.Parallel()
	oct, rsa, ec := Spec{Type: Oct, Size: 256}, Spec{Type: RSA, Size: 2048}, Spec{Type: EC, Curve: P256}
	tests := []struct {
		f     KeyFormat
		spec  Spec
		class Class
		ok    bool
	}{
		{FormatRAW, oct, SecretKey, true},
		{FormatRAW, rsa, KeyPair, false},
		{FormatJWK, oct, SecretKey, true},
		{FormatJWK, ec, PublicKey, true},
		{FormatPKCS1, rsa, KeyPair, true},
		{FormatPKCS1, rsa, PublicKey, false},
		{FormatPKCS1, ec, KeyPair, false},
		{FormatPKCS8, rsa, KeyPair, true},
		{FormatPKCS8, ec, KeyPair, true},
		{FormatPKCS8, oct, SecretKey, false},
	}
	for _, tc := range tests {
		if err := tc.f.Fits(tc.spec, tc.class); (err == nil) != tc.ok {
			t.Errorf("%s.Fits(%v, %s) = %v, want ok %v", tc.f, tc.spec, tc.class, err, tc.ok)
		}
	}
}
