package docs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/policy"
)

// obj is a JSON object of the document, decoded generically.
type obj = map[string]any

func load(t *testing.T) obj {
	t.Helper()
	var d obj
	dec := json.NewDecoder(bytes.NewReader(document))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if dec.More() {
		t.Fatal("openapi.json holds more than one JSON value")
	}
	return d
}

// ops calls fn for every operation of the document, paths and methods in
// a stable order.
func ops(d obj, fn func(path, method string, op obj)) {
	paths := d["paths"].(obj)
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		for _, m := range methods {
			if op, ok := paths[p].(obj)[m].(obj); ok {
				fn(p, m, op)
			}
		}
	}
}

func TestDocumentIsOpenAPI303(t *testing.T) {
	d := load(t)
	if v := d["openapi"]; v != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", v)
	}
	info, _ := d["info"].(obj)
	if info["title"] == "" || info["version"] == "" {
		t.Errorf("info needs a title and a version: %v", info)
	}
	if len(d["paths"].(obj)) == 0 {
		t.Error("no paths")
	}
	// Only the members OpenAPI 3.0.3 defines, or extensions.
	allowed := []string{"openapi", "info", "servers", "paths", "components", "security", "tags", "externalDocs"}
	for k := range d {
		if !slices.Contains(allowed, k) && !strings.HasPrefix(k, "x-") {
			t.Errorf("top-level member %q is not OpenAPI 3.0.3", k)
		}
	}
	for name, s := range d["components"].(obj)["securitySchemes"].(obj) {
		typ := s.(obj)["type"]
		if !slices.Contains([]any{"apiKey", "http", "oauth2", "openIdConnect"}, typ) {
			t.Errorf("security scheme %s: type %v is not an OpenAPI 3.0.3 type", name, typ)
		}
	}
}

// pointer resolves a local JSON pointer ("#/components/schemas/X").
func pointer(d obj, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(obj)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TestRefsResolve checks that every $ref of the document resolves, and
// that every component is used, so that the document stays tidy.
func TestRefsResolve(t *testing.T) {
	d := load(t)
	used := map[string]bool{}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case obj:
			if r, ok := v["$ref"]; ok {
				s, _ := r.(string)
				if _, ok := pointer(d, s); !ok {
					t.Errorf("%s: $ref %q does not resolve", at, s)
				}
				used[s] = true
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", d)
	for kind, group := range d["components"].(obj) {
		if kind == "securitySchemes" {
			continue // used by name in security requirements
		}
		for name := range group.(obj) {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never used", ref)
			}
		}
	}
}

// param resolves a parameter object or reference.
func param(t *testing.T, d obj, p any) obj {
	t.Helper()
	m := p.(obj)
	if r, ok := m["$ref"].(string); ok {
		v, ok := pointer(d, r)
		if !ok {
			t.Fatalf("parameter %s does not resolve", r)
		}
		return v.(obj)
	}
	return m
}

var templateVar = regexp.MustCompile(`\{([^}]+)\}`)

// TestOperations checks each operation: a declared tag, a summary, a
// unique operationId, declared security schemes, a success response,
// path parameters matching the template, and an "Action IAM" table naming
// actions of the catalogue, in the namespace of its surface.
func TestOperations(t *testing.T) {
	d := load(t)
	tags := map[string]bool{}
	for _, tg := range d["tags"].([]any) {
		tags[tg.(obj)["name"].(string)] = true
	}
	schemes := d["components"].(obj)["securitySchemes"].(obj)
	ids := map[string]string{}
	n := 0
	ops(d, func(path, method string, op obj) {
		n++
		where := strings.ToUpper(method) + " " + path
		if tg, _ := op["tags"].([]any); len(tg) != 1 || !tags[tg[0].(string)] {
			t.Errorf("%s: tags %v: want exactly one of the declared tags", where, op["tags"])
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", where)
		}
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", where)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", where, id, prev)
		}
		ids[id] = where
		sec, _ := op["security"].([]any)
		if len(sec) == 0 {
			t.Errorf("%s: no security requirement", where)
		}
		for _, req := range sec {
			if len(req.(obj)) == 0 {
				t.Errorf("%s: an empty security requirement would allow anonymous calls", where)
			}
			for name := range req.(obj) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not declared", where, name)
				}
			}
		}
		if strings.HasPrefix(path, "/v2/okms/") {
			for _, req := range sec {
				if _, ok := req.(obj)["vaultToken"]; ok {
					t.Errorf("%s: surface A accepts no X-Vault-Token", where)
				}
			}
		}
		ok2xx := false
		for code := range op["responses"].(obj) {
			ok2xx = ok2xx || strings.HasPrefix(code, "2")
		}
		if !ok2xx {
			t.Errorf("%s: no success response", where)
		}
		_, hasBody := op["requestBody"]
		// The OKMS swagger's activate is a POST without a body.
		bodyless := op["operationId"] == "ActivateServiceKey"
		if wantBody := (method == "post" || method == "put" || method == "patch") && !bodyless; hasBody != wantBody {
			t.Errorf("%s: requestBody present = %v, want %v", where, hasBody, wantBody)
		}

		// Path parameters: exactly the template's variables.
		var want, got []string
		for _, m := range templateVar.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		seen := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := param(t, d, p)
			key := pm["in"].(string) + ":" + pm["name"].(string)
			if seen[key] {
				t.Errorf("%s: parameter %s declared twice", where, key)
			}
			seen[key] = true
			if pm["in"] == "path" {
				got = append(got, pm["name"].(string))
				if pm["required"] != true {
					t.Errorf("%s: path parameter %s must be required", where, pm["name"])
				}
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: path parameters %v, template has %v", where, got, want)
		}

		// IAM actions.
		desc, _ := op["description"].(string)
		rows := iamRows(desc)
		if len(rows) == 0 {
			t.Errorf("%s: the description has no Action IAM table", where)
		}
		var ns string
		switch {
		case strings.HasPrefix(path, "/api/"):
			ns = policy.NamespaceKMS
		case strings.HasPrefix(path, "/v2/okms/"):
			ns = policy.NamespaceCentral
		}
		for _, r := range rows {
			if !r.IsAction() {
				if r.Action != "—" || r.Note == "" {
					t.Errorf("%s: IAM row %q: want an action, or — with an explanation", where, r.Action)
				}
				continue
			}
			if !policy.KnownAction(r.Action) {
				t.Errorf("%s: IAM action %q is not in the catalogue (iam.md 5)", where, r.Action)
			}
			if ns == "" || !strings.HasPrefix(r.Action, ns) {
				t.Errorf("%s: IAM action %q is not in the namespace of its surface (%q)", where, r.Action, ns)
			}
		}
	})
	if n == 0 {
		t.Fatal("no operation")
	}
}

// TestSchemasMatchWireTypes checks that the schemas of surface B have the
// members of the Go wire types of package api, no more and no fewer.
func TestSchemasMatchWireTypes(t *testing.T) {
	d := load(t)
	schemas := d["components"].(obj)["schemas"].(obj)
	for name, v := range map[string]any{
		"SecretMetadata":            api.SecretMetadata{},
		"SecretVersion":             api.SecretVersion{},
		"GetSecretResponse":         api.GetSecretResponse{},
		"SecretResponse":            api.SecretResponse{},
		"MetadataInput":             api.MetadataInput{},
		"VersionInput":              api.VersionInput{},
		"CreateSecretRequest":       api.CreateSecretRequest{},
		"UpdateSecretRequest":       api.UpdateSecretRequest{},
		"AddVersionRequest":         api.AddVersionRequest{},
		"UpdateVersionRequest":      api.UpdateVersionRequest{},
		"SecretConfig":              api.SecretConfig{},
		"SecretConfigResponse":      api.SecretConfigResponse{},
		"UpdateSecretConfigRequest": api.UpdateSecretConfigRequest{},
		"ErrorResponse":             api.ErrorResponse{},
		// Service keys (issue 15).
		"JSONWebKey":                  api.JSONWebKey{},
		"WrappedKey":                  api.WrappedKey{},
		"CreateServiceKeyRequest":     api.CreateServiceKeyRequest{},
		"ServiceKeyAttributes":        api.ServiceKeyAttributes{},
		"PEMKey":                      api.PEMKey{},
		"ServiceKey":                  api.ServiceKey{},
		"ListServiceKeysResponse":     api.ListServiceKeysResponse{},
		"UpdateServiceKeyRequest":     api.UpdateServiceKeyRequest{},
		"DeactivateServiceKeyRequest": api.DeactivateServiceKeyRequest{},
		"EncryptRequest":              api.EncryptRequest{},
		"EncryptResponse":             api.EncryptResponse{},
		"DecryptRequest":              api.DecryptRequest{},
		"DecryptResponse":             api.DecryptResponse{},
		"GenerateDataKeyRequest":      api.GenerateDataKeyRequest{},
		"GenerateDataKeyResponse":     api.GenerateDataKeyResponse{},
		"DecryptDataKeyRequest":       api.DecryptDataKeyRequest{},
		"DecryptDataKeyResponse":      api.DecryptDataKeyResponse{},
		"SignRequest":                 api.SignRequest{},
		"SignResponse":                api.SignResponse{},
		"VerifyRequest":               api.VerifyRequest{},
		"VerifyResponse":              api.VerifyResponse{},
		"RandomResponse":              api.RandomResponse{},
	} {
		s, ok := schemas[name].(obj)
		if !ok {
			t.Errorf("components/schemas/%s is missing", name)
			continue
		}
		var want, got []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			want = append(want, tag)
		}
		for p := range s["properties"].(obj) {
			got = append(got, p)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("schema %s has members %v; api.%s has %v", name, got, rt.Name(), want)
		}
	}
}

// TestRequiredMembersDefined checks every schema's required list against
// its properties.
func TestRequiredMembersDefined(t *testing.T) {
	d := load(t)
	for name, s := range d["components"].(obj)["schemas"].(obj) {
		req, _ := s.(obj)["required"].([]any)
		props, _ := s.(obj)["properties"].(obj)
		for _, r := range req {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("schema %s requires %q, which it does not define", name, r)
			}
		}
	}
}

func TestDocumentHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	DocumentHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/docs/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), Document()) {
		t.Error("the body is not the document")
	}
}

func TestPage(t *testing.T) {
	srv := httptest.NewServer(PageHandler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := res.Header.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src 'unsafe-inline'" {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	page := string(body)
	for _, bad := range []string{"<script", "src=", "<link", "<img", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q: it must load nothing and run no script", bad)
		}
	}
	// Every documented route is listed, with its IAM actions.
	d := load(t)
	ops(d, func(path, method string, op obj) {
		row := fmt.Sprintf(`<td class="method">%s</td><td class="path">%s</td>`, strings.ToUpper(method), path)
		if !strings.Contains(page, row) {
			t.Errorf("the page does not list %s %s", strings.ToUpper(method), path)
		}
		for _, r := range iamRows(op["description"].(string)) {
			if r.IsAction() && !strings.Contains(page, "<code>"+r.Action+"</code>") {
				t.Errorf("the page does not show the action %s", r.Action)
			}
		}
	})
	for _, tg := range d["tags"].([]any) {
		name := tg.(obj)["name"].(string)
		if !strings.Contains(page, "<h2>"+name+"</h2>") {
			t.Errorf("the page has no section %q", name)
		}
	}
}

func TestIAMRows(t *testing.T) {
	got := iamRows("Text | not a table.\n\n| Action IAM | Description |\n| ---------- | ----------- |\n| okms:apikms:secret/get | Required on each secret to list |\n|  — | Any caller |\n")
	want := []iamRow{{"okms:apikms:secret/get", "Required on each secret to list"}, {"—", "Any caller"}}
	if !slices.Equal(got, want) {
		t.Errorf("iamRows = %q, want %q", got, want)
	}
}
