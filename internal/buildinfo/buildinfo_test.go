package buildinfo

import (
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func settings(kv ...string) []debug.BuildSetting {
	var out []debug.BuildSetting
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestFromBuildInfo(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		ok      bool
		want    Info
		release string
	}{
		{"no build information", nil, false,
			Info{Version: "devel", Revision: Unknown, Time: Unknown, GoVersion: Unknown}, "devel"},
		{"test binary", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true,
			Info{Version: "devel", Revision: Unknown, Time: Unknown, GoVersion: "go1.26.8"}, "devel"},
		{"tagged checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
			Settings: settings("-trimpath", "true", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-05-01T10:00:00Z", "vcs.modified", "false")}, true,
			Info{Version: "v1.2.3", Revision: rev, Time: "2026-05-01T10:00:00Z", GoVersion: "go1.26.8"}, "v1.2.3"},
		{"tagged checkout with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3+dirty"},
			Settings: settings("vcs.revision", rev, "vcs.time", "2026-05-01T10:00:00Z", "vcs.modified", "true")}, true,
			Info{Version: "v1.2.3+dirty", Revision: rev, Time: "2026-05-01T10:00:00Z", Modified: true, GoVersion: "go1.26.8"}, "v1.2.3"},
		{"untagged commit", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20260501100000-0123456789ab"},
			Settings: settings("vcs.revision", rev, "vcs.time", "2026-05-01T10:00:00Z", "vcs.modified", "false")}, true,
			Info{Version: "v0.0.0-20260501100000-0123456789ab", Revision: rev, Time: "2026-05-01T10:00:00Z", GoVersion: "go1.26.8"}, "devel"},
		{"commit after a tag, modified", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.4-0.20260501100000-0123456789ab+dirty"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, true,
			Info{Version: "v1.2.4-0.20260501100000-0123456789ab+dirty", Revision: rev, Time: Unknown, Modified: true, GoVersion: "go1.26.8"}, "devel"},
		{"commit after a pre-release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0-rc.1.0.20260501100000-0123456789ab"}}, true,
			Info{Version: "v1.3.0-rc.1.0.20260501100000-0123456789ab", Revision: Unknown, Time: Unknown, GoVersion: "go1.26.8"}, "devel"},
		{"pre-release tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0-rc.1"}}, true,
			Info{Version: "v1.3.0-rc.1", Revision: Unknown, Time: Unknown, GoVersion: "go1.26.8"}, "v1.3.0-rc.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuildInfo(tc.bi, tc.ok)
			if got != tc.want {
				t.Errorf("fromBuildInfo = %+v, want %+v", got, tc.want)
			}
			if r := got.Release(); r != tc.release {
				t.Errorf("Release = %q, want %q", r, tc.release)
			}
		})
	}
}

// TestText pins the shape of `coffer version`'s output.
func TestText(t *testing.T) {
	info := Info{Version: "v1.2.3+dirty", Revision: "0123456789abcdef0123456789abcdef01234567",
		Time: "2026-05-01T10:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	got := info.Text()
	path := filepath.Join("testdata", "version.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("Text() =\n%s\nwant (%s)\n%s", got, path, want)
	}
}

// TestRead: the test binary's own build information, which has the Go
// version but no VCS stamp.
func TestRead(t *testing.T) {
	info := Read()
	if info.GoVersion == Unknown || info.Version == "" {
		t.Errorf("Read = %+v", info)
	}
	if String() != Version() && Commit() == "" {
		t.Errorf("String = %q with no commit", String())
	}
}

// TestLinked: values set at link time fill only what the build
// information lacks.
func TestLinked(t *testing.T) {
	defer func(v, r, tm string) { version, revision, vcsTime = v, r, tm }(version, revision, vcsTime)
	version, revision, vcsTime = "v1.2.3", "0123456789abcdef", "2026-05-01T10:00:00Z"
	bare := Info{Version: "devel", Revision: Unknown, Time: Unknown, GoVersion: "go1.26.8"}
	if got, want := linked(bare), (Info{Version: "v1.2.3", Revision: "0123456789abcdef", Time: "2026-05-01T10:00:00Z", GoVersion: "go1.26.8"}); got != want {
		t.Errorf("linked(no VCS) = %+v, want %+v", got, want)
	}
	stamped := Info{Version: "v0.0.0-20260501100000-aaaaaaaaaaaa", Revision: "aaaa", Time: "2026-01-01T00:00:00Z", GoVersion: "go1.26.8"}
	if got := linked(stamped); got != stamped {
		t.Errorf("linked(VCS stamped) = %+v, want it unchanged", got)
	}
}
