package logio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/logio"
)

// marshalerErr is an error that is also a json.Marshaler: slog encodes it
// with encoding/json rather than with its message.
type marshalerErr struct{}

func (marshalerErr) Error() string                { return "m" }
func (marshalerErr) MarshalJSON() ([]byte, error) { return []byte(`{"m":1}`), nil }

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

var tricky = []string{
	"", "plain", `quo"te`, `back\slash`, "new\nline\r\t", "ctl\x00\x01\x1f\x7f",
	"html <b>&amp;</b>", "é unicode ☃", "bad \xff utf8 \xc3", "sep \u2028 \u2029",
	"urn:v1:eu:identity:account:coffer", "/v1/secret/data/a%2Fb",
}

func randString(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return tricky[r.IntN(len(tricky))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randAttr(r *rand.Rand, depth int) slog.Attr {
	key := randString(r)
	if r.IntN(4) > 0 {
		key = tricky[1+r.IntN(2)]
	}
	switch r.IntN(14) {
	case 0:
		return slog.Int64(key, r.Int64()-r.Int64())
	case 1:
		return slog.Uint64(key, r.Uint64())
	case 2:
		return slog.Bool(key, r.IntN(2) == 0)
	case 3:
		return slog.Duration(key, time.Duration(r.Int64N(1e12)))
	case 4:
		return slog.Time(key, time.Unix(r.Int64N(4e11)-1e11, r.Int64N(1e9)).In(time.FixedZone("z", 3600*(r.IntN(25)-12))))
	case 5:
		ss := make([]string, r.IntN(3))
		for i := range ss {
			ss[i] = randString(r)
		}
		if r.IntN(5) == 0 {
			ss = nil
		}
		return slog.Any(key, ss)
	case 6:
		return slog.Any(key, errors.New(randString(r)))
	case 7:
		return slog.Any(key, marshalerErr{})
	case 8:
		return slog.Float64(key, r.NormFloat64()*1e20)
	case 9:
		if depth > 1 {
			return slog.String(key, "leaf")
		}
		return slog.Group(key, randAttr(r, depth+1), randAttr(r, depth+1))
	case 10:
		return slog.Any(key, valuer{})
	case 11:
		return slog.Attr{} // elided
	case 12:
		return slog.Any(key, map[string]int{"a": 1})
	default:
		return slog.String(key, randString(r))
	}
}

// TestJSONHandlerMatchesStandard is a differential test: for random
// records, attributes, WithAttrs and WithGroup chains, the fast handler
// writes exactly what slog.JSONHandler writes.
func TestJSONHandlerMatchesStandard(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2}
	for i := range 5000 {
		var fast, std bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.LevelDebug}
		var hf, hs slog.Handler = logio.NewJSONHandler(&fast, opts), slog.NewJSONHandler(&std, opts)
		for range r.IntN(3) {
			if r.IntN(4) == 0 {
				g := randString(r)
				hf, hs = hf.WithGroup(g), hs.WithGroup(g)
				continue
			}
			as := []slog.Attr{randAttr(r, 0), randAttr(r, 0)}
			hf, hs = hf.WithAttrs(as), hs.WithAttrs(as)
		}
		tm := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
		switch r.IntN(10) {
		case 0:
			tm = time.Time{}
		case 1:
			tm = time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC)
		case 2:
			tm = time.Now() // with a monotonic reading
		}
		rec := slog.NewRecord(tm, levels[r.IntN(len(levels))], randString(r), 0)
		for range r.IntN(10) {
			rec.AddAttrs(randAttr(r, 0))
		}
		if err := hf.Handle(context.Background(), rec.Clone()); err != nil {
			t.Fatal(err)
		}
		if err := hs.Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if fast.String() != std.String() {
			t.Fatalf("record %d:\nfast %s\nstd  %s", i, fast.String(), std.String())
		}
	}
}

func TestJSONHandlerLevels(t *testing.T) {
	for _, tc := range []struct {
		min  slog.Leveler
		want map[slog.Level]bool
	}{
		{nil, map[slog.Level]bool{slog.LevelDebug: false, slog.LevelInfo: true, slog.LevelError: true}},
		{slog.LevelError, map[slog.Level]bool{slog.LevelWarn: false, slog.LevelError: true}},
		{slog.LevelDebug, map[slog.Level]bool{slog.LevelDebug: true}},
	} {
		h := logio.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: tc.min})
		for l, want := range tc.want {
			if got := h.Enabled(context.Background(), l); got != want {
				t.Errorf("min %v: Enabled(%v) = %v, want %v", tc.min, l, got, want)
			}
		}
	}
	if _, ok := logio.NewJSONHandler(io.Discard, &slog.HandlerOptions{AddSource: true}).(*slog.JSONHandler); !ok {
		t.Error("AddSource: want the standard handler")
	}
}

// TestLog checks that Log writes the record Logger.LogAttrs would, and
// nothing below the level.
func TestLog(t *testing.T) {
	var a, b bytes.Buffer
	la := slog.New(logio.NewJSONHandler(&a, nil))
	lb := slog.New(slog.NewJSONHandler(&b, nil))
	logio.Log(context.Background(), la, slog.LevelInfo, "request", slog.String("path", "/x"), slog.Int("status", 200))
	lb.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("path", "/x"), slog.Int("status", 200))
	cut := func(s string) string { return s[strings.Index(s, `"level"`):] }
	if cut(a.String()) != cut(b.String()) {
		t.Fatalf("Log wrote %s, LogAttrs %s", a.String(), b.String())
	}
	a.Reset()
	logio.Log(context.Background(), la, slog.LevelDebug, "hidden")
	if a.Len() != 0 {
		t.Fatalf("debug record written at info level: %s", a.String())
	}
}

func BenchmarkJSONHandler(b *testing.B) {
	p := []string{"urn:v1:eu:identity:account:coffer"}
	resource := fmt.Sprintf("urn:v1:eu:resource:okms:%s/secret/bench%%2Fs", "0d4c5e6f-0000-0000-0000-000000000000")
	for _, tc := range []struct {
		name string
		h    slog.Handler
	}{
		{"std", slog.NewJSONHandler(io.Discard, nil)},
		{"fast", logio.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := slog.New(tc.h)
			b.ReportAllocs()
			for b.Loop() {
				logio.Log(context.Background(), l, slog.LevelInfo, "audit",
					slog.String("phase", "request"), slog.String("request_id", "3f2a9c1d7e5b4a60"),
					slog.String("surface", "C"), slog.Any("principal", p), slog.String("credential", "token:root"),
					slog.String("action", "okms:apikms:secret/version/getData"),
					slog.String("resource", resource),
					slog.String("outcome", "allowed"), slog.String("reason", ""))
			}
		})
	}
}
