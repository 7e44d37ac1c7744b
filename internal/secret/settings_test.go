package secret

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustDuration(t testing.TB, s string) Duration {
	t.Helper()
	d, err := ParseDuration(s)
	if err != nil {
		t.Fatalf("ParseDuration(%q) = error %v", s, err)
	}
	return d
}

func TestEffectiveSettings(t *testing.T) {
	t.Parallel()
	hour := mustDuration(t, "1h")
	day := mustDuration(t, "1d")
	twoDays := mustDuration(t, "2d")
	tests := []struct {
		name string
		cfg  Config
		s    Settings
		want Effective
	}{
		// CAS required: secret OR domain.
		{"cas/neither", Config{}, Settings{}, Effective{CASRequired: false, MaxVersions: 10}},
		{"cas/secret only", Config{}, Settings{CASRequired: true}, Effective{CASRequired: true, MaxVersions: 10}},
		{"cas/domain only", Config{CASRequired: true}, Settings{}, Effective{CASRequired: true, MaxVersions: 10}},
		{"cas/both", Config{CASRequired: true}, Settings{CASRequired: true}, Effective{CASRequired: true, MaxVersions: 10}},
		{"cas/secret false does not override domain true", Config{CASRequired: true}, Settings{CASRequired: false}, Effective{CASRequired: true, MaxVersions: 10}},

		// Max versions: secret if non-zero, else domain if non-zero, else 10.
		{"max versions/secret set domain set", Config{MaxVersions: 20}, Settings{MaxVersions: 5}, Effective{MaxVersions: 5}},
		{"max versions/secret larger than domain", Config{MaxVersions: 5}, Settings{MaxVersions: 20}, Effective{MaxVersions: 20}},
		{"max versions/secret set domain zero", Config{}, Settings{MaxVersions: 30}, Effective{MaxVersions: 30}},
		{"max versions/secret zero domain set", Config{MaxVersions: 24}, Settings{}, Effective{MaxVersions: 24}},
		{"max versions/both zero", Config{}, Settings{}, Effective{MaxVersions: 10}},
		{"max versions/secret one", Config{MaxVersions: 24000}, Settings{MaxVersions: 1}, Effective{MaxVersions: 1}},
		{"max versions/domain 24000", Config{MaxVersions: 24000}, Settings{}, Effective{MaxVersions: 24000}},
		{"max versions/default config", DefaultConfig(), Settings{}, Effective{MaxVersions: 10}},

		// Deactivate after: secret if non-zero, else domain if non-zero,
		// else never; a negative domain value disables it for all.
		{"deactivate/secret set domain zero", Config{}, Settings{DeactivateAfter: hour}, Effective{MaxVersions: 10, DeactivateAfter: time.Hour}},
		{"deactivate/secret zero domain set", Config{DeactivateAfter: day}, Settings{}, Effective{MaxVersions: 10, DeactivateAfter: 24 * time.Hour}},
		{"deactivate/both zero is never", Config{}, Settings{}, Effective{MaxVersions: 10}},
		{"deactivate/secret shorter than domain", Config{DeactivateAfter: day}, Settings{DeactivateAfter: hour}, Effective{MaxVersions: 10, DeactivateAfter: time.Hour}},
		{"deactivate/secret longer than domain", Config{DeactivateAfter: day}, Settings{DeactivateAfter: twoDays}, Effective{MaxVersions: 10, DeactivateAfter: 48 * time.Hour}},
		{"deactivate/secret 0s text is unset", Config{DeactivateAfter: day}, Settings{DeactivateAfter: mustDuration(t, "0s")}, Effective{MaxVersions: 10, DeactivateAfter: 24 * time.Hour}},
		{"deactivate/domain negative secret set", Config{DeactivateAfter: Disabled()}, Settings{DeactivateAfter: hour}, Effective{MaxVersions: 10}},
		{"deactivate/domain negative secret zero", Config{DeactivateAfter: Disabled()}, Settings{}, Effective{MaxVersions: 10}},
		{"deactivate/domain negative hour", Config{DeactivateAfter: DurationFromStored(-3600, "-1h0m0s")}, Settings{DeactivateAfter: day}, Effective{MaxVersions: 10}},

		{"all combined", Config{CASRequired: true, MaxVersions: 3, DeactivateAfter: day}, Settings{MaxVersions: 7, DeactivateAfter: hour}, Effective{CASRequired: true, MaxVersions: 7, DeactivateAfter: time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := EffectiveSettings(tc.cfg, tc.s); got != tc.want {
				t.Errorf("EffectiveSettings(%+v, %+v) = %+v, want %+v", tc.cfg, tc.s, got, tc.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	// okms-rest.md 2.5: {casRequired: false, deactivateVersionAfter: "0s", maxVersions: 10}.
	c := DefaultConfig()
	if c.CASRequired || c.MaxVersions != 10 || !c.DeactivateAfter.IsZero() || c.DeactivateAfter.Text() != "0s" {
		t.Errorf("DefaultConfig() = %+v, want {CASRequired:false MaxVersions:10 DeactivateAfter:0s}", c)
	}
}

func TestConfig_Apply(t *testing.T) {
	t.Parallel()
	yes, seven, day := true, uint32(7), mustDuration(t, "1d")
	base := Config{MaxVersions: 10}
	tests := []struct {
		name      string
		u         ConfigUpdate
		want      Config
		wantEmpty bool
	}{
		{"empty update", ConfigUpdate{}, base, true},
		{"cas", ConfigUpdate{CASRequired: &yes}, Config{CASRequired: true, MaxVersions: 10}, false},
		{"max versions", ConfigUpdate{MaxVersions: &seven}, Config{MaxVersions: 7}, false},
		{"deactivate after", ConfigUpdate{DeactivateAfter: &day}, Config{MaxVersions: 10, DeactivateAfter: day}, false},
		{"all", ConfigUpdate{CASRequired: &yes, MaxVersions: &seven, DeactivateAfter: &day}, Config{CASRequired: true, MaxVersions: 7, DeactivateAfter: day}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := base.Apply(tc.u); got != tc.want {
				t.Errorf("Config.Apply(%+v) = %+v, want %+v", tc.u, got, tc.want)
			}
			if got := tc.u.IsEmpty(); got != tc.wantEmpty {
				t.Errorf("ConfigUpdate.IsEmpty() = %v, want %v", got, tc.wantEmpty)
			}
		})
	}
}

func TestCheckCAS(t *testing.T) {
	t.Parallel()
	u := func(n uint32) *uint32 { return &n }
	tests := []struct {
		name     string
		required bool
		cas      *uint32
		current  uint32
		want     error
	}{
		{"absent/not required/no version", false, nil, 0, nil},
		{"absent/not required/versions", false, nil, 5, nil},
		{"absent/required/no version", true, nil, 0, ErrCASRequired},
		{"absent/required/versions", true, nil, 3, ErrCASRequired},
		{"cas=0/no version yet", false, u(0), 0, nil},
		{"cas=0/required/no version yet", true, u(0), 0, nil},
		{"cas=0/secret exists", false, u(0), 1, ErrCASMismatch},
		{"cas=0/required/secret exists", true, u(0), 3, ErrCASMismatch},
		{"equal/not required", false, u(3), 3, nil},
		{"equal/required", true, u(3), 3, nil},
		{"lower", true, u(2), 3, ErrCASMismatch},
		{"higher", true, u(4), 3, ErrCASMismatch},
		{"checked even when not required", false, u(5), 3, ErrCASMismatch},
		{"at the limit", true, u(24000), 24000, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckCAS(tc.required, tc.cas, tc.current)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				cas := "nil"
				if tc.cas != nil {
					cas = fmt.Sprint(*tc.cas)
				}
				t.Errorf("CheckCAS(%v, %s, %d) = %v, want %v", tc.required, cas, tc.current, err, tc.want)
			}
		})
	}
}

func TestCASErrorsMentionCAS(t *testing.T) {
	t.Parallel()
	// okms-rest.md 3.3: terraform matches the error against /cas/i.
	for _, err := range []error{ErrCASRequired, ErrCASMismatch} {
		if msg := err.Error(); !strings.Contains(strings.ToLower(msg), "cas") {
			t.Errorf("%v.Error() = %q, want it to mention cas", err, msg)
		}
	}
}

func TestParseBounds(t *testing.T) {
	t.Parallel()
	type parser struct {
		name string
		fn   func(int64) (uint32, error)
	}
	maxVersions := parser{"ParseMaxVersions", ParseMaxVersions}
	versionID := parser{"ParseVersionID", ParseVersionID}
	cas := parser{"ParseCAS", ParseCAS}
	tests := []struct {
		p      parser
		in     int64
		wantID string // "" when valid
	}{
		{maxVersions, 0, ""},
		{maxVersions, 1, ""},
		{maxVersions, 24000, ""},
		{maxVersions, 24001, "SecretMaxVersionsMaxExceeded"},
		{maxVersions, -1, "SecretMaxVersionsMinRequired"},
		{maxVersions, 1 << 40, "SecretMaxVersionsMaxExceeded"},
		{maxVersions, -1 << 40, "SecretMaxVersionsMinRequired"},

		{versionID, 0, "SecretVersionMinRequired"},
		{versionID, 1, ""},
		{versionID, 24000, ""},
		{versionID, 24001, "SecretVersionMaxExceeded"},
		{versionID, -1, "SecretVersionMinRequired"},
		{versionID, 1<<32 + 1, "SecretVersionMaxExceeded"},

		{cas, 0, ""},
		{cas, 1, ""},
		{cas, 24000, ""},
		{cas, 24001, "SecretCasMaxExceeded"},
		{cas, -1, "SecretCasMinRequired"},
		{cas, 1<<32 + 3, "SecretCasMaxExceeded"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.p.name, tc.in), func(t *testing.T) {
			t.Parallel()
			got, err := tc.p.fn(tc.in)
			if tc.wantID == "" {
				if err != nil || int64(got) != tc.in {
					t.Errorf("%s(%d) = %d, %v; want %d, nil", tc.p.name, tc.in, got, err, tc.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s(%d) = %d, nil; want error %s", tc.p.name, tc.in, got, tc.wantID)
			}
			if id := violationID(t, err); id != tc.wantID {
				t.Errorf("%s(%d) violation ID = %q, want %q", tc.p.name, tc.in, id, tc.wantID)
			}
		})
	}
}
