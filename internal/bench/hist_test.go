package bench

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v++ {
		b := bucketOf(v)
		if b < prev || b > prev+1 {
			t.Fatalf("bucketOf(%d) = %d after %d: buckets must be contiguous", v, b, prev)
		}
		if v > bucketHigh(b) || (b > 0 && v <= bucketHigh(b-1)) {
			t.Fatalf("v=%d in bucket %d with top %d (previous top %d)", v, b, bucketHigh(b), bucketHigh(b-1))
		}
		prev = b
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.07 {
			t.Errorf("quantile(%v) = %v, want %v within 7%%", tc.q, got, tc.want)
		}
	}
	if h.maxValue() != time.Second {
		t.Errorf("max = %v", h.maxValue())
	}
}
