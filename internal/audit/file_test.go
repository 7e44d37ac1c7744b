package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestFileSink_concurrentDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := s.Record(context.Background(), Event{Action: fmt.Sprint(i), Durable: i%2 == 0}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	evs, err := s.Tail(1000)
	if err != nil || len(evs) != 50 {
		t.Fatalf("Tail = %d events, %v; want 50", len(evs), err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", st.Mode().Perm())
	}
	if last, _ := s.Tail(3); len(last) != 3 {
		t.Errorf("Tail(3) = %d events", len(last))
	}
	s.Close()
	if err := s.Record(context.Background(), Event{}); err == nil {
		t.Error("Record after Close succeeded")
	}
}

// Concurrent Records share writes: every event reaches the file whole,
// exactly once, and is in the file when its Record returns; the lines of
// one writer keep their order.
func TestFileSink_groupedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("%d/%d", w, i)
				if err := s.Record(context.Background(), Event{RequestID: id, Action: "a", Durable: i%50 == 0}); err != nil {
					t.Error(err)
					return
				}
				if i%40 == 0 { // written when Record returns
					if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"request_id":"`+id+`"`) {
						t.Errorf("event %s not in the file after Record returned", id)
					}
				}
			}
		})
	}
	wg.Wait()
	evs, err := s.Tail(writers*each + 1)
	if err != nil || len(evs) != writers*each {
		t.Fatalf("Tail = %d events, %v; want %d", len(evs), err, writers*each)
	}
	next := map[string]int{}
	for _, e := range evs {
		w, i, _ := strings.Cut(e.RequestID, "/")
		if fmt.Sprint(next[w]) != i {
			t.Fatalf("writer %s: event %s after %d events", w, i, next[w])
		}
		next[w]++
	}
}
