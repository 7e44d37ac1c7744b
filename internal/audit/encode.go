package audit

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// appendEvent appends e as json.Marshal(e) encodes it, byte for byte (a
// differential test holds it to that), without reflection: every request
// writes at least one event.
func appendEvent(b []byte, e Event) ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		// json.Marshal fails on such times; let it say so.
		line, err := json.Marshal(e)
		return append(b, line...), err
	}
	b = append(b, `{"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","phase":`...)
	b = appendString(b, e.Phase)
	b = appendOmit(b, `,"request_id":`, e.RequestID)
	b = appendOmit(b, `,"surface":`, e.Surface)
	b = append(b, `,"principal":`...)
	if e.Principal == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range e.Principal {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	}
	b = appendOmit(b, `,"credential":`, e.Credential)
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"resource":`...)
	b = appendString(b, e.Resource)
	b = append(b, `,"outcome":`...)
	b = appendString(b, e.Outcome)
	b = appendOmit(b, `,"reason":`, e.Reason)
	b = appendOmit(b, `,"decision":`, e.Decision)
	b = appendOmit(b, `,"remote_addr":`, e.RemoteAddr)
	return append(b, '}'), nil
}

// appendOmit appends name and s unless s is empty (omitempty).
func appendOmit(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, name...), s)
}

// appendString appends s as a JSON string, as encoding/json does: the
// common case (printable ASCII without the characters it escapes) directly,
// anything else through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
