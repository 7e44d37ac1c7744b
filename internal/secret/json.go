package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"unicode/utf8"
)

// scanJSON checks raw in one pass and returns, if compact is set, its
// compact form (white space outside strings removed, everything else kept
// byte for byte, as json.Compact does). The rules and their precedence
// are those of the first implementation, a walk over json.Decoder tokens
// (json_oracle_test.go), which was about ten times slower:
//
//  1. raw must be valid UTF-8 ("invalid UTF-8");
//  2. raw must be exactly one JSON value, as json.Valid accepts it (RFC
//     8259, at most 10,000 levels deep): otherwise "invalid JSON";
//  3. with object set, that value must be an object (errNotObject);
//  4. then the first, in document order, of: a container opened deeper
//     than maxDepth levels, a member name seen before in the same object
//     (names compared once unescaped), and, with object set, an empty
//     member name in the top-level object.
//
// Messages never quote the input.
func scanJSON(raw []byte, object bool, maxDepth int, compact bool) ([]byte, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("invalid UTF-8")
	}
	s := jsonScanner{b: raw, object: object, maxDepth: maxDepth, compact: compact}
	if compact {
		s.out = make([]byte, 0, len(raw))
	}
	s.space()
	if !s.value() {
		return nil, errors.New("invalid JSON")
	}
	s.space()
	if s.i != len(s.b) {
		return nil, errors.New("invalid JSON")
	}
	if object && (len(raw) == 0 || raw[0] != '{') {
		return nil, errNotObject
	}
	if s.err != nil {
		return nil, s.err
	}
	if compact {
		s.out = append(s.out, s.b[s.seg:]...)
	}
	return s.out, nil
}

// maxSyntaxDepth is the nesting beyond which encoding/json's scanner, and
// so json.Valid, refuses a document.
const maxSyntaxDepth = 10000

// jsonScanner is a recursive-descent JSON scanner. Syntax errors end the
// scan (a method returns false); the first rule error is kept in err and
// the scan goes on checking the syntax only.
type jsonScanner struct {
	b        []byte
	i        int
	object   bool
	maxDepth int
	depth    int
	err      error // the first rule broken, in document order

	// Member names of the open objects, while no rule is broken: names
	// holds them all, each object's from its frame's start.
	names  [][]byte
	frames []nameFrame

	compact bool
	out     []byte
	seg     int // start of the input not yet copied to out
}

// nameFrame is one open object's member names, names[start:], and, once
// there are many, an open-addressing hash table of them: each slot holds 1
// plus an index into names, or 0 when free.
type nameFrame struct {
	start int
	table []int32
}

// manyNames is the number of member names beyond which an object's names
// are looked up in a hash table rather than compared one by one.
const manyNames = 16

// nameSeed seeds the hash of member names.
var nameSeed = maphash.MakeSeed()

// space skips white space, leaving it out of the compact output.
func (s *jsonScanner) space() {
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			continue
		}
		break
	}
	if s.compact && s.i > start {
		s.out = append(s.out, s.b[s.seg:start]...)
		s.seg = s.i
	}
}

func (s *jsonScanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '{':
		return s.objectValue()
	case '[':
		return s.arrayValue()
	case '"':
		_, _, ok := s.str()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *jsonScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// open enters an object or an array.
func (s *jsonScanner) open() bool {
	s.depth++
	if s.depth > maxSyntaxDepth {
		return false
	}
	if s.err == nil && s.depth > s.maxDepth {
		s.err = fmt.Errorf("nesting deeper than %d levels", s.maxDepth)
	}
	return true
}

func (s *jsonScanner) objectValue() bool {
	if !s.open() {
		return false
	}
	s.i++ // {
	tracking := s.err == nil
	if tracking {
		s.frames = append(s.frames, nameFrame{start: len(s.names)})
	}
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.close(tracking)
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		start := s.i
		_, escaped, ok := s.str()
		if !ok {
			return false
		}
		if tracking && s.err == nil {
			s.member(start, s.i, escaped)
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		if !s.value() {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			s.close(tracking)
			return true
		default:
			return false
		}
	}
}

// close leaves an object or an array; tracking says whether it has a
// name frame.
func (s *jsonScanner) close(tracking bool) {
	s.depth--
	if tracking {
		f := s.frames[len(s.frames)-1]
		s.names = s.names[:f.start]
		s.frames = s.frames[:len(s.frames)-1]
	}
}

// member records a member name of the innermost object, the string
// b[start:end] (quotes included; escaped if it holds escape sequences),
// checking that it is new and, at the top of a data value, not empty.
func (s *jsonScanner) member(start, end int, escaped bool) {
	name := s.b[start+1 : end-1]
	if escaped {
		var u string
		// Only a valid string reaches here, so this cannot fail; it
		// unescapes exactly as json.Decoder does (lone surrogates become
		// U+FFFD).
		_ = json.Unmarshal(s.b[start:end], &u)
		name = []byte(u)
	}
	f := &s.frames[len(s.frames)-1]
	if s.seen(f, name) {
		s.err = fmt.Errorf("duplicate member name at depth %d", s.depth)
		return
	}
	if len(name) == 0 && s.depth == 1 && s.object {
		s.err = errors.New("empty top-level key")
		return
	}
	s.names = append(s.names, name)
	switch n := len(s.names) - f.start; {
	case f.table != nil && 2*n <= len(f.table):
		f.insert(s.names, len(s.names)-1)
	case n > manyNames:
		f.table = make([]int32, 1<<bits.Len(uint(4*n))) // a power of two, at most a quarter full
		for i := f.start; i < len(s.names); i++ {
			f.insert(s.names, i)
		}
	}
}

// seen reports whether the object of frame f already has a member name.
func (s *jsonScanner) seen(f *nameFrame, name []byte) bool {
	if f.table == nil {
		for _, n := range s.names[f.start:] {
			if string(n) == string(name) {
				return true
			}
		}
		return false
	}
	mask := uint64(len(f.table) - 1)
	for h := maphash.Bytes(nameSeed, name) & mask; ; h = (h + 1) & mask {
		slot := f.table[h]
		if slot == 0 {
			return false
		}
		if string(s.names[slot-1]) == string(name) {
			return true
		}
	}
}

// insert adds names[i] to f's table, which has a free slot.
func (f *nameFrame) insert(names [][]byte, i int) {
	mask := uint64(len(f.table) - 1)
	h := maphash.Bytes(nameSeed, names[i]) & mask
	for f.table[h] != 0 {
		h = (h + 1) & mask
	}
	f.table[h] = int32(i + 1)
}

func (s *jsonScanner) arrayValue() bool {
	if !s.open() {
		return false
	}
	s.i++ // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.close(false)
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			s.close(false)
			return true
		default:
			return false
		}
	}
}

// str scans a string starting at its opening quote and returns the bytes
// between the quotes, and whether they hold escape sequences.
func (s *jsonScanner) str() (raw []byte, escaped, ok bool) {
	start := s.i + 1
	for j := start; j < len(s.b); {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			if j+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s.b) || !isHex(s.b[j+2]) || !isHex(s.b[j+3]) || !isHex(s.b[j+4]) || !isHex(s.b[j+5]) {
					return nil, false, false
				}
				j += 6
			default:
				return nil, false, false
			}
		default:
			j++
		}
	}
	return nil, false, false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number scans a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return true
}
