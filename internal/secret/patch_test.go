package secret

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// canonical re-encodes JSON text with sorted keys and number literals kept,
// so that values can be compared regardless of member order and spacing.
func canonical(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %.80q: %v", raw, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %.80q: %v", raw, err)
	}
	return string(out)
}

func mustData(t testing.TB, s string) Data {
	t.Helper()
	d, err := ParseData([]byte(s))
	if err != nil {
		t.Fatalf("ParseData(%.80q) = error %v", s, err)
	}
	return d
}

// refMerge is RFC 7396 section 2's MergePatch pseudo-code, written
// independently of the code under test, over decoded values.
func refMerge(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t := map[string]any{}
	if old, ok := target.(map[string]any); ok {
		for k, v := range old {
			t[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = refMerge(t[k], v)
		}
	}
	return t
}

func TestMergePatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
		patch  string
		want   string
	}{
		// RFC 7396 appendix A, the rows whose target and patch are objects.
		{"rfc7396/replace a member", `{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{"rfc7396/add a member", `{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{"rfc7396/remove the only member", `{"a":"b"}`, `{"a":null}`, `{}`},
		{"rfc7396/remove one member", `{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{"rfc7396/array replaced by string", `{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{"rfc7396/string replaced by array", `{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{"rfc7396/nested merge with removal", `{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{"rfc7396/array of objects replaced", `{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{"rfc7396/null in target kept", `{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{"rfc7396/nulls in new nested objects dropped", `{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},

		// vault-kv2.md 4.4 and 9 (TestVersionedKV_Patch_Success).
		{"vault patch success",
			`{"bar":"baz","quux":{"quuz":["1","2","3"]}}`,
			`{"abc":123,"quux":{"def":456,"quuz":["1","2","3","4"]}}`,
			`{"bar":"baz","abc":123,"quux":{"def":456,"quuz":["1","2","3","4"]}}`},
		{"null removes a member", `{"foo":"bar","keep":1}`, `{"foo":null}`, `{"keep":1}`},
		{"null removes a missing member", `{"a":1}`, `{"zz":null}`, `{"a":1}`},
		{"null removes a nested member", `{"a":{"b":1,"c":2}}`, `{"a":{"b":null}}`, `{"a":{"c":2}}`},
		{"null removes an object", `{"a":{"b":1},"c":2}`, `{"a":null}`, `{"c":2}`},
		{"arrays replace wholesale", `{"a":[1,2,3]}`, `{"a":[4]}`, `{"a":[4]}`},
		{"arrays are not merged element-wise", `{"a":[{"x":1,"y":2}]}`, `{"a":[{"x":9}]}`, `{"a":[{"x":9}]}`},
		{"empty array replaces", `{"a":[1]}`, `{"a":[]}`, `{"a":[]}`},
		{"empty string kept", `{"a":"x"}`, `{"a":"","b":""}`, `{"a":"","b":""}`},
		{"false and zero kept", `{"a":true}`, `{"a":false,"b":0}`, `{"a":false,"b":0}`},
		{"nested merge", `{"a":{"b":{"c":1,"d":2},"e":3}}`, `{"a":{"b":{"c":10,"f":4}}}`, `{"a":{"b":{"c":10,"d":2,"f":4},"e":3}}`},
		{"object replaces scalar", `{"a":"x"}`, `{"a":{"b":1}}`, `{"a":{"b":1}}`},
		{"scalar replaces object", `{"a":{"b":1}}`, `{"a":"x"}`, `{"a":"x"}`},
		{"empty object patch member merges to nothing new", `{"a":{"b":1}}`, `{"a":{}}`, `{"a":{"b":1}}`},
		{"empty object patch member creates an empty object", `{"a":"x"}`, `{"a":{}}`, `{"a":{}}`},
		{"empty patch", `{"a":1,"b":[2]}`, `{}`, `{"a":1,"b":[2]}`},
		{"patch onto empty", `{}`, `{"a":1}`, `{"a":1}`},
		{"remove everything", `{"a":1,"b":2}`, `{"a":null,"b":null}`, `{}`},
		{"number literals preserved", `{"a":1.0,"big":123456789012345678901234567890}`, `{"b":1e400,"c":0.10}`, `{"a":1.0,"big":123456789012345678901234567890,"b":1e400,"c":0.10}`},
		{"empty nested key in patch", `{"a":{}}`, `{"a":{"":1}}`, `{"a":{"":1}}`},
		{"html characters", `{"a":"<b>"}`, `{"c":"&"}`, `{"a":"<b>","c":"&"}`},
		{"unicode", `{"clé":"été"}`, `{"k":"🔑"}`, `{"clé":"été","k":"🔑"}`},
		{"patch with whitespace", `{"a":1}`, " {\n \"b\" : 2 }\n", `{"a":1,"b":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := mustData(t, tc.target)
			got, err := MergePatch(d, []byte(tc.patch))
			if err != nil {
				t.Fatalf("MergePatch(%s, %s) = error %v, want %s", tc.target, tc.patch, err, tc.want)
			}
			if g, w := canonical(t, got.JSON()), canonical(t, []byte(tc.want)); g != w {
				t.Errorf("MergePatch(%s, %s) = %s, want %s", tc.target, tc.patch, got.JSON(), tc.want)
			}
			if !json.Valid(got.JSON()) || bytes.ContainsAny(got.JSON(), " \n") && !strings.Contains(tc.want, " ") {
				t.Errorf("MergePatch(%s, %s) = %q, want compact JSON", tc.target, tc.patch, got.JSON())
			}
			// The result is a valid stored value: it parses back unchanged.
			if again, err := ParseData(got.JSON()); err != nil || !bytes.Equal(again.JSON(), got.JSON()) {
				t.Errorf("ParseData(MergePatch(%s, %s)) = %s, %v; want it unchanged", tc.target, tc.patch, again.JSON(), err)
			}
			if string(d.JSON()) != string(mustData(t, tc.target).JSON()) {
				t.Errorf("MergePatch(%s, %s) modified its input to %s", tc.target, tc.patch, d.JSON())
			}
		})
	}
}

func TestMergePatch_zeroData(t *testing.T) {
	t.Parallel()
	got, err := MergePatch(Data{}, []byte(`{"a":{"b":null,"c":1}}`))
	if err != nil || canonical(t, got.JSON()) != `{"a":{"c":1}}` {
		t.Errorf(`MergePatch(Data{}, {"a":{"b":null,"c":1}}) = %s, %v; want {"a":{"c":1}}`, got.JSON(), err)
	}
}

func TestMergePatch_invalidPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch string
	}{
		// RFC 7396 appendix A rows whose patch is not an object: coffer
		// requires data to stay an object (okms-rest.md 2.4).
		{"rfc7396/array patch", `["c"]`},
		{"rfc7396/null patch", `null`},
		{"rfc7396/string patch", `"bar"`},
		{"number patch", `1`},
		{"boolean patch", `true`},
		{"empty patch", ``},
		{"whitespace patch", "  \n"},
		{"truncated", `{"a":`},
		{"trailing garbage", `{"a":1} x`},
		{"two objects", `{}{}`},
		{"duplicate key", `{"a":1,"a":null}`},
		{"duplicate nested key", `{"a":{"b":1,"b":2}}`},
		{"empty top-level key", `{"":1}`},
		{"invalid utf-8", "{\"a\":\"\xff\"}"},
		{"too deep", nestedObjects(65)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := mustData(t, `{"a":"b"}`)
			got, err := MergePatch(d, []byte(tc.patch))
			if err == nil {
				t.Fatalf("MergePatch({\"a\":\"b\"}, %.40q) = %s, nil; want an error", tc.patch, got.JSON())
			}
			if id := violationID(t, err); id != "SecretDataInvalidKeyValueJson" {
				t.Errorf("MergePatch({\"a\":\"b\"}, %.40q) violation ID = %q, want SecretDataInvalidKeyValueJson", tc.patch, id)
			}
		})
	}
}

func TestMergePatch_size(t *testing.T) {
	t.Parallel()
	big := dataOfSize(65000) // {"k":"xxx…"}
	tests := []struct {
		name    string
		target  string
		patch   string
		wantErr bool
		wantLen int
	}{
		{"grows past 64 KiB", big, `{"more":"` + strings.Repeat("y", 600) + `"}`, true, 0},
		{"grows to exactly 65536", big, `{"m":"` + strings.Repeat("y", 65536-65000-len(`,"m":""`)) + `"}`, false, 65536},
		{"grows to 65537", big, `{"m":"` + strings.Repeat("y", 65537-65000-len(`,"m":""`)) + `"}`, true, 0},
		{"huge patch alone", `{}`, dataOfSize(70000), true, 0},
		{"shrinks a full value", dataOfSize(65536), `{"k":"small"}`, false, len(`{"k":"small"}`)},
		{"removal makes room", dataOfSize(65536), `{"k":null,"n":"` + strings.Repeat("z", 1000) + `"}`, false, len(`{"n":""}`) + 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MergePatch(mustData(t, tc.target), []byte(tc.patch))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("MergePatch(%d bytes, %d bytes) = %d bytes, nil; want SecretDataMaxExceeded", len(tc.target), len(tc.patch), got.Size())
				}
				vs, ok := AsViolations(err)
				if !ok || len(vs) != 1 || vs[0].Field != FieldData || vs[0].Rule != RuleMaxExceeded || vs[0].Limit != MaxDataSize {
					t.Errorf("MergePatch(%d bytes, %d bytes) = %v, want one FieldData MaxExceeded violation with limit %d", len(tc.target), len(tc.patch), err, MaxDataSize)
				}
				return
			}
			if err != nil {
				t.Fatalf("MergePatch(%d bytes, %d bytes) = error %v", len(tc.target), len(tc.patch), err)
			}
			if got.Size() != tc.wantLen {
				t.Errorf("MergePatch(%d bytes, %d bytes) = %d bytes, want %d", len(tc.target), len(tc.patch), got.Size(), tc.wantLen)
			}
		})
	}
}

func TestSubkeys(t *testing.T) {
	t.Parallel()
	const nested = `{"foo":{"bar":{"baz":123}}}`
	tests := []struct {
		name  string
		data  string
		depth int
		want  string
	}{
		// vault-kv2.md 4.8 (plugin tests).
		{"nested/depth 0 is unlimited", nested, 0, `{"foo":{"bar":{"baz":null}}}`},
		{"nested/depth 1", nested, 1, `{"foo":null}`},
		{"nested/depth 2", nested, 2, `{"foo":{"bar":null}}`},
		{"nested/depth 3", nested, 3, `{"foo":{"bar":{"baz":null}}}`},
		{"nested/depth beyond the data", nested, 10, `{"foo":{"bar":{"baz":null}}}`},
		{"empty data", `{}`, 0, `{}`},
		{"empty data with depth", `{}`, 1, `{}`},
		{"empty object leaves", `{"a":{},"b":{"c":{}}}`, 0, `{"a":null,"b":{"c":null}}`},
		{"arrays are leaves", `{"a":[1,{"b":2}],"c":{"d":[]}}`, 0, `{"a":null,"c":{"d":null}}`},
		{"scalars are leaves", `{"s":"x","n":1.5,"t":true,"f":false,"z":null}`, 0, `{"f":null,"n":null,"s":null,"t":null,"z":null}`},
		{"siblings at mixed depths", `{"a":1,"b":{"c":2,"d":{"e":3}}}`, 2, `{"a":null,"b":{"c":null,"d":null}}`},
		{"depth 1 flattens everything", `{"a":1,"b":{"c":2}}`, 1, `{"a":null,"b":null}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Subkeys(mustData(t, tc.data), tc.depth)
			if err != nil {
				t.Fatalf("Subkeys(%s, %d) = error %v", tc.data, tc.depth, err)
			}
			if got == nil {
				t.Fatalf("Subkeys(%s, %d) = nil map, want %s", tc.data, tc.depth, tc.want)
			}
			enc, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("json.Marshal(Subkeys(%s, %d)) = error %v", tc.data, tc.depth, err)
			}
			if string(enc) != canonical(t, []byte(tc.want)) {
				t.Errorf("Subkeys(%s, %d) = %s, want %s", tc.data, tc.depth, enc, tc.want)
			}
		})
	}
	t.Run("zero data", func(t *testing.T) {
		t.Parallel()
		got, err := Subkeys(Data{}, 0)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Subkeys(Data{}, 0) = %v, %v; want an empty map", got, err)
		}
	})
}

func FuzzMergePatch(f *testing.F) {
	seeds := [][2]string{
		{`{"a":"b"}`, `{"a":"c"}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`},
		{`{"e":null}`, `{"a":1}`},
		{`{"bar":"baz","quux":{"quuz":["1","2","3"]}}`, `{"abc":123,"quux":{"def":456,"quuz":["1","2","3","4"]}}`},
		{`{"a":1.0}`, `{"b":1e400}`},
		{`{"a":"b"}`, `["c"]`},
		{`{"a":"b"}`, `null`},
		{`{"a":"b"}`, ``},
		{`{"a":"b"}`, `{"a":1,"a":2}`},
		{`{"a":{"":1}}`, `{"a":{"":null}}`},
		{`{"a":"\u00e9"}`, `{"b":"\ud800"}`},
		{nestedObjects(64), nestedObjects(64)},
		{`{"a":[1]}`, nestedObjects(65)},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, target, patch []byte) {
		d, err := ParseData(target)
		if err != nil {
			return
		}
		got, err := MergePatch(d, patch)
		if err != nil {
			if _, ok := AsViolations(err); !ok {
				t.Fatalf("MergePatch(%q, %q) error %v is not Violations", target, patch, err)
			}
			return
		}
		out := got.JSON()
		if len(out) > MaxDataSize {
			t.Fatalf("MergePatch(%q, %q) = %d bytes, more than %d", target, patch, len(out), MaxDataSize)
		}
		again, err := ParseData(out)
		if err != nil || !bytes.Equal(again.JSON(), out) {
			t.Fatalf("ParseData(MergePatch(%q, %q)) = %q, %v; want it unchanged", target, patch, again.JSON(), err)
		}
		// Compare with RFC 7396's pseudo-code over decoded values.
		var tv, pv any
		dec := json.NewDecoder(bytes.NewReader(d.JSON()))
		dec.UseNumber()
		if err := dec.Decode(&tv); err != nil {
			t.Fatalf("decoding accepted data %q: %v", d.JSON(), err)
		}
		dec = json.NewDecoder(bytes.NewReader(patch))
		dec.UseNumber()
		if err := dec.Decode(&pv); err != nil {
			t.Fatalf("decoding accepted patch %q: %v", patch, err)
		}
		want, err := json.Marshal(refMerge(tv, pv))
		if err != nil {
			t.Fatalf("encoding reference merge: %v", err)
		}
		if g := canonical(t, out); g != string(want) {
			t.Fatalf("MergePatch(%q, %q) = %s, want %s (RFC 7396 pseudo-code)", target, patch, g, want)
		}
		// A merge patch is idempotent.
		twice, err := MergePatch(got, patch)
		if err != nil || !bytes.Equal(twice.JSON(), out) {
			t.Fatalf("MergePatch twice with %q = %q, %v; want %q", patch, twice.JSON(), err, out)
		}
	})
}
