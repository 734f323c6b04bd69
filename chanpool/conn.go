package chanpool

import (
	"time"

	"sync/atomic"
)

// A connection's state word packs a lease generation with a state:
//
//	state = gen<<stateBits | st
//
// gen counts the leases granted so far (it is the connection's use count),
// and every Conn handle remembers the gen of its own lease. Acquire moves
// idle(g) to busy(g+1) and Release moves busy(g) back to idle(g), both with a
// compare-and-swap, so a handle whose lease has ended — released twice, a
// stale copy, a connection re-leased to someone else since — can never match
// again. This is how the pool keeps "a connection is owned by at most one
// holder" without allocating a handle per lease.
const (
	stIdle      uint64 = iota // in the idle channel, or owned by the pool in transit
	stBusy                    // leased to exactly one holder
	stReleasing               // holder handed it back; Reset is running
	stDead                    // closed or being closed; never leaves this state

	stateBits = 2
	stateMask = 1<<stateBits - 1
	genOne    = 1 << stateBits
)

// conn is the pool's record of one connection. A conn is created once per
// dial and dropped when it is closed; its address never changes hands
// between connections. Its words are chanpool's own atomic types
// (atomics.go).
type conn[T any] struct {
	state atomicUint64
	// doomed is set by the evictor when the connection is past its
	// lifetime; the next holder to touch it closes it instead of reusing it.
	doomed atomicBool
	// diedLeased is set when a forced Close closes the connection under its
	// holder, so that the holder's Release says ErrClosed, not misuse.
	diedLeased atomicBool
	// lastUsed is the Unix-nanosecond time the connection was last handed
	// back. It is stamped on every release only when health checks need it;
	// otherwise the evictor updates it when it sees the use count move.
	lastUsed atomicInt64

	// leasedAt (a Pool.leaseStamp) and stack describe the current lease when
	// it was sampled for hold time or leak detection is on (leak.go).
	leasedAt atomicInt64
	stack    atomic.Pointer[[]uintptr]

	pool    *Pool[T]
	value   T
	id      uint64
	created int64 // Unix nanoseconds
	expires int64 // Unix nanoseconds; 0 for no lifetime
	slot    int   // index in Pool.conns

	// Only the maintenance goroutine touches these.
	seenGen     uint64 // the evictor's last view of gen
	reportedGen uint64 // the last lease reported as held too long
}

func (c *conn[T]) info() ConnInfo {
	s := c.state.Load()
	return ConnInfo{
		ID:       c.id,
		Created:  time.Unix(0, c.created),
		LastUsed: time.Unix(0, c.lastUsed.Load()),
		UseCount: s >> stateBits,
		State:    State(s & stateMask),
	}
}

// view is info plus what only a debugging snapshot pays for: the current
// lease's start and stack, and ages relative to now.
func (c *conn[T]) view(now time.Time) ConnInfo {
	s := c.state.Load()
	i := c.info()
	i.Age = now.Sub(i.Created)
	if s&stateMask == stIdle {
		i.IdleFor = now.Sub(i.LastUsed)
		return i
	}
	at, stack := c.leasedAt.Load(), c.stack.Load()
	if c.state.Load() != s {
		return i // the lease ended meanwhile: its stamps may be the next one's
	}
	if at != 0 && s>>stateBits&c.pool.holdMask == 0 {
		i.LeasedAt = now.Add(-c.pool.heldFor(at))
	}
	if c.pool.set.leakThreshold > 0 {
		i.Stack = formatStack(stack)
	}
	return i
}

// Conn is a lease on one pooled connection, returned by Acquire and
// TryAcquire. It is a small value: copy it freely, but end the lease exactly
// once, with Release or Destroy. Calls on a handle whose lease has ended
// (including a copy of one) return ErrNotHeld and do not touch the
// connection, even if it has since been leased to someone else. The zero Conn
// holds nothing.
type Conn[T any] struct {
	t   *token[T]
	gen uint64
}

// token is what the idle list holds and what a Conn points to. The conn
// never points back to its token, so while a connection is leased its token
// is reachable only through the holder's handles: when the holder loses all
// of them, the token becomes unreachable and its cleanup (leak.go) returns
// the connection to the pool. One token lives as long as its connection.
type token[T any] struct {
	c *conn[T]
}

// Value returns the underlying connection. It must not be used after the
// lease ends. The zero Conn returns the zero T.
func (h Conn[T]) Value() T {
	if h.t == nil {
		var zero T
		return zero
	}
	return h.t.c.value
}

// ID returns the pooled connection's id, unique within its pool; 0 for the
// zero Conn.
func (h Conn[T]) ID() uint64 {
	if h.t == nil {
		return 0
	}
	return h.t.c.id
}

// Info returns a snapshot of the connection's bookkeeping.
func (h Conn[T]) Info() ConnInfo {
	if h.t == nil {
		return ConnInfo{}
	}
	return h.t.c.info()
}

// Release ends the lease and hands the connection back: to the
// longest-waiting caller if there is one, else to the idle list. If
// Config.Reset is set it runs first, and a failing reset destroys the
// connection instead. A connection past its lifetime, or released after the
// pool began closing, is closed instead of reused. Release returns
// ErrNotHeld, changing nothing, if this handle does not hold the lease.
func (h Conn[T]) Release() error {
	t := h.t
	if t == nil {
		return ErrNotHeld
	}
	// The common case — no Reset, no release stamp or hook, a lease not
	// sampled for hold time, a connection within its lifetime — is one
	// compare-and-swap and one channel send; the rest is releaseSlow's.
	c := t.c
	p := c.pool
	if h.gen&p.releaseMask == 0 || c.doomed.Load() {
		return p.releaseSlow(t, h.gen)
	}
	idle := h.gen << stateBits // | stIdle, which is 0
	if !c.state.CompareAndSwap(idle|stBusy, idle) {
		return p.notHeld(c, h.gen, "Release")
	}
	// put, by hand (the call cost 10 of the 565 instructions of an
	// acquire+release under callgrind), and with a plain send: the idle
	// list always has room (see Pool), so this never blocks, and it is
	// cheaper than put's non-blocking one.
	p.idle <- t
	if p.closed.Load() {
		p.drainIdle()
	}
	return nil
}

// Destroy ends the lease and closes the connection; use it when the
// connection is broken or its state unknown, so it never goes back to idle.
// The freed slot serves a waiting caller or, below MinConns, is dialed again.
// Destroy returns ErrNotHeld, changing nothing, if this handle does not hold
// the lease.
func (h Conn[T]) Destroy() error {
	if h.t == nil {
		return ErrNotHeld
	}
	return h.t.c.pool.destroyLease(h.t.c, h.gen)
}

// State is the lifecycle state of a pooled connection.
type State uint8

// States of a pooled connection.
const (
	StateIdle      State = State(stIdle)
	StateBusy      State = State(stBusy)
	StateReleasing State = State(stReleasing)
	StateClosed    State = State(stDead)
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateBusy:
		return "busy"
	case StateReleasing:
		return "releasing"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// ConnInfo describes one pooled connection, for hooks and debugging.
type ConnInfo struct {
	ID      uint64
	Created time.Time
	// LastUsed is when the connection was last released. It is exact when
	// Config.HealthCheck is set; otherwise the evictor records it to within
	// one EvictionInterval (it equals Created until the first eviction run
	// that sees the connection used).
	LastUsed time.Time
	// UseCount is how many times the connection has been leased.
	UseCount uint64
	State    State
	// LeasedAt is when the current lease began (zero when idle): always
	// known when Config.LeakThreshold is set, otherwise only for the
	// leases sampled for Stats.HoldTime.
	LeasedAt time.Time
	// Stack is where the current lease was acquired, when
	// Config.LeakThreshold is set.
	Stack string

	// Age and IdleFor are relative to the moment Pool.Conns ran (zero in
	// hooks). IdleFor is zero for a leased connection.
	Age, IdleFor time.Duration
}

// CloseReason says why a connection was closed.
type CloseReason uint8

// Reasons a connection is closed.
const (
	ReasonIdle       CloseReason = iota // surplus to the load for IdleTimeout
	ReasonLifetime                      // past MaxLifetime
	ReasonHealth                        // HealthCheck failed
	ReasonReset                         // Reset failed
	ReasonDestroy                       // the holder called Destroy
	ReasonPoolClosed                    // the pool closed
	ReasonLeaked                        // the holder lost its handle without ending the lease
	numReasons
)

func (r CloseReason) String() string {
	switch r {
	case ReasonIdle:
		return "idle"
	case ReasonLifetime:
		return "lifetime"
	case ReasonHealth:
		return "health"
	case ReasonReset:
		return "reset"
	case ReasonDestroy:
		return "destroy"
	case ReasonPoolClosed:
		return "pool_closed"
	case ReasonLeaked:
		return "leaked"
	}
	return "unknown"
}
