package servicekey

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newKey(t Type, class Class, usages ...Usage) *Key {
	spec := Spec{Type: t, Size: 256}
	if t == EC {
		spec = Spec{Type: EC, Curve: P256}
	}
	return New("4b0b1f3e-0000-4000-8000-000000000001", "k", "", spec, class, UsagesOf(usages...), false, t0)
}

// TestKeyStates walks the life cycle of issue 15 and okms-cli's key tests:
// deactivate, compromise, reactivate (which clears the compromise date),
// delete only when not active.
func TestKeyStates(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	type step struct {
		name    string
		do      func(k *Key) (bool, error)
		state   State
		changed bool
		err     error
	}
	activate := func(m int) func(*Key) (bool, error) { return func(k *Key) (bool, error) { return k.Activate(at(m)) } }
	deactivate := func(r Reason, m int) func(*Key) (bool, error) {
		return func(k *Key) (bool, error) { return k.Deactivate(r, at(m)) }
	}
	destroy := func(m int) func(*Key) (bool, error) { return func(k *Key) (bool, error) { return k.Destroy(at(m)) } }
	tests := []struct {
		name  string
		steps []step
		check func(t *testing.T, k *Key)
	}{
		{"activate an active key is a no-op", []step{{"activate", activate(1), Active, false, nil}}, nil},
		{"deactivate then compromise then reactivate", []step{
			{"deactivate", deactivate(ReasonUnspecified, 1), Deactivated, true, nil},
			{"compromise", deactivate(ReasonKeyCompromise, 2), Compromised, true, nil},
			{"activate", activate(3), Active, true, nil},
		}, func(t *testing.T, k *Key) {
			if !k.CompromisedAt.IsZero() || !k.DeactivatedAt.IsZero() || !k.ActivatedAt.Equal(at(3)) {
				t.Errorf("after reactivation: compromised %v deactivated %v activated %v", k.CompromisedAt, k.DeactivatedAt, k.ActivatedAt)
			}
		}},
		{"compromise from active sets both dates", []step{
			{"compromise", deactivate(ReasonCACompromise, 1), Compromised, true, nil},
		}, func(t *testing.T, k *Key) {
			if !k.CompromisedAt.Equal(at(1)) || !k.DeactivatedAt.Equal(at(1)) || k.Reason != ReasonCACompromise {
				t.Errorf("compromised %v deactivated %v reason %s", k.CompromisedAt, k.DeactivatedAt, k.Reason)
			}
		}},
		{"a compromised key stays compromised", []step{
			{"compromise", deactivate(ReasonKeyCompromise, 1), Compromised, true, nil},
			{"deactivate unspecified", deactivate(ReasonUnspecified, 2), Compromised, false, nil},
		}, func(t *testing.T, k *Key) {
			if k.Reason != ReasonKeyCompromise || !k.CompromisedAt.Equal(at(1)) {
				t.Errorf("reason %s compromised %v", k.Reason, k.CompromisedAt)
			}
		}},
		{"deactivation date is the first one", []step{
			{"deactivate", deactivate(ReasonSuperseded, 1), Deactivated, true, nil},
			{"again, other reason", deactivate(ReasonUnspecified, 2), Deactivated, true, nil},
			{"again, same reason", deactivate(ReasonUnspecified, 3), Deactivated, false, nil},
		}, func(t *testing.T, k *Key) {
			if !k.DeactivatedAt.Equal(at(1)) || k.Reason != ReasonUnspecified {
				t.Errorf("deactivated %v reason %s", k.DeactivatedAt, k.Reason)
			}
		}},
		{"an active key cannot be destroyed", []step{{"destroy", destroy(1), Active, false, ErrActive}}, nil},
		{"destroy a deactivated key", []step{
			{"deactivate", deactivate(ReasonUnspecified, 1), Deactivated, true, nil},
			{"destroy", destroy(2), Destroyed, true, nil},
			{"destroy again", destroy(3), Destroyed, false, nil},
			{"activate", activate(4), Destroyed, false, ErrTransition},
			{"deactivate", deactivate(ReasonKeyCompromise, 5), Destroyed, false, ErrTransition},
		}, func(t *testing.T, k *Key) {
			if len(k.Versions) != 0 || !k.DestroyedAt.Equal(at(2)) {
				t.Errorf("versions %v destroyed at %v", k.Versions, k.DestroyedAt)
			}
		}},
		{"destroy a compromised key", []step{
			{"compromise", deactivate(ReasonKeyCompromise, 1), Compromised, true, nil},
			{"destroy", destroy(2), DestroyedCompromised, true, nil},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newKey(Oct, SecretKey, Encrypt, Decrypt)
			for _, s := range tc.steps {
				changed, err := s.do(k)
				if !errors.Is(err, s.err) || changed != s.changed || k.State != s.state {
					t.Fatalf("%s: changed %v, err %v, state %s; want %v, %v, %s", s.name, changed, err, k.State, s.changed, s.err, s.state)
				}
			}
			if tc.check != nil {
				tc.check(t, k)
			}
		})
	}
}

func TestPermit(t *testing.T) {
	t.Parallel()
	all := []Usage{Sign, Verify, Encrypt, Decrypt, WrapKey, UnwrapKey}
	deactivated := func(k *Key) *Key { k.Deactivate(ReasonUnspecified, t0); return k }
	destroyed := func(k *Key) *Key { deactivated(k).Destroy(t0); return k }
	tests := []struct {
		name string
		key  *Key
		want map[Operation]error // missing operations: nil
	}{
		{"oct encrypt/decrypt", newKey(Oct, SecretKey, Encrypt, Decrypt), map[Operation]error{
			OpSign: ErrIncompatible, OpVerify: ErrIncompatible, OpWrap: ErrIncompatible, OpUnwrap: ErrIncompatible}},
		{"oct wrap only", newKey(Oct, SecretKey, WrapKey, UnwrapKey), map[Operation]error{
			OpEncrypt: ErrUsage, OpDecrypt: ErrUsage, OpSign: ErrIncompatible, OpVerify: ErrIncompatible,
			OpWrap: ErrIncompatible, OpUnwrap: ErrIncompatible}},
		{"deactivated oct", deactivated(newKey(Oct, SecretKey, Encrypt, Decrypt)), map[Operation]error{
			OpEncrypt: ErrNotActive, OpDataKeyCreate: ErrNotActive,
			OpSign: ErrIncompatible, OpVerify: ErrIncompatible, OpWrap: ErrIncompatible, OpUnwrap: ErrIncompatible}},
		{"destroyed oct", destroyed(newKey(Oct, SecretKey, Encrypt, Decrypt)), map[Operation]error{
			OpEncrypt: ErrDestroyed, OpDecrypt: ErrDestroyed, OpSign: ErrDestroyed, OpVerify: ErrDestroyed,
			OpDataKeyCreate: ErrDestroyed, OpDataKeyDecrypt: ErrDestroyed, OpWrap: ErrDestroyed, OpUnwrap: ErrDestroyed}},
		{"RSA everything", newKey(RSA, KeyPair, all...), nil},
		{"RSA sign/verify", newKey(RSA, KeyPair, Sign, Verify), map[Operation]error{
			OpEncrypt: ErrUsage, OpDecrypt: ErrUsage, OpDataKeyCreate: ErrUsage, OpDataKeyDecrypt: ErrUsage,
			OpWrap: ErrUsage, OpUnwrap: ErrUsage}},
		{"public RSA", newKey(RSA, PublicKey, Verify, Encrypt, WrapKey), map[Operation]error{
			OpDecrypt: ErrUsage, OpSign: ErrUsage, OpDataKeyDecrypt: ErrUsage, OpUnwrap: ErrUsage}},
		{"deactivated RSA", deactivated(newKey(RSA, KeyPair, all...)), map[Operation]error{
			OpEncrypt: ErrNotActive, OpSign: ErrNotActive, OpDataKeyCreate: ErrNotActive, OpWrap: ErrNotActive}},
		{"EC", newKey(EC, KeyPair, Sign, Verify), map[Operation]error{
			OpEncrypt: ErrIncompatible, OpDecrypt: ErrIncompatible, OpDataKeyCreate: ErrIncompatible,
			OpDataKeyDecrypt: ErrIncompatible, OpWrap: ErrIncompatible, OpUnwrap: ErrIncompatible}},
		{"EC verify only", newKey(EC, KeyPair, Verify), map[Operation]error{
			OpSign: ErrUsage, OpEncrypt: ErrIncompatible, OpDecrypt: ErrIncompatible, OpDataKeyCreate: ErrIncompatible,
			OpDataKeyDecrypt: ErrIncompatible, OpWrap: ErrIncompatible, OpUnwrap: ErrIncompatible}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for op := OpEncrypt; op <= OpUnwrap; op++ {
				if err := tc.key.Permit(op); !errors.Is(err, tc.want[op]) || (err == nil) != (tc.want[op] == nil) {
					t.Errorf("Permit(%d) = %v, want %v", op, err, tc.want[op])
				}
			}
		})
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	k := newKey(Oct, SecretKey, Encrypt, Decrypt)
	if k.LatestVersion != 1 || k.MinDecryptionVersion != 1 || k.Latest().Number != 1 {
		t.Fatalf("new key: latest %d min %d", k.LatestVersion, k.MinDecryptionVersion)
	}
	for i := 2; i <= 4; i++ {
		v, err := k.Rotate(t0.Add(time.Duration(i) * time.Hour))
		if err != nil || v.Number != uint32(i) || k.Latest() != v {
			t.Fatalf("rotate %d: %+v, %v", i, v, err)
		}
	}
	if _, err := k.DecryptionVersion(1); err != nil {
		t.Errorf("version 1 before any minimum: %v", err)
	}
	if err := k.SetMinDecryptionVersion(3); err != nil {
		t.Fatal(err)
	}
	for n, ok := range map[uint32]bool{0: false, 1: false, 2: false, 3: true, 4: true, 5: false} {
		if _, err := k.DecryptionVersion(n); (err == nil) != ok || (err != nil && !errors.Is(err, ErrVersionNotFound)) {
			t.Errorf("DecryptionVersion(%d) = %v, want ok %v", n, err, ok)
		}
	}
	if got := k.DecryptionVersions(); len(got) != 2 || got[0].Number != 4 || got[1].Number != 3 {
		t.Errorf("DecryptionVersions = %v, want 4, 3", got)
	}
	if _, err := k.Trim(4); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("Trim beyond the minimum decryption version: %v", err)
	}
	gone, err := k.Trim(3)
	if err != nil || len(gone) != 2 || gone[0] != 1 || gone[1] != 2 || len(k.Versions) != 2 {
		t.Errorf("Trim(3) = %v, %v; versions %v", gone, err, k.Versions)
	}
	if err := k.SetMinDecryptionVersion(5); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("minimum beyond the latest: %v", err)
	}
	c := k.Clone()
	c.Versions[0].Number = 99
	if k.Versions[0].Number == 99 {
		t.Error("Clone shares versions")
	}
	pub := newKey(RSA, PublicKey, Verify)
	if _, err := pub.Rotate(t0); !errors.Is(err, ErrUsage) {
		t.Errorf("rotating a public key: %v", err)
	}
}

// TestRedaction: key material and imported JWKs never print.
func TestRedaction(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-MATERIAL-0123456789"
	m := NewMaterial([]byte(canary))
	j, err := ParseJWK("oct", "", nil, map[string]string{"k": "Q0FOQVJZLU1BVEVSSUFMLTAxMjM0NTY3ODk"})
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Members().K) != canary || string(m.Bytes()) != canary || !j.Private() {
		t.Fatal("material not kept")
	}
	holder := struct {
		M Material
		J JWK
		p *Material
	}{m, j, &m}
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&b, verb+"\n", m)
		fmt.Fprintf(&b, verb+"\n", j)
		fmt.Fprintf(&b, verb+"\n", holder)
		fmt.Fprintf(&b, verb+"\n", &holder)
	}
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "m", m, "j", j)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "m", m, "j", j, "h", holder)
	out := b.String()
	if strings.Contains(out, canary) || strings.Contains(out, fmt.Sprintf("%x", canary)) || strings.Contains(out, "CANARY") {
		t.Fatalf("material printed:\n%s", out)
	}
	if !strings.Contains(out, "REDACTED") {
		t.Fatalf("no redacted form in:\n%s", out)
	}
}

func TestParseJWK(t *testing.T) {
	t.Parallel()
	if _, err := ParseJWK("", "", nil, nil); err == nil {
		t.Error("a JWK without kty was accepted")
	}
	if _, err := ParseJWK("RSA", "", nil, map[string]string{"n": "!!"}); err == nil {
		t.Error("a member that is not base64url was accepted")
	}
	if _, err := ParseJWK("RSA", "", nil, map[string]string{"n": ""}); err == nil {
		t.Error("an empty member was accepted")
	}
	j, err := ParseJWK("EC", "P-256", []string{"verify"}, map[string]string{"x": "AQ==", "y": "Ag"})
	if err != nil || j.Private() || j.Members().X[0] != 1 || j.Members().Y[0] != 2 {
		t.Errorf("padded base64url: %v", err)
	}
}
