// Package buildinfo reports coffer's version and commit, read from the
// build information the Go toolchain embeds in the binary.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

var read = sync.OnceValues(func() (string, string) {
	version, commit := "devel", ""
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		}
	}
	return version, commit
})

// Version returns the module version of the binary ("devel" for a build
// from a work tree).
func Version() string { v, _ := read(); return v }

// Commit returns the abbreviated VCS revision, or "" if unknown.
func Commit() string { _, c := read(); return c }

// String returns "version (commit)".
func String() string {
	v, c := read()
	if c == "" {
		return v
	}
	return v + " (" + c + ")"
}
