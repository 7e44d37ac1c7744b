package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// This file keeps the first implementation of the JSON checks, a walk
// over json.Decoder tokens, as the oracle of the scanner of json.go: the
// differential tests and the fuzz target require both to agree on every
// input, error message included.

// oracleFrame is one open object or array while oracleCheckJSON walks the tokens.
type oracleFrame struct {
	keys    map[string]struct{} // member names seen; nil for an array
	wantKey bool                // an object expects a member name next
}

func oracleCheckJSON(raw []byte, object bool, maxDepth int) error {
	if !utf8.Valid(raw) {
		return errors.New("invalid UTF-8")
	}
	if !json.Valid(raw) {
		return errors.New("invalid JSON")
	}
	if object && (len(raw) == 0 || raw[0] != '{') {
		return errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var frames []oracleFrame
	// valueDone marks the value of the enclosing object member as complete,
	// so that the next token of that object is a member name.
	valueDone := func() {
		if n := len(frames); n > 0 && frames[n-1].keys != nil {
			frames[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New("invalid JSON")
		}
		top := len(frames) - 1
		if top >= 0 && frames[top].wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				frames = frames[:top]
				valueDone()
				continue
			}
			key, _ := tok.(string)
			if _, dup := frames[top].keys[key]; dup {
				return fmt.Errorf("duplicate member name at depth %d", top+1)
			}
			if key == "" && top == 0 && object {
				return errors.New("empty top-level key")
			}
			frames[top].keys[key] = struct{}{}
			frames[top].wantKey = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{', '[':
			if len(frames) >= maxDepth {
				return fmt.Errorf("nesting deeper than %d levels", maxDepth)
			}
			f := oracleFrame{}
			if d == '{' {
				f.keys, f.wantKey = make(map[string]struct{}), true
			}
			frames = append(frames, f)
		case '}', ']':
			frames = frames[:top]
			valueDone()
		default:
			valueDone()
		}
	}
}

// oracleParseData is ParseData over oracleCheckJSON and json.Compact.
func oracleParseData(raw []byte) (Data, error) {
	raw = trimJSONSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return Data{raw: []byte("{}")}, nil
	}
	if err := oracleCheckJSON(raw, true, MaxDataDepth); err != nil {
		return Data{}, dataInvalid(err.Error())
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return Data{}, dataInvalid("invalid JSON")
	}
	if buf.Len() > MaxDataSize {
		return Data{}, Violations{{Field: FieldData, Rule: RuleMaxExceeded, Limit: MaxDataSize, Got: int64(buf.Len())}}
	}
	return Data{raw: buf.Bytes()}, nil
}
