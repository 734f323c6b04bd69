package chanpool

import (
	"time"

	"sync/atomic"
)

// counters are the pool's cumulative statistics. They are written off the
// acquire/release fast path (a fast acquire or release is counted in its
// connection's own state word instead, see state.go).
type counters struct {
	created, destroyed atomic.Uint64
	deadAcquired       atomic.Uint64 // leases granted on connections since closed
	destroyedBusy      atomic.Uint64 // leases ended by Destroy or a forced Close
	closedBy           [numReasons]atomic.Uint64
	timeouts           atomic.Uint64
	canceled           atomic.Uint64
	exhausted          atomic.Uint64
	dialErrors         atomic.Uint64
	closeErrors        atomic.Uint64
	misuse             atomic.Uint64
	breakerTrips       atomic.Uint64
	heldTooLong        atomic.Uint64
	resets             atomic.Uint64
}

// Stats is a snapshot of a pool's state and counters. Each field is read
// atomically, but not all at one instant: under load they may disagree by the
// operations in flight while Stats ran. At rest they add up exactly:
// Acquired = Released + DestroyedBusy + Busy and Created = Destroyed + Total -
// Dialing.
type Stats struct {
	MaxConns int // Config.MaxConns in force
	MinConns int // Config.MinConns in force

	Total   int // open (closing included) connections plus dials in flight (≤ MaxConns)
	Idle    int // connections in the idle list
	Busy    int // connections leased to callers
	Dialing int // dials in flight
	Waiting int // callers waiting for a connection now
	// Checking is the connections taken from the idle list that a health
	// check runs on now, and Closing those whose Config.Close runs now.
	// Both count in Total: a closing connection holds its place under
	// MaxConns until its close returns.
	Checking, Closing int

	Acquired      uint64 // leases granted
	Released      uint64 // leases ended by Release
	DestroyedBusy uint64 // leases ended by Destroy or by a forced Close
	Created       uint64 // connections dialed successfully
	Destroyed     uint64 // connections closed or closing, for any reason, or detached (Conn.Detach)

	Closed CloseCounts // Destroyed, by reason

	Timeouts    uint64 // Acquire calls that failed with ErrAcquireTimeout
	Canceled    uint64 // Acquire calls ended by their context while waiting
	Exhausted   uint64 // Acquire calls rejected with ErrExhausted
	DialErrors  uint64 // failed dials
	CloseErrors uint64 // Config.Close calls that failed or panicked
	Misuse      uint64 // Release or Destroy through a handle not holding the lease

	BreakerOpen  bool   // the dial breaker is open now (see ErrBreakerOpen)
	BreakerTrips uint64 // times the dial breaker opened
	HeldTooLong  uint64 // leases reported for outliving Config.LeakThreshold
	Resets       uint64 // Pool.Reset calls

	// Waited counts the acquires that found no idle connection and had to
	// wait for a release or a dial. Acquires served from the idle list do
	// not wait and are not timed: timing them would double the cost of the
	// fast path (a clock read costs more than the acquire itself).
	Waited uint64
	// AvgAcquire is the total time spent waiting divided by Acquired: the
	// average over all acquires, those that did not wait counting as zero.
	AvgAcquire time.Duration
	// AcquireWait is the distribution of the most recent waits, over the
	// acquires counted in Waited.
	AcquireWait Latency
	// HoldTime is the distribution of recent lease durations, acquire to
	// release. It is sampled: one lease in 64 per connection is timed (every
	// lease when Config.LeakThreshold is set, or Config.Tracer is a
	// LeaseTracer).
	HoldTime Latency
	// DialTime is the distribution of recent successful dials.
	DialTime Latency
}

// CloseCounts counts closed connections by CloseReason.
type CloseCounts struct {
	Idle, Lifetime, Health, Reset, Destroy, PoolClosed, Leaked uint64
	// Resize counts the surplus closed after Pool.SetMaxConns lowered
	// MaxConns, and PoolReset the connections Pool.Reset retired.
	Resize, PoolReset uint64
	// Keepalive counts idle connections that failed a keepalive ping.
	Keepalive uint64
	// GroupCap counts connections closed to make room for another key
	// under a Group's cap.
	GroupCap uint64
	// Detached counts the connections Conn.Detach took out of the pool:
	// gone from it, but not closed by it.
	Detached uint64
}

// CloseReasons returns every CloseReason, in order: for exporting
// CloseCounts by reason (see CloseCounts.Of).
func CloseReasons() []CloseReason {
	rs := make([]CloseReason, numReasons)
	for i := range rs {
		rs[i] = CloseReason(i)
	}
	return rs
}

// Of returns the count for reason r, and 0 for a value that is no
// CloseReason.
func (c CloseCounts) Of(r CloseReason) uint64 {
	switch r {
	case ReasonIdle:
		return c.Idle
	case ReasonLifetime:
		return c.Lifetime
	case ReasonHealth:
		return c.Health
	case ReasonReset:
		return c.Reset
	case ReasonDestroy:
		return c.Destroy
	case ReasonPoolClosed:
		return c.PoolClosed
	case ReasonLeaked:
		return c.Leaked
	case ReasonResize:
		return c.Resize
	case ReasonPoolReset:
		return c.PoolReset
	case ReasonKeepalive:
		return c.Keepalive
	case ReasonGroupCap:
		return c.GroupCap
	case ReasonDetached:
		return c.Detached
	}
	return 0
}

// Stats returns a snapshot of the pool's statistics. It reads atomics only:
// it never blocks and never slows acquirers. It allocates a sample buffer.
func (p *Pool[T]) Stats() Stats {
	s := Stats{
		MaxConns: int(p.maxConns.Load()),
		MinConns: int(p.minConns.Load()),
		Idle:     p.idleLen(),
		Dialing:  int(p.dialing.Load()),
		Waiting:  int(p.waiting.Load()),
		Checking: int(p.checking.Load()),
		Closing:  int(p.closes.Load()),
	}
	// Sum the live connections' state words first, then the counters of the
	// dead ones: a connection closed in between is then missed, not counted
	// twice.
	var acquired uint64
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		st := c.state.Load()
		acquired += genOf(st)
		if m := stOf(st); m == stBusy || m == stReleasing {
			s.Busy++
		}
	}
	s.Total = int(p.open.Load())
	s.DestroyedBusy = p.st.destroyedBusy.Load()
	s.Acquired = acquired + p.st.deadAcquired.Load()
	s.Released = sub(s.Acquired, s.DestroyedBusy+uint64(s.Busy))
	s.Created = p.st.created.Load()
	s.Destroyed = p.st.destroyed.Load()
	s.Closed = CloseCounts{
		Idle:       p.st.closedBy[ReasonIdle].Load(),
		Lifetime:   p.st.closedBy[ReasonLifetime].Load(),
		Health:     p.st.closedBy[ReasonHealth].Load(),
		Reset:      p.st.closedBy[ReasonReset].Load(),
		Destroy:    p.st.closedBy[ReasonDestroy].Load(),
		PoolClosed: p.st.closedBy[ReasonPoolClosed].Load(),
		Leaked:     p.st.closedBy[ReasonLeaked].Load(),
		Resize:     p.st.closedBy[ReasonResize].Load(),
		PoolReset:  p.st.closedBy[ReasonPoolReset].Load(),
		Keepalive:  p.st.closedBy[ReasonKeepalive].Load(),
		GroupCap:   p.st.closedBy[ReasonGroupCap].Load(),
		Detached:   p.st.closedBy[ReasonDetached].Load(),
	}
	s.Timeouts = p.st.timeouts.Load()
	s.Canceled = p.st.canceled.Load()
	s.Exhausted = p.st.exhausted.Load()
	s.DialErrors = p.st.dialErrors.Load()
	s.CloseErrors = p.st.closeErrors.Load()
	s.Misuse = p.st.misuse.Load()
	s.BreakerOpen = p.breakerOpen.Load()
	s.BreakerTrips = p.st.breakerTrips.Load()
	s.HeldTooLong = p.st.heldTooLong.Load()
	s.Resets = p.st.resets.Load()
	buf := make([]time.Duration, 0, latencySamples)
	s.AcquireWait = p.waits.snapshot(buf)
	s.HoldTime = p.holds.snapshot(buf)
	s.DialTime = p.dials.snapshot(buf)
	s.Waited = s.AcquireWait.Count
	if s.Acquired > 0 {
		s.AvgAcquire = s.AcquireWait.Sum / time.Duration(s.Acquired)
	}
	return s
}

// sub is a - b, floored at 0 (fields read at different instants may cross).
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
