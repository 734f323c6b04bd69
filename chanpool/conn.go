package chanpool

import (
	"sync/atomic"
	"time"
)

// The pool's record of one connection, and Conn, the lease handle that
// users hold.

// conn is the pool's record of one connection. A conn is created once per
// dial and dropped when it is closed; its address never changes hands
// between connections. Its words are chanpool's own atomic types
// (atomics.go).
type conn[T any] struct {
	state atomicUint64
	// doomed says that the next goroutine to hold the connection idle (an
	// acquirer, a releaser, the evictor) must ask mustClose whether to
	// close it instead of reusing it, and doomReason (a CloseReason plus
	// one) says why: past its lifetime, retired by Pool.Reset, or surplus
	// to a lowered MaxConns (doom).
	doomed     atomicBool
	doomReason atomicUint32
	shed       bool       // closing as surplus to a shrink (mustClose); read by retire's goroutine
	groupShed  atomicBool // closing to make room under a Group's cap (mustClose); read by retire's goroutine
	replace    bool       // failed a keepalive: dial a replacement once closed (runCheck)
	// pinged is when the connection last passed a keepalive (Unix
	// nanoseconds, coarse clock), and keepJitter how much sooner than
	// KeepaliveInterval its pings are due, drawn once at dial.
	pinged     atomicInt64
	keepJitter int64
	pingOut    atomicBool // taken off the idle list for a keepalive ping
	// diedLeased is set when a forced Close closes the connection under its
	// holder, so that the holder's Release says ErrClosed, not misuse.
	diedLeased atomicBool
	// tickGen and idleTicks are the coarse clock's view of the connection
	// (now.go): its generation at the last tick, and the ticks in a row it
	// has been idle at.
	tickGen   uint64
	idleTicks atomicInt64
	// lastUsed is the Unix-nanosecond time the connection was last handed
	// back, to within a tick of the coarse clock when it ticks (now.go), or
	// else to within an EvictionInterval: the evictor updates it when it
	// sees the use count move.
	lastUsed atomicInt64

	// leasedAt (a Pool.leaseStamp) and stack describe the current lease when
	// it was sampled for hold time or leak detection is on (sampling.go).
	leasedAt atomicInt64
	stack    atomic.Pointer[[]uintptr]

	pool    *Pool[T]
	value   T
	rctx    *resetCtx // Reset's context, reused while untouched (resetctx.go)
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
		UseCount: genOf(s),
		State:    State(stOf(s)),
	}
}

// view is info plus what only a debugging snapshot pays for: the current
// lease's start and stack, and ages relative to now.
func (c *conn[T]) view(now time.Time) ConnInfo {
	s := c.state.Load()
	i := c.info()
	i.Age = now.Sub(i.Created)
	if stOf(s) == stIdle {
		i.IdleFor = now.Sub(i.LastUsed)
		return i
	}
	at, stack := c.leasedAt.Load(), c.stack.Load()
	if c.state.Load() != s {
		return i // the lease ended meanwhile: its stamps may be the next one's
	}
	if at != 0 && genOf(s)&c.pool.holdMask == 0 {
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
