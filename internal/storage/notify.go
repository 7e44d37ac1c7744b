package storage

import "context"

// Notifier is an optional capability of a backend shared by several coffer
// processes (PostgreSQL): a process that changed something other processes
// cache (policies, the domain registry) tells them, so that they reload it.
// Discover it with [NotifierOf].
type Notifier interface {
	// Notify sends payload on channel to every process listening on this
	// store, the sender included.
	Notify(ctx context.Context, channel, payload string) error
	// Listen calls fn for every notification on channel until ctx is done,
	// reconnecting as needed; it returns ctx's error. After a reconnection
	// it calls fn with the empty payload, since notifications may have been
	// missed meanwhile.
	Listen(ctx context.Context, channel string, fn func(payload string)) error
}

// NotifierOf returns the Notifier of b, looking through decorators that
// have an Unwrap() Backend method (the encryption layer).
func NotifierOf(b Backend) (Notifier, bool) {
	for b != nil {
		if n, ok := b.(Notifier); ok {
			return n, true
		}
		u, ok := b.(interface{ Unwrap() Backend })
		if !ok {
			return nil, false
		}
		b = u.Unwrap()
	}
	return nil, false
}
