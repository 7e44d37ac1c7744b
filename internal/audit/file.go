package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// FileSink appends events as JSON lines to a file. Events marked Durable
// are flushed to disk (fsync) before Record returns; concurrent Records
// share one fsync, so that durable auditing does not serialise writers on
// the disk.
type FileSink struct {
	path string

	mu      sync.Mutex // guards f and written
	f       *os.File
	written uint64 // events written so far

	syncMu sync.Mutex // one fsync at a time
	synced uint64     // events known to be on disk
	lost   uint64     // events of a file whose last fsync, at a Reopen, failed
}

// OpenFile opens (creating with mode 0600) the audit file at path for
// appending.
func OpenFile(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	return &FileSink{path: path, f: f}, nil
}

// Record implements [Sink].
func (s *FileSink) Record(_ context.Context, e Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: encode event: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return errors.New("audit: file sink closed")
	}
	if _, err := s.f.Write(line); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("audit: write: %w", err)
	}
	s.written++
	seq := s.written
	s.mu.Unlock()
	if !e.Durable {
		return nil
	}
	return s.sync(seq)
}

// sync makes sure event seq is on disk. While one caller syncs, the others
// wait; most find their event already covered when their turn comes.
func (s *FileSink) sync(seq uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= seq {
		return nil
	}
	if seq <= s.lost {
		return errors.New("audit: sync: the file was reopened and its last fsync failed")
	}
	s.mu.Lock()
	f, target := s.f, s.written
	s.mu.Unlock()
	if f == nil {
		return errors.New("audit: file sink closed")
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	s.synced = target
	return nil
}

// Reopen closes the file and opens its path again, creating it if need
// be: after a log rotation (logrotate's create mode renames the file and
// creates an empty one), events go to the new file. Every event is written
// whole to exactly one of the two files, and those written to the old file
// are made durable before it is closed. If the path cannot be opened the
// sink keeps the file it has, and Reopen returns the error.
func (s *FileSink) Reopen() error {
	nf, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: reopen %s: %w", s.path, err)
	}
	// No sync runs during the swap (lock order: syncMu, then mu, as sync
	// takes them), so none can fsync a file being closed.
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	old, written := s.f, s.written
	if old == nil {
		s.mu.Unlock()
		nf.Close()
		return errors.New("audit: file sink closed")
	}
	s.f = nf
	s.mu.Unlock()
	// Every event counted so far is in the old file: sync it once for all.
	if err = old.Sync(); err == nil {
		s.synced = written
	} else {
		s.lost = written
	}
	return errors.Join(err, old.Close())
}

// Moved reports whether the sink's path no longer names the file it
// writes to: a log rotation renamed or removed it.
func (s *FileSink) Moved() bool {
	s.mu.Lock()
	f := s.f
	s.mu.Unlock()
	if f == nil {
		return false
	}
	open, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(s.path)
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	return !os.SameFile(open, now)
}

// Close closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Tail returns the last n events of the file, oldest first.
func (s *FileSink) Tail(n int) ([]Event, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	defer f.Close()
	return tail(f, n)
}

// tail reads JSON lines from r and keeps the last n events.
func tail(r io.Reader, n int) ([]Event, error) {
	if n <= 0 {
		return nil, nil
	}
	ring := make([][]byte, 0, n)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		if len(ring) == n {
			ring = append(ring[1:], line)
		} else {
			ring = append(ring, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	out := make([]Event, 0, len(ring))
	for _, l := range ring {
		var e Event
		if json.Unmarshal(l, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Reader is implemented by sinks whose events an administrator can read
// back.
type Reader interface {
	Tail(n int) ([]Event, error)
}

var (
	_ Sink   = (*FileSink)(nil)
	_ Reader = (*FileSink)(nil)
)
