// Package memstore is an in-memory [storage.Backend]: a map of values plus a
// sorted slice of keys, under one sync.RWMutex.
//
// It backs every service and adapter test and `coffer server --dev`, so it
// favours speed and obvious correctness over concurrency: Views share a read
// lock, and an Update holds the write lock from the moment its function
// starts until its writes are applied, which makes Updates trivially
// serializable and means a function never has to run twice. An Update stages
// its writes in an overlay and applies them only when its function returns
// nil, so a failing or panicking function leaves no trace.
//
// Nothing is persisted: the data lives as long as the Store, and memstore
// does no I/O. Values are kept exactly as given, so whatever must not sit in
// memory in clear is the business of the sealed decorator wrapped around it.
package memstore
