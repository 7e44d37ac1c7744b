// Package depstest enforces coffer's import rules (architecture.md
// section 3) with `go list -deps`. The rules are data: a statement of
// policy, like the depsRules of Go's go/build/deps_test.go. Do not change
// them to make a build pass; change them deliberately, with the design
// document.
package depstest
