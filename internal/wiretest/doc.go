// Package wiretest holds what the tests of coffer's HTTP surfaces share
// about the wire: sending a request and reading the answer ([Do]), golden
// files with their registry and the -update flag ([Golden], [Main]), the
// checks every JSON answer of coffer passes ([Contract]), and a table
// runner ([Table]) that each surface parameterises with its own server,
// error envelope and snapshot of the readable state.
//
// It is for tests only: no package but a _test.go file imports it
// (internal/depstest checks). It knows no surface: the OKMS error
// envelope, the OVH class and the Vault errors array stay with the tests
// of their surface.
package wiretest
