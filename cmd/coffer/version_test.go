package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestVersion pins the output of coffer version, --version (the same
// text) and --format json. A test binary carries no VCS stamp, so the
// revision and time read "unknown"; the Go version is normalised.
func TestVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	goVersion := func(r result) result {
		r.stdout = strings.ReplaceAll(r.stdout, runtime.Version(), "<go-version>")
		return r
	}
	text := goVersion(h.run("version"))
	if text.code != 0 {
		t.Fatalf("coffer version: exit %d: %s", text.code, text.stderr)
	}
	h.golden("version", text)
	flag := goVersion(h.run("--version"))
	if flag.code != 0 || flag.stdout != text.stdout {
		t.Errorf("coffer --version = exit %d\n%s\nwant the output of coffer version\n%s", flag.code, flag.stdout, text.stdout)
	}
	h.golden("version_json", goVersion(h.run("version", "--format", "json")))
	h.fails(2, "coffer version takes no argument", "version", "extra")
}
