// Package testenv is the httptest of coffer: it starts a real coffer
// server for a test (server.New over the dev store, a bbolt or in-memory
// store in a directory of the test's own, or a fresh PostgreSQL schema)
// behind an httptest server on 127.0.0.1, with an injected fake [Clock]
// and known tokens, and stops it when the test ends. It holds the one
// fake clock and the one PostgreSQL schema helper of the tree's tests.
//
// It is for tests only: no package but a _test.go file imports it
// (internal/depstest checks). It asserts nothing about the wire; golden
// files and case tables are package wiretest's.
package testenv
