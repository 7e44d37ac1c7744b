package service

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// Secret records are read on every request, so their JSON is written and
// read by hand here rather than through encoding/json's reflection, which
// cost several microseconds per record. The format is unchanged: the
// encoder writes exactly what json.Marshal writes for a secretRecord (the
// tests check it byte for byte), and the decoder reads what json.Marshal
// ever wrote, falling back to json.Unmarshal for anything it does not
// expect (an escape sequence, an unknown member, a null), so that both give
// the same result for every record.

// appendSecretRecord appends the JSON of r, as json.Marshal writes it.
func appendSecretRecord(b []byte, r *secretRecord) []byte {
	b = append(b, `{"f":`...)
	b = strconv.AppendInt(b, int64(r.F), 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, r.Path)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, r.Created, 10)
	b = append(b, `,"updated":`...)
	b = strconv.AppendInt(b, r.Updated, 10)
	b = append(b, `,"cur":`...)
	b = strconv.AppendUint(b, uint64(r.Current), 10)
	b = append(b, `,"oldest":`...)
	b = strconv.AppendUint(b, uint64(r.Oldest), 10)
	if r.CAS {
		b = append(b, `,"cas":true`...)
	}
	if r.Max != 0 {
		b = append(b, `,"max":`...)
		b = strconv.AppendUint(b, uint64(r.Max), 10)
	}
	if r.DVA != "" {
		b = append(b, `,"dva":`...)
		b = appendJSONString(b, r.DVA)
	}
	if r.DVASecs != 0 {
		b = append(b, `,"dvas":`...)
		b = strconv.AppendInt(b, r.DVASecs, 10)
	}
	if len(r.Custom) > 0 {
		b = append(b, `,"cm":{`...)
		keys := make([]string, 0, len(r.Custom))
		for k := range r.Custom {
			keys = append(keys, k)
		}
		slices.Sort(keys) // json.Marshal sorts map keys
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, r.Custom[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"v":`...)
	if r.Versions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Versions {
			v := &r.Versions[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = strconv.AppendUint(b, uint64(v.ID), 10)
			b = append(b, `,"s":`...)
			b = strconv.AppendUint(b, uint64(v.State), 10)
			b = append(b, `,"c":`...)
			b = strconv.AppendInt(b, v.Created, 10)
			if v.DeactivatedAt != 0 {
				b = append(b, `,"da":`...)
				b = strconv.AppendInt(b, v.DeactivatedAt, 10)
			}
			if v.DeactivateAt != 0 {
				b = append(b, `,"sch":`...)
				b = strconv.AppendInt(b, v.DeactivateAt, 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Strings of plain ASCII are
// written as they are; anything else goes through json.Marshal, whose
// escaping (HTML characters, invalid UTF-8, U+2028) it thus keeps.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// parseSecretRecord reads a secret record, with json.Unmarshal's result.
func parseSecretRecord(b []byte, r *secretRecord) error {
	if fastSecretRecord(b, r) {
		return nil
	}
	*r = secretRecord{}
	return json.Unmarshal(b, r)
}

// fastSecretRecord decodes the records json.Marshal writes. It reports
// false, leaving r in any state, for input it does not handle.
func fastSecretRecord(b []byte, r *secretRecord) bool {
	d := recDecoder{b: b}
	*r = secretRecord{}
	ok := d.object(func(name []byte) bool {
		switch string(name) {
		case "f":
			n, ok := d.int(math.MinInt, math.MaxInt)
			r.F = int(n)
			return ok
		case "id":
			return d.str(&r.ID)
		case "path":
			return d.str(&r.Path)
		case "created":
			return d.int64(&r.Created)
		case "updated":
			return d.int64(&r.Updated)
		case "cur":
			return d.uint32(&r.Current)
		case "oldest":
			return d.uint32(&r.Oldest)
		case "cas":
			return d.bool(&r.CAS)
		case "max":
			return d.uint32(&r.Max)
		case "dva":
			return d.str(&r.DVA)
		case "dvas":
			return d.int64(&r.DVASecs)
		case "cm":
			if d.null() {
				r.Custom = nil
				return true
			}
			if r.Custom == nil {
				r.Custom = map[string]string{}
			}
			return d.object(func(k []byte) bool {
				var v string
				if !d.str(&v) {
					return false
				}
				r.Custom[string(k)] = v
				return true
			})
		case "v":
			if d.null() {
				r.Versions = nil
				return true
			}
			if d.peek() != '[' {
				return false
			}
			r.Versions = make([]versionRecord, 0, d.count())
			return d.array(func() bool {
				var v versionRecord
				ok := d.object(func(k []byte) bool {
					switch string(k) {
					case "id":
						return d.uint32(&v.ID)
					case "s":
						n, ok := d.int(0, 255)
						v.State = uint8(n)
						return ok
					case "c":
						return d.int64(&v.Created)
					case "da":
						return d.int64(&v.DeactivatedAt)
					case "sch":
						return d.int64(&v.DeactivateAt)
					}
					return false
				})
				r.Versions = append(r.Versions, v)
				return ok
			})
		}
		return false
	})
	return ok && d.end()
}

// recDecoder reads the subset of JSON that records use: objects, arrays,
// strings without escapes, integers and booleans.
type recDecoder struct {
	b []byte
	i int
}

func (d *recDecoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *recDecoder) peek() byte {
	d.skipSpace()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *recDecoder) end() bool {
	d.skipSpace()
	return d.i == len(d.b)
}

// count estimates the elements of the array that starts here (an upper
// bound of small arrays of objects: the number of '{' before the next ']'),
// to size a slice once.
func (d *recDecoder) count() int {
	n := 0
	for _, c := range d.b[d.i:] {
		if c == ']' {
			break
		}
		if c == '{' {
			n++
		}
	}
	return n
}

// object reads an object, calling member with each member name (the slice
// is only valid during the call) positioned at the value.
func (d *recDecoder) object(member func(name []byte) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		name, ok := d.rawString()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		d.skipSpace()
		if !member(name) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

func (d *recDecoder) array(elem func() bool) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// rawString reads a string without escape sequences nor control
// characters, and returns its bytes (UTF-8 is checked by str).
func (d *recDecoder) rawString() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			// Escapes, and anything json.Unmarshal might rewrite (invalid
			// UTF-8 becomes U+FFFD): the slow path decides.
			return nil, false
		}
	}
	return nil, false
}

func (d *recDecoder) str(dst *string) bool {
	s, ok := d.rawString()
	if ok {
		*dst = string(s)
	}
	return ok
}

func (d *recDecoder) bool(dst *bool) bool {
	switch {
	case hasPrefixAt(d.b, d.i, "true"):
		*dst, d.i = true, d.i+4
	case hasPrefixAt(d.b, d.i, "false"):
		*dst, d.i = false, d.i+5
	default:
		return false
	}
	return true
}

// null reads a null literal if one comes next.
func (d *recDecoder) null() bool {
	if d.peek() == 'n' && hasPrefixAt(d.b, d.i, "null") {
		d.i += 4
		return true
	}
	return false
}

func hasPrefixAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// int reads an integer literal within [lo, hi]: an optional minus sign
// and digits without leading zeros (no fraction, no exponent).
func (d *recDecoder) int(lo, hi int64) (int64, bool) {
	j := d.i
	neg := j < len(d.b) && d.b[j] == '-'
	if neg && lo >= 0 {
		return 0, false // json.Unmarshal refuses even -0 for unsigned fields
	}
	if neg {
		j++
	}
	start := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	digits := j - start
	if digits == 0 || digits > 19 || (digits > 1 && d.b[start] == '0') {
		return 0, false // 20 digits overflow anyway: the slow path says so
	}
	if j < len(d.b) && (d.b[j] == '.' || d.b[j] == 'e' || d.b[j] == 'E') {
		return 0, false
	}
	var u uint64 // 19 digits fit
	for _, c := range d.b[start:j] {
		u = u*10 + uint64(c-'0')
	}
	var n int64
	switch {
	case !neg && u <= math.MaxInt64:
		n = int64(u)
	case neg && u <= 1<<63:
		n = int64(-u) // -(1<<63) wraps to MinInt64, as wanted
	default:
		return 0, false
	}
	if n < lo || n > hi {
		return 0, false
	}
	d.i = j
	return n, true
}

func (d *recDecoder) int64(dst *int64) bool {
	n, ok := d.int(math.MinInt64, math.MaxInt64)
	*dst = n
	return ok
}

func (d *recDecoder) uint32(dst *uint32) bool {
	n, ok := d.int(0, 1<<32-1)
	*dst = uint32(n)
	return ok
}
