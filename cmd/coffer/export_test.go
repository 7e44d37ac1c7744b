package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// hostile holds values that would run code if a shell evaluated them
// instead of reading them. Each injection would create marker.
func hostile(marker string) map[string]any {
	return map[string]any{
		"QUOTE":       `it's "quoted" '' and '\''`,
		"SUBST":       "$(touch " + marker + ")",
		"BACKTICK":    "`touch " + marker + "`",
		"NEWLINE":     "line 1\nline 2\n\nlast; touch " + marker + "\n",
		"SEMI":        "a; touch " + marker + "; b",
		"BREAKOUT":    "'; touch " + marker + "; echo '",
		"DQ_BREAKOUT": `"; touch ` + marker + `; echo "`,
		"DOLLAR":      "$HOME ${PATH} $$ $0 ${X:-$(touch " + marker + ")}",
		"BACKSLASH":   `a\b\'c\\`,
		"TRAILING_BS": `end\`,
		"GLOB":        "* ? [a-z] ~",
		"CONTROL":     "tab\there\r\x1b[31mred\x7f",
		"UNICODE":     "héllo ☃ \u2028 \ufeff",
		"EMPTY":       "",
		"NUM":         42.5,
		"BOOL":        true,
		"NULL":        nil,
		"OBJ":         map[string]any{"a": []any{1.0, "x'y"}},
	}
}

// envValue is what the variable of a key must hold.
func envValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestExport_EnvIsSafeToSource: sh sources the env output without running
// anything and every variable holds the exact value.
func TestExport_EnvIsSafeToSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	marker := filepath.Join(h.dir, "INJECTED")
	values := hostile(marker)
	b, _ := json.Marshal(values)
	h.ok("secret", "create", "app/hostile", "@"+h.writeFile("hostile.json", string(b)))

	r := h.run("export", "app/hostile", "--format", "env")
	if r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	envFile := h.writeFile("hostile.env", r.stdout)
	for _, sh := range []string{"sh", "bash", "zsh", "dash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		for _, k := range sortedKeys(values) {
			cmd := exec.Command(sh, "-c", `. "$1"; printf %s "$`+k+`"`, sh, envFile)
			cmd.Dir = h.dir
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s sourcing the export: %v; stderr %s", sh, err, errb.String())
			}
			if want := envValue(values[k]); out.String() != want {
				t.Errorf("%s: $%s = %q, want %q", sh, k, out.String(), want)
			}
			if errb.Len() > 0 {
				t.Errorf("%s: sourcing wrote on stderr: %s", sh, errb.String())
			}
		}
		// Sourcing the file in the same shell as eval does, too.
		cmd := exec.Command(sh, "-c", `eval "$(cat "$1")"; printf %s "$SUBST"`, sh, envFile)
		cmd.Dir = h.dir
		if out, err := cmd.Output(); err != nil || string(out) != envValue(values["SUBST"]) {
			t.Errorf("%s eval: %q, %v", sh, out, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("sourcing the export ran an injected command: %s exists\n%s", marker, r.stdout)
	}
	if strings.Count(r.stdout, "\nexport ")+1 != len(values) {
		t.Errorf("export wrote %d export lines for %d keys:\n%s", strings.Count(r.stdout, "\nexport ")+1, len(values), r.stdout)
	}
}

func TestExport_Formats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.ok("secret", "create", "app/db", "login=admin", "password=it's a \"secret\"", "@"+h.writeFile("extra.json", `{"port":5432,"tls":true,"opts":{"a":null}}`))
	h.check("export_env", 0, "export", "app/db")
	h.check("export_json", 0, "export", "app/db", "--format", "json")
	h.check("export_yaml", 0, "export", "app/db", "--format", "yaml")
	h.check("export_missing", 1, "export", "app/none")

	// YAML and JSON hold the same values, hostile ones included.
	values := hostile("/nonexistent/marker")
	b, _ := json.Marshal(values)
	h.ok("secret", "create", "app/hostile", "@"+h.writeFile("hostile.json", string(b)))
	var fromJSON, fromYAML map[string]any
	if err := json.Unmarshal([]byte(h.ok("export", "app/hostile", "--format", "json")), &fromJSON); err != nil {
		t.Fatal(err)
	}
	y := h.ok("export", "app/hostile", "--format", "yaml")
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
		t.Fatalf("the YAML output does not parse: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(normalizeNumbers(fromYAML), normalizeNumbers(fromJSON)) || !reflect.DeepEqual(normalizeNumbers(fromJSON), normalizeNumbers(any(values))) {
		t.Errorf("YAML and JSON exports differ:\nyaml: %#v\njson: %#v\nwant: %#v", fromYAML, fromJSON, values)
	}

	// Keys that are not variable names: an error for env, unless
	// normalised; JSON takes them as they are.
	h.ok("secret", "create", "app/odd", "db.password=x", "2fa=y", "ok_key=z")
	r := h.check("export_env_invalid_key", 1, "export", "app/odd")
	if r.stdout != "" {
		t.Errorf("a failed export printed %q", r.stdout)
	}
	h.check("export_env_normalized", 0, "export", "app/odd", "--normalize-keys")
	h.ok("export", "app/odd", "--format", "json")
	h.ok("secret", "create", "app/clash", "a.b=1", "a_b=2")
	h.fails(1, "both become the variable a_b", "export", "app/clash", "--normalize-keys")
	h.ok("secret", "create", "app/nul", "@"+h.writeFile("nul.json", `{"k":"a\u0000b"}`))
	h.fails(1, "NUL byte", "export", "app/nul")

	// A deactivated current version has no value.
	h.ok("secret", "version", "deactivate", "app/db", "1")
	h.fails(1, "current version is deactivated", "export", "app/db")
}

// TestExport_Many: several secrets and a folder are merged, the later one
// winning, with progress on stderr.
func TestExport_Many(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.ok("secret", "create", "many/a", "A=1", "SHARED=from-a")
	h.ok("secret", "create", "many/b", "B=2", "SHARED=from-b")
	h.ok("secret", "create", "many/sub/c", "C=3")
	h.ok("secret", "create", "other/d", "D=4")
	r := h.check("export_many", 0, "export", "many/", "other/d")
	if !strings.Contains(r.stderr, "key SHARED of many/b replaces the one of many/a") {
		t.Errorf("no warning about the replaced key: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "from-") {
		t.Errorf("the warning shows a value: %q", r.stderr)
	}
	h.fails(1, "no secret under nothing/", "export", "nothing/")

	var out bytes.Buffer
	var errb terminal
	code := run(t.Context(), []string{"export", "many/"}, func(k string) string { return h.env[k] }, strings.NewReader(""), &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "\rreading secrets: 3/3") {
		t.Errorf("progress on a terminal: exit %d, stderr %q", code, errb.String())
	}
}

// normalizeNumbers turns every number into a float64 (YAML decodes
// integers as int).
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalizeNumbers(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalizeNumbers(x)
		}
		return out
	case int:
		return float64(v)
	}
	return v
}
