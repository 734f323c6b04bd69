package chanpool

import (
	"runtime"
	"time"
)

// Hold-time sampling: how long leases last, for Stats.HoldTime, and when
// each lease began, for Conns and leak detection.

// holdSampling: one lease in holdSampling per connection has its hold time
// measured. A clock read costs more than a whole acquire+release, so timing
// every lease would make the clock the larger part of the fast path.
const holdSampling = 64

// stampLease records when (and, with leak detection, from where) c is being
// leased. It runs before the compare-and-swap that publishes the lease, so a
// reader that sees the lease sees its stamp.
func (p *Pool[T]) stampLease(c *conn[T]) {
	c.leasedAt.Store(p.leaseStamp())
	if p.set.leakThreshold > 0 {
		pcs := make([]uintptr, 32)
		pcs = pcs[:runtime.Callers(4, pcs)] // skip Callers, stampLease, lease, Acquire
		c.stack.Store(&pcs)
	}
}

// leaseStamp is the value of conn.leasedAt for a lease starting now: the
// monotonic clock (one clock read, where the wall clock costs two), plus one
// so that 0 stays "not stamped" even at the fake clock's origin.
func (p *Pool[T]) leaseStamp() int64 { return int64(p.clock.Mono()) + 1 }

// heldFor is how long ago the lease stamped at was stamped.
func (p *Pool[T]) heldFor(at int64) time.Duration {
	return p.clock.Mono() - time.Duration(at-1)
}

// recordHold adds the hold time of c's ending lease, which was stamped.
func (p *Pool[T]) recordHold(c *conn[T]) {
	if at := c.leasedAt.Load(); at != 0 {
		p.holds.add(p.heldFor(at))
	}
}
