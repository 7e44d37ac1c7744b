package kv2

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// replyData writes the 200 answer of a data read, exactly as reply writes
// it (a differential test holds it to that, byte for byte), without
// encoding/json's reflection and its second pass over the value: the
// envelope of the most frequent request is written field by field, and the
// value, stored compact, is checked and copied by json.Compact as
// encoding/json does with a json.RawMessage. Anything unusual (warnings to
// add, a value that would not encode) goes through reply.
func replyData(w http.ResponseWriter, r *http.Request, c *call, body dataResponse) error {
	if len(c.ignored) > 0 {
		return reply(w, r, c, body)
	}
	bp := dataBufs.Get().(*bytes.Buffer)
	defer func() {
		if bp.Cap() <= 64<<10 { // do not keep the buffer of a large value
			bp.Reset()
			dataBufs.Put(bp)
		}
	}()
	b := bp.AvailableBuffer()
	b = append(b, `{"request_id":`...)
	b = appendJSONString(b, httpapi.RequestID(r.Context()))
	b = append(b, `,"lease_id":"","renewable":false,"lease_duration":0,"data":{"data":`...)
	bp.Write(b)
	if body.Data == nil {
		bp.WriteString("null")
	} else if err := json.Compact(bp, body.Data); err != nil {
		bp.Reset()
		return reply(w, r, c, body)
	}
	m := body.Metadata
	b = bp.AvailableBuffer()
	b = append(b, `,"metadata":{"created_time":`...)
	b = appendJSONString(b, m.CreatedTime)
	b = append(b, `,"custom_metadata":`...)
	if m.CustomMetadata == nil {
		b = append(b, "null"...)
	} else {
		keys := make([]string, 0, len(m.CustomMetadata))
		for k := range m.CustomMetadata {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts map keys
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, m.CustomMetadata[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"deletion_time":`...)
	b = appendJSONString(b, m.DeletionTime)
	b = append(b, `,"destroyed":`...)
	b = strconv.AppendBool(b, m.Destroyed)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, uint64(m.Version), 10)
	b = append(b, `}},"wrap_info":null,"warnings":null,"auth":null,"mount_type":`...)
	b = appendJSONString(b, c.mount)
	b = append(b, "}\n"...)
	bp.Write(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bp.Bytes())
	return nil
}

var dataBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendJSONString appends s as encoding/json encodes a string without
// HTML escaping (as every KV2 answer is written): printable ASCII without
// quotes and backslashes directly, anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
