package ring_test

import (
	"math/bits"
	"sync/atomic"
	"testing"

	"github.com/chanpool/chanpool/internal/ring"
)

// logHistogram is the alternative the ring was chosen over: one atomic
// counter per power-of-two bucket. It is here only to be measured against
// Ring.Add (BenchmarkRecord): the pool records a sample on every wait and on
// sampled releases, so the cheaper of the two belongs there.
type logHistogram struct {
	buckets [64]atomic.Uint64
}

func (h *logHistogram) add(v int64) {
	h.buckets[bits.Len64(uint64(v))].Add(1)
}

// BenchmarkRecord compares the cost of recording one latency sample in the
// ring (what the pool uses) and in a log-bucket histogram, serially and from
// all processors at once.
func BenchmarkRecord(b *testing.B) {
	v := int64(123_456) // a 123 µs wait
	b.Run("kind=ring/mode=serial", func(b *testing.B) {
		r := ring.New[int64](1024)
		for b.Loop() {
			r.Add(v)
		}
	})
	b.Run("kind=loghist/mode=serial", func(b *testing.B) {
		var h logHistogram
		for b.Loop() {
			h.add(v)
		}
	})
	b.Run("kind=ring/mode=parallel", func(b *testing.B) {
		r := ring.New[int64](1024)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Add(v)
			}
		})
	})
	b.Run("kind=loghist/mode=parallel", func(b *testing.B) {
		var h logHistogram
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.add(v)
			}
		})
	})
}
