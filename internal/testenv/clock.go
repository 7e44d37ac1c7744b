package testenv

import (
	"sync"
	"time"
)

// T0 is where a fake clock starts unless told otherwise: half a second
// past the minute, so that every time on the wire shows its truncation to
// whole seconds.
var T0 = time.Date(2026, 1, 10, 9, 0, 0, 500_000_000, time.UTC)

// Clock is a fake clock: time moves only when a test says so, so tests
// never sleep and every time in a response is known. It is safe for
// concurrent use; its Now is what a [server.Config] or a service takes.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
