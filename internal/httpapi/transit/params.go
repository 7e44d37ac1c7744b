package transit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// params are a request's parameters: the members of a JSON body, or the
// query string. Vault decodes them weakly (a number may come as a string,
// a boolean as "true"); so does coffer.
type params struct {
	body  map[string]json.RawMessage
	query url.Values
}

// bodyParams decodes a JSON object body; an empty body has no parameters.
func bodyParams(b []byte) (params, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "null" {
		// The Vault Go client sends null for a write without data.
		return params{}, nil
	}
	if t[0] != '{' {
		return params{}, jsonError("the body must be a JSON object")
	}
	var m map[string]json.RawMessage // Unmarshal validates the whole body first
	if err := json.Unmarshal(t, &m); err != nil {
		return params{}, jsonError("the body must be a JSON object")
	}
	return params{body: m}, nil
}

func (p params) raw(name string) (json.RawMessage, bool) {
	if p.body != nil {
		v, ok := p.body[name]
		if ok && string(bytes.TrimSpace(v)) == "null" {
			return nil, false
		}
		return v, ok
	}
	if p.query.Has(name) {
		b, _ := json.Marshal(p.query.Get(name))
		return b, true
	}
	return nil, false
}

// str returns a string parameter ("" when absent); a number or boolean is
// taken as its text.
func (p params) str(name string) (string, error) {
	raw, ok := p.raw(name)
	if !ok {
		return "", nil
	}
	// A string without escapes (a base64 value) is its bytes between the
	// quotes: the body was validated as a whole, so it needs no second
	// scan.
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b), nil
	}
	return "", fieldError(name, "expected a string")
}

// boolean returns a boolean parameter (false when absent).
func (p params) boolean(name string) (bool, error) {
	raw, ok := p.raw(name)
	if !ok {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return false, nil
		}
		if b, err := strconv.ParseBool(s); err == nil {
			return b, nil
		}
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return i != 0, nil
		}
	}
	return false, fieldError(name, "expected a boolean")
}

// uint returns a non-negative integer parameter of at most max (0 when
// absent).
func (p params) uint(name string, max uint64) (uint64, bool, error) {
	raw, ok := p.raw(name)
	if !ok {
		return 0, false, nil
	}
	var text string
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		text = n.String()
	} else if json.Unmarshal(raw, &text) != nil {
		return 0, false, fieldError(name, "expected an integer")
	}
	if text == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
	if err != nil || v > max {
		return 0, false, fieldError(name, fmt.Sprintf("expected an integer between 0 and %d", max))
	}
	return v, true, nil
}

// b64 returns a base64 parameter, decoded.
func (p params) b64(name string) ([]byte, bool, error) {
	s, err := p.str(name)
	if err != nil || s == "" {
		_, present := p.raw(name)
		return nil, present, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return nil, true, &requestError{Kind: errBadInput, Msg: fmt.Sprintf("failed to base64-decode %s", name)}
		}
	}
	return b, true, nil
}

// batch returns the items of batch_input, each as params; nil when
// absent.
func (p params) batch() ([]params, error) {
	raw, ok := p.raw("batch_input")
	if !ok {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		// The Vault CLI sends batch_input as a JSON string.
		var s string
		if json.Unmarshal(raw, &s) != nil || json.Unmarshal([]byte(s), &items) != nil {
			return nil, fieldError("batch_input", "expected an array of objects")
		}
	}
	if len(items) == 0 {
		return nil, &requestError{Kind: errBadInput, Msg: "missing batch input to process"}
	}
	out := make([]params, len(items))
	for i, m := range items {
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		out[i] = params{body: m}
	}
	return out, nil
}
