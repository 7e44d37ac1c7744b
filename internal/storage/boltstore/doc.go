// Package boltstore is the embedded, durable [storage.Backend]: one bbolt
// file (go.etcd.io/bbolt) holding one bucket of keys and values.
//
// A write is acknowledged only once it is on disk: the file is fsynced at
// every commit. To keep that affordable under load, Update uses group
// commit: the Updates that arrive while a commit is being written and
// fsynced are run one after the other inside a single bbolt transaction,
// which is committed and fsynced once for all of them as soon as the
// previous commit is done. No Update waits for a timer: one that finds no
// commit in progress commits at once, so a lone writer pays only its fsync,
// and under load the groups grow by themselves to the number of writers
// that arrive during one commit. Each Update still behaves as its own
// transaction: it sees the writes of the Updates ordered before it in the
// group, and one that fails is taken out of the group and run alone, so it
// commits nothing. The price is that an Update's function may run more than
// once and on another goroutine, which the storage contract allows (the
// same semantics as bbolt's DB.Batch, without its delay).
//
// bbolt takes an exclusive lock on the file, so one process at a time owns
// it: the embedded store means a single node. Open gives up after
// [Options.Timeout] with [ErrLocked] rather than waiting forever behind
// another process.
//
// boltstore stores values as given; encryption is the job of the sealed
// decorator wrapped around it.
package boltstore
