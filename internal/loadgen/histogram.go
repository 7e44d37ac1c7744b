package loadgen

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets, as HdrHistogram does:
// values below 2^subBits nanoseconds each have a bucket, and every power of
// two above is split into 2^(subBits-1) buckets, so that a value is known to
// within 1/128 (0.8%) of itself. It covers up to about 2^48 ns (3 days); longer
// values land in the last bucket. The zero value is ready; it is not safe
// for concurrent use: each connection keeps its own and they are merged.
type histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds
	max    uint64
	min    uint64
}

const (
	subBits  = 8                  // 256 linear buckets, then 128 per power of two
	half     = 1 << (subBits - 1) // buckets per power of two
	maxShift = 40
	nBuckets = (maxShift + 2) * half
)

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	shift := bits.Len64(v) - subBits
	if shift <= 0 {
		return int(v)
	}
	if shift > maxShift {
		return nBuckets - 1
	}
	return shift*half + int(v>>uint(shift))
}

// lowOf returns the smallest value of bucket i, and the width of the bucket.
func lowOf(i int) (low, width uint64) {
	if i < 2*half {
		return uint64(i), 1
	}
	shift := uint(i/half - 1)
	m := uint64(i%half + half)
	return m << shift, 1 << shift
}

// record adds one latency.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += v
	if v > h.max {
		h.max = v
	}
	if h.n == 1 || v < h.min {
		h.min = v
	}
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q (0..1) of the
// recorded values lie: the middle of the bucket holding the value of rank
// ceil(q*n), clamped to the recorded maximum. It returns 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := lowOf(i)
			return time.Duration(min(low+width/2, h.max))
		}
	}
	return time.Duration(h.max)
}

// mean returns the average latency, 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
