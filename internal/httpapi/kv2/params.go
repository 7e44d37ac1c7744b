package kv2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// params are the parameters of a request (vault-kv2.md 2.2): the members of
// the JSON body of a write or patch (or of a form), or the query string of a
// read, list or delete. Values are decoded on demand, numbers kept exact, so
// that the data member can be stored as the text it was sent as.
type params struct {
	body  map[string]json.RawMessage
	query url.Values
}

// queryParams returns the parameters of a query string: one value is a
// string, a repeated one a list of strings.
func queryParams(q url.Values) params { return params{query: q} }

// bodyParams decodes a request body. It is parsed as JSON whatever the
// Content-Type says (the Go client sends none on PUT), except a form-encoded
// body that does not look like JSON; an empty body has no parameters.
// Duplicate top-level members keep the last, as Vault's decoder does; the
// data member gets coffer's stricter checks later (secret.ParseData).
func bodyParams(b []byte, contentType string, patch bool) (params, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return params{}, nil
	}
	if strings.HasPrefix(strings.ToLower(contentType), "application/x-www-form-urlencoded") && trimmed[0] != '{' {
		q, err := url.ParseQuery(string(b))
		if err != nil {
			return params{}, jsonError("the form body is not correctly encoded", patch)
		}
		return params{query: q}, nil
	}
	switch {
	case !utf8.Valid(b):
		return params{}, jsonError("invalid UTF-8", patch)
	case !json.Valid(b):
		return params{}, jsonError("invalid JSON", patch)
	case trimmed[0] != '{':
		return params{}, jsonError("the body must be a JSON object", patch)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return params{}, jsonError("invalid JSON", patch)
	}
	return params{body: m}, nil
}

// has reports whether the parameter is present (null included).
func (p params) has(name string) bool {
	if p.body != nil {
		_, ok := p.body[name]
		return ok
	}
	return p.query.Has(name)
}

// isNull reports whether the parameter is present with the JSON value null.
func (p params) isNull(name string) bool {
	raw, ok := p.body[name]
	return ok && string(bytes.TrimSpace(raw)) == "null"
}

// value returns the decoded parameter: nil, bool, json.Number, string,
// []any or map[string]any; a query parameter is a string, or a []any of
// strings when repeated.
func (p params) value(name string) (any, bool) {
	if p.body != nil {
		raw, ok := p.body[name]
		if !ok {
			return nil, false
		}
		return decodeValue(raw), true
	}
	vs, ok := p.query[name]
	switch {
	case !ok:
		return nil, false
	case len(vs) == 1:
		return vs[0], true
	}
	list := make([]any, len(vs))
	for i, v := range vs {
		list[i] = v
	}
	return list, true
}

func decodeValue(raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil // unreachable: the whole body was checked
	}
	return v
}

// unknown returns the parameters not in known, sorted, for Vault's warning
// "Endpoint ignored these unrecognized parameters" (vault-kv2.md 2.2).
func (p params) unknown(known []string) []string {
	var out []string
	add := func(name string) {
		for _, k := range known {
			if k == name {
				return
			}
		}
		out = append(out, name)
	}
	for name := range p.body {
		add(name)
	}
	for name := range p.query {
		add(name)
	}
	sort.Strings(out)
	return out
}

// int returns an integer parameter with Vault's weak typing: a JSON integer,
// a numeric string or a bool; a float such as 1.0 is refused. ok is false
// when the parameter is absent or null.
func (p params) int(name string) (n int64, ok bool, err error) {
	v, present := p.value(name)
	if !present || v == nil {
		return 0, false, nil
	}
	n, err = weakInt(v)
	if err != nil {
		return 0, false, fieldError(name, err.Error())
	}
	return n, true, nil
}

// boolean returns a boolean parameter: a JSON bool, or a string or number
// that strconv.ParseBool accepts ("true", "1", …). ok is false when the
// parameter is absent or null.
func (p params) boolean(name string) (b bool, ok bool, err error) {
	v, present := p.value(name)
	if !present || v == nil {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		b, err = parseBool(x)
	case json.Number:
		b, err = parseBool(x.String())
	default:
		err = unconvertible("bool", v)
	}
	if err != nil {
		return false, false, fieldError(name, err.Error())
	}
	return b, true, nil
}

func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("cannot parse '' as bool: %w", err)
	}
	return b, nil
}

// versions returns a list of version numbers (Vault's TypeCommaIntSlice,
// vault-kv2.md 4.6): a JSON array of numbers or numeric strings, a comma
// separated string, or a single number.
func (p params) versions(name string) ([]int64, error) {
	v, present := p.value(name)
	if !present {
		return nil, nil
	}
	var items []any
	switch x := v.(type) {
	case nil:
	case []any:
		items = x
	case json.Number:
		items = []any{x}
	case string:
		if x != "" {
			for s := range strings.SplitSeq(x, ",") {
				items = append(items, s)
			}
		}
	default:
		return nil, fieldError(name, unconvertible("[]int", v).Error())
	}
	out := make([]int64, 0, len(items))
	for _, it := range items {
		n, err := weakInt(it)
		if err != nil {
			return nil, fieldError(name, err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}

// vaultDuration is a duration parameter as given: its value and, when it
// was written in the OKMS grammar ("1d12h"), that text, which surfaces A and
// B echo back (okms-rest.md 2.6).
type vaultDuration struct {
	d    time.Duration
	okms string
}

// duration returns a duration parameter in the formats of vault-kv2.md 5.4:
// a JSON integer or numeric string of seconds, "<n>d", any Go duration, the
// OKMS grammar, or "" for zero. ok is false when absent or null.
func (p params) duration(name string) (vd vaultDuration, ok bool, err error) {
	v, present := p.value(name)
	if !present || v == nil {
		return vd, false, nil
	}
	vd, err = weakDuration(v)
	if err != nil {
		return vd, false, fieldError(name, err.Error())
	}
	return vd, true, nil
}

func weakDuration(v any) (vaultDuration, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return vaultDuration{}, errors.New("could not parse duration from input")
	}
	if s == "" {
		return vaultDuration{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return vaultDuration{d: seconds(n, 1)}, nil
	}
	if d, err := secret.ParseDuration(s); err == nil {
		return vaultDuration{d: d.Std(), okms: s}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return vaultDuration{}, err
		}
		return vaultDuration{d: seconds(n, 24*3600)}, nil
	}
	d, err := time.ParseDuration(s)
	return vaultDuration{d: d}, err
}

// seconds converts n units of unit seconds to a duration, saturating
// instead of overflowing (the 100-year limit is checked afterwards).
func seconds(n, unit int64) time.Duration {
	limit := math.MaxInt64 / int64(time.Second) / unit
	n = max(min(n, limit), -limit)
	return time.Duration(n*unit) * time.Second
}

// value returns the stored form of the duration: the OKMS text when it was
// given in that grammar, else whole seconds with Go's text; a negative value
// is secret.Disabled.
func (vd vaultDuration) value() (secret.Duration, error) {
	if vd.okms != "" {
		return secret.ParseDuration(vd.okms)
	}
	return secret.DurationOf(vd.d)
}

// unsigned returns the duration of an unsigned parameter (Vault's
// TypeDurationSecond): a negative value is refused with Vault's message.
func (vd vaultDuration) unsigned(name string) (secret.Duration, error) {
	if vd.d < 0 {
		return secret.Duration{}, fieldError(name, fmt.Sprintf("cannot provide negative value '%d'", vd.d))
	}
	d, err := vd.value()
	if err != nil {
		return d, fieldError(name, "the duration exceeds 100 years")
	}
	return d, nil
}

// stringMap returns an object parameter whose values are weakly converted
// to strings (Vault's custom_metadata, vault-kv2.md 5.5): numbers as their
// text, bools as "1" or "0". A null value is kept as a nil entry (a removal
// in a merge patch). present is false when absent; a null parameter gives a
// nil map.
func (p params) stringMap(name string) (m map[string]*string, present bool, err error) {
	v, present := p.value(name)
	if !present || v == nil {
		return nil, present, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, true, fieldError(name, expectedMap(v))
	}
	m = make(map[string]*string, len(obj))
	for k, item := range obj {
		if item == nil {
			m[k] = nil
			continue
		}
		s, err := weakString(item)
		if err != nil {
			return nil, true, &requestError{Kind: errBadMetadataValue, Msg: "custom_metadata validation failed: " + err.Error()}
		}
		m[k] = &s
	}
	return m, true, nil
}

func weakString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", unconvertible("string", v)
}

// object returns the JSON text of an object parameter (Vault's TypeMap),
// null included; anything else is a field validation error.
func (p params) object(name string) (json.RawMessage, bool, error) {
	if p.body == nil {
		v, present := p.value(name)
		if !present {
			return nil, false, nil
		}
		return nil, true, fieldError(name, expectedMap(v))
	}
	raw, ok := p.body[name]
	if !ok {
		return nil, false, nil
	}
	switch t := bytes.TrimSpace(raw); {
	case string(t) == "null", len(t) > 0 && t[0] == '{':
		return raw, true, nil
	}
	return nil, true, fieldError(name, expectedMap(decodeValue(raw)))
}

// cas returns options.cas of a data write or patch (vault-kv2.md 5.2):
// absent means no check; null counts as 0; a value that is not an integer is
// Vault's "error parsing check-and-set parameter". Values out of the version
// range can never match, as in Vault.
func (p params) cas() (*uint32, error) {
	raw, ok, err := p.object("options")
	if err != nil || !ok {
		return nil, err
	}
	opts, _ := decodeValue(raw).(map[string]any)
	v, ok := opts["cas"]
	if !ok {
		return nil, nil
	}
	n, err := weakInt(v)
	if err != nil {
		return nil, errCASParse
	}
	if n < 0 || n > secret.MaxVersionID {
		n = secret.MaxVersionID + 1
	}
	c := uint32(n)
	return &c, nil
}

// weakInt converts a value to an integer as Vault's mapstructure weak
// decoding does. Messages name types, never values.
func weakInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return 0, errors.New("error decoding json.Number into an integer")
		}
		return n, nil
	case string:
		n, err := strconv.ParseInt(x, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse '' as int: %s", numErr(err))
		}
		return n, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, unconvertible("int", v)
}

// numErr keeps the reason of a strconv error without the input it quotes.
func numErr(err error) string {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return "strconv.ParseInt: " + ne.Err.Error()
	}
	return err.Error()
}

func unconvertible(want string, v any) error {
	return fmt.Errorf("'' expected type '%s', got unconvertible type '%s'", want, typeName(v))
}

func expectedMap(v any) string { return fmt.Sprintf("'' expected a map, got '%s'", typeName(v)) }

// typeName names a decoded JSON value's type as Go's reflection does, the
// way Vault's messages show it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "invalid"
	case bool:
		return "bool"
	case json.Number, string:
		return "string"
	case []any:
		return "slice"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
