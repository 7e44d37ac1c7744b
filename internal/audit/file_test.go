package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
