// Package logio provides [Writer], which writes a log stream in batches
// from a goroutine of its own, so that the goroutines that log do not each
// pay a system call per line.
//
// A server that logs one access-log line and two audit events per request
// spends a large share of its time in write(2) calls for them. Behind a
// Writer, a log line is appended to a buffer and the call returns; the
// Writer's goroutine writes everything buffered in one call as soon as it
// can, and the lines that arrive while it writes form the next batch. No
// timer is involved: under low load every line is written at once, under
// high load batches grow by themselves.
//
// The price: when the process dies abruptly (kill -9, a crash), the lines
// logged during the last write call are lost; [Writer.Flush] returns once
// everything logged before it was written, for the lines that must not be
// (audit events of operations that change state), and [Writer.Close]
// writes everything before returning.
//
// logio imports only the standard library.
package logio

import (
	"errors"
	"io"
	"runtime"
	"sync"
)

// DefaultMaxPending is the default bound on the bytes a Writer holds
// before Write waits for its goroutine to catch up.
const DefaultMaxPending = 1 << 20

// Writer is an io.Writer that writes what it is given to an underlying
// writer in batches, from a goroutine of its own. It is safe for
// concurrent use; each Write's bytes are written contiguously, in the
// order of the Write calls. Create it with [NewWriter] and stop it with
// [Writer.Close].
type Writer struct {
	w   io.Writer
	max int

	mu       sync.Mutex
	more     sync.Cond // the goroutine waits for bytes
	progress sync.Cond // Flush and full Writes wait for the goroutine
	buf      []byte    // bytes not yet handed to the goroutine
	spare    []byte    // the other buffer, reused
	queued   uint64    // bytes ever appended
	written  uint64    // bytes ever written (or attempted)
	busy     bool      // the goroutine is writing, not waiting
	err      error     // the last write error, nil once a write succeeds
	closed   bool
	done     chan struct{}
}

// NewWriter returns a Writer over w, which only its goroutine calls.
func NewWriter(w io.Writer) *Writer {
	lw := &Writer{w: w, max: DefaultMaxPending, done: make(chan struct{})}
	lw.more.L = &lw.mu
	lw.progress.L = &lw.mu
	go lw.run()
	return lw
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("logio: writer closed")

// Write appends p to the stream and returns without waiting for it to be
// written, unless the Writer already holds DefaultMaxPending bytes: then it
// waits for the goroutine to catch up (nothing is ever dropped). It
// returns len(p), nil, or ErrClosed after Close.
func (lw *Writer) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for len(lw.buf) > 0 && len(lw.buf)+len(p) > lw.max && !lw.closed {
		lw.progress.Wait()
	}
	if lw.closed {
		return 0, ErrClosed
	}
	lw.buf = append(lw.buf, p...)
	lw.queued += uint64(len(p))
	if !lw.busy {
		// The goroutine waits: wake it. While it writes, later Writes
		// only append.
		lw.busy = true
		lw.more.Signal()
	}
	return len(p), nil
}

// Flush waits until every byte written to lw before the call has been
// written to the underlying writer, and returns the error of the last
// write attempt, if it failed.
func (lw *Writer) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	target := lw.queued
	for lw.written < target {
		lw.progress.Wait()
	}
	return lw.err
}

// Close writes what is pending, stops the goroutine and returns the error
// of the last write attempt. Later Writes return ErrClosed; later Closes
// return nil.
func (lw *Writer) Close() error {
	lw.mu.Lock()
	if lw.closed {
		lw.mu.Unlock()
		return nil
	}
	lw.closed = true
	lw.more.Signal()
	lw.progress.Broadcast() // Writes waiting for room give up
	lw.mu.Unlock()
	<-lw.done
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.err
}

// run is the Writer's goroutine: it writes whatever is buffered, one batch
// at a time, until Close.
func (lw *Writer) run() {
	defer close(lw.done)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for {
		for len(lw.buf) == 0 {
			lw.busy = false
			if lw.closed {
				return
			}
			lw.more.Wait()
		}
		lw.busy = true
		// Let the goroutines that are ready to run go first: under load
		// they log lines of their own, which join this batch, so a write
		// carries many lines instead of the one that woke the writer (at
		// 32 concurrent reads: one log write per 3 requests instead of one
		// per request). When nothing else is ready, Gosched returns at
		// once.
		lw.mu.Unlock()
		runtime.Gosched()
		lw.mu.Lock()
		batch, end := lw.buf, lw.queued
		lw.buf = lw.spare[:0]
		lw.mu.Unlock()
		_, err := lw.w.Write(batch)
		lw.mu.Lock()
		lw.spare = batch[:0]
		if cap(lw.spare) > 4*lw.max {
			lw.spare = nil // do not keep a buffer grown by a burst
		}
		lw.err = err
		lw.written = end
		lw.progress.Broadcast()
	}
}
