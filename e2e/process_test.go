package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// binary is the coffer binary built once for the package's tests.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func coffer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "coffer")
		// Built as the container image builds it (contrib/imagebuild), so
		// that the image's build finds every package in the build cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "../cmd/coffer")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a coffer server running as a child process.
type proc struct {
	cmd    *exec.Cmd
	addr   string // host:port
	stdout bytes.Buffer
	logs   *testenv.LogBuffer
}

// start runs `coffer server` with args on 127.0.0.1:0 and waits until it
// listens. env adds environment variables.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{logs: &testenv.LogBuffer{}}
	p.cmd = exec.Command(coffer(t), append([]string{"server", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.stdout
	pr, pw := io.Pipe()
	p.cmd.Stderr = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start coffer: %v", err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if !sent && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
				sent = true
			}
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		pw.Close()
	})
	select {
	case p.addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatalf("coffer did not start listening; its log:\n%s", p.logs.String())
	}
	return p
}

// kill9 kills the process with SIGKILL, as a crash would.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	p.cmd.Wait()
}

// do sends a request with the root token and returns status and body.
func (p *proc) do(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// tryDo is do that reports a transport failure (a killed server) as status
// 0 instead of failing the test.
func (p *proc) tryDo(token, method, path, body string) (int, []byte) {
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// domainID returns the default domain from GET /v2/okms/resource.
func (p *proc) domainID(t *testing.T, token string) string {
	t.Helper()
	st, b := p.do(t, token, "GET", "/v2/okms/resource", "")
	var ds []struct{ ID string }
	if st != 200 || json.Unmarshal(b, &ds) != nil || len(ds) == 0 {
		t.Fatalf("GET /v2/okms/resource = %d %s", st, b)
	}
	return ds[0].ID
}

// envCount is the positive integer in the environment variable name, def
// when it is unset: how many cycles, restarts or requests a long test
// runs. Anything else fails the test.
func envCount(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
