package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// writeGetSecret writes the 200 answer of GET /v2/secret/{path} exactly as
// httpapi.WriteJSON writes it (HTML escaping, no newline; a differential
// test holds it to that, byte for byte), field by field instead of through
// encoding/json's reflection: it is the surface's hottest answer. The
// value, stored compact, is checked and escaped as encoding/json does with
// a json.RawMessage. A value that does not encode goes through WriteJSON.
func writeGetSecret(w http.ResponseWriter, out api.GetSecretResponse) {
	bp := getBufs.Get().(*bytes.Buffer)
	defer func() {
		if bp.Cap() <= 64<<10 {
			bp.Reset()
			getBufs.Put(bp)
		}
	}()
	m := out.Metadata
	b := bp.AvailableBuffer()
	b = append(b, `{"path":`...)
	b = httpapi.AppendString(b, out.Path, true)
	b = append(b, `,"metadata":{"casRequired":`...)
	b = strconv.AppendBool(b, m.CasRequired)
	b = append(b, `,"createdAt":`...)
	b = httpapi.AppendString(b, m.CreatedAt, true)
	b = append(b, `,"updatedAt":`...)
	b = httpapi.AppendString(b, m.UpdatedAt, true)
	b = append(b, `,"currentVersion":`...)
	b = strconv.AppendUint(b, uint64(m.CurrentVersion), 10)
	b = append(b, `,"oldestVersion":`...)
	b = strconv.AppendUint(b, uint64(m.OldestVersion), 10)
	b = append(b, `,"maxVersions":`...)
	b = strconv.AppendUint(b, uint64(m.MaxVersions), 10)
	b = append(b, `,"deactivateVersionAfter":`...)
	b = httpapi.AppendString(b, m.DeactivateVersionAfter, true)
	b = append(b, `,"customMetadata":`...)
	b = httpapi.AppendStringMap(b, m.CustomMetadata, true)
	b = append(b, `,"urn":`...)
	b = httpapi.AppendString(b, m.URN, true)
	b = append(b, '}')
	if v := out.Version; v != nil {
		b = append(b, `,"version":{"id":`...)
		b = strconv.AppendUint(b, uint64(v.ID), 10)
		b = append(b, `,"state":`...)
		b = httpapi.AppendString(b, v.State, true)
		b = append(b, `,"createdAt":`...)
		b = httpapi.AppendString(b, v.CreatedAt, true)
		b = append(b, `,"deactivatedAt":`...)
		if v.DeactivatedAt == nil {
			b = append(b, "null"...)
		} else {
			b = httpapi.AppendString(b, *v.DeactivatedAt, true)
		}
		if len(v.Data) > 0 { // omitempty
			b = append(b, `,"data":`...)
			bp.Write(b)
			if !appendRaw(bp, v.Data) {
				httpapi.WriteJSON(w, http.StatusOK, out)
				return
			}
			b = bp.AvailableBuffer()
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	bp.Write(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bp.Bytes())
}

var getBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendRaw writes raw to bp as encoding/json writes a json.RawMessage
// with HTML escaping: compacted, with <, >, &, U+2028 and U+2029 escaped.
// It reports false, writing nothing usable, if raw is not valid JSON.
func appendRaw(bp *bytes.Buffer, raw []byte) bool {
	if !bytes.ContainsAny(raw, "<>&\u2028\u2029") {
		return json.Compact(bp, raw) == nil
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return false
	}
	json.HTMLEscape(bp, compact.Bytes())
	return true
}
