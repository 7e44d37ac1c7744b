package service_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

const goodPassword = "correct horse battery"

func signIn(t *testing.T, f *fixture, login, password, remote string) error {
	_, err := f.svc.Login(t.Context(), service.SignIn{Login: login, Password: password, Surface: "ui", RemoteAddr: remote})
	return err
}

// wantRetry checks that err is ErrTooManyRequests asking to wait want.
func wantRetry(t *testing.T, what string, err error, want int) {
	t.Helper()
	secs, ok := service.RetryAfter(err)
	if !errors.Is(err, service.ErrTooManyRequests) || !ok || secs != want {
		t.Fatalf("%s: %v (retry after %d, %v); want ErrTooManyRequests after %ds", what, err, secs, ok, want)
	}
}

// TestService_LoginBudget (issue 13, points 2 and 4): a login's failures
// are limited before any hashing. Five fail freely; then each failure
// doubles a delay during which even the right password is refused (the
// check does not run), which never exceeds 15 minutes and is forgotten
// after a quiet hour. A success clears the budget. An address that signed
// in to the login keeps a budget of its own, so a guesser elsewhere cannot
// lock its owner out. Every attempt is audited, never with the password.
func TestService_LoginBudget(t *testing.T) {
	f := newFixture(t, memstore.New())
	pw := goodPassword
	if _, err := f.svc.CreateUser(t.Context(), f.root, service.UserInput{Login: "alice", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	home, away := "10.0.0.1:5000", "192.0.2.7:4000"
	if err := signIn(t, f, "alice", pw, home); err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	m := f.mark()
	for i := range 6 {
		if err := signIn(t, f, "alice", "guess", away); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure %d: %v, want ErrLoginFailed", i+1, err)
		}
	}
	// The sixth failure brought a delay of 1s: the right password waits.
	wantRetry(t, "the right password during the delay", signIn(t, f, "alice", pw, away), 1)
	f.clock.Advance(time.Second)
	for i, want := range []int{2, 4, 8} {
		if err := signIn(t, f, "alice", "guess", away); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure %d: %v", 7+i, err)
		}
		wantRetry(t, "after a failure", signIn(t, f, "alice", "guess", away), want)
		f.clock.Advance(time.Duration(want) * time.Second)
	}
	// The owner's address is not delayed by the guesser.
	if err := signIn(t, f, "alice", pw, home); err != nil {
		t.Fatalf("sign-in from the trusted address during the attack: %v", err)
	}
	// The delay is capped at 15 minutes...
	for range 12 {
		signIn(t, f, "alice", "guess", away)
		secs, _ := service.RetryAfter(signIn(t, f, "alice", "guess", away))
		if secs > 900 {
			t.Fatalf("delay %ds beyond 15 minutes", secs)
		}
		f.clock.Advance(time.Duration(secs) * time.Second)
	}
	// ... and forgotten after a quiet hour: five free failures again.
	f.clock.Advance(time.Hour + 15*time.Minute)
	if got := f.svc.DelayedLogins(); got != 0 {
		t.Errorf("DelayedLogins after the quiet hour = %d", got)
	}
	for i := range 5 {
		if err := signIn(t, f, "alice", "guess", away); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure %d after the quiet hour: %v", i+1, err)
		}
	}
	// A success from anywhere clears the login's budget.
	if err := signIn(t, f, "alice", pw, away); err != nil {
		t.Fatalf("the right password within the budget: %v", err)
	}
	for i := range 5 {
		if err := signIn(t, f, "alice", "guess", away); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure %d after a success: %v", i+1, err)
		}
	}
	reasons := map[string]int{}
	for _, e := range f.since(m) {
		if e.Action != "authenticate" {
			continue
		}
		reasons[e.Outcome+": "+e.Reason]++
		if strings.Contains(fmt.Sprintf("%+v", e), pw) || strings.Contains(fmt.Sprintf("%+v", e), "guess") {
			t.Errorf("a password reached the audit log: %+v", e)
		}
		if e.Resource != "urn:v1:eu:identity:user:coffer/alice" {
			t.Errorf("event resource %q", e.Resource)
		}
	}
	if reasons["denied: "+service.ReasonLoginDelayed] == 0 || reasons["denied: "+service.ReasonWrongPassword] == 0 ||
		reasons["allowed: password"] != 2 {
		t.Errorf("audited attempts: %v", reasons)
	}
}

// TestService_LoginAddressLimit: failures from one address are limited
// (iam.md 7.1: bursts of 20) before any hashing, whatever the logins, and
// an unknown login is audited without the name typed.
func TestService_LoginAddressLimit(t *testing.T) {
	f := newFixture(t, memstore.New())
	pw := goodPassword
	if _, err := f.svc.CreateUser(t.Context(), f.root, service.UserInput{Login: "alice", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	m := f.mark()
	for i := range 20 {
		if err := signIn(t, f, fmt.Sprintf("nobody-%d", i), "guess", "198.51.100.9:1"); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// The address is spent: the right password is refused unchecked.
	wantRetry(t, "over the address limit", signIn(t, f, "alice", pw, "198.51.100.9:2"), 1)
	if err := signIn(t, f, "alice", pw, "198.51.100.10:1"); err != nil {
		t.Errorf("another address: %v", err)
	}
	f.clock.Advance(time.Second)
	if err := signIn(t, f, "alice", pw, "198.51.100.9:3"); err != nil {
		t.Errorf("after the address's budget refilled: %v", err)
	}
	for _, e := range f.since(m) {
		if strings.Contains(e.Resource, "nobody") {
			t.Fatalf("an unknown login was audited by name: %+v", e)
		}
	}
}

// TestService_LoginBusy: with every hashing slot taken, a check waits
// briefly, then is refused with ErrBusy and a Retry-After, audited.
func TestService_LoginBusy(t *testing.T) {
	f := newFixture(t, memstore.New())
	pw := goodPassword
	if _, err := f.svc.CreateUser(t.Context(), f.root, service.UserInput{Login: "alice", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	release := f.svc.HoldHashSlots()
	m := f.mark()
	err := signIn(t, f, "alice", pw, "10.0.0.1:1")
	secs, ok := service.RetryAfter(err)
	if !errors.Is(err, service.ErrBusy) || !ok || secs != 1 {
		t.Errorf("Login with every slot taken = %v (%d, %v), want ErrBusy, retry after 1s", err, secs, ok)
	}
	if _, err := f.svc.CreateUser(t.Context(), f.root, service.UserInput{Login: "bob", Password: &pw}); !errors.Is(err, service.ErrBusy) {
		t.Errorf("CreateUser with a password, every slot taken = %v, want ErrBusy", err)
	}
	release()
	if evs := f.since(m); len(evs) == 0 || evs[0].Reason != service.ReasonBusy || evs[0].Outcome != audit.Denied {
		t.Errorf("audit of the busy refusal: %+v", evs)
	}
	// A busy refusal costs the budgets nothing.
	for range 5 {
		if err := signIn(t, f, "alice", "guess", "10.0.0.1:1"); !errors.Is(err, service.ErrLoginFailed) {
			t.Fatalf("failure after the busy refusal: %v", err)
		}
	}
}

// TestService_LoginRehash: a password hashed with the former parameters
// (m = 64 MiB, t = 3, p = 4) still signs in, and is re-hashed with the
// current ones (m = 19 MiB, t = 2, p = 1).
func TestService_LoginRehash(t *testing.T) {
	f := newFixture(t, memstore.New())
	if _, err := f.svc.CreateUser(t.Context(), f.root, service.UserInput{Login: "old"}); err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	legacy := fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(goodPassword), salt, 3, 64*1024, 4, 32)))
	hashOf := func() string {
		var r map[string]any
		err := f.store.View(t.Context(), func(tx storage.Tx) error {
			b, err := tx.Get("iam/user/old")
			if err == nil {
				err = json.Unmarshal(b, &r)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		h, _ := r["pw"].(string)
		return h
	}
	err := f.store.Update(t.Context(), func(tx storage.Tx) error {
		b, err := tx.Get("iam/user/old")
		if err != nil {
			return err
		}
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		r["pw"] = legacy
		b, _ = json.Marshal(r)
		return tx.Put("iam/user/old", b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := signIn(t, f, "old", "wrong password", "10.0.0.1:1"); !errors.Is(err, service.ErrLoginFailed) {
		t.Fatalf("wrong password on a legacy hash: %v", err)
	}
	if hashOf() != legacy {
		t.Fatal("a failed sign-in changed the hash")
	}
	if err := signIn(t, f, "old", goodPassword, "10.0.0.1:1"); err != nil {
		t.Fatalf("a legacy hash does not sign in: %v", err)
	}
	if h := hashOf(); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("after sign-in the hash is %q, want the current parameters", h)
	}
	if err := signIn(t, f, "old", goodPassword, "10.0.0.1:1"); err != nil {
		t.Fatalf("sign-in with the re-hashed password: %v", err)
	}
}
