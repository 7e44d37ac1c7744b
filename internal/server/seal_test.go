package server_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// sealedServer starts a server on dir with the seal given and returns it
// with its URL; it is closed when the test ends, or before by Close.
func sealedServer(t *testing.T, cfg server.Config) (*testenv.Env, string) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Out = io.Discard
	cfg.KDFTime, cfg.KDFMemory, cfg.KDFThreads = 1, 64, 1
	te := testenv.Serve(t, cfg, nil)
	return te, te.URL
}

func vaultClient(t *testing.T, addr, token string) *vault.Client {
	t.Helper()
	c, err := vault.NewClient(&vault.Config{Address: addr, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// get sends a request with a token and returns the status and body.
func get(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sealedRoutes are requests on every surface; while sealed each answers
// 503 in its surface's envelope.
var sealedRoutes = []struct{ method, path, want string }{
	{"GET", "/v1/secret/data/app", `"Vault is sealed"`},
	{"LIST", "/v1/secret/metadata/", `"Vault is sealed"`},
	{"GET", "/v1/auth/token/lookup-self", `"Vault is sealed"`},
	{"GET", "/api/00000000-0000-4000-8000-000000000000/v2/secret", `"error_id":"ServiceUnavailable"`},
	{"GET", "/v2/okms/resource", `"class":"Server::ServiceUnavailable"`},
	{"GET", "/1.0/me/identity/user", `"class":"Server::ServiceUnavailable"`},
	{"GET", "/ui/secrets", `coffer is sealed`},
	{"POST", "/sys/master-key/rotate", `coffer is sealed`},
}

func checkSealed(t *testing.T, url, token string, initialized bool) {
	t.Helper()
	for _, r := range sealedRoutes {
		if st, body := get(t, r.method, url+r.path, token); st != 503 || !strings.Contains(body, r.want) {
			t.Errorf("sealed: %s %s = %d %.200s, want 503 with %s", r.method, r.path, st, body, r.want)
		}
	}
	if st, _ := get(t, "GET", url+"/healthz", ""); st != 200 {
		t.Errorf("sealed: /healthz = %d, want 200", st)
	}
	if st, body := get(t, "GET", url+"/readyz", ""); st != 503 || !strings.Contains(body, `"status":"sealed"`) {
		t.Errorf("sealed: /readyz = %d, want 503", st)
	}
	if st, body := get(t, "GET", url+"/v1/sys/health", ""); initialized && (st != 503 || !strings.Contains(body, `"sealed":true`)) {
		t.Errorf("sealed: /v1/sys/health = %d %s, want 503 sealed", st, body)
	}
}

// TestShamirSeal walks the life of a Shamir-sealed installation through
// the Vault Go client: init, unseal key by key (a wrong key resets the
// progress), seal, restart, unseal again.
func TestShamirSeal(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Seal: "shamir"}
	_, url := sealedServer(t, cfg)
	c := vaultClient(t, url, "")

	if ok, err := c.Sys().InitStatus(); err != nil || ok {
		t.Fatalf("InitStatus = %v, %v; want false", ok, err)
	}
	ss, err := c.Sys().SealStatus()
	if err != nil || ss.Initialized || !ss.Sealed || ss.Type != "shamir" {
		t.Fatalf("SealStatus before init = %+v, %v", ss, err)
	}
	if st, body := get(t, "GET", url+"/v1/sys/health", ""); st != 501 || !strings.Contains(body, `"initialized":false`) {
		t.Errorf("/v1/sys/health before init = %d %s, want 501", st, body)
	}
	checkSealed(t, url, "", false)
	if _, err := c.Sys().Unseal("00"); err == nil || !strings.Contains(err.Error(), "not yet initialized") {
		t.Errorf("unseal before init: %v", err)
	}

	// Parameter errors are 400s that change nothing.
	for _, req := range []vault.InitRequest{{SecretShares: 3, SecretThreshold: 4}, {SecretShares: 3, SecretThreshold: 1}, {SecretShares: 256, SecretThreshold: 2}} {
		if _, err := c.Sys().Init(&req); err == nil || !is400(err) {
			t.Errorf("Init(%+v) = %v, want a 400", req, err)
		}
	}
	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	if len(init.Keys) != 5 || len(init.KeysB64) != 5 || !strings.HasPrefix(init.RootToken, "cof_") {
		t.Fatalf("Init = %d keys, %d base64, root token %q", len(init.Keys), len(init.KeysB64), init.RootToken[:4])
	}
	if _, err := c.Sys().Init(&vault.InitRequest{SecretShares: 5, SecretThreshold: 3}); err == nil || !strings.Contains(err.Error(), "already initialized") {
		t.Errorf("second Init: %v", err)
	}
	ss, _ = c.Sys().SealStatus()
	if !ss.Initialized || !ss.Sealed || ss.T != 3 || ss.N != 5 || ss.Progress != 0 {
		t.Fatalf("SealStatus after init = %+v", ss)
	}
	checkSealed(t, url, init.RootToken, true)

	// Two keys, then a wrong one: the attempt fails, progress resets.
	for i, k := range init.Keys[:2] {
		if ss, err = c.Sys().Unseal(k); err != nil || ss.Progress != i+1 || !ss.Sealed {
			t.Fatalf("Unseal key %d = %+v, %v", i+1, ss, err)
		}
	}
	if ss, err = c.Sys().Unseal(init.Keys[0]); err != nil || ss.Progress != 2 {
		t.Fatalf("the same key twice counts once: %+v, %v", ss, err)
	}
	wrong := []byte(init.Keys[2]) // another hex digit: still a key, not this one
	if wrong[0] == '0' {
		wrong[0] = '1'
	} else {
		wrong[0] = '0'
	}
	if _, err := c.Sys().Unseal(string(wrong)); err == nil || !is400(err) {
		t.Fatalf("a corrupted third key: %v, want a 400", err)
	}
	if ss, _ = c.Sys().SealStatus(); !ss.Sealed || ss.Progress != 0 {
		t.Fatalf("after a failed unseal = %+v, want sealed with progress 0", ss)
	}
	if _, err := c.Sys().Unseal("not a key!"); err == nil || !is400(err) {
		t.Fatalf("a malformed key: %v", err)
	}
	// Reset, then any three keys, base64 or hex.
	c.Sys().Unseal(init.Keys[4])
	if ss, _ = c.Sys().ResetUnsealProcess(); ss.Progress != 0 {
		t.Fatalf("reset: %+v", ss)
	}
	for _, k := range []string{init.KeysB64[4], init.Keys[1], init.KeysB64[3]} {
		ss, err = c.Sys().Unseal(k)
	}
	if err != nil || ss.Sealed {
		t.Fatalf("unseal with three keys = %+v, %v", ss, err)
	}

	rc := vaultClient(t, url, init.RootToken)
	if _, err := rc.KVv2("secret").Put(t.Context(), "app", map[string]any{"password": "s3cret"}); err != nil {
		t.Fatalf("write after unseal: %v", err)
	}
	// Sealing needs the account root (or an ADMIN).
	if err := c.Sys().Seal(); err == nil {
		t.Fatal("sealed without a token")
	}
	if err := rc.Sys().Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	checkSealed(t, url, init.RootToken, true)
	if err := rc.Sys().Seal(); err == nil || !strings.Contains(err.Error(), "Vault is sealed") {
		t.Errorf("seal while sealed: %v", err)
	}
	for _, k := range init.Keys[2:] {
		ss, err = c.Sys().Unseal(k)
	}
	if err != nil || ss.Sealed {
		t.Fatalf("unseal after seal = %+v, %v", ss, err)
	}
	s, err := rc.KVv2("secret").Get(t.Context(), "app")
	if err != nil || s.Data["password"] != "s3cret" {
		t.Fatalf("read after seal and unseal: %v %v", s, err)
	}
}

// TestShamirRestart: a Shamir-sealed server starts sealed, with no key on
// disk; a --seal that differs from the installation's is refused.
func TestShamirRestart(t *testing.T) {
	dir := t.TempDir()
	s, url := sealedServer(t, server.Config{DataDir: dir, Seal: "shamir"})
	c := vaultClient(t, url, "")
	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if m, _ := filepath.Glob(filepath.Join(dir, "*.key*")); len(m) > 0 {
		t.Fatalf("key files on disk: %v", m)
	}
	for _, seal := range []string{"file", "passphrase"} {
		_, err := server.New(t.Context(), server.Config{DataDir: dir, Seal: seal, Logger: slog.New(slog.DiscardHandler), Out: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "seal is shamir") {
			t.Errorf("--seal %s on a shamir installation: %v", seal, err)
		}
	}
	_, url = sealedServer(t, server.Config{DataDir: dir}) // no --seal: the store's
	c = vaultClient(t, url, "")
	if ss, _ := c.Sys().SealStatus(); !ss.Sealed || ss.Type != "shamir" || ss.T != 1 {
		t.Fatalf("restarted: %+v", ss)
	}
	if ss, err := c.Sys().Unseal(init.KeysB64[0]); err != nil || ss.Sealed {
		t.Fatalf("unseal: %+v %v", ss, err)
	}
}

// TestPassphraseSeal, T16's passphrase part: the right passphrase unseals,
// wrong ones never do.
func TestPassphraseSeal(t *testing.T) {
	_, url := sealedServer(t, server.Config{DataDir: t.TempDir(), Seal: "passphrase"})
	c := vaultClient(t, url, "")
	// The Vault client cannot send the passphrase; a raw request can.
	r := c.NewRequest("PUT", "/v1/sys/init")
	r.BodyBytes = []byte(`{"passphrase":"too short"}`)
	if _, err := c.RawRequestWithContext(t.Context(), r); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short passphrase: %v", err)
	}
	r.BodyBytes = []byte(`{"passphrase":"correct horse battery staple"}`)
	resp, err := c.RawRequestWithContext(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	var init vault.InitResponse
	resp.DecodeJSON(&init)
	resp.Body.Close()
	if len(init.Keys) != 0 || init.RootToken == "" {
		t.Fatalf("passphrase init answered %d keys", len(init.Keys))
	}
	wrongs := []string{"correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple ", "x"}
	for _, w := range wrongs {
		if ss, err := c.Sys().Unseal(w); err == nil {
			t.Fatalf("wrong passphrase %q unsealed: %+v %v", w, ss, err)
		}
	}
	ss, err := c.Sys().Unseal("correct horse battery staple")
	if err != nil || ss.Sealed {
		t.Fatalf("right passphrase: %+v %v", ss, err)
	}
	t.Logf("T16 passphrase: %d wrong passphrases refused, the right one unsealed", len(wrongs))
}

// TestUnsealRateLimit: unseal attempts are limited per client address.
func TestUnsealRateLimit(t *testing.T) {
	_, url := sealedServer(t, server.Config{Dev: true, Seal: "shamir"})
	c := vaultClient(t, url, "")
	if _, err := c.Sys().Init(&vault.InitRequest{SecretShares: 3, SecretThreshold: 2}); err != nil {
		t.Fatal(err)
	}
	limited := 0
	for range 40 {
		_, err := c.Sys().Unseal("00112233")
		var re *vault.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("40 unseal attempts in a row were never limited")
	}
}

func is400(err error) bool {
	var re *vault.ResponseError
	return errors.As(err, &re) && re.StatusCode == 400
}

// TestPanelUnseal: while sealed the panel shows its unseal page on every
// path, and unseals with the keys typed into it, one at a time.
func TestPanelUnseal(t *testing.T) {
	_, url := sealedServer(t, server.Config{Dev: true, Seal: "shamir"})
	c := vaultClient(t, url, "")
	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(path string) (int, string) {
		resp, err := hc.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	submit := func(key string) (int, string) {
		_, body := page("/ui/unseal")
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token on the unseal page:\n%s", body)
		}
		form := neturl.Values{"csrf": {m[1]}, "key": {key}}
		req, _ := http.NewRequest("POST", url+"/ui/unseal", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", url)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for _, p := range []string{"/ui/secrets", "/ui/d/x/settings", "/ui/signin", "/ui/nowhere"} {
		if st, body := page(p); st != 503 || !strings.Contains(body, "coffer is sealed") || !strings.Contains(body, "Keys entered: 0 of 2") {
			t.Errorf("GET %s while sealed = %d, want the unseal page", p, st)
		}
	}
	if st, loc := submit(init.Keys[0]); st != 303 || loc != "/ui/unseal" {
		t.Fatalf("first key: %d %s", st, loc)
	}
	if _, body := page("/ui/unseal"); !strings.Contains(body, "Keys entered: 1 of 2") {
		t.Fatalf("progress not shown:\n%s", body)
	}
	if st, _ := submit("not a key"); st != 400 {
		t.Fatalf("a malformed key = %d, want 400", st)
	}
	if st, loc := submit(init.Keys[2]); st != 303 || loc != "/ui/secrets" {
		t.Fatalf("second key: %d %s", st, loc)
	}
	if st, _ := page("/ui/secrets"); st == 503 {
		t.Fatal("still the unseal page once unsealed")
	}
}

// TestSealUnderLoad: sealing and unsealing while readers and writers run:
// every answer is a success or "sealed", the seal waits for the requests
// in flight, and no data race (go test -race).
func TestSealUnderLoad(t *testing.T) {
	_, url := sealedServer(t, server.Config{Dev: true, Seal: "shamir"})
	c := vaultClient(t, url, "")
	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sys().Unseal(init.Keys[0]); err != nil {
		t.Fatal(err)
	}
	rc := vaultClient(t, url, init.RootToken)
	if _, err := rc.KVv2("secret").Put(t.Context(), "load", map[string]any{"n": "0"}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan string, 64)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				method, body := "GET", ""
				if w%2 == 0 {
					method, body = "POST", `{"data":{"n":"x"}}`
				}
				req, _ := http.NewRequest(method, url+"/v1/secret/data/load", strings.NewReader(body))
				req.Header.Set("X-Vault-Token", init.RootToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 503 {
					errs <- fmt.Sprintf("%s = %d", method, resp.StatusCode)
					return
				}
			}
		})
	}
	for range 15 { // unseals are limited to bursts of 20 per address
		if err := rc.Sys().Seal(); err != nil {
			t.Fatalf("seal: %v", err)
		}
		if ss, err := c.Sys().Unseal(init.KeysB64[0]); err != nil || ss.Sealed {
			t.Fatalf("unseal: %+v %v", ss, err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if s, err := rc.KVv2("secret").Get(t.Context(), "load"); err != nil || s.Data["n"] == nil {
		t.Fatalf("read after the load: %v", err)
	}
}
