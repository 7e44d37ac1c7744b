package secret

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// nestedObjects returns data whose nesting depth is depth: depth objects,
// the top-level one included ({"a":{"a":{}}} has depth 3).
func nestedObjects(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

// nestedArrays returns a top-level object holding depth-1 nested arrays,
// for a total nesting depth of depth.
func nestedArrays(depth int) string {
	return `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + "}"
}

// dataOfSize returns compact JSON of exactly n bytes (n >= 8): {"k":"xxx…"}.
func dataOfSize(n int) string {
	return `{"k":"` + strings.Repeat("x", n-len(`{"k":""}`)) + `"}`
}

func TestParseData(t *testing.T) {
	t.Parallel()
	const (
		invalid = "SecretDataInvalidKeyValueJson"
		tooBig  = "SecretDataMaxExceeded"
	)
	tests := []struct {
		name   string
		in     string
		want   string // the stored compact JSON when valid
		wantID string // the violation id when invalid
	}{
		{name: "empty object", in: `{}`, want: `{}`},
		{name: "flat object", in: `{"user":"admin","password":"s3cr3t"}`, want: `{"user":"admin","password":"s3cr3t"}`},
		{name: "every value type", in: `{"s":"x","n":1,"t":true,"f":false,"z":null,"o":{},"a":[]}`, want: `{"s":"x","n":1,"t":true,"f":false,"z":null,"o":{},"a":[]}`},
		{name: "nested objects and arrays", in: `{"a":{"b":[1,{"c":[true,null]}]}}`, want: `{"a":{"b":[1,{"c":[true,null]}]}}`},
		{name: "key order preserved", in: `{"b":1,"a":2,"c":3}`, want: `{"b":1,"a":2,"c":3}`},
		{name: "whitespace compacted", in: " {\n\t\"a\" : 1 ,\r\n \"b\" : [ 1 , 2 ] , \"c\" : { } }\n", want: `{"a":1,"b":[1,2],"c":{}}`},
		{name: "whitespace inside strings kept", in: `{ "a b" : " x  y " }`, want: `{"a b":" x  y "}`},
		{name: "number literals verbatim", in: `{"a":1.0,"b":1e400,"c":123456789012345678901234567890,"d":-0,"e":1E+2,"f":0.10}`, want: `{"a":1.0,"b":1e400,"c":123456789012345678901234567890,"d":-0,"e":1E+2,"f":0.10}`},
		{name: "escapes verbatim", in: `{"a":"\u00e9\n\"\\\/","b":"<>&","c":"\u2028"}`, want: `{"a":"\u00e9\n\"\\\/","b":"<>&","c":"\u2028"}`},
		{name: "raw unicode", in: `{"clé":"valeur 🔑"}`, want: `{"clé":"valeur 🔑"}`},
		{name: "null is the empty object", in: `null`, want: `{}`},
		{name: "null with whitespace", in: " \n null \t", want: `{}`},
		{name: "empty nested key allowed", in: `{"a":{"":1}}`, want: `{"a":{"":1}}`},
		{name: "empty key in object inside array allowed", in: `{"a":[{"":1}]}`, want: `{"a":[{"":1}]}`},
		{name: "same key in sibling objects", in: `{"a":{"x":1},"b":{"x":2}}`, want: `{"a":{"x":1},"b":{"x":2}}`},
		{name: "same key in objects of an array", in: `{"a":[{"x":1},{"x":2}]}`, want: `{"a":[{"x":1},{"x":2}]}`},
		{name: "same key at different depths", in: `{"x":{"x":{"x":1}}}`, want: `{"x":{"x":{"x":1}}}`},
		{name: "key after nested object", in: `{"a":{"b":1},"b":2}`, want: `{"a":{"b":1},"b":2}`},
		{name: "depth 64 objects", in: nestedObjects(64), want: nestedObjects(64)},
		{name: "depth 64 arrays", in: nestedArrays(64), want: nestedArrays(64)},
		{name: "exactly 65536 bytes", in: dataOfSize(65536), want: dataOfSize(65536)},
		{name: "65536 bytes once compacted", in: " " + strings.Replace(dataOfSize(65536), ":", " : ", 1) + "\n", want: dataOfSize(65536)},

		{name: "top-level array", in: `[]`, wantID: invalid},
		{name: "top-level array of objects", in: `[{"a":1}]`, wantID: invalid},
		{name: "top-level string", in: `"a"`, wantID: invalid},
		{name: "top-level number", in: `1`, wantID: invalid},
		{name: "top-level true", in: `true`, wantID: invalid},
		{name: "top-level false", in: `false`, wantID: invalid},
		{name: "empty input", in: ``, wantID: invalid},
		{name: "only whitespace", in: " \n", wantID: invalid},
		{name: "upper-case null", in: `NULL`, wantID: invalid},
		{name: "null twice", in: `null null`, wantID: invalid},
		{name: "unterminated object", in: `{"a":1`, wantID: invalid},
		{name: "trailing garbage", in: `{"a":1}x`, wantID: invalid},
		{name: "trailing brace", in: `{"a":1}}`, wantID: invalid},
		{name: "two objects", in: `{}{}`, wantID: invalid},
		{name: "two objects with space", in: `{} {}`, wantID: invalid},
		{name: "trailing comma", in: `{"a":1,}`, wantID: invalid},
		{name: "single quotes", in: `{'a':1}`, wantID: invalid},
		{name: "unquoted key", in: `{a:1}`, wantID: invalid},
		{name: "nan", in: `{"a":NaN}`, wantID: invalid},
		{name: "leading zero number", in: `{"a":01}`, wantID: invalid},
		{name: "comment", in: `{"a":1 /* c */}`, wantID: invalid},
		{name: "no-break space before object", in: "\u00a0{}", wantID: invalid},
		{name: "vertical tab before object", in: "\v{}", wantID: invalid},
		{name: "byte order mark", in: "\ufeff{}", wantID: invalid},
		{name: "invalid utf-8 in value", in: "{\"a\":\"\xff\"}", wantID: invalid},
		{name: "invalid utf-8 in key", in: "{\"\xc3\":1}", wantID: invalid},
		{name: "invalid utf-8 in whitespace", in: "{\"a\":1}\xa0", wantID: invalid},
		{name: "duplicate top-level key", in: `{"a":1,"a":2}`, wantID: invalid},
		{name: "duplicate top-level key same value", in: `{"a":1,"a":1}`, wantID: invalid},
		{name: "duplicate nested key", in: `{"a":{"b":1,"b":2}}`, wantID: invalid},
		{name: "duplicate key deep", in: `{"a":{"b":{"c":{"d":1,"e":2,"d":3}}}}`, wantID: invalid},
		{name: "duplicate key in object inside array", in: `{"a":[1,{"b":1,"b":2}]}`, wantID: invalid},
		{name: "duplicate key after nested value", in: `{"a":{"x":1},"b":2,"a":3}`, wantID: invalid},
		{name: "duplicate key through escape", in: `{"a":1,"\u0061":2}`, wantID: invalid},
		{name: "duplicate empty nested key", in: `{"a":{"":1,"":2}}`, wantID: invalid},
		{name: "empty top-level key", in: `{"":1}`, wantID: invalid},
		{name: "empty top-level key after another", in: `{"a":1,"":2}`, wantID: invalid},
		{name: "depth 65 objects", in: nestedObjects(65), wantID: invalid},
		{name: "depth 65 arrays", in: nestedArrays(65), wantID: invalid},
		{name: "depth 1000", in: nestedObjects(1000), wantID: invalid},
		{name: "65537 bytes", in: dataOfSize(65537), wantID: tooBig},
		{name: "one MiB", in: dataOfSize(1 << 20), wantID: tooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := ParseData([]byte(tc.in))
			if tc.wantID != "" {
				if err == nil {
					t.Fatalf("ParseData(%.60q) = %d bytes, nil; want error %s", tc.in, d.Size(), tc.wantID)
				}
				if got := violationID(t, err); got != tc.wantID {
					t.Errorf("ParseData(%.60q) violation ID = %q, want %q (error %v)", tc.in, got, tc.wantID, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseData(%.60q) = error %v, want %.60q", tc.in, err, tc.want)
			}
			if got := string(d.JSON()); got != tc.want {
				t.Errorf("ParseData(%.60q).JSON() = %.60q, want %.60q", tc.in, got, tc.want)
			}
			if got := d.Size(); got != len(tc.want) {
				t.Errorf("ParseData(%.60q).Size() = %d, want %d", tc.in, got, len(tc.want))
			}
		})
	}
}

func TestParseData_sizeViolation(t *testing.T) {
	t.Parallel()
	in := dataOfSize(65537)
	// Whitespace does not count: the limit is on the compact encoding.
	padded := strings.Replace(in, ":", strings.Repeat(" ", 1000)+":", 1)
	for _, raw := range []string{in, padded} {
		_, err := ParseData([]byte(raw))
		vs, ok := AsViolations(err)
		if !ok || len(vs) != 1 {
			t.Fatalf("ParseData(%d bytes) error = %v, want one violation", len(raw), err)
		}
		want := Violation{Field: FieldData, Rule: RuleMaxExceeded, Limit: 65536, Got: 65537}
		if vs[0] != want {
			t.Errorf("ParseData(%d bytes) violation = %+v, want %+v", len(raw), vs[0], want)
		}
	}
}

func TestParseData_messagesDoNotLeak(t *testing.T) {
	t.Parallel()
	const canary = "c4n4ry-v4lue"
	inputs := []string{
		`{"a":"` + canary + `","a":1}`,
		`["` + canary + `"]`,
		`"` + canary + `"`,
		`{"a":"` + canary + `"} x`,
		`{"` + canary + `":` + nestedObjects(70) + `}`,
		dataOfSize(70000)[:60] + canary + dataOfSize(70000)[60+len(canary):],
	}
	for _, in := range inputs {
		_, err := ParseData([]byte(in))
		if err == nil {
			t.Fatalf("ParseData(%.40q) = nil error, want a violation", in)
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("ParseData(%.40q) error %q quotes the input", in, err)
		}
	}
}

func TestParseData_doesNotAlias(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"a":"b"}`)
	d, err := ParseData(raw)
	if err != nil {
		t.Fatalf("ParseData(%s) = error %v", raw, err)
	}
	raw[6] = 'X'
	if got := string(d.JSON()); got != `{"a":"b"}` {
		t.Errorf("after changing the input, ParseData(...).JSON() = %s, want {\"a\":\"b\"}", got)
	}
}

func TestData_zero(t *testing.T) {
	t.Parallel()
	var d Data
	if got := string(d.JSON()); got != "{}" {
		t.Errorf("Data{}.JSON() = %q, want {}", got)
	}
	if got := d.Size(); got != 2 {
		t.Errorf("Data{}.Size() = %d, want 2", got)
	}
	b, err := json.Marshal(d)
	if err != nil || string(b) != "{}" {
		t.Errorf("json.Marshal(Data{}) = %s, %v; want {}, nil", b, err)
	}
	m, err := d.Object()
	if err != nil || m == nil || len(m) != 0 {
		t.Errorf("Data{}.Object() = %v, %v; want an empty map", m, err)
	}
}

func TestData_MarshalJSON(t *testing.T) {
	t.Parallel()
	const in = `{"b":1.0,"a":"<x>","n":123456789012345678901234567890}`
	d, err := ParseData([]byte(in))
	if err != nil {
		t.Fatalf("ParseData(%s) = error %v", in, err)
	}
	got, err := d.MarshalJSON()
	if err != nil || string(got) != in {
		t.Errorf("ParseData(%s).MarshalJSON() = %s, %v; want the input, nil", in, got, err)
	}
	// Embedded in a response, through encoding/json, the text is kept
	// verbatim (encoding/json compacts it; it is already compact).
	enc, err := json.Marshal(struct{ Data Data }{d})
	if want := `{"Data":` + in + `}`; err != nil || string(enc) != strings.Replace(want, "<x>", `\u003cx\u003e`, 1) {
		t.Errorf("json.Marshal(struct{Data}) = %s, %v; want %s", enc, err, want)
	}
}

func TestData_Object(t *testing.T) {
	t.Parallel()
	d, err := ParseData([]byte(`{"n":1.50,"big":123456789012345678901234567890,"o":{"a":[1]}}`))
	if err != nil {
		t.Fatalf("ParseData = error %v", err)
	}
	m, err := d.Object()
	if err != nil {
		t.Fatalf("Data.Object() = error %v", err)
	}
	if got, ok := m["n"].(json.Number); !ok || got != "1.50" {
		t.Errorf(`Data.Object()["n"] = %#v, want json.Number("1.50")`, m["n"])
	}
	if got, ok := m["big"].(json.Number); !ok || got != "123456789012345678901234567890" {
		t.Errorf(`Data.Object()["big"] = %#v, want the literal as json.Number`, m["big"])
	}
	if _, ok := m["o"].(map[string]any); !ok {
		t.Errorf(`Data.Object()["o"] = %T, want map[string]any`, m["o"])
	}
}

func TestDataFromStored(t *testing.T) {
	t.Parallel()
	const raw = `{"a":1}`
	if got := string(DataFromStored([]byte(raw)).JSON()); got != raw {
		t.Errorf("DataFromStored(%s).JSON() = %s, want the input", raw, got)
	}
}

const redactionCanary = "p4ssw0rd-CANARY-7f3a"

func canaryData(t *testing.T) Data {
	t.Helper()
	d, err := ParseData([]byte(`{"password":"` + redactionCanary + `","nested":{"k":"` + redactionCanary + `"}}`))
	if err != nil {
		t.Fatalf("ParseData(canary) = error %v", err)
	}
	return d
}

// leaks reports whether s shows the canary in clear, in hexadecimal or as
// Go's byte-slice formatting.
func leaks(s string) bool {
	low := strings.ToLower(s)
	return strings.Contains(s, redactionCanary) ||
		strings.Contains(low, strings.ToLower(redactionCanary)) ||
		strings.Contains(low, hex.EncodeToString([]byte(redactionCanary))) ||
		strings.Contains(s, fmt.Sprint([]byte(redactionCanary)[:8])[1:20])
}

func TestData_redactedByFmt(t *testing.T) {
	t.Parallel()
	d := canaryData(t)
	type wrapper struct {
		Name string
		Data Data
	}
	values := map[string]any{
		"value":          d,
		"pointer":        &d,
		"slice":          []Data{d},
		"map":            map[string]Data{"k": d},
		"exported field": wrapper{"n", d},
		"pointer field":  &wrapper{"n", d},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%100s", "%-5v"}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+"/"+verb, func(t *testing.T) {
				t.Parallel()
				if got := fmt.Sprintf(verb, v); leaks(got) {
					t.Errorf("fmt.Sprintf(%q, %s) = %q, shows the secret value", verb, name, got)
				}
			})
		}
		t.Run(name+"/Sprint", func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprint(v) + fmt.Sprintln(v); leaks(got) {
				t.Errorf("fmt.Sprint(%s) = %q, shows the secret value", name, got)
			}
		})
	}
	if got := d.String(); !strings.Contains(got, "REDACTED") {
		t.Errorf("Data.String() = %q, want it to say REDACTED", got)
	}
	if got := d.GoString(); !strings.Contains(got, "REDACTED") {
		t.Errorf("Data.GoString() = %q, want it to say REDACTED", got)
	}
}

func TestData_redactedBySlog(t *testing.T) {
	t.Parallel()
	d := canaryData(t)
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	attrs := map[string]slog.Attr{
		"any value":   slog.Any("data", d),
		"any pointer": slog.Any("data", &d),
		"group":       slog.Group("g", slog.Any("data", d)),
	}
	for hname, newHandler := range handlers {
		for aname, attr := range attrs {
			t.Run(hname+"/"+aname, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				slog.New(newHandler(&buf)).Info("read", attr)
				out := buf.String()
				if leaks(out) {
					t.Errorf("slog %s handler with %s logged %q, shows the secret value", hname, aname, out)
				}
				if !strings.Contains(out, "REDACTED") {
					t.Errorf("slog %s handler with %s logged %q, want REDACTED", hname, aname, out)
				}
			})
		}
	}
	t.Run("LogValue", func(t *testing.T) {
		t.Parallel()
		if got := d.LogValue().String(); leaks(got) || got != "REDACTED" {
			t.Errorf("Data.LogValue() = %q, want REDACTED", got)
		}
	})
}

func FuzzParseData(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"a":"b"}`, `{"a":{"b":[1,2,{"c":null}]}}`, `[]`, `"x"`, `1`, ``,
		`{"a":1,"a":2}`, `{"":1}`, `{"a":{"":1}}`, `{"a":1.0,"b":1e400}`, " {\n \"a\" : 1 } ",
		`{"a":1}x`, "{\"a\":\"\xff\"}", `{"a":"\u0000\ud800"}`, `{"a":1,"\u0061":2}`,
		nestedObjects(64), nestedObjects(65), nestedArrays(65), "\u00a0{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseData(raw)
		if err != nil {
			if _, ok := AsViolations(err); !ok {
				t.Fatalf("ParseData(%q) error %v is not Violations", raw, err)
			}
			return
		}
		out := d.JSON()
		if len(out) > MaxDataSize {
			t.Fatalf("ParseData(%q) accepted %d bytes, more than %d", raw, len(out), MaxDataSize)
		}
		if !json.Valid(out) || out[0] != '{' {
			t.Fatalf("ParseData(%q).JSON() = %q, not a JSON object", raw, out)
		}
		again, err := ParseData(out)
		if err != nil {
			t.Fatalf("ParseData(ParseData(%q).JSON()) = error %v, want success", raw, err)
		}
		if !bytes.Equal(again.JSON(), out) {
			t.Fatalf("ParseData(ParseData(%q).JSON()) = %q, want %q", raw, again.JSON(), out)
		}
	})
}

func BenchmarkParseData1KiB(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"user":"admin","password":"s3cr3t","nested":{"n":123456789,"f":1.5,"t":true,"a":[1,2,3,"x"]}`)
	for i := 0; sb.Len() < 1000; i++ {
		fmt.Fprintf(&sb, `,"key%03d":"value-%03d-abcdefgh"`, i, i)
	}
	sb.WriteString("}")
	raw := []byte(sb.String())
	if _, err := ParseData(raw); err != nil {
		b.Fatalf("ParseData(benchmark input) = error %v", err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseData(raw); err != nil {
			b.Fatal(err)
		}
	}
}
