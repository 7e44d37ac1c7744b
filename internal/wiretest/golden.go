package wiretest

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Golden files are testdata/<name>.golden in the package under test.
// go test -update rewrites them; [Main] reports, after a full run, the
// files that no test wrote.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating reports whether the run rewrites the golden files (-update).
func Updating() bool { return *update }

// Dir is the directory of the golden files, relative to the package.
const Dir = "testdata"

var (
	goldenMu   sync.Mutex
	goldenUsed = map[string]string{} // golden name -> test name
)

// Golden compares got with testdata/<name>.golden, or writes the file
// with -update. Each golden file belongs to one test: a second test
// naming it stops (the same test may check it again).
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	goldenMu.Lock()
	prev, dup := goldenUsed[name]
	if !dup {
		goldenUsed[name] = t.Name()
	}
	goldenMu.Unlock()
	if dup && prev != t.Name() {
		t.Fatalf("golden file %s.golden is already written by %s", name, prev)
	}
	path := filepath.Join(Dir, name+".golden")
	if *update {
		if err := os.MkdirAll(Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s (rewrite with -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// Render renders a response as the golden files of coffer's JSON
// surfaces hold it: the status line, the headers named that are present,
// a blank line, the body and a newline. norm normalises what changes from
// run to run: it receives each header's name and value, and "" and the
// body.
func Render(r *Response, headers []string, norm func(header, s string) string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %s\n", r.Status, http.StatusText(r.Status))
	for _, h := range headers {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, norm(h, v))
		}
	}
	b.WriteString("\n")
	b.WriteString(norm("", string(r.Body)))
	b.WriteString("\n")
	return b.Bytes()
}

// Main runs the tests of a package that has golden files and exits with
// the code [After] gives.
func Main(m *testing.M, partial bool) { os.Exit(After(m.Run(), partial)) }

// After is what a TestMain does once the tests have run with exit code
// code: after a full run ([FullRun], and partial false: the package does
// not skip cases of its own accord, as under the race detector) that
// passed, it reports the golden files no test wrote (with -update,
// removes them) and fails the run if there are any. It returns the exit
// code of the run.
func After(code int, partial bool) int {
	if code == 0 && FullRun() && !partial {
		code = orphans()
	}
	return code
}

// FullRun reports whether the run runs every test: no -run, -skip, -list
// or -short.
func FullRun() bool {
	return flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" &&
		flag.Lookup("test.list").Value.String() == "" && !testing.Short()
}

// orphans handles the golden files no test wrote; it returns the exit
// code of the run.
func orphans() int {
	files, _ := filepath.Glob(filepath.Join(Dir, "*.golden"))
	code := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		if _, ok := goldenUsed[name]; ok {
			continue
		}
		if *update {
			_ = os.Remove(f)
			continue
		}
		fmt.Fprintf(os.Stderr, "%s is written by no test: remove it or run go test -update\n", f)
		code = 1
	}
	return code
}
