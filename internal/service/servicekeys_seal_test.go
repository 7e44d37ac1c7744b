package service_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto/keyops"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// autoSealer is an automatic seal over one memory store: it unseals
// without keys and hands back the same store each time.
type autoSealer struct{ store storage.Backend }

func (a autoSealer) Regions() []string { return []string{"local"} }
func (a autoSealer) Status(context.Context) (service.SealStatus, error) {
	return service.SealStatus{Type: "file", Initialized: true}, nil
}
func (a autoSealer) Init(context.Context, service.SealInit) (service.SealKeys, map[string]storage.Backend, func(context.Context) error, error) {
	return service.SealKeys{}, nil, nil, errors.New("not used")
}
func (a autoSealer) Unseal(context.Context, string, bool) (service.SealStatus, map[string]storage.Backend, error) {
	return service.SealStatus{Type: "file", Initialized: true}, map[string]storage.Backend{"local": a.store}, nil
}
func (a autoSealer) Seal(context.Context) error { return nil }
func (a autoSealer) StartChange(context.Context, service.SealChange) (service.SealKeys, error) {
	return service.SealKeys{}, errors.New("not used")
}
func (a autoSealer) CommitChange(context.Context, service.SealCommit) (service.SealStatus, error) {
	return service.SealStatus{}, errors.New("not used")
}

// forgetful counts the calls of Forget.
type forgetful struct {
	service.KeyOps
	forgot atomic.Int32
}

func (f *forgetful) Forget() { f.forgot.Add(1); f.KeyOps.Forget() }

// TestServiceKeysSeal: sealing makes the key operations forget the keys
// they parsed; while sealed they answer ErrSealed; after an unseal the
// keys work again (ciphertexts made before the seal decrypt).
func TestServiceKeysSeal(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	keys := &forgetful{KeyOps: keyops.New(nil)}
	svc := service.New(service.Options{Sealer: autoSealer{store}, Keys: keys})
	res, err := svc.Start(t.Context(), service.InitOptions{RootToken: "root-token"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	p, err := svc.Authenticate(t.Context(), "root-token")
	if err != nil {
		t.Fatal(err)
	}
	root := service.Caller{Principal: p, Surface: "B", RequestID: "req"}
	v, err := svc.CreateServiceKey(t.Context(), root, res.DefaultDomain, service.KeyInput{Name: "k", Type: "oct", Size: 256, Operations: []string{"encrypt", "decrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := svc.Encrypt(t.Context(), root, res.DefaultDomain, v.Key.ID, plain("before the seal"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Seal(t.Context(), root); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if n := keys.forgot.Load(); n != 1 {
		t.Errorf("Forget called %d times by the seal, want 1", n)
	}
	if _, err := svc.Decrypt(t.Context(), root, res.DefaultDomain, v.Key.ID, ct, ""); !errors.Is(err, service.ErrSealed) {
		t.Errorf("Decrypt while sealed = %v, want ErrSealed", err)
	}
	// Transit too (issue 16): every call, the hash included.
	transit := map[string]func() error{
		"TransitEncrypt": func() error {
			return svc.TransitEncrypt(t.Context(), root, res.DefaultDomain, "k", []service.TransitItem{{Plaintext: plain("x")}})
		},
		"TransitReadKey":  func() error { _, err := svc.TransitReadKey(t.Context(), root, res.DefaultDomain, "k"); return err },
		"TransitListKeys": func() error { _, err := svc.TransitListKeys(t.Context(), root, res.DefaultDomain); return err },
		"TransitCreateKey": func() error {
			_, err := svc.TransitCreateKey(t.Context(), root, res.DefaultDomain, "new", service.TransitCreate{})
			return err
		},
		"TransitHash": func() error { _, err := svc.TransitHash("sha2-256", []byte("x")); return err },
	}
	for name, call := range transit {
		if err := call(); !errors.Is(err, service.ErrSealed) {
			t.Errorf("%s while sealed = %v, want ErrSealed", name, err)
		}
	}
	if _, err := svc.Unseal(t.Context(), service.Caller{RequestID: "unseal"}, "", false); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	if p, err = svc.Authenticate(t.Context(), "root-token"); err != nil {
		t.Fatal(err)
	}
	root.Principal = p
	got, err := svc.Decrypt(t.Context(), root, res.DefaultDomain, v.Key.ID, ct, "")
	if err != nil || string(got.Bytes()) != "before the seal" {
		t.Fatalf("Decrypt after unseal = %v", err)
	}
}
