package chanpool

import "github.com/chanpool/chanpool/internal/clock"

// NewWithClock is New on the given clock, for tests.
func NewWithClock[T any](cfg Config[T], c clock.Clock) (*Pool[T], error) {
	return newPool(cfg, c)
}

// SampleEveryHold makes the pool time every lease, not one in 64.
func SampleEveryHold[T any](p *Pool[T]) { p.holdMask, p.leaseMask, p.releaseMask = 0, 0, 0 }

// The latency histogram's bucket function and bounds.
var BucketOf = bucketOf

const (
	NumBounds       = numBounds
	FirstBoundShift = firstBoundShift
)

// SignalOut reports whether the wake-up signal is in the idle list (or on
// its way through it).
func SignalOut[T any](p *Pool[T]) bool { return p.signal.Load() }

// NewGroupWithClock is NewGroup on the given clock, for tests.
func NewGroupWithClock[K comparable, T any](cfg GroupConfig[K, T], c clock.Clock) (*Group[K, T], error) {
	return newGroup(cfg, c)
}
