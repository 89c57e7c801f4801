package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts latencies in microseconds in log-linear buckets (16 per
// power of two, so a quantile is within ~6% of the true value). Counters
// are atomic: every receiver goroutine records into the same histogram.
type histogram struct {
	counts [1024]atomic.Uint64
	max    atomic.Uint64
	n      atomic.Uint64
}

const subBits = 5 // values below 1<<subBits µs are exact

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return shift<<(subBits-1) + int(v>>shift)
}

// bucketHigh is the largest value that falls in bucket b.
func bucketHigh(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	shift := b>>(subBits-1) - 1
	top := uint64(b&(1<<(subBits-1)-1) + 1<<(subBits-1))
	return (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	b := min(bucketOf(v), len(h.counts)-1)
	h.counts[b].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// quantile returns the q-quantile (0..1), rounded up to its bucket's top.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			return time.Duration(min(bucketHigh(b), h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

func (h *histogram) maxValue() time.Duration {
	return time.Duration(h.max.Load()) * time.Microsecond
}
