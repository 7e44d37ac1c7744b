package logio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// NewJSONHandler returns a slog.Handler that writes exactly the lines
// slog.NewJSONHandler(w, opts) writes, byte for byte, at a fraction of the
// cost for the records a server logs on every request: strings, numbers,
// durations, times, errors and string slices, without groups. Anything
// else (a float, an arbitrary value, a group, a LogValuer) takes the
// standard library's own code path, so the output never differs; the
// differential test in handler_test.go holds it to that.
//
// With opts.AddSource or opts.ReplaceAttr set, it returns the standard
// handler itself.
//
// Why not slog.JSONHandler: the access-log line and the audit pair are
// three records per request, and the standard handler encodes a []string
// (the audit principal) with encoding/json and works through its general
// state machine for every attribute: about 1 µs a record, a tenth of the
// CPU of a secret read (docs/performance.md).
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	if opts.AddSource || opts.ReplaceAttr != nil {
		return slog.NewJSONHandler(w, opts)
	}
	return &jsonHandler{w: w, opts: *opts, mu: new(sync.Mutex)}
}

type jsonHandler struct {
	w     io.Writer
	opts  slog.HandlerOptions
	mu    *sync.Mutex // serializes Writes to w, shared by derived handlers
	attrs []slog.Attr // from WithAttrs, for the standard fallback
	pre   []byte      // the same, encoded, each preceded by ','
}

func (h *jsonHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := slog.LevelInfo
	if h.opts.Level != nil {
		min = h.opts.Level.Level()
	}
	return l >= min
}

func (h *jsonHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], as...)
	pre, ok := appendAttrs(h.pre[:len(h.pre):len(h.pre)], as)
	if !ok {
		return h.std().WithAttrs(as)
	}
	h2.pre = pre
	return &h2
}

func (h *jsonHandler) WithGroup(name string) slog.Handler {
	return h.std().WithGroup(name)
}

// std is the standard handler equivalent to h.
func (h *jsonHandler) std() slog.Handler {
	var s slog.Handler = slog.NewJSONHandler(lockedWriter{h.mu, h.w}, &h.opts)
	if len(h.attrs) > 0 {
		s = s.WithAttrs(h.attrs)
	}
	return s
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *jsonHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 {
			bufPool.Put(bp)
		}
	}()
	b := append((*bp)[:0], '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return h.std().Handle(ctx, r)
		}
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	b = append(b, h.pre...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	if !ok {
		return h.std().Handle(ctx, r)
	}
	b = append(b, '}', '\n')
	*bp = b
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

// appendAttrs appends as, each preceded by ',', or reports false when one
// of them needs the standard handler.
func appendAttrs(b []byte, as []slog.Attr) ([]byte, bool) {
	for _, a := range as {
		var ok bool
		if b, ok = appendAttr(b, a); !ok {
			return b, false
		}
	}
	return b, true
}

// appendAttr appends ,"key":value for the kinds it encodes as the
// standard handler does, and reports false for the others.
func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	v := a.Value
	switch v.Kind() {
	case slog.KindGroup, slog.KindLogValuer, slog.KindFloat64:
		return b, false
	case slog.KindAny:
		if v.Any() == nil && a.Key == "" {
			return b, true // the empty Attr is elided
		}
	}
	b = append(b, ',')
	b = appendString(b, a.Key)
	b = append(b, ':')
	switch v.Kind() {
	case slog.KindString:
		b = appendString(b, v.String())
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		t := v.Time()
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	case slog.KindAny:
		switch x := v.Any().(type) {
		case []string:
			if x == nil {
				return append(b, "null"...), true
			}
			b = append(b, '[')
			for i, s := range x {
				if !plain(s) {
					return b, false // encoding/json's escaping differs from slog's
				}
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '"')
				b = append(b, s...)
				b = append(b, '"')
			}
			b = append(b, ']')
		case json.Marshaler:
			return b, false
		case error:
			b = appendString(b, x.Error())
		default:
			return b, false
		}
	default:
		return b, false
	}
	return b, true
}

// plain reports whether s is printable ASCII that neither slog nor
// encoding/json escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}

var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted as slog's JSON handler quotes strings.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	if plain(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// lockedWriter makes the standard handler's writes share the fast
// handler's lock.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Log writes a record through l's handler as l.LogAttrs does, without
// looking up the caller's program counter (runtime.Callers), which only a
// handler with AddSource uses; call it where a record is logged per
// request. l's handler must not use AddSource.
func Log(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	LogAt(ctx, l, time.Time{}, level, msg, attrs...)
}

// LogAt is [Log] for a record of time t (the current time if t is zero),
// for callers that have just read the clock.
func LogAt(ctx context.Context, l *slog.Logger, t time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
	h := l.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	if t.IsZero() {
		t = time.Now()
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}
