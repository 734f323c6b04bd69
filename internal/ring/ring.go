// Package ring keeps a fixed-size window of the most recent samples, such as
// acquire latencies, written by many goroutines and read by a stats reader
// without locks.
package ring

import "sync/atomic"

// Ring keeps the most recent Size() samples. It is safe for concurrent use:
// Add never blocks and Snapshot never blocks writers. The zero value is not
// usable; call New.
type Ring[T ~int64] struct {
	// n counts every Add ever made. Sample i (0-based) lives in
	// slots[i%len(slots)], so the retained samples are the last
	// min(n, len(slots)) indexes.
	n     atomic.Uint64
	slots []atomic.Int64
}

// New returns a Ring that keeps the last size samples. It panics with
// "ring: size must be positive" if size < 1.
func New[T ~int64](size int) *Ring[T] {
	if size < 1 {
		panic("ring: size must be positive")
	}
	return &Ring[T]{slots: make([]atomic.Int64, size)}
}

// Add records v, overwriting the oldest sample once the ring is full. It
// never blocks and does not allocate.
func (r *Ring[T]) Add(v T) {
	i := r.n.Add(1) - 1
	r.slots[i%uint64(len(r.slots))].Store(int64(v))
}

// Size returns the number of samples the ring retains.
func (r *Ring[T]) Size() int { return len(r.slots) }

// Count returns the number of samples ever added, including overwritten ones.
func (r *Ring[T]) Count() uint64 { return r.n.Load() }

// Snapshot appends the retained samples, min(Count(), Size()) of them, to
// dst[:0] and returns the result, oldest first. It does not allocate when
// cap(dst) >= Size().
//
// Snapshot does not stop writers, so while Adds run concurrently the result
// is approximate: a slot being rewritten may show its newer or older sample
// (so the order is not strict), and a slot whose first Add has claimed it but
// not yet stored shows 0. Without concurrent Adds the result is exact.
func (r *Ring[T]) Snapshot(dst []T) []T {
	dst = dst[:0]
	n := r.n.Load()
	size := uint64(len(r.slots))
	first := uint64(0) // index of the oldest retained sample
	if n > size {
		first = n - size
	}
	for i := first; i < n; i++ {
		dst = append(dst, T(r.slots[i%size].Load()))
	}
	return dst
}
