package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// dataHelp documents DATA for the commands that take it.
const dataHelp = `DATA is one or more of:
  k=v          the key k holds the string v
  k=@FILE      the key k holds the content of FILE, as a string
  k=-          the key k holds standard input, as a string
  @FILE.json   every key of the JSON object in FILE (values keep their JSON type)
  -            every key of the JSON object on standard input
Later arguments override earlier ones key by key; standard input can be
read once. Keys keep the order given.`

// object is a JSON object that keeps the order of its keys.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

func (o *object) set(k string, v json.RawMessage) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) len() int { return len(o.keys) }

// MarshalJSON writes the object with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshalNoEscape(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// parseObject decodes a JSON object keeping its keys in order. It refuses
// anything but one object, and duplicate keys.
func parseObject(b []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := newObject()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		if _, dup := o.vals[k]; dup {
			return nil, fmt.Errorf("key %q appears twice", k)
		}
		o.set(k, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return o, nil
}

// parseData turns DATA arguments into a JSON object (see dataHelp). Every
// problem is a usage error: nothing is sent to the server.
func parseData(args []string, stdin io.Reader) (*object, error) {
	o := newObject()
	stdinUsed := false
	readStdin := func(arg string) ([]byte, error) {
		if stdinUsed {
			return nil, usagef("DATA %q: standard input was already read by another argument", arg)
		}
		stdinUsed = true
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usagef("DATA %q: read standard input: %v", arg, err)
		}
		return b, nil
	}
	for _, a := range args {
		switch {
		case a == "-" || strings.HasPrefix(a, "@"):
			var (
				b   []byte
				err error
			)
			if a == "-" {
				b, err = readStdin(a)
			} else {
				b, err = os.ReadFile(a[1:])
				if err != nil {
					err = usagef("DATA %q: %v", a, err)
				}
			}
			if err != nil {
				return nil, err
			}
			src, err := parseObject(b)
			if err != nil {
				return nil, usagef("DATA %q: %v", a, err)
			}
			for _, k := range src.keys {
				o.set(k, src.vals[k])
			}
		default:
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return nil, usagef("DATA %q: expected k=v, k=@FILE, k=-, @FILE.json or -", a)
			}
			if k == "" {
				return nil, usagef("DATA %q: the key is empty", a)
			}
			switch {
			case v == "-":
				b, err := readStdin(a)
				if err != nil {
					return nil, err
				}
				v = string(b)
			case strings.HasPrefix(v, "@"):
				b, err := os.ReadFile(v[1:])
				if err != nil {
					return nil, usagef("DATA %q: %v", a, err)
				}
				v = string(b)
			}
			if !utf8.ValidString(v) {
				return nil, usagef("DATA %q: the value is not UTF-8 text; store binary data encoded (base64)", k)
			}
			raw, err := marshalNoEscape(v)
			if err != nil {
				return nil, usagef("DATA %q: %v", k, err)
			}
			o.set(k, raw)
		}
	}
	return o, nil
}

// dataArgs parses DATA and requires at least one key.
func dataArgs(args []string, stdin io.Reader) (json.RawMessage, error) {
	if len(args) == 0 {
		return nil, usagef("no DATA given (k=v, k=@FILE, @FILE.json or -)")
	}
	o, err := parseData(args, stdin)
	if err != nil {
		return nil, err
	}
	return o.MarshalJSON()
}

// keyValues parses repeated k=v flag values (custom metadata).
func keyValues(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %q: expected k=v", flag, v)
		}
		m[k] = val
	}
	return m, nil
}
