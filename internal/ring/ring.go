// Package ring provides a fixed-size, lock-free window of the most recent
// samples, written by many goroutines and read without blocking them.
package ring

import "sync/atomic"

// Ring keeps the most recent Size() samples added to it. It is safe for
// concurrent use; Add never blocks and never allocates. A Snapshot taken
// while writers are active may include a slot that is being overwritten,
// holding either its old or its new sample.
type Ring[T ~int64] struct {
	buf  []atomic.Int64
	next atomic.Uint64 // samples ever added; the next write goes to next % len(buf)
}

// New returns a Ring that keeps size samples. It panics if size < 1.
func New[T ~int64](size int) *Ring[T] {
	if size < 1 {
		panic("ring: size must be positive")
	}
	return &Ring[T]{buf: make([]atomic.Int64, size)}
}

// Add records v, overwriting the oldest sample once the ring is full.
func (r *Ring[T]) Add(v T) {
	i := r.next.Add(1) - 1
	r.buf[i%uint64(len(r.buf))].Store(int64(v))
}

// Size returns how many samples the ring keeps.
func (r *Ring[T]) Size() int { return len(r.buf) }

// Count returns how many samples were ever added.
func (r *Ring[T]) Count() uint64 { return r.next.Load() }

// Snapshot appends the retained samples, min(Count, Size) of them, oldest
// first, to dst[:0] and returns the result. It allocates only if dst has
// less capacity than Size.
func (r *Ring[T]) Snapshot(dst []T) []T {
	dst = dst[:0]
	n := r.next.Load()
	size := uint64(len(r.buf))
	start := uint64(0)
	if n > size {
		start = n - size
	}
	for i := start; i < n; i++ {
		dst = append(dst, T(r.buf[i%size].Load()))
	}
	return dst
}
