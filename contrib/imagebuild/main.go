// Command imagebuild builds coffer inside the build stage of the
// container image (the Dockerfile at the repository root), which needs no
// shell: it links the version, revision and time given as the VERSION,
// REVISION and CREATED build arguments into the binary, the same values
// the image's labels carry (a build in a container has no VCS checkout to
// read them from), and creates the data directory the image's non-root
// user owns.
//
//	go run ./contrib/imagebuild /out
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

const pkg = "github.com/seed-3e8d63de/coffer/internal/buildinfo"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: imagebuild OUTDIR")
		os.Exit(2)
	}
	out := os.Args[1]
	ldflags := "-s -w"
	for _, v := range []struct{ env, name string }{{"VERSION", "version"}, {"REVISION", "revision"}, {"CREATED", "vcsTime"}} {
		if s := os.Getenv(v.env); s != "" {
			ldflags += fmt.Sprintf(" -X %s.%s=%s", pkg, v.name, s)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", filepath.Join(out, "coffer"), "./cmd/coffer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild: go build:", err)
		os.Exit(1)
	}
	// The volume's directory, owned by the image's user (COPY --chown).
	if err := os.MkdirAll(filepath.Join(out, "data"), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}
