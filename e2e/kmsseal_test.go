package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	vault "github.com/hashicorp/vault/api"
	okms "github.com/ovh/okms-sdk-go"
	"google.golang.org/protobuf/proto"

	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// The okms and transit seals through real binaries (issue 19): coffer A
// unseals through coffer B acting as its KMS, over the OKMS API with a
// token and with an access certificate (mutual TLS), and over B's Transit
// API, set up on B by the README's own commands. A restarted while
// B is down serves sealed (503, `sealed: true`) and unseals by itself once
// B is back. Canaries: neither A's root key (read back from B with the
// wrapped blob), nor the wrapped blob, nor the credential reaches A's or
// B's log, A's audit file or /metrics.

const kmsRoot = "cof_root_e2e_kms_b"

// readmeBlock returns the shell block of README.md that follows the line
// holding marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	_, after, _ = strings.Cut(after, "```sh\n")
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("README.md: the block does not end")
	}
	return block
}

// kmsB is coffer B: TLS from its installation CA, its data kept across
// restarts on the same address.
type kmsB struct {
	p       *proc
	dir, ca string
	env     []string
}

func startKMS(t *testing.T) *kmsB {
	t.Helper()
	b := &kmsB{dir: t.TempDir(), env: []string{"COFFER_INIT_ROOT_TOKEN=" + kmsRoot}}
	b.p = start(t, b.env, "--data-dir", b.dir, "--tls-auto", "--audit-file", filepath.Join(b.dir, "audit.log"))
	b.ca = filepath.Join(b.dir, "ca.pem")
	return b
}

func (b *kmsB) url() string { return "https://" + b.p.addr }

// restart starts B again on its address.
func (b *kmsB) restart(t *testing.T) {
	t.Helper()
	addr := b.p.addr
	b.p = start(t, b.env, "--data-dir", b.dir, "--tls-auto", "--audit-file", filepath.Join(b.dir, "audit.log"), "--listen", addr)
}

// sealStatus asks a server's seal status with the Vault client.
func sealStatus(t *testing.T, addr string) (*vault.SealStatusResponse, error) {
	t.Helper()
	c, err := vault.NewClient(&vault.Config{Address: "http://" + addr, MaxRetries: 0, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c.Sys().SealStatusWithContext(t.Context())
}

// waitUnsealed polls A's seal status until it is unsealed.
func waitUnsealed(t *testing.T, addr string, within time.Duration) *vault.SealStatusResponse {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := sealStatus(t, addr)
		if err == nil && !st.Sealed {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("still sealed after %s: %+v %v", within, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestSealKMS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	k := setupKMS(t)
	b, okmsID, keyID, sealToken, certFile, keyFile := k.b, k.okmsID, k.keyID, k.token, k.certFile, k.keyFile

	type node struct {
		name string
		seal string
		dir  string
		env  []string
		args []string
		p    *proc
	}
	okmsArgs := append([]string{"--seal", "okms"}, k.args()...)
	nodes := []*node{
		{name: "okms token", seal: "okms", env: []string{"COFFER_SEAL_OKMS_TOKEN=" + sealToken}, args: okmsArgs},
		{name: "okms mTLS", seal: "okms", args: append(clone(okmsArgs), "--seal-okms-cert", certFile, "--seal-okms-cert-key", keyFile)},
		// The README's transit variant: B's Transit API, the same key by
		// its name, the same token.
		{name: "transit", seal: "transit", env: []string{"COFFER_SEAL_TRANSIT_TOKEN=" + sealToken},
			args: []string{"--seal", "transit", "--seal-transit-address", b.url(), "--seal-transit-ca-cert", b.ca, "--seal-transit-key-name", "coffer-a-seal"}},
	}
	rootA := "cof_root_e2e_kms_a"
	run := func(n *node) {
		n.p = start(t, append(clone(n.env), "COFFER_INIT_ROOT_TOKEN="+rootA),
			append([]string{"--data-dir", n.dir, "--audit-file", filepath.Join(n.dir, "audit.log")}, n.args...)...)
	}
	for _, n := range nodes {
		n.dir = t.TempDir()
		run(n)
		st := waitUnsealed(t, n.p.addr, 10*time.Second)
		if st.Type != n.seal || !st.Initialized {
			t.Fatalf("%s: seal status %+v", n.name, st)
		}
		if s, body := n.p.do(t, rootA, "POST", "/v1/secret/data/kms", `{"data":{"k":"written before B went down"}}`); s != 200 {
			t.Fatalf("%s: write: %d %s", n.name, s, body)
		}
		if _, err := os.Stat(filepath.Join(n.dir, "root.key")); err == nil {
			t.Fatalf("%s: a root key file was written", n.name)
		}
	}

	// B goes down; each A restarts sealed, says so, and unseals by itself
	// once B is back on its address.
	b.p.kill9(t)
	for _, n := range nodes {
		n.p.kill9(t)
		run(n)
		st, err := sealStatus(t, n.p.addr)
		if err != nil || !st.Sealed || st.Type != n.seal || !st.Initialized {
			t.Fatalf("%s: restarted with B down: %+v %v", n.name, st, err)
		}
		s, body := n.p.do(t, rootA, "GET", "/v1/secret/data/kms", "")
		if s != 503 || !bytes.Contains(body, []byte("sealed")) {
			t.Fatalf("%s: a read while sealed: %d %s", n.name, s, body)
		}
		if s, _ := n.p.do(t, "", "GET", "/readyz", ""); s != 503 {
			t.Fatalf("%s: /readyz while sealed: %d", n.name, s)
		}
	}
	downFor := time.Now()
	b.restart(t)
	for _, n := range nodes {
		waitUnsealed(t, n.p.addr, 45*time.Second)
		s, body := n.p.do(t, rootA, "GET", "/v1/secret/data/kms", "")
		if s != 200 || !bytes.Contains(body, []byte("written before B went down")) {
			t.Fatalf("%s: read after unsealing: %d %s", n.name, s, body)
		}
	}
	took := time.Since(downFor)

	// Canaries. A's root key: the wrapped blob of A's record, unwrapped by
	// B with its root token.
	metrics := map[string][]byte{}
	for _, n := range nodes {
		_, m := n.p.do(t, "", "GET", "/metrics", "")
		metrics[n.name] = m
		n.p.kill9(t)
	}
	var canaries []string
	canaries = append(canaries, sealToken)
	for _, n := range nodes {
		blob := wrappedRoot(t, filepath.Join(n.dir, "coffer.db"), n.seal)
		root := unwrapWithB(t, b, okmsID, keyID, blob, n.seal)
		canaries = append(canaries, string(blob), base64.StdEncoding.EncodeToString(blob),
			base64.StdEncoding.EncodeToString(root), hex.EncodeToString(root), base64.RawURLEncoding.EncodeToString(root))
	}
	keyPEM, _ := os.ReadFile(keyFile)
	canaries = append(canaries, strings.TrimSpace(string(keyPEM)))
	places := map[string][]byte{"B's log": []byte(b.p.logs.String())}
	if a, err := os.ReadFile(filepath.Join(b.dir, "audit.log")); err == nil {
		places["B's audit file"] = a
	}
	for _, n := range nodes {
		places[n.name+" A's log"] = []byte(n.p.logs.String())
		places[n.name+" A's /metrics"] = metrics[n.name]
		a, err := os.ReadFile(filepath.Join(n.dir, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		places[n.name+" A's audit file"] = a
	}
	for where, content := range places {
		for _, c := range canaries {
			if c != "" && bytes.Contains(content, []byte(c)) {
				t.Errorf("a root key, wrapped root key or credential (%.12s…) is in %s", c, where)
			}
		}
	}
	if !strings.Contains(nodes[0].p.logs.String(), "the KMS did not unwrap the root key") {
		t.Errorf("A's log does not say why it is sealed:\n%s", nodes[0].p.logs.String())
	}
	migrateThroughCLI(t, okmsArgs[2:], []string{"COFFER_SEAL_OKMS_TOKEN=" + sealToken})
	t.Logf("okms and transit seals through coffer B (README step 1 run as written): okms over a token and over mTLS, transit over a token, each unsealed at start, restarted sealed (503) with B down, unsealed by itself within %s of B's restart; %d canaries absent from %d logs, audit files and /metrics",
		took.Round(100*time.Millisecond), len(canaries), len(places))
}

// kmsSetup is coffer B with what the README's step 1 made on it.
type kmsSetup struct {
	b                    *kmsB
	okmsID, keyID, token string
	certFile, keyFile    string
}

// setupKMS starts B and runs the README's step 1 against it, as written.
func setupKMS(t *testing.T) *kmsSetup {
	t.Helper()
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's commands need %s", tool)
		}
	}
	b := startKMS(t)
	work := t.TempDir()
	block := readmeBlock(t, "<!-- e2e TestSealKMS runs the block below")
	block = regexp.MustCompile(`(?m)^export COFFER_ADDR=.*\n`).ReplaceAllString(block, "")
	script := block + "\nprintf '%s\\n' \"$OKMS_ID\" \"$KEY_ID\" \"$SEAL_TOKEN\" > vars\n"
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(coffer(t))+":"+os.Getenv("PATH"),
		"COFFER_ADDR="+b.url(), "COFFER_CA="+b.ca, "COFFER_TOKEN="+kmsRoot, "HOME="+work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's step 1 failed: %v\n%s", err, out)
	}
	vars, _ := os.ReadFile(filepath.Join(work, "vars"))
	v := strings.Split(strings.TrimSpace(string(vars)), "\n")
	if len(v) != 3 || uuid.Validate(v[0]) != nil || uuid.Validate(v[1]) != nil || !strings.HasPrefix(v[2], "cof_") {
		t.Fatalf("the README's step 1 gave %q", vars)
	}
	return &kmsSetup{b: b, okmsID: v[0], keyID: v[1], token: v[2],
		certFile: filepath.Join(work, "coffer-a.crt"), keyFile: filepath.Join(work, "coffer-a.key")}
}

// args are A's settings for the okms seal (without --seal).
func (k *kmsSetup) args() []string {
	return []string{"--seal-okms-endpoint", k.b.url(), "--seal-okms-ca", k.b.ca, "--seal-okms-id", k.okmsID, "--seal-okms-key-id", k.keyID}
}

func clone(s []string) []string { return append([]string(nil), s...) }

// wrappedRoot reads the wrapped root key from a stopped server's store.
func wrappedRoot(t *testing.T, path, typ string) []byte {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b []byte
	if err := st.View(context.Background(), func(tx storage.Tx) error {
		var err error
		b, err = tx.Get(seal.RecordKey)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rec, err := seal.ParseRecord(b)
	if err != nil || string(rec.Type) != typ || len(rec.Root) == 0 {
		t.Fatalf("seal record: %+v %v", rec, err)
	}
	if bytes.Contains(b, []byte("cof_")) || bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Fatal("the seal record holds a credential")
	}
	return rec.Root
}

// unwrapWithB decrypts a wrapped root key with B's root token, as only an
// administrator of B can: through the OKMS API (okms), or through its
// Transit API the ciphertext of the wrapper's BlobInfo (transit).
func unwrapWithB(t *testing.T, b *kmsB, okmsID, keyID string, blob []byte, typ string) []byte {
	t.Helper()
	pem, err := os.ReadFile(b.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	var root []byte
	if typ == "transit" {
		var bi wrapping.BlobInfo
		if err := proto.Unmarshal(blob, &bi); err != nil {
			t.Fatal(err)
		}
		vc, err := vault.NewClient(&vault.Config{Address: b.url(), HttpClient: hc, MaxRetries: 0})
		if err != nil {
			t.Fatal(err)
		}
		vc.SetToken(kmsRoot)
		sec, err := vc.Logical().Write("transit/decrypt/coffer-a-seal", map[string]any{"ciphertext": string(bi.Ciphertext)})
		if err != nil {
			t.Fatalf("B's Transit decrypt: %v", err)
		}
		pt, _ := sec.Data["plaintext"].(string)
		root, _ = base64.StdEncoding.DecodeString(pt)
	} else {
		c, err := okms.NewRestAPIClientWithHttp(b.url(), hc)
		if err != nil {
			t.Fatal(err)
		}
		root, err = c.WithCustomHeader("Authorization", "Bearer "+kmsRoot).
			Decrypt(t.Context(), uuid.MustParse(okmsID), uuid.MustParse(keyID), "coffer seal: root key", string(blob))
		if err != nil {
			t.Fatalf("B unwraps A's root key: %v", err)
		}
	}
	if len(root) != 32 {
		t.Fatalf("B unwrapped %d bytes of A's root key, want 32", len(root))
	}
	return root
}

// migrateThroughCLI moves a shamir installation to the okms seal with
// `coffer operator migrate-seal --to okms` (the server started with the
// okms settings beside --seal shamir), restarts it with --seal okms, which
// unseals by itself, and moves it back to a passphrase; what was written
// stays readable throughout.
func migrateThroughCLI(t *testing.T, kmsArgs, env []string) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	serve := func(seal ...string) *proc {
		return start(t, env, append(append([]string{"--data-dir", dir}, seal...), kmsArgs...)...)
	}
	p := serve("--seal", "shamir")
	init, err := sealClient(t, p, "").Init(ctx, client.InitRequest{Shares: 1, Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unsealAll(ctx, sealClient(t, p, ""), init.Keys); err != nil {
		t.Fatal(err)
	}
	if err := putSecret(ctx, sealClient(t, p, init.RootToken), "migrate/okms", `{"k":"under shamir"}`); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(coffer(t), append(append([]string{"operator"}, args...), "--addr", "http://"+p.addr, "--token", init.RootToken)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("coffer operator %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := cli(init.Keys[0]+"\n", "migrate-seal", "--to", "okms"); !strings.Contains(out, "The seal is now okms") {
		t.Fatalf("migrate-seal --to okms said:\n%s", out)
	}
	p.kill9(t)
	p = serve("--seal", "okms")
	if st := waitUnsealed(t, p.addr, 10*time.Second); st.Type != "okms" {
		t.Fatalf("after the migration: %+v", st)
	}
	if v, err := readSecret(ctx, sealClient(t, p, init.RootToken), "migrate/okms"); err != nil || !strings.Contains(v, "under shamir") {
		t.Fatalf("read under okms: %q %v", v, err)
	}
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600)
	if out := cli("", "migrate-seal", "--to", "passphrase", "--passphrase-file", pass); !strings.Contains(out, "The seal is now passphrase") {
		t.Fatalf("migrate-seal --to passphrase said:\n%s", out)
	}
	p.kill9(t)
	p = serve()
	c := sealClient(t, p, "")
	if st, err := c.Unseal(ctx, "correct horse battery staple", false); err != nil || st.Sealed || st.Type != "passphrase" {
		t.Fatalf("unseal with the passphrase after leaving okms: %+v %v", st, err)
	}
	if v, err := readSecret(ctx, sealClient(t, p, init.RootToken), "migrate/okms"); err != nil || !strings.Contains(v, "under shamir") {
		t.Fatalf("read under passphrase: %q %v", v, err)
	}
	t.Logf("coffer operator migrate-seal: shamir → okms (restarted with --seal okms: unsealed by itself) → passphrase; the secret written under shamir read under each")
}

// TestSealCrashKMS: kill -9 at a random moment while the server migrates
// shamir → okms → transit → shamir (coffer B as the KMS, its OKMS and
// Transit APIs) and rotates its root key under each, in a loop; after each
// kill the restarted server (started without --seal, with the KMS
// settings) must unseal with the old protection or the new one, by itself
// under okms and transit, and serve what was written.
//
//	go test ./e2e -run TestSealCrashKMS -v                              # 8 cycles
//	COFFER_SEAL_CRASH_CYCLES=30 go test ./e2e -run TestSealCrashKMS -v  # more
func TestSealCrashKMS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	cycles := envCount(t, "COFFER_SEAL_CRASH_CYCLES", 8)
	k := setupKMS(t)
	env := []string{"COFFER_SEAL_OKMS_TOKEN=" + k.token, "COFFER_SEAL_TRANSIT_TOKEN=" + k.token}
	dir := t.TempDir()
	kmsArgs := append(k.args(), "--seal-transit-address", k.b.url(), "--seal-transit-ca-cert", k.b.ca, "--seal-transit-key-name", "coffer-a-seal")
	serve := func(seal ...string) *proc {
		return start(t, env, append(append([]string{"--data-dir", dir}, seal...), kmsArgs...)...)
	}
	p := serve("--seal", "shamir")
	outcomes, ops := sealCrash{
		path: "crash/kms", maxDelay: 2 * time.Second, op: kmsSealOp,
		restart: func() *proc { return serve() }, selfUnseal: true,
	}.run(t, p, cycles)
	t.Logf("T16/issue 19 KMS seal crash: %d kill -9 during %d operations (migrations shamir → okms → transit → shamir, root key rotations under each); reopened with %v; 0 stores that open with neither",
		cycles, ops, outcomes)
}

// kmsSealOp runs the i-th operation: a root key rotation every second
// (so under each seal in turn), otherwise a migration to the next seal:
// okms from shamir (with the current shares), transit from okms, shamir
// 2 of 2 from transit (the KMS seals need no keys).
func kmsSealOp(ctx context.Context, c *client.Client, s *sealCrashState, i int) error {
	if i%2 == 1 {
		_, err := c.RotateMasterKey(ctx)
		return err
	}
	var req client.SealChangeRequest
	switch s.typ {
	case "shamir":
		req = client.SealChangeRequest{To: "okms", Keys: s.keys}
	case "okms":
		req = client.SealChangeRequest{To: "transit"}
	default:
		req = client.SealChangeRequest{To: "shamir", Shares: 2, Threshold: 2}
	}
	return changeSeal(ctx, c, s, req)
}

// TestSealKMSSeveralNodes: nodes on one PostgreSQL schema with --seal okms
// and no key file: two started at once on the empty store (one creates
// the seal, the other unseals with it), a third started later; each
// unseals by itself through B, and a write on one is read on another.
func TestSealKMSSeveralNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	pg := testenv.PGSchema(t)
	k := setupKMS(t)
	env := []string{"COFFER_SEAL_OKMS_TOKEN=" + k.token, "COFFER_INIT_ROOT_TOKEN=cof_root_e2e_kms_nodes"}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	node := func(i int) *proc {
		return start(t, env, append([]string{"--storage", "postgres", "--pg-url", pg, "--data-dir", dirs[i], "--seal", "okms"}, k.args()...)...)
	}
	nodes := make([]*proc, 2)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i] = node(i) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow() // a node did not start (start failed the test from its goroutine)
	}
	nodes = append(nodes, node(2))
	for i, p := range nodes {
		if st := waitUnsealed(t, p.addr, 20*time.Second); st.Type != "okms" {
			t.Fatalf("node %d: %+v", i, st)
		}
	}
	if s, b := nodes[0].do(t, "cof_root_e2e_kms_nodes", "POST", "/v1/secret/data/nodes", `{"data":{"k":"on node 0"}}`); s != 200 {
		t.Fatalf("write on node 0: %d %s", s, b)
	}
	for i, p := range nodes[1:] {
		if s, b := p.do(t, "cof_root_e2e_kms_nodes", "GET", "/v1/secret/data/nodes", ""); s != 200 || !bytes.Contains(b, []byte("on node 0")) {
			t.Fatalf("read on node %d: %d %s", i+1, s, b)
		}
	}
	for _, d := range dirs {
		if m, _ := filepath.Glob(filepath.Join(d, "root.key*")); len(m) > 0 {
			t.Fatalf("root key files: %v", m)
		}
	}
	t.Logf("3 nodes on one PostgreSQL schema with --seal okms and no key file (2 started at once on the empty store): each unsealed by itself through B; a write on one read on the others")
}
