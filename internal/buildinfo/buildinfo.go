// Package buildinfo reports what the running binary is: its module
// version, VCS revision and time, whether the work tree had uncommitted
// changes, and the Go version, read from the build information the Go
// toolchain embeds in the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
)

// Unknown stands for a revision or time the build did not record (a build
// outside a VCS checkout, with -buildvcs=false, or a test binary).
const Unknown = "unknown"

// Info describes a build.
type Info struct {
	// Version is the main module's version: a release tag ("v1.2.3"), a
	// pseudo-version that names the commit
	// ("v0.0.0-20260501100000-0123456789ab", "+dirty" when modified), or
	// "devel" when the toolchain recorded none.
	Version string `json:"version"`
	// Revision is the full VCS revision, or Unknown.
	Revision string `json:"revision"`
	// Time is the commit time of Revision (RFC 3339), or Unknown.
	Time string `json:"time"`
	// Modified reports uncommitted changes in the work tree at build time.
	Modified bool `json:"modified"`
	// GoVersion is the version of the Go toolchain that built the binary.
	GoVersion string `json:"goVersion"`
}

var read = sync.OnceValue(func() Info { return linked(fromBuildInfo(debug.ReadBuildInfo())) })

// Set by the linker for builds outside a VCS checkout, such as the
// container image's (contrib/imagebuild): -X with version, revision and
// vcsTime. They fill what the build information lacks.
var version, revision, vcsTime string

// linked fills the version, revision and time that i lacks from the
// values set at link time.
func linked(i Info) Info {
	if version != "" && i.Version == "devel" {
		i.Version = version
	}
	if revision != "" && i.Revision == Unknown {
		i.Revision = revision
	}
	if vcsTime != "" && i.Time == Unknown {
		i.Time = vcsTime
	}
	return i
}

// Read returns the build information of the running binary.
func Read() Info { return read() }

// fromBuildInfo extracts an Info from what ReadBuildInfo returned.
func fromBuildInfo(bi *debug.BuildInfo, ok bool) Info {
	info := Info{Version: "devel", Revision: Unknown, Time: Unknown, GoVersion: Unknown}
	if !ok || bi == nil {
		return info
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		info.Version = v
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				info.Revision = s.Value
			}
		case "vcs.time":
			if s.Value != "" {
				info.Time = s.Value
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// Text is what `coffer version` and `coffer --version` print: the version
// on the first line, then one "name  value" line per detail.
func (i Info) Text() string {
	return fmt.Sprintf("coffer %s\nrevision  %s\ntime      %s\nmodified  %t\ngo        %s\n",
		i.Version, i.Revision, i.Time, i.Modified, i.GoVersion)
}

// pseudoVersion matches the tail of a Go pseudo-version, which embeds a
// commit time and a revision prefix (golang.org/x/mod/module.IsPseudoVersion
// tests the same shape).
var pseudoVersion = regexp.MustCompile(`(^|[-.])\d{14}-[0-9a-f]{12}$`)

// Release returns the version to show where the exact build must not be
// told (the Server header of every response): the release tag without
// build metadata for a tagged build, "devel" for any other, so that no
// revision appears.
func (i Info) Release() string {
	v, _, _ := strings.Cut(i.Version, "+")
	if v == "" || v == "devel" || pseudoVersion.MatchString(v) {
		return "devel"
	}
	return v
}

// Version returns the module version of the binary ("devel" for a build
// without one).
func Version() string { return Read().Version }

// Commit returns the VCS revision abbreviated to 12 characters, or "" if
// unknown.
func Commit() string {
	r := Read().Revision
	if r == Unknown {
		return ""
	}
	return r[:min(len(r), 12)]
}

// String returns "version (commit)", or the version alone when the commit
// is unknown.
func String() string {
	if c := Commit(); c != "" {
		return Version() + " (" + c + ")"
	}
	return Version()
}
