package httpapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// AppendString appends s as a JSON string exactly as encoding/json encodes
// it, with its HTML escaping of <, > and & when escapeHTML is set (as
// json.Marshal does) or without it (as an Encoder with SetEscapeHTML(false)
// does). It is for the hand-written encoders of the hottest answers; a
// string with nothing to escape costs no allocation.
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || escapeHTML && (c == '<' || c == '>' || c == '&') {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(escapeHTML)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendStringMap appends m as encoding/json encodes a map[string]string:
// null for a nil map, else an object with its keys sorted, each string
// written by [AppendString].
func AppendStringMap(b []byte, m map[string]string, escapeHTML bool) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // encoding/json sorts map keys
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k, escapeHTML)
		b = append(b, ':')
		b = AppendString(b, m[k], escapeHTML)
	}
	return append(b, '}')
}
