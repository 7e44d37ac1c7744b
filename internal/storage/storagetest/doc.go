// Package storagetest checks that a [storage.Backend] keeps the storage
// contract, and offers small wrappers that inject failures into a real
// backend for service tests.
//
// Every backend's test is a single call:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Backend {
//			return memstore.New()
//		})
//	}
//
// [Run] executes one subtest per rule of the contract (architecture.md
// section 7), each on a fresh backend, so a failure names the rule that was
// broken. The suite only uses the [storage.Backend] and [storage.Tx]
// interfaces: it knows nothing of any implementation, which is what lets it
// run unchanged over memstore, boltstore, pgstore and the sealed decorator.
//
// The package is meant for tests only; production code must not import it
// (it imports [testing]).
package storagetest
