package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestContainerImage builds the image of the Dockerfile with podman and
// runs it: labels and `coffer version` agree, the server runs as UID 65532
// on 0.0.0.0:8200 with TLS from the installation CA kept in the /data
// volume, `coffer healthcheck` (the HEALTHCHECK) passes inside and outside
// the container, a secret written over verified TLS survives a stop (exit
// 0 on SIGTERM) and a new container on the same volume.
//
// It skips where podman or buildah is missing, or containers cannot run
// (the skip says why), and with COFFER_CONTAINER_TESTS=0. The build uses
// no network: its Go toolchain image is made from this machine's GOROOT
// (kept as localhost/coffer-test-go:<version> for the next run), the
// module cache and build cache are mounted, GOPROXY=off, and the build
// runs with --isolation chroot, which needs no OCI runtime.
func TestContainerImage(t *testing.T) {
	if testing.Short() || os.Getenv("COFFER_CONTAINER_TESTS") == "0" {
		t.Skip("builds and runs a container image (COFFER_CONTAINER_TESTS=0 or -short)")
	}
	for _, tool := range []string{"podman", "buildah"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	run := func(name string, args ...string) (string, error) {
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return strings.TrimSpace(out.String()), err
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, err := run(name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	if out, err := run("podman", "info"); err != nil {
		t.Skipf("podman does not work here: %v\n%s", err, out)
	}
	goenv := func(k string) string { return must("go", "env", k) }
	// The binary of the other tests is built with the image's flags: the
	// image's build then finds its packages in the build cache.
	coffer(t)
	began := time.Now()

	// The toolchain image, from this machine's Go.
	goImage := "localhost/coffer-test-go:" + goenv("GOVERSION")
	if _, err := run("podman", "image", "exists", goImage); err != nil {
		empty := t.TempDir()
		ctr := must("buildah", "from", "scratch")
		must("buildah", "copy", ctr, goenv("GOROOT"), "/usr/local/go")
		must("buildah", "copy", ctr, empty, "/tmp")
		must("buildah", "config", "--env", "PATH=/usr/local/go/bin", "--env", "GOPATH=/go", "--env", "HOME=/root",
			"--env", "GOCACHE=/root/.cache/go-build", "--env", "TMPDIR=/tmp", ctr)
		must("buildah", "commit", "--rm", ctr, goImage)
	}
	toolchain := time.Since(began)

	// The image, built as the README says, offline.
	tag := "localhost/coffer-e2e:" + strings.ToLower(rand.Text()[:10])
	const version, revision, created = "v0.0.0-e2e", "0123456789abcdef0123456789abcdef01234567", "2026-12-01T10:00:00Z"
	repo, _ := filepath.Abs("..")
	build := time.Now()
	must("podman", "build", "--format", "docker", "--isolation", "chroot", "--layers=false",
		"--build-arg", "GO_IMAGE="+goImage, "--build-arg", "GOPROXY=off",
		"--build-arg", "VERSION="+version, "--build-arg", "REVISION="+revision, "--build-arg", "CREATED="+created,
		"-v", goenv("GOMODCACHE")+":/go/pkg/mod:ro", "-v", goenv("GOCACHE")+":/root/.cache/go-build",
		"-t", tag, repo)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", tag).Run() })
	buildTime := time.Since(build)

	var cfg struct {
		Labels      map[string]string
		User        string
		Env         []string
		Entrypoint  []string
		Cmd         []string
		Volumes     map[string]any
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(must("podman", "image", "inspect", tag, "--format", "{{json .Config}}")), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(must("podman", "image", "inspect", tag, "--format", "{{json .HealthCheck}}")), &cfg.Healthcheck); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"org.opencontainers.image.version": version, "org.opencontainers.image.revision": revision,
		"org.opencontainers.image.created": created, "org.opencontainers.image.title": "coffer"}
	for k, v := range want {
		if cfg.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], v)
		}
	}
	if cfg.User != "65532:65532" || fmt.Sprint(cfg.Healthcheck.Test) != "[CMD /coffer healthcheck]" || cfg.Volumes["/data"] == nil ||
		!strings.Contains(strings.Join(cfg.Env, " "), "COFFER_LISTEN=0.0.0.0:8200") || fmt.Sprint(cfg.Entrypoint, cfg.Cmd) != "[/coffer] [server]" {
		t.Errorf("image configuration: %+v", cfg)
	}
	size := must("podman", "image", "inspect", tag, "--format", "{{.Size}}")

	// How containers run here: the default runtime, else runc; with the
	// default resource limits, else lower ones (a sandbox may refuse to
	// raise them).
	var runArgs []string
	var why []string
	runtimes := [][]string{nil}
	if _, err := exec.LookPath("runc"); err == nil {
		runtimes = append(runtimes, []string{"--runtime", "runc"})
	}
	limits := [][]string{nil, {"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}}
probe:
	for _, rt := range runtimes {
		for _, lim := range limits {
			args := append(append(append([]string{}, rt...), "run", "--rm", "--no-healthcheck"), lim...)
			out, err := run("podman", append(args, tag, "version")...)
			if err == nil {
				if !strings.Contains(out, "coffer "+version) || !strings.Contains(out, "revision  "+revision) || !strings.Contains(out, "time      "+created) {
					t.Errorf("coffer version in the image:\n%s\nwant the labels' version, revision and time", out)
				}
				runArgs = append(append(append([]string{}, rt...), "run"), lim...)
				break probe
			}
			why = append(why, fmt.Sprintf("podman %s: %s", strings.Join(args, " "), lastLine(out)))
		}
	}
	if runArgs == nil {
		t.Skipf("the image builds (%v) but containers cannot run on this machine:\n%s", buildTime.Round(time.Second), strings.Join(why, "\n"))
	}
	rt := runArgs[:slices.Index(runArgs, "run")] // the runtime flags, for exec

	volume := "coffer-e2e-" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() { exec.Command("podman", "volume", "rm", "-f", volume).Run() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	startContainer := func() string {
		t.Helper()
		args := append(append([]string{}, runArgs...), "-d", "--no-healthcheck",
			"-p", fmt.Sprintf("127.0.0.1:%d:8200", port), "-v", volume+":/data", tag)
		id := must("podman", args...)
		id = lastLine(id)
		t.Cleanup(func() { exec.Command("podman", "rm", "-f", id).Run() })
		deadline := time.Now().Add(60 * time.Second)
		for {
			out, err := run(coffer(t), "healthcheck", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--timeout", "2s")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				logs, _ := run("podman", "logs", id)
				t.Fatalf("the container did not become ready within 60s: %s\n%s", out, logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		return id
	}
	first := time.Now()
	id := startContainer()
	startup := time.Since(first)
	logs := must("podman", "logs", id)
	if !regexp.MustCompile(`"msg":"listening","addr":"(0\.0\.0\.0|\[::\]):8200","scheme":"https","version":"` + version).MatchString(logs) {
		t.Errorf("the server does not listen on 0.0.0.0:8200 over HTTPS with the image's version:\n%s", logs)
	}
	token := regexp.MustCompile(`cof_root_[A-Za-z0-9_-]+`).FindString(logs)
	if token == "" {
		t.Fatalf("no root token in the first start's output:\n%s", logs)
	}
	// The HEALTHCHECK command, inside the container.
	if out := must("podman", append(append([]string{}, rt...), "exec", id, "/coffer", "healthcheck")...); !strings.Contains(out, "ok: GET /readyz answered 200") {
		t.Errorf("coffer healthcheck in the container: %s", out)
	}
	pid := must("podman", "inspect", id, "--format", "{{.State.Pid}}")
	if status, err := os.ReadFile("/proc/" + pid + "/status"); err == nil && !regexp.MustCompile(`(?m)^Uid:\s+65532\s`).Match(status) {
		t.Errorf("the server does not run as UID 65532:\n%s", status)
	}

	// A secret over TLS verified against the CA of the volume.
	dir := t.TempDir()
	must("podman", "cp", id+":/data/ca.pem", filepath.Join(dir, "ca.pem"))
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("/data/ca.pem holds no certificate: %q", caPEM)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := fmt.Sprintf("https://localhost:%d", port)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("X-Vault-Token", token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := call("POST", "/v1/secret/data/app/db", `{"data":{"password":"in-the-volume"}}`); st != 200 {
		t.Fatalf("write through the container = %d %s", st, b)
	}
	stop := time.Now()
	must("podman", "stop", "-t", "30", id)
	stopTime := time.Since(stop)
	if code := must("podman", "inspect", id, "--format", "{{.State.ExitCode}}"); code != "0" {
		t.Errorf("exit code after podman stop (SIGTERM) = %s, want 0; logs:\n%s", code, must("podman", "logs", id))
	}

	// A new container on the same volume: same installation.
	id = startContainer()
	if st, b := call("GET", "/v1/secret/data/app/db", ""); st != 200 || !strings.Contains(b, "in-the-volume") {
		t.Errorf("read from a new container on the volume = %d %s", st, b)
	}
	t.Logf("image %s bytes; toolchain image %v, image build %v, first start to ready %v, stop %v; runs with: podman %s",
		size, toolchain.Round(time.Second), buildTime.Round(time.Second), startup.Round(time.Millisecond), stopTime.Round(time.Millisecond),
		strings.Join(runArgs, " "))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
