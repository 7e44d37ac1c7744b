package kv2

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

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
	b = httpapi.AppendString(b, httpapi.RequestID(r.Context()), false)
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
	b = httpapi.AppendString(b, m.CreatedTime, false)
	b = append(b, `,"custom_metadata":`...)
	b = httpapi.AppendStringMap(b, m.CustomMetadata, false)
	b = append(b, `,"deletion_time":`...)
	b = httpapi.AppendString(b, m.DeletionTime, false)
	b = append(b, `,"destroyed":`...)
	b = strconv.AppendBool(b, m.Destroyed)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, uint64(m.Version), 10)
	b = append(b, `}},"wrap_info":null,"warnings":null,"auth":null,"mount_type":`...)
	b = httpapi.AppendString(b, c.mount, false)
	b = append(b, "}\n"...)
	bp.Write(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bp.Bytes())
	return nil
}

var dataBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
