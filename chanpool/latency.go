package chanpool

import (
	"math/bits"
	"slices"
	"time"

	"sync/atomic"

	"github.com/chanpool/chanpool/internal/ring"
)

// latencySamples is how many recent samples each Stats latency covers.
const latencySamples = 1024

// Bucket bounds of the latency histograms: powers of two from 2^10 ns
// (1.024 µs) to 2^36 ns (68.7 s). Samples above the last bound count only in
// Latency.Count and Sum.
const (
	firstBoundShift = 10
	numBounds       = 27
)

// recorder keeps one latency two ways: a window of the most recent samples,
// for exact quantiles of what is happening now (internal/ring), and
// cumulative power-of-two buckets with a running sum, which add up across
// scrapes and across processes (a Prometheus histogram). Recording is an
// atomic store and three atomic adds; it never blocks and never allocates.
type recorder struct {
	recent  *ring.Ring[time.Duration]
	sum     atomic.Int64
	buckets [numBounds + 1]atomic.Uint64 // the last one counts overflow
}

func newRecorder() *recorder {
	return &recorder{recent: ring.New[time.Duration](latencySamples)}
}

func (r *recorder) add(d time.Duration) {
	r.recent.Add(d)
	r.sum.Add(int64(d))
	r.buckets[bucketOf(d)].Add(1)
}

// count is how many samples were ever recorded.
func (r *recorder) count() uint64 { return r.recent.Count() }

// bucketOf returns the index of the smallest bound d does not exceed.
func bucketOf(d time.Duration) int {
	if d <= 1<<firstBoundShift {
		return 0
	}
	return min(bits.Len64(uint64(d-1))-firstBoundShift, numBounds)
}

// Latency describes one duration the pool measures: the distribution of
// its most recent samples (up to 1024), and cumulative counts since the pool
// was made.
type Latency struct {
	Count uint64        // samples ever recorded
	Sum   time.Duration // their total

	// Quantiles of the samples in the recent window.
	Samples int // samples in the window
	P50     time.Duration
	P90     time.Duration
	P99     time.Duration
	P999    time.Duration
	Max     time.Duration

	// Buckets are cumulative over all samples ever: Buckets[i].Count of
	// them took at most Buckets[i].Le. The bounds are the powers of two
	// from 1.024 µs to 68.7 s; samples above the last count only in Count.
	Buckets []Bucket
}

// Bucket is one cumulative histogram bucket of a Latency.
type Bucket struct {
	Le    time.Duration
	Count uint64
}

// snapshot summarizes r; buf is scratch space for the window's samples.
func (r *recorder) snapshot(buf []time.Duration) Latency {
	samples := r.recent.Snapshot(buf)
	slices.Sort(samples)
	l := Latency{
		Count:   r.count(),
		Sum:     time.Duration(r.sum.Load()),
		Samples: len(samples),
		P50:     ring.Quantile(samples, 0.50),
		P90:     ring.Quantile(samples, 0.90),
		P99:     ring.Quantile(samples, 0.99),
		P999:    ring.Quantile(samples, 0.999),
		Max:     ring.Quantile(samples, 1),
		Buckets: make([]Bucket, numBounds),
	}
	var cum uint64
	for i := range l.Buckets {
		cum += r.buckets[i].Load()
		l.Buckets[i] = Bucket{Le: 1 << (firstBoundShift + i), Count: cum}
	}
	return l
}
