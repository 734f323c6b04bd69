package chanpool

import (
	"context"

	"github.com/chanpool/chanpool/internal/clock"
)

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

// HotID is the id of the connection in the hot slot, or 0 if it is empty.
func HotID[T any](p *Pool[T]) uint64 {
	if v := p.hot.Load(); v != 0 {
		return p.hotToks[v-1].c.id
	}
	return 0
}

// ParkStalled ends h's lease as Release's fast path does, up to parking the
// connection in the hot slot, as a releaser would that read the waiter count
// before a caller began waiting and was preempted right after its
// compare-and-swap. It parks whatever the count says now, and returns the
// releaser's second half (parked), for the test to run when it likes.
func ParkStalled[T any](h Conn[T]) (rest func(), ok bool) {
	t := h.t
	p := t.c.pool
	idle := h.gen << stateBits
	if !t.c.state.CompareAndSwap(idle|stBusy, idle) {
		return nil, false
	}
	i := t.c.slot
	p.hotToks[i] = t
	if old := p.hot.Swap(uint64(i) + 1); old != 0 {
		p.displaced(old)
	}
	return p.parked, true
}

// QueueUnlooked is Acquire from the point where it found nothing idle: it
// dials or queues without looking at the hot slot or the idle list, as a
// caller does that looked just before a connection was parked.
func QueueUnlooked[T any](ctx context.Context, p *Pool[T]) (Conn[T], error) {
	return p.acquireNew(ctx, p.clock.Mono(), p.set.acquireTimeout)
}
