package secret

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateCustomMetadata decodes a JSON object of strings as surfaces
// A and B do and validates it. An accepted map keeps every limit and the
// character set; a refused one is Violations whose messages never quote a
// value (reliability-security.md T5).
func FuzzValidateCustomMetadata(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"env":"prod"}`, `{"a":"b","c":"d"}`, `{"":"v"}`, `{"k":""}`,
		`{"k":"a b"}`, `{"k\u0000":"v"}`, `{"é":"v"}`, `{"k":"\u00e9"}`,
		`{"` + strings.Repeat("k", 128) + `":"v"}`, `{"` + strings.Repeat("k", 129) + `":"v"}`,
		`{"k":"` + strings.Repeat("v", 512) + `"}`, `{"k":"` + strings.Repeat("v", 513) + `"}`,
		`{"k":"a%2Fb"}`, `{"owner":"team@example.com","path":"a/b:c=d"}`, `{"k":"\ud800"}`,
	} {
		f.Add([]byte(s), "leak")
	}
	many := map[string]string{}
	for i := range 65 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	b, _ := json.Marshal(many)
	f.Add(b, "x")

	f.Fuzz(func(t *testing.T, raw []byte, secret string) {
		var m map[string]string
		if json.Unmarshal(raw, &m) != nil || m == nil {
			return
		}
		// A value no key contains, to see whether messages echo values.
		canary := "CANARYv" + strings.Map(func(r rune) rune {
			if r < 0x20 || r == '"' || r == '\\' {
				return -1
			}
			return r
		}, secret)
		key := "canaryk"
		for _, k := range []string{"canaryk", "canaryk2", "canaryk3"} {
			if _, taken := m[k]; !taken {
				key = k
				break
			}
		}
		for k := range m {
			if strings.Contains(k, "CANARYv") {
				return
			}
		}
		m[key] = canary
		err := ValidateCustomMetadata(m)
		if err == nil {
			if len(m) > MaxCustomMetadataEntries {
				t.Fatalf("ValidateCustomMetadata accepted %d entries", len(m))
			}
			for k, v := range m {
				if n := utf8.RuneCountInString(k); n < 1 || n > MaxCustomMetadataKey || !metadataString(k) {
					t.Fatalf("ValidateCustomMetadata accepted key %q", k)
				}
				if n := utf8.RuneCountInString(v); n < 1 || n > MaxCustomMetadataValue || !metadataString(v) {
					t.Fatalf("ValidateCustomMetadata accepted value %q", v)
				}
			}
			return
		}
		vs, ok := AsViolations(err)
		if !ok || len(vs) == 0 {
			t.Fatalf("ValidateCustomMetadata error %v is not Violations", err)
		}
		for _, v := range vs {
			if v.Field != FieldCustomMetadata {
				t.Fatalf("violation %+v is not about customMetadata", v)
			}
			if strings.Contains(v.Error(), "CANARYv") || strings.Contains(vs.Error(), "CANARYv") {
				t.Fatalf("a message quotes a value: %q", v.Error())
			}
		}
	})
}
