package depstest

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/seed-3e8d63de/coffer"

// rules lists, for each package of the module, what it may depend on,
// directly or not: packages of the module (by path relative to the module)
// and third-party modules (by module path prefix). The standard library is
// always allowed. Packages marked free (the composition root, the command,
// end-to-end tests) may depend on anything, subject to the negative rules.
var rules = map[string][]string{
	"api":                          {},
	"client":                       {"api"},
	"internal/secret":              {},
	"internal/servicekey":          {},
	"internal/policy":              {"internal/secret"},
	"internal/auth":                {"golang.org/x/crypto", "golang.org/x/sys"},
	"internal/audit":               {"internal/logio"},
	"internal/buildinfo":           {},
	"internal/loadgen":             {},
	"internal/logio":               {},
	"internal/storage":             {},
	"internal/crypto":              {},
	"internal/crypto/backupfile":   {"golang.org/x/crypto", "golang.org/x/sys"},
	"internal/crypto/shamir":       {},
	"internal/crypto/keyops":       {"internal/servicekey"},
	"internal/seal":                {"internal/crypto", "internal/crypto/shamir", "golang.org/x/crypto", "golang.org/x/sys", "filippo.io/"},
	"internal/storage/memstore":    {"internal/storage"},
	"internal/storage/storagetest": {"internal/storage"},
	"internal/storage/boltstore":   {"internal/storage", "go.etcd.io/bbolt", "golang.org/x/sys"},
	"internal/storage/pgstore":     {"internal/storage", "github.com/jackc/", "golang.org/x/"},
	"internal/storage/sealed":      {"internal/storage", "internal/crypto"},
	"internal/service":             {"internal/secret", "internal/servicekey", "internal/policy", "internal/auth", "internal/audit", "internal/logio", "internal/storage", "github.com/google/uuid", "golang.org/x/crypto", "golang.org/x/sys", "golang.org/x/time"},
	"internal/wiretest":            {},
	"internal/httpapi":             {"internal/secret", "internal/servicekey", "internal/policy", "internal/auth", "internal/audit", "internal/logio", "internal/storage", "internal/service", "github.com/google/uuid", "golang.org/x/crypto", "golang.org/x/sys", "golang.org/x/time"},

	// The seals that reach a KMS, each with its client and what it brings.
	"internal/seal/okmsseal": {"internal/seal", "internal/crypto", "internal/crypto/shamir", "golang.org/x/crypto", "golang.org/x/sys", "filippo.io/",
		"github.com/ovh/okms-sdk-go", "github.com/google/uuid", "github.com/oapi-codegen/runtime", "github.com/apapsch/go-jsonmerge",
		"github.com/hashicorp/go-cleanhttp", "github.com/hashicorp/go-retryablehttp"},
	"internal/seal/transitseal": {"internal/seal", "internal/crypto", "internal/crypto/shamir", "golang.org/x/", "filippo.io/",
		"github.com/hashicorp/", "github.com/cenkalti/backoff", "github.com/fatih/color", "github.com/go-jose/go-jose", "github.com/mattn/",
		"github.com/mitchellh/mapstructure", "github.com/ryanuber/go-glob", "google.golang.org/protobuf"},
}

// surfaces may depend on what httpapi may, plus httpapi itself and api.
var surfaces = []string{"internal/httpapi/rest", "internal/httpapi/central", "internal/httpapi/kv2", "internal/httpapi/transit", "internal/httpapi/iamapi", "internal/httpapi/sys", "internal/httpapi/docs", "internal/webui"}

// free packages may depend on anything but what the negative rules forbid.
// internal/testenv starts servers, so it may depend on what the server does.
var free = []string{"internal/server", "internal/depstest", "internal/config", "internal/testenv", "cmd/coffer", "e2e"}

// Negative rules: they win over everything (architecture.md section 3).
var (
	noHTTP              = []string{"internal/secret", "internal/servicekey", "internal/policy", "internal/auth", "internal/audit", "internal/storage", "internal/service"}
	onlyServer          = []string{"internal/storage/memstore", "internal/storage/boltstore", "internal/storage/pgstore", "internal/storage/sealed", "internal/pki", "internal/seal", "internal/seal/okmsseal", "internal/seal/transitseal"}
	onlySealedAndServer = []string{"internal/crypto", "internal/crypto/backupfile", "internal/crypto/shamir", "internal/crypto/keyops"}
	// cryptoUsers may import onlySealedAndServer: the encryption layer,
	// the seals (which wrap the root key) and the composition root.
	cryptoUsers = []string{"internal/server", "internal/storage/sealed", "internal/seal", "internal/seal/okmsseal", "internal/seal/transitseal"}
	// sealTypes: the seal types in packages of their own implement
	// internal/seal's interface.
	sealTypes = map[string][]string{"internal/seal": {"internal/seal/okmsseal", "internal/seal/transitseal"}}
	// testOnly packages are test harnesses: only _test.go files import
	// them and each other (go list without -test sees no test file, so
	// any other package depending on them here is non-test code).
	testOnly = []string{"internal/testenv", "internal/wiretest"}
)

type goPackage struct {
	ImportPath string
	Imports    []string // direct
	Deps       []string // transitive
}

// consultSources stats every Go file of the module so that `go test`'s
// result cache is invalidated when any of them changes: the rules are
// checked by another process (go list), whose reads the cache cannot see.
func consultSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk the module: %v", err)
	}
}

// packages lists the module's packages with their transitive dependencies.
func packages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rel returns path relative to the module, and whether it is in it.
func rel(path string) (string, bool) { return strings.CutPrefix(path, module+"/") }

// external reports whether path is a third-party package.
func external(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".") && !strings.HasPrefix(path, module)
}

func isFree(name string) bool {
	return slices.ContainsFunc(free, func(f string) bool { return name == f || strings.HasPrefix(name, f+"/") })
}

func allows(allow []string, dep string) bool {
	if r, ok := rel(dep); ok {
		return slices.Contains(allow, r)
	}
	return slices.ContainsFunc(allow, func(a string) bool { return !strings.HasPrefix(a, "internal") && strings.HasPrefix(dep, a) })
}

func TestImportRules(t *testing.T) {
	for _, s := range surfaces {
		rules[s] = append(slices.Clone(rules["internal/httpapi"]), "internal/httpapi", "api")
	}
	// The Vault wire helpers, shared by the two Vault-compatible surfaces
	// (kv2 and transit), may import what httpapi may, and httpapi.
	rules["internal/httpapi/vaultwire"] = append(slices.Clone(rules["internal/httpapi"]), "internal/httpapi")
	for _, s := range []string{"internal/httpapi/kv2", "internal/httpapi/transit"} {
		rules[s] = append(rules[s], "internal/httpapi/vaultwire")
	}
	consultSources(t)
	pkgs := packages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	for _, p := range pkgs {
		name, _ := rel(p.ImportPath)
		allow, listed := rules[name]
		for _, dep := range p.Deps {
			_, inModule := rel(dep)
			switch {
			case isFree(name):
			case !listed && (inModule || external(dep)):
				t.Errorf("%s depends on %s but has no import rule: add one here and in architecture.md section 3", name, dep)
			case listed && (inModule || external(dep)) && !allows(allow, dep):
				t.Errorf("%s may not depend on %s (architecture.md section 3)", name, dep)
			}
		}
		// The negative rules are about direct imports: the command reaches
		// the backends through the server, as it should.
		for _, dep := range p.Imports {
			depName, inModule := rel(dep)
			if !inModule {
				continue
			}
			if slices.Contains(onlyServer, depName) && name != "internal/server" && !slices.Contains(sealTypes[depName], name) {
				t.Errorf("%s depends on %s: only internal/server may", name, depName)
			}
			if slices.Contains(onlySealedAndServer, depName) && !slices.Contains(cryptoUsers, name) {
				t.Errorf("%s depends on %s: only %v may", name, depName, cryptoUsers)
			}
			if strings.HasPrefix(name, "internal/") && (strings.HasPrefix(depName, "cmd/") || strings.HasPrefix(depName, "e2e")) {
				t.Errorf("%s depends on %s: nothing under internal/ depends on cmd/ or e2e/", name, depName)
			}
		}
		for _, dep := range p.Deps {
			if depName, _ := rel(dep); slices.Contains(testOnly, depName) && !slices.Contains(testOnly, name) {
				t.Errorf("%s depends on %s: a test harness, for _test.go files only", name, depName)
			}
		}
		if slices.Contains(noHTTP, name) && slices.Contains(p.Deps, "net/http") {
			t.Errorf("%s depends on net/http; it must stay free of HTTP", name)
		}
	}
}
