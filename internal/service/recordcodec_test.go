package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// randomRecord returns a secret record with every field exercised: empty
// and full maps, zero and extreme numbers, strings that need escaping.
func randomRecord(rng *rand.Rand) secretRecord {
	strs := []string{"", "a", "prod/db/mysql", "x\"y", `back\slash`, "<html>&", "tab\there", "é ü 🎉", "\u2028", "bad\xffutf8", "ctl\x01"}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	ints := []int64{0, 1, -1, 1768035600123456789, math.MaxInt64, math.MinInt64}
	r := secretRecord{
		F: recordFormat, ID: "0b8f3c1e-8d7f-4a51-9c1a-2f8e6d4b7a90", Path: "app/" + fmt.Sprint(rng.IntN(1000)),
		Created: ints[rng.IntN(len(ints))], Updated: ints[rng.IntN(len(ints))],
		Current: rng.Uint32(), Oldest: uint32(rng.IntN(3)), CAS: rng.IntN(2) == 0,
		Max: uint32(rng.IntN(2)) * rng.Uint32(), DVASecs: ints[rng.IntN(len(ints))] * int64(rng.IntN(2)),
	}
	if rng.IntN(2) == 0 {
		r.DVA = pick()
	}
	if rng.IntN(3) > 0 {
		r.Custom = map[string]string{}
		for range rng.IntN(5) {
			r.Custom[pick()+fmt.Sprint(rng.IntN(9))] = pick()
		}
	}
	n := rng.IntN(12)
	if rng.IntN(10) > 0 {
		r.Versions = make([]versionRecord, n)
	}
	for i := range r.Versions {
		r.Versions[i] = versionRecord{ID: uint32(i + 1), State: uint8(rng.IntN(256)), Created: ints[rng.IntN(len(ints))],
			DeactivatedAt: ints[rng.IntN(len(ints))] * int64(rng.IntN(2)), DeactivateAt: ints[rng.IntN(len(ints))] * int64(rng.IntN(2))}
	}
	return r
}

func TestSecretRecordCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for i := range 2000 {
		r := randomRecord(rng)
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := appendSecretRecord(nil, &r)
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d: appendSecretRecord =\n%s\nwant (json.Marshal)\n%s", i, got, want)
		}
		var fast, slow secretRecord
		if err := json.Unmarshal(want, &slow); err != nil {
			t.Fatal(err)
		}
		if err := parseSecretRecord(want, &fast); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("record %d: parseSecretRecord(%s) = %+v, %v; want %+v", i, want, fast, err, slow)
		}
		// Records of plain ASCII, the common case, take the fast path.
		plain := !bytes.ContainsAny(want, "\\") && !bytes.ContainsFunc(want, func(r rune) bool { return r >= 0x80 })
		var probe secretRecord
		if plain && !fastSecretRecord(want, &probe) {
			t.Errorf("record %d: fastSecretRecord(%s) = false, want the fast path", i, want)
		}
	}
}

// TestParseSecretRecord_differential compares parseSecretRecord with
// json.Unmarshal on hand-made variants of what json.Marshal writes.
func TestParseSecretRecord_differential(t *testing.T) {
	base := `{"f":1,"id":"i","path":"p","created":1,"updated":2,"cur":3,"oldest":1,"v":[{"id":1,"s":1,"c":5}]}`
	inputs := []string{
		base,
		` { "f" : 1 , "id" : "i" , "v" : [ { "id" : 1 , "s" : 2 , "c" : 3 } , {"id":2,"s":0,"c":0} ] } `,
		`{"v":[],"cm":{},"f":1}`,
		`{"v":null,"cm":null}`,
		`{"cm":{"a":"1"},"cm":{"b":"2","a":"3"}}`,
		`{"v":[{"id":1}],"v":[{"id":2},{"id":3}]}`,
		`{"ID":"upper","Path":"case-insensitive"}`,
		`{"id":"esc\u0041ped","path":"a\/b"}`,
		`{"unknown":{"deep":[1,2,{"x":null}]},"id":"i"}`,
		`{"cur":4294967295,"oldest":4294967296}`,
		`{"cur":-1}`,
		`{"created":9223372036854775807,"updated":-9223372036854775808}`,
		`{"created":9223372036854775808}`,
		`{"created":12345678901234567890}`,
		`{"created":1.5}`, `{"created":1e3}`, `{"created":01}`, `{"created":-}`, `{"created":"1"}`,
		`{"v":[{"s":255}]}`, `{"v":[{"s":256}]}`, `{"v":[{"s":-1}]}`,
		`{"cas":true,"cas":false}`, `{"cas":"true"}`, `{"cas":tru}`,
		`{"f":1}x`, `{"f":1`, `{"f":1,}`, `{,}`, `[]`, `null`, ``, `{"id":"\xff"}`, `{"id":"a` + "\x01" + `"}`,
		`{"id":"é"}`, `{"cm":{"k":"\u2028"}}`,
	}
	for _, in := range inputs {
		var fast, slow secretRecord
		ferr := parseSecretRecord([]byte(in), &fast)
		serr := json.Unmarshal([]byte(in), &slow)
		if (ferr == nil) != (serr == nil) || (serr == nil && !reflect.DeepEqual(fast, slow)) {
			t.Errorf("parseSecretRecord(%s) = %+v, %v; json.Unmarshal = %+v, %v", in, fast, ferr, slow, serr)
		}
	}
}

func FuzzParseSecretRecord(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		r := randomRecord(rng)
		b, _ := json.Marshal(r)
		f.Add(b)
	}
	f.Add([]byte(`{"v":[{"id":1}],"v":null}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast, slow secretRecord
		ferr := parseSecretRecord(in, &fast)
		serr := json.Unmarshal(in, &slow)
		if (ferr == nil) != (serr == nil) || (serr == nil && !reflect.DeepEqual(fast, slow)) {
			t.Errorf("parseSecretRecord(%q) = %+v, %v; json.Unmarshal = %+v, %v", in, fast, ferr, slow, serr)
		}
	})
}

// benchSecret is a secret as stored after a few writes: metadata and ten
// versions, one of them deactivated.
func benchSecret(b *testing.B) *secret.Secret {
	now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	s := secret.New("0b8f3c1e-8d7f-4a51-9c1a-2f8e6d4b7a90", secret.MustParsePath("prod/db/mysql"), now)
	s.CustomMetadata = map[string]string{"owner": "team-db", "env": "prod"}
	for i := range 10 {
		if _, _, err := s.AddVersion(now.Add(time.Duration(i)*time.Minute), secret.Effective{MaxVersions: 10}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkRecord_EncodeSecret and BenchmarkRecord_DecodeSecret measure the
// secret record codec, read on every request, against encoding/json.
func BenchmarkRecord_EncodeSecret(b *testing.B) {
	s := benchSecret(b)
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeSecret(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		enc, _ := encodeSecret(s)
		var r secretRecord
		if err := json.Unmarshal(enc, &r); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRecord_DecodeSecret(b *testing.B) {
	enc, err := encodeSecret(benchSecret(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("codec", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSecret(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			var r secretRecord
			if err := json.Unmarshal(enc, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
