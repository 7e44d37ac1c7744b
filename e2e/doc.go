// Package e2e holds coffer's end-to-end tests. Some build the real binary,
// run it as a separate process on 127.0.0.1 and talk to it over HTTP, as
// users and operators do (crash safety with kill -9, what lands on disk);
// the others run the real server in this process behind a real listener
// (concurrency, hostile input, tampering, leaks, limits, keys). Each
// reports the figures of docs/reliability.md with t.Logf.
package e2e
