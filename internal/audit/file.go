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

// FileSink appends events as JSON lines to a file. Every event is written
// to the file (the operating system's) before Record returns; events
// marked Durable are also flushed to disk (fsync) first. Concurrent Records
// share one write(2) (the lines that arrive while a write is under way go
// together in the next) and one fsync, so that auditing does not
// serialise requests on the file.
type FileSink struct {
	path string

	mu      sync.Mutex // guards f, written, flushed, next and writing
	f       *os.File
	written uint64 // events queued so far
	flushed uint64 // events written to the file so far
	next    *batch // lines waiting for the next write
	writing bool   // a Record is writing a batch, without mu
	wrote   sync.Cond

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
	s := &FileSink{path: path, f: f}
	s.wrote.L = &s.mu
	return s, nil
}

// batch is lines written together by one write(2).
type batch struct {
	buf  []byte
	last uint64 // the number of the last event in buf
	done bool
	err  error
}

// linePool holds encoding buffers.
var linePool = sync.Pool{New: func() any { return new([]byte) }}

// Record implements [Sink]. It returns once the event is written to the
// file, and for a Durable event on disk. The first Record to find no write
// under way writes, for itself and for every Record that queued its line
// meanwhile, in one write(2); the others wait for it.
func (s *FileSink) Record(_ context.Context, e Event) error {
	lp := linePool.Get().(*[]byte)
	line, err := appendEvent((*lp)[:0], e)
	if err != nil {
		linePool.Put(lp)
		return fmt.Errorf("audit: encode event: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		linePool.Put(lp)
		return errors.New("audit: file sink closed")
	}
	if s.next == nil {
		s.next = &batch{}
	}
	b := s.next
	b.buf = append(b.buf, line...)
	*lp = line
	linePool.Put(lp)
	s.written++
	seq := s.written
	b.last = seq
	for !b.done {
		if s.writing {
			s.wrote.Wait()
			continue
		}
		if s.f == nil { // closed while the lines waited
			w := s.next
			s.next = nil
			w.done, w.err = true, errors.New("file sink closed")
			s.wrote.Broadcast()
			continue
		}
		// Write the waiting lines, ours among them, without holding mu
		// so that more queue up meanwhile.
		w, f := s.next, s.f
		s.next, s.writing = nil, true
		s.mu.Unlock()
		_, werr := f.Write(w.buf)
		s.mu.Lock()
		w.done, w.err = true, werr
		if werr == nil {
			s.flushed = w.last
		}
		s.writing = false
		s.wrote.Broadcast()
	}
	err = b.err
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if !e.Durable {
		return nil
	}
	return s.sync(seq)
}

// idle waits, with mu held, until no Record is writing.
func (s *FileSink) idle() {
	for s.writing {
		s.wrote.Wait()
	}
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
	f, target := s.f, s.flushed
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
	s.idle() // no write to the old file may still be under way
	old, written := s.f, s.flushed
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
	s.idle()
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
