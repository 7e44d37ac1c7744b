package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Data limits (okms-rest.md 2.4 and 2.9).
const (
	MaxDataSize  = 65536 // bytes of compact JSON
	MaxDataDepth = 64    // nesting levels of objects and arrays
)

// Data is a secret value: a JSON object, kept as its compact JSON text with
// key order and number literals as received. It redacts itself when printed
// or logged; only [Data.JSON] reveals it. The zero value is the empty object.
type Data struct{ raw []byte }

// ParseData validates raw as a secret value: a JSON object (null is taken
// as {}), valid UTF-8, no duplicate member names at any depth, no empty
// top-level key, nesting at most [MaxDataDepth], and at most [MaxDataSize]
// bytes once compacted. It returns [Violations] with [FieldData].
func ParseData(raw []byte) (Data, error) {
	raw = trimJSONSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return Data{raw: []byte("{}")}, nil
	}
	// One pass checks every rule and compacts (json.go).
	compact, err := scanJSON(raw, true, MaxDataDepth, true)
	if err != nil {
		return Data{}, dataInvalid(err.Error())
	}
	if len(compact) > MaxDataSize {
		return Data{}, Violations{{Field: FieldData, Rule: RuleMaxExceeded, Limit: MaxDataSize, Got: int64(len(compact))}}
	}
	return Data{raw: compact}, nil
}

// DataFromStored wraps JSON text that was validated before it was stored.
// It does not validate again; use it only for records coffer wrote itself.
func DataFromStored(raw []byte) Data { return Data{raw: raw} }

// trimJSONSpace removes the white space JSON allows around a value
// (RFC 8259: space, tab, line feed, carriage return). Unlike
// [bytes.TrimSpace] it keeps other Unicode spaces (U+00A0, U+0085, \v, \f),
// so input that is not JSON is rejected.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

func dataInvalid(reason string) error {
	return Violations{{Field: FieldData, Rule: RuleInvalidJSON, Reason: reason}}
}

// JSON returns the compact JSON text of the value. The slice must not be
// modified.
func (d Data) JSON() []byte {
	if d.raw == nil {
		return []byte("{}")
	}
	return d.raw
}

// Size returns the length of the compact JSON text.
func (d Data) Size() int { return len(d.JSON()) }

// String implements fmt.Stringer without revealing the value.
func (Data) String() string { return "secret.Data(REDACTED)" }

// GoString implements fmt.GoStringer without revealing the value.
func (Data) GoString() string { return "secret.Data(REDACTED)" }

// LogValue implements slog.LogValuer without revealing the value.
func (Data) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// Format implements fmt.Formatter so that every verb, %x and %q included,
// prints the redacted form.
func (d Data) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// MarshalJSON returns the value's JSON text: adapters embed Data in the
// responses of authorized reads.
func (d Data) MarshalJSON() ([]byte, error) { return d.JSON(), nil }

// Object decodes the value into a map, numbers kept as [json.Number].
func (d Data) Object() (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(d.JSON()))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("secret: decode data: %w", err)
	}
	return m, nil
}

var errNotObject = errors.New("the value must be a JSON object")

// CheckJSON verifies that raw is one valid JSON value of valid UTF-8,
// without duplicate member names at any depth, nested at most maxDepth
// levels. Surfaces use it on whole request bodies; messages never include
// the input's content.
func CheckJSON(raw []byte, maxDepth int) error {
	return checkJSONDepth(raw, false, maxDepth)
}

// checkJSON is the data check: CheckJSON with MaxDataDepth, plus an object
// at the top with non-empty keys when object is true.
func checkJSON(raw []byte, object bool) error { return checkJSONDepth(raw, object, MaxDataDepth) }

func checkJSONDepth(raw []byte, object bool, maxDepth int) error {
	_, err := scanJSON(raw, object, maxDepth, false)
	return err
}
