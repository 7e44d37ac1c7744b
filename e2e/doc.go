// Package e2e holds coffer's end-to-end tests: they build the real binary,
// run it as a separate process on 127.0.0.1 and talk to it over HTTP, as
// users and operators do (crash safety with kill -9, what lands on disk).
package e2e
