package logio_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/logio"
)

// slowWriter records what it is given, in calls, and can be held.
type slowWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	calls   int
	entered chan struct{} // if set, each Write sends on it first
	hold    chan struct{} // if set, each Write then waits for a receive
	err     error
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.entered != nil {
		w.entered <- struct{}{}
	}
	if w.hold != nil {
		<-w.hold
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	return w.buf.Write(p)
}

func (w *slowWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestWriter_linesIntactAndInOrder(t *testing.T) {
	sw := &slowWriter{}
	lw := logio.NewWriter(sw)
	const goroutines, lines = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				if _, err := fmt.Fprintf(lw, "g%d line %d %s\n", g, i, strings.Repeat("x", i%50)); err != nil {
					t.Errorf("Write() = %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	next := make([]int, goroutines)
	got := strings.Split(strings.TrimSuffix(sw.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("wrote %d lines, want %d", len(got), goroutines*lines)
	}
	for _, l := range got {
		var g, i int
		var rest string
		if n, _ := fmt.Sscanf(l, "g%d line %d %s", &g, &i, &rest); n < 2 || i != next[g] || (i%50 > 0 && rest != strings.Repeat("x", i%50)) {
			t.Fatalf("line %q: want g%d line %d intact", l, g, next[g])
		}
		next[g]++
	}
	if sw.calls >= goroutines*lines {
		t.Logf("%d write calls for %d lines: no batching happened this time", sw.calls, goroutines*lines)
	}
}

func TestWriter_batchesWhileWriting(t *testing.T) {
	sw := &slowWriter{entered: make(chan struct{}), hold: make(chan struct{})}
	lw := logio.NewWriter(sw)
	fmt.Fprintln(lw, "first")
	<-sw.entered // the goroutine took it and is writing
	for i := range 10 {
		fmt.Fprintln(lw, "queued", i)
	}
	sw.hold <- struct{}{} // first batch
	<-sw.entered          // everything queued meanwhile, in one call
	sw.hold <- struct{}{}
	done := make(chan error)
	go func() { done <- lw.Flush() }()
	if err := <-done; err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	close(sw.hold)
	if err := lw.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if sw.calls != 2 || !strings.HasPrefix(sw.String(), "first\nqueued 0\n") || !strings.HasSuffix(sw.String(), "queued 9\n") {
		t.Errorf("%d write calls, %q; want 2 calls with every line in order", sw.calls, sw.String())
	}
}

func TestWriter_flushAndErrors(t *testing.T) {
	sw := &slowWriter{}
	lw := logio.NewWriter(sw)
	fmt.Fprintln(lw, "a")
	if err := lw.Flush(); err != nil || sw.String() != "a\n" {
		t.Fatalf("Flush() = %v with %q written, want nil with the line written", err, sw.String())
	}
	boom := errors.New("disk full")
	sw.mu.Lock()
	sw.err = boom
	sw.mu.Unlock()
	fmt.Fprintln(lw, "b")
	if err := lw.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush() after a failed write = %v, want %v", err, boom)
	}
	sw.mu.Lock()
	sw.err = nil
	sw.mu.Unlock()
	fmt.Fprintln(lw, "c")
	if err := lw.Flush(); err != nil {
		t.Errorf("Flush() after a successful write = %v, want nil", err)
	}
	if err := lw.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if _, err := lw.Write([]byte("late\n")); !errors.Is(err, logio.ErrClosed) {
		t.Errorf("Write() after Close = %v, want ErrClosed", err)
	}
	if err := lw.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if got := sw.String(); got != "a\nc\n" {
		t.Errorf("written %q, want a and c (b failed)", got)
	}
}

func TestWriter_backPressure(t *testing.T) {
	sw := &slowWriter{entered: make(chan struct{}, 100), hold: make(chan struct{})}
	lw := logio.NewWriter(sw)
	line := []byte(strings.Repeat("y", logio.DefaultMaxPending/2-1) + "\n") // two fill the buffer
	lw.Write(line)
	<-sw.entered // taken by the goroutine, which blocks
	lw.Write(line)
	lw.Write(line) // still within the bound
	wrote := make(chan struct{})
	go func() {
		lw.Write(line) // beyond the bound: waits for the goroutine
		close(wrote)
	}()
	select {
	case <-wrote:
		t.Fatal("Write() beyond the bound returned while the goroutine was blocked")
	default:
	}
	close(sw.hold)
	<-wrote
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(sw.String()); got != 4*len(line) {
		t.Errorf("wrote %d bytes, want %d: nothing dropped", got, 4*len(line))
	}
}
