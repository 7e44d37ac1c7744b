package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	// Every bucket's range starts where the previous one ends.
	prevLow, prevWidth := lowOf(0)
	for i := 1; i < nBuckets; i++ {
		low, width := lowOf(i)
		if low != prevLow+prevWidth {
			t.Fatalf("lowOf(%d) = %d, want %d (previous bucket %d+%d)", i, low, prevLow+prevWidth, prevLow, prevWidth)
		}
		prevLow, prevWidth = low, width
	}
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1e6, 1e9, 1e12, 1 << 47} {
		i := bucketOf(v)
		low, width := lowOf(i)
		if v < low || v >= low+width {
			t.Errorf("bucketOf(%d) = %d covering [%d, %d), want a bucket holding the value", v, i, low, low+width)
		}
		if float64(width) > math.Max(1, float64(v)/128) {
			t.Errorf("bucket of %d is %d wide, want at most 1/128 of the value", v, width)
		}
	}
	if got := bucketOf(math.MaxUint64); got != nBuckets-1 {
		t.Errorf("bucketOf(MaxUint64) = %d, want the last bucket %d", got, nBuckets-1)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var vals []time.Duration
	var a, b histogram
	for i := range 100000 {
		// Log-normal-ish latencies from 50µs to about 50ms.
		d := time.Duration(50e3 * math.Exp(rng.Float64()*7))
		vals = append(vals, d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := a.quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
			t.Errorf("quantile(%v) = %v, want %v within 1%% (off by %.2f%%)", q, got, want, rel*100)
		}
	}
	if a.n != 100000 || time.Duration(a.max) != vals[len(vals)-1] || time.Duration(a.min) != vals[0] {
		t.Errorf("merged n, min, max = %d, %v, %v; want 100000, %v, %v", a.n, time.Duration(a.min), time.Duration(a.max), vals[0], vals[len(vals)-1])
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Errorf("empty histogram quantile, mean = %v, %v; want 0, 0", empty.quantile(0.5), empty.mean())
	}
}
