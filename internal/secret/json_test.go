package secret

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// jsonCases are inputs on which the scanner must agree with the oracle:
// every rule, every error, and the precedence between them.
var jsonCases = []string{
	`{}`, `{"a":1}`, ` { "a" : [ 1 , 2 , { "b" : null } ] } `, "{\n\t\"a\": \"x y\"\r\n}",
	`[]`, `[1,2]`, `"str"`, `1`, `-0`, `0.5`, `1e10`, `-1.5E-3`, `true`, `false`, `null`,
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a":1}{}`, `{} x`, `{"a" 1}`,
	`01`, `1.`, `.5`, `1e`, `1e+`, `-`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `falsey`, `[true false]`,
	`"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"a\x01\"", `"unterminated`,
	`{"a":1,"a":2}`, `{"a":{"a":1},"b":{"a":1}}`, `{"a":1,"b":{"c":1,"c":2}}`, `[{"a":1,"a":2}]`,
	`{"a":1,"\u0061":2}`, `{"\ud800":1,"\udfff":2}`, `{"é":1,"\u00e9":2}`, `{"a\/b":1,"a/b":2}`,
	`{"":1}`, `{"a":{"":1}}`, `[{"":1}]`, `{"":1,"":2}`, `{"a":1,"":2}`,
	`{"a":1,"a":2,"b":[` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `]}`,
	`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `,"a":1}`,
	`{"a":1,"a":2` + strings.Repeat(`,"x":[`, 3) + "}",
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	`{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`, `{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10001), "\xff", `{"a":"\xff"}`, "{\"\xc3\":1}", `{"a":1}` + "\xff", "\ufeff{}", "{}\u00a0",
	manyMembers(20, -1), manyMembers(40, 3), manyMembers(40, 35), manyMembers(17, 0),
}

// manyMembers returns an object of n members whose member dup (if ≥ 0)
// repeats member 0's name, to exercise the map of many names.
func manyMembers(n, dup int) string {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		name := fmt.Sprintf("k%d", i)
		if i == dup {
			name = "k0"
		}
		fmt.Fprintf(&sb, "%q:%d", name, i)
	}
	return sb.String() + "}"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestScanJSON_oracle(t *testing.T) {
	for _, in := range jsonCases {
		for _, object := range []bool{true, false} {
			for _, depth := range []int{MaxDataDepth, 3} {
				got := errText(checkJSONDepth([]byte(in), object, depth))
				want := errText(oracleCheckJSON([]byte(in), object, depth))
				if got != want {
					t.Errorf("checkJSONDepth(%.60q, object %v, depth %d) = %q, want %q (oracle)", in, object, depth, got, want)
				}
			}
		}
		checkParseData(t, []byte(in))
	}
}

// checkParseData compares ParseData with the oracle's ParseData.
func checkParseData(t *testing.T, in []byte) {
	t.Helper()
	got, gerr := ParseData(in)
	want, werr := oracleParseData(in)
	if !reflect.DeepEqual(gerr, werr) || !bytes.Equal(got.JSON(), want.JSON()) {
		t.Errorf("ParseData(%.60q) = %.60q, %v; oracle %.60q, %v", in, got.JSON(), gerr, want.JSON(), werr)
	}
}

// TestScanJSON_random compares the scanner with the oracle on random
// documents and on random single-byte corruptions of them.
func TestScanJSON_random(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		doc := []byte(randomJSON(rng, 0))
		if rng.IntN(2) == 0 {
			doc = append(append([]byte("{\"k\":"), doc...), '}')
		}
		checkBoth(t, doc)
		if len(doc) > 0 {
			bad := bytes.Clone(doc)
			bad[rng.IntN(len(bad))] = " {}[],:\"\\0-.eE1tfnu\x00\xff"[rng.IntN(20)]
			checkBoth(t, bad)
		}
	}
}

func checkBoth(t *testing.T, in []byte) {
	t.Helper()
	for _, object := range []bool{true, false} {
		got := errText(checkJSONDepth(in, object, 4))
		want := errText(oracleCheckJSON(in, object, 4))
		if got != want {
			t.Fatalf("checkJSONDepth(%q, object %v, 4) = %q, want %q (oracle)", in, object, got, want)
		}
	}
	checkParseData(t, in)
}

// randomJSON returns a random JSON value with white space, escapes,
// repeated names and deep nesting.
func randomJSON(rng *rand.Rand, depth int) string {
	ws := func() string { return []string{"", "", " ", "\n\t", "\r\n "}[rng.IntN(5)] }
	names := []string{`"a"`, `"b"`, `"\u0061"`, `""`, `"é"`, `"\u00e9"`, `"a b"`, `"\ud800"`, `"\ufffd"`}
	k := rng.IntN(10)
	if depth > 6 {
		k = 5 + rng.IntN(5)
	}
	switch k {
	case 0, 1:
		var sb strings.Builder
		sb.WriteString("{" + ws())
		for i := range rng.IntN(4) {
			if i > 0 {
				sb.WriteString("," + ws())
			}
			sb.WriteString(names[rng.IntN(len(names))] + ws() + ":" + ws() + randomJSON(rng, depth+1) + ws())
		}
		return sb.String() + "}"
	case 2, 3:
		var sb strings.Builder
		sb.WriteString("[" + ws())
		for i := range rng.IntN(4) {
			if i > 0 {
				sb.WriteString("," + ws())
			}
			sb.WriteString(randomJSON(rng, depth+1) + ws())
		}
		return sb.String() + "]"
	case 5:
		return []string{"0", "-1", "3.25", "1e-7", "-0.0E+2", "123456789012345678901234567890"}[rng.IntN(6)]
	case 6:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	default:
		return []string{`"x"`, `"with \"quotes\""`, `"\\\/\b\f\n\r\t"`, `"\u20ac"`, `"tab	in"`, `"😀"`}[rng.IntN(6)]
	}
}

func FuzzScanJSON(f *testing.F) {
	for _, in := range jsonCases {
		if len(in) < 1000 {
			f.Add([]byte(in), true, 4)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, object bool, depth int) {
		depth = 1 + (depth&0xff)%80
		got := errText(checkJSONDepth(in, object, depth))
		want := errText(oracleCheckJSON(in, object, depth))
		if got != want {
			t.Fatalf("checkJSONDepth(%q, %v, %d) = %q, want %q (oracle)", in, object, depth, got, want)
		}
		g, gerr := ParseData(in)
		w, werr := oracleParseData(in)
		if !reflect.DeepEqual(gerr, werr) || !bytes.Equal(g.JSON(), w.JSON()) {
			t.Fatalf("ParseData(%q) = %q, %v; oracle %q, %v", in, g.JSON(), gerr, w.JSON(), werr)
		}
	})
}

// BenchmarkCheckJSON compares the scanner with the oracle on a 1 KiB
// request body.
func BenchmarkCheckJSON(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"data":{"user":"admin","password":"s3cr3t","nested":{"n":123456789,"f":1.5,"t":true,"a":[1,2,3,"x"]}`)
	for i := 0; sb.Len() < 1000; i++ {
		fmt.Fprintf(&sb, `,"key%03d":"value-%03d-abcdefgh"`, i, i)
	}
	sb.WriteString(`},"options":{"cas":3}}`)
	raw := []byte(sb.String())
	for _, impl := range []struct {
		name  string
		check func([]byte, bool, int) error
	}{{"scanner", checkJSONDepth}, {"oracle", oracleCheckJSON}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.check(raw, false, MaxDataDepth+4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
