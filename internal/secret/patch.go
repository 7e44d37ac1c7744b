package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MergePatch applies an RFC 7396 JSON merge patch to d (vault-kv2.md 4.4):
// objects merge recursively, null removes a member, arrays and scalars
// replace wholesale. The patch must itself be a JSON object that passes the
// data checks of [ParseData] other than size; the result is validated like
// any written value (size, depth). Member order of the result is not
// preserved (it is not part of the contract); number literals are.
func MergePatch(d Data, patch []byte) (Data, error) {
	if err := checkJSON(trimJSONSpace(patch), true); err != nil {
		return Data{}, dataInvalid(err.Error())
	}
	dst, err := d.Object()
	if err != nil {
		return Data{}, err
	}
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return Data{}, dataInvalid("invalid JSON")
	}
	merged := mergeObject(dst, p)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(merged); err != nil {
		return Data{}, fmt.Errorf("secret: encode merged data: %w", err)
	}
	return ParseData(buf.Bytes())
}

func mergeObject(dst, patch map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, pv := range patch {
		if pv == nil {
			delete(dst, k)
			continue
		}
		if po, ok := pv.(map[string]any); ok {
			do, _ := dst[k].(map[string]any)
			dst[k] = mergeObject(do, po)
			continue
		}
		dst[k] = pv
	}
	return dst
}

// Subkeys returns the structure of d with every leaf replaced by null, as
// Vault's subkeys endpoint does (vault-kv2.md 4.8): leaves are non-object
// values and empty objects; with depth > 0, objects at that level become
// null too (level 1 is the top). Depth 0 means unlimited.
func Subkeys(d Data, depth int) (map[string]any, error) {
	m, err := d.Object()
	if err != nil {
		return nil, err
	}
	return subkeys(m, 1, depth), nil
}

func subkeys(m map[string]any, level, depth int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		child, ok := v.(map[string]any)
		if !ok || len(child) == 0 || (depth > 0 && level >= depth) {
			out[k] = nil
			continue
		}
		out[k] = subkeys(child, level+1, depth)
	}
	return out
}
