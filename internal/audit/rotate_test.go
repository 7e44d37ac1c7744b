package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFileSink_rotateUnderLoad rotates the audit file as logrotate's
// create mode does (rename, create an empty file, then reopen) over and
// over while 16 writers record events: every event whose Record succeeded
// is in exactly one of the files, whole, and nothing else is.
func TestFileSink_rotateUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each, rotations = 16, 250, 25
	var (
		wg      sync.WaitGroup
		written atomic.Int64
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := Event{Action: fmt.Sprintf("w%02d-%04d", w, i), Phase: PhaseRequest, Durable: i%3 == 0}
				if err := s.Record(context.Background(), e); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				written.Add(1)
			}
		})
	}
	rotated := 0
	for rotated < rotations && written.Load() < writers*each {
		if s.Moved() {
			t.Fatal("Moved before any rotation")
		}
		// logrotate's create mode: rename, create, then the signal.
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, rotated+1)); err != nil {
			t.Fatal(err)
		}
		if !s.Moved() {
			t.Error("Moved = false after the file was renamed")
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Reopen(); err != nil {
			t.Fatal(err)
		}
		rotated++
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	if rotated < 5 {
		t.Fatalf("only %d rotations happened while writing", rotated)
	}

	seen := map[string]int{}
	files, _ := filepath.Glob(path + "*")
	lines := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			lines++
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("%s: a line that is not an event: %q", f, sc.Text())
				continue
			}
			seen[e.Action]++
		}
		fh.Close()
	}
	for w := range writers {
		for i := range each {
			if n := seen[fmt.Sprintf("w%02d-%04d", w, i)]; n != 1 {
				t.Errorf("event w%02d-%04d is in the files %d times, want once", w, i, n)
			}
		}
	}
	if lines != writers*each {
		t.Errorf("%d lines in %d files, want %d events", lines, len(files), writers*each)
	}
	t.Logf("%d events by %d writers across %d rotations (%d files): each once", lines, writers, rotated, len(files))
}

// TestFileSink_reopenFailure: a path that cannot be opened leaves the sink
// on its file.
func TestFileSink_reopenFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // a directory where the file was
		t.Fatal(err)
	}
	if err := s.Reopen(); err == nil {
		t.Fatal("Reopen onto a directory succeeded")
	}
	if err := s.Record(context.Background(), Event{Action: "after", Durable: true}); err != nil {
		t.Fatalf("Record after a failed Reopen: %v", err)
	}
	b, _ := os.ReadFile(path + ".1")
	if !json.Valid(b[:len(b)-1]) {
		t.Errorf("the old file does not hold the event: %q", b)
	}
	s.Close()
	if err := s.Reopen(); err == nil {
		t.Error("Reopen after Close succeeded")
	}
}
