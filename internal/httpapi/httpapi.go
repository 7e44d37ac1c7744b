package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/logio"
	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// MaxBody is the largest request body any route accepts (okms-rest.md 1.1).
const MaxBody = 1 << 20

// Errors of request decoding. Surfaces map them in their error tables.
var (
	// ErrBodyTooLarge: the body exceeds MaxBody (413).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrFormBody: a form-encoded body where JSON is required.
	ErrFormBody = errors.New("the body is form-encoded; send JSON with Content-Type: application/json (curl -d needs -H 'Content-Type: application/json')")
)

// BodyError is a request body that is not acceptable JSON. Its message says
// what is wrong without quoting the body.
type BodyError struct{ Reason string }

func (e *BodyError) Error() string { return "invalid JSON body: " + e.Reason }

// Handler is an http handler that returns its error instead of writing it,
// so that one function per surface renders every error.
type Handler func(w http.ResponseWriter, r *http.Request) error

// ErrorWriter renders err in a surface's envelope.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Wrap turns h into an http.Handler that renders h's error with ew,
// recovers panics (logged with their stack, answered as an internal error)
// and records the error on the access-log line.
func Wrap(ew ErrorWriter, log *slog.Logger, h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(p),
					"request_id", RequestID(r.Context()), "stack", string(debug.Stack()))
				err := fmt.Errorf("panic: %v", p)
				NoteError(r.Context(), err)
				ew(w, r, err)
			}
		}()
		if err := h(w, r); err != nil {
			NoteError(r.Context(), err)
			ew(w, r, err)
		}
	})
}

// info is the per-request state shared by the middleware and the
// surfaces: the request id and what the access log records.
type info struct {
	requestID string
	principal string
	route     string // set by surfaces that route without a ServeMux
	err       error
	// url and escapedPath: the request URL as the middleware received it
	// and its EscapedPath, which surfaces and the access log need and is
	// costly to recompute (it unescapes the raw path to check it).
	url         *url.URL
	escapedPath string
	query       url.Values // parsed on first use by Query
}

type ctxKey struct{}

func infoFrom(ctx context.Context) *info {
	i, _ := ctx.Value(ctxKey{}).(*info)
	return i
}

// RequestID returns the request's id, or "" outside Middleware.
func RequestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.requestID
	}
	return ""
}

// EscapedPath returns r.URL.EscapedPath(), computed once per request by
// Middleware while r.URL is the URL it received.
func EscapedPath(r *http.Request) string {
	if i := infoFrom(r.Context()); i != nil && i.url == r.URL {
		return i.escapedPath
	}
	return r.URL.EscapedPath()
}

// Query returns r.URL.Query(), parsed once per request while r.URL is the
// URL Middleware received: surfaces read several parameters of a request.
// The result is shared; callers must not modify it.
func Query(r *http.Request) url.Values {
	i := infoFrom(r.Context())
	if i == nil || i.url != r.URL {
		return r.URL.Query()
	}
	if i.query == nil {
		i.query = r.URL.Query()
	}
	return i.query
}

// NotePrincipal records the caller's identity on the access-log line.
func NotePrincipal(ctx context.Context, who string) {
	if i := infoFrom(ctx); i != nil {
		i.principal = who
	}
}

// NoteRoute records the route pattern a request matched, for surfaces
// that do not route with an http.ServeMux (whose pattern is used
// otherwise). A route is a pattern such as "/v1/secret/data/{path}": it
// must never hold a secret path, since it becomes a metric label.
func NoteRoute(ctx context.Context, route string) {
	if i := infoFrom(ctx); i != nil {
		i.route = route
	}
}

// NoteError records err on the access-log line.
func NoteError(ctx context.Context, err error) {
	if i := infoFrom(ctx); i != nil {
		i.err = err
	}
}

// NewRequestID returns a random UUID (version 4) string.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// noStore is the Cache-Control value of every response, shared (header
// values are never modified in place).
var noStore = []string{"no-store"}

// statusWriter captures the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware assigns a request id (X-Request-Id), sets Cache-Control:
// no-store, and writes one access-log record per request: method, route
// pattern, status, duration, request id, principal and error. Paths of
// secrets may appear in the path; values, tokens and bodies never do.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return MiddlewareWith(log, nil, next)
}

// Observer is told about every request once it is answered: its route
// pattern ("" when no route matched; never a secret path), status and
// duration. It must be safe for concurrent use.
type Observer func(r *http.Request, route string, status int, elapsed time.Duration)

// MiddlewareWith is [Middleware] that also reports every request to obs
// (nil: none), for metrics.
func MiddlewareWith(log *slog.Logger, obs Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// One allocation for the request's state and its writer.
		st := &struct {
			in info
			sw statusWriter
		}{in: info{requestID: NewRequestID(), url: r.URL, escapedPath: r.URL.EscapedPath()}, sw: statusWriter{ResponseWriter: w}}
		in, sw := &st.in, &st.sw
		h := w.Header()
		h["X-Request-Id"] = []string{in.requestID}
		h["Cache-Control"] = noStore
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, in))
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if in.route != "" {
			route = in.route
		}
		elapsed := time.Since(start)
		if obs != nil {
			obs(r, route, sw.status, elapsed)
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", EscapedPath(r)),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("request_id", in.requestID),
			slog.String("remote", r.RemoteAddr),
		}
		if in.principal != "" {
			attrs = append(attrs, slog.String("principal", in.principal))
		}
		if in.err != nil {
			attrs = append(attrs, slog.String("error", in.err.Error()))
		}
		logio.Log(r.Context(), log, slog.LevelInfo, "request", attrs...)
	})
}

// Token returns the bearer token of a request: X-Vault-Token if present,
// else an Authorization: Bearer value (iam.md 7.1). It returns "" if there
// is none.
func Token(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// ReadBody reads a request body of at most MaxBody bytes. A larger body
// gives ErrBodyTooLarge without reading past the limit.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, ErrBodyTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, ErrBodyTooLarge
	}
	if err != nil {
		return nil, &BodyError{Reason: "the body could not be read"}
	}
	return b, nil
}

// maxBodyDepth bounds JSON nesting in request bodies: the deepest data
// allowed plus the envelope around it.
const maxBodyDepth = secret.MaxDataDepth + 4

// DecodeJSON reads the body and decodes it into v: the body must be one
// JSON value (whatever the Content-Type says, except a form encoding), of
// valid UTF-8, without duplicate member names and not nested too deep.
// Unknown members are ignored. An empty body decodes nothing when
// allowEmpty is set, and is an error otherwise.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return ErrFormBody
	}
	b, err := ReadBody(w, r)
	if err != nil {
		return err
	}
	return Unmarshal(b, v, allowEmpty)
}

// Unmarshal decodes a request body already read, with DecodeJSON's rules.
func Unmarshal(b []byte, v any, allowEmpty bool) error {
	if len(bytes.TrimSpace(b)) == 0 {
		if allowEmpty {
			return nil
		}
		return &BodyError{Reason: "the body is empty"}
	}
	if err := secret.CheckJSON(b, maxBodyDepth); err != nil {
		return &BodyError{Reason: err.Error()}
	}
	// CheckJSON made sure b is exactly one value: json.Unmarshal decodes
	// it without a Decoder's buffer copy and second scan (a sixth of a
	// service key encryption's CPU went to decoding its 1 KiB body).
	if err := json.Unmarshal(b, v); err != nil {
		return &BodyError{Reason: describeJSONError(err)}
	}
	return nil
}

// describeJSONError explains a decoding error by field and expected type,
// never quoting the input.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be of type %s", te.Field, jsonType(te.Type.Kind().String()))
		}
		return "the body must be a JSON object"
	}
	return "invalid JSON"
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "ptr":
		return "value"
	}
	return kind
}

// WriteJSON writes v as JSON (as json.Marshal encodes it) with the given
// status and Content-Type: application/json.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	EncodeJSON(w, status, v, true, false)
}

// EncodeJSON writes v as JSON with the given status and Content-Type:
// application/json; escapeHTML as json.Encoder's SetEscapeHTML, newline to
// keep the newline json.Encoder ends with. A value that does not encode
// gives a 500 with a generic error. Encoders and their buffers are pooled:
// every response goes through here.
func EncodeJSON(w http.ResponseWriter, status int, v any, escapeHTML, newline bool) {
	pool := &encoders[0]
	if !escapeHTML {
		pool = &encoders[1]
	}
	e, _ := pool.Get().(*encoder)
	if e == nil {
		e = &encoder{}
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(escapeHTML)
	}
	defer func() {
		if e.buf.Cap() <= 64<<10 { // do not keep the buffer of a large response
			e.buf.Reset()
			pool.Put(e)
		}
	}()
	var b []byte
	if err := e.enc.Encode(v); err == nil {
		b = e.buf.Bytes()
	} else {
		status, b = http.StatusInternalServerError, []byte(`{"errors":["internal error"]}`+"\n")
	}
	if !newline {
		b = b[:len(b)-1]
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// encoder is a pooled JSON encoder and its buffer.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// encoders pools encoders that escape HTML ([0]) and that do not ([1]).
var encoders [2]sync.Pool
