package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
)

// TestNotify checks that a notification sent through one Store reaches a
// listener on another Store of the same schema (another node), and not a
// listener on another schema.
func TestNotify(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	a, b := openURL(t, u, pgstore.Options{}), openURL(t, u, pgstore.Options{})
	other := open(t, pgstore.Options{})
	if _, ok := storage.NotifierOf(a); !ok {
		t.Fatal("pgstore is not a storage.Notifier")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	got, stray := make(chan string, 10), make(chan string, 10)
	go b.Listen(ctx, "cache", func(p string) { got <- p })
	go other.Listen(ctx, "cache", func(p string) { stray <- p })
	for _, ch := range []chan string{got, stray} {
		if p := <-ch; p != "" {
			t.Fatalf("first callback %q, want the empty payload (listening)", p)
		}
	}
	if err := a.Notify(ctx, "cache", "policies"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "policies" {
			t.Errorf("received %q, want policies", p)
		}
	case <-ctx.Done():
		t.Fatal("the notification never arrived")
	}
	select {
	case p := <-stray:
		t.Errorf("a listener on another schema received %q", p)
	case <-time.After(200 * time.Millisecond):
	}
}
