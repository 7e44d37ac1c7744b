package iamapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
)

// ruleUnknownMember is the rule broken by a member the policy format does
// not have (iam.md 4.1: coffer owns this format).
const ruleUnknownMember policy.Rule = "unknownMember"

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// unknownMembers returns a problem for every member of the JSON document b
// that v's type does not declare, in document order and at any depth,
// named by its path ("permissions.allow[0].actoin"). Names must match
// exactly: encoding/json would also accept "Name" for "name". b must
// already have decoded into v without error; a json.RawMessage member is
// not looked into.
func unknownMembers(b []byte, v any) policy.Problems {
	var ps policy.Problems
	walkMembers(b, reflect.TypeOf(v), "", &ps)
	return ps
}

func walkMembers(b []byte, t reflect.Type, path string, ps *policy.Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawMessageType:
	case t.Kind() == reflect.Struct:
		fields := make(map[string]reflect.Type, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[n] = f.Type
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return // null
		}
		for dec.More() {
			tok, err := dec.Token()
			key, ok := tok.(string)
			var val json.RawMessage
			if err != nil || !ok || dec.Decode(&val) != nil {
				return
			}
			p := key
			if path != "" {
				p = path + "." + key
			}
			ft, known := fields[key]
			if !known {
				*ps = append(*ps, policy.Problem{Field: policy.Field(p), Index: -1, Rule: ruleUnknownMember,
					Reason: "not a member of a policy document"})
				continue
			}
			walkMembers(val, ft, p, ps)
		}
	case t.Kind() == reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(b, &items) != nil {
			return // null
		}
		for i, item := range items {
			walkMembers(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", ps)
		}
	}
}
