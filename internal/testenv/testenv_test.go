package testenv_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	c := testenv.NewClock(testenv.T0)
	c.Advance(90 * time.Minute)
	if got, want := c.Now(), testenv.T0.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Errorf("after Set: %v, want %v", c.Now(), at)
	}
}

// TestStart: the server listens on 127.0.0.1, takes the root token and a
// user's token, reads the fake clock, and Close stops it once.
func TestStart(t *testing.T) {
	t.Parallel()
	e := testenv.Start(t)
	if !strings.HasPrefix(e.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %s, want http://127.0.0.1:port", e.URL)
	}
	if r := e.Call("GET", "/api/{okmsId}/v2/secret", ""); r.Status != http.StatusOK {
		t.Errorf("root token: %d %s", r.Status, r.Body)
	}
	e.Group(t, "ops", "ADMIN")
	tok := e.UserToken(t, "ada", "ops")
	if r := e.Send(wiretest.Request{Method: "GET", Target: "/1.0/me/identity/user", Token: tok}); r.Status != http.StatusOK {
		t.Errorf("user token: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(time.Hour)
	if got := e.Server.Service(); got == nil {
		t.Fatal("no service")
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPGSchema skips without COFFER_TEST_PGURL; with it, the schema URL
// selects a schema of its own.
func TestPGSchema(t *testing.T) {
	u := testenv.PGSchema(t)
	if !strings.Contains(u, "search_path=coffer_test_") {
		t.Errorf("PGSchema = %s, want a search_path of its own", u)
	}
}
