package chanpool

import (
	"context"
	"time"
)

// Tracing: an event per acquire, with the caller's context, and, for a
// Tracer that is also a LeaseTracer, one per lease end with its hold time.
// A clock read costs about as much as a whole acquire+release, so the
// events carry no time the pool did not need anyway: an acquire served at
// once from the idle list reads no clock, one that waits reads it at the
// wait's start and end, and only a LeaseTracer makes every lease timed, at
// one read at each end (DESIGN.md, "A Tracer that costs the fast path
// nothing").

// Tracer observes acquires, for tracing: a span per acquire that hangs off
// the caller's trace, say. Set Config.Tracer to use one; a nil Tracer costs
// Acquire one comparison and Release nothing. The methods run synchronously
// on the caller's goroutine, on every acquire, so they must be fast and
// must not call back into the pool's blocking methods. A Tracer that
// allocates nothing costs the pool no allocation. A Tracer that also
// implements LeaseTracer is told of the end of every lease, with its hold
// time. To use several, compose them with Tracers.
type Tracer interface {
	// AcquireStart is called when Acquire or TryAcquire begins, with the
	// caller's context. The context it returns is the one the acquire
	// goes on with (a health check gets its values) and the one
	// AcquireEnd gets: return ctx itself to add nothing, or a context that
	// carries a span.
	AcquireStart(ctx context.Context) context.Context
	// AcquireEnd is called when the acquire returns, with AcquireStart's
	// context and what happened.
	AcquireEnd(ctx context.Context, e AcquireEvent)
}

// LeaseTracer is implemented by a Tracer that wants to know when each lease
// ends and how long it lasted. A pool whose Tracer implements it times
// every lease, which costs an acquire served at once from the idle list
// and its release two clock reads that tracing them would otherwise not
// make, and its releases take the pool's slower path. A Tracer that does
// not implement it costs Release nothing, and Stats.HoldTime samples
// leases as it does without a Tracer.
type LeaseTracer interface {
	// LeaseEnd is called when a lease ends with Release or Destroy, on the
	// goroutine that ends it, before Config.Reset runs on the connection.
	LeaseEnd(e LeaseEvent)
}

// AcquireEvent is what a Tracer learns of an acquire that returned.
type AcquireEvent struct {
	// Conn is the connection leased; the zero ConnInfo if Err is set.
	Conn ConnInfo
	// Waited says the acquire was not served at once from the idle list:
	// it dialed, queued, waited for a health check, or failed.
	Waited bool
	// Wait is how long the acquire waited, on the pool's monotonic clock:
	// from the moment the idle list had no connection usable at once to
	// the acquire's end. It is 0 when Waited is false (tracing such an
	// acquire reads no clock), and when the acquire failed without
	// waiting: a TryAcquire (which never waits), a closed pool, a context
	// already done.
	Wait time.Duration
	// Err is the error the caller got: ErrAcquireTimeout, a context's
	// error, ErrExhausted, ErrNoIdle, ErrBreakerOpen, an ErrDial error or
	// ErrClosed.
	Err error
}

// LeaseEvent is what a LeaseTracer learns of a lease that ended.
type LeaseEvent struct {
	Conn ConnInfo
	// Held is how long the lease lasted, on the pool's monotonic clock:
	// from its start to the Release or Destroy call. A lease starts at
	// the end of the acquire's Wait when the acquire waited, and when the
	// connection was taken from the idle list when it did not.
	Held time.Duration
	// Destroyed says the lease ended with Destroy, not Release.
	Destroyed bool
}

// Tracers returns a Tracer that calls each of ts in turn: AcquireStart
// threads the context through them in order, so each may add its own
// values, and AcquireEnd gives every one the final context. It is a
// LeaseTracer, calling the LeaseEnd of those of ts that have one, only if
// one of ts is: composing Tracers that do not time leases costs nothing
// more than each of them. Nil entries are skipped; with none left, Tracers
// returns nil, and with one, that one.
func Tracers(ts ...Tracer) Tracer {
	var m multiTracer
	var leases []LeaseTracer
	for _, t := range ts {
		if t == nil {
			continue
		}
		m = append(m, t)
		if l, ok := t.(LeaseTracer); ok {
			leases = append(leases, l)
		}
	}
	switch {
	case len(m) == 0:
		return nil
	case len(m) == 1:
		return m[0]
	case len(leases) == 0:
		return m
	}
	return multiLeaseTracer{m, leases}
}

type multiTracer []Tracer

func (m multiTracer) AcquireStart(ctx context.Context) context.Context {
	for _, t := range m {
		ctx = t.AcquireStart(ctx)
	}
	return ctx
}

func (m multiTracer) AcquireEnd(ctx context.Context, e AcquireEvent) {
	for _, t := range m {
		t.AcquireEnd(ctx, e)
	}
}

// multiLeaseTracer is a multiTracer of which some are LeaseTracers.
type multiLeaseTracer struct {
	multiTracer
	leases []LeaseTracer
}

func (m multiLeaseTracer) LeaseEnd(e LeaseEvent) {
	for _, t := range m.leases {
		t.LeaseEnd(e)
	}
}

// acquireTraced is Acquire (or TryAcquire, with try) with Config.Tracer set.
// It reads the clock only for an acquire that waits, and, for a
// LeaseTracer, once to stamp a lease that did not wait.
func (p *Pool[T]) acquireTraced(ctx context.Context, try bool) (Conn[T], error) {
	tr := p.cfg.Tracer
	ctx = tr.AcquireStart(ctx)
	var h Conn[T]
	var e AcquireEvent
	switch {
	case p.closed.Load():
		e.Err = ErrClosed
	case try:
		h, e.Err = p.tryAcquire(ctx)
	case !alive(ctx):
		e.Err = p.ctxErr(ctx)
	default:
		var chk *dialReq[T]
		var ok bool
		if h, ok = p.takeIdle(ctx, &chk); ok {
			break
		}
		start := p.clock.Mono()
		h, e.Err = p.acquireSlow(ctx, false, chk)
		end := p.clock.Mono()
		e.Waited, e.Wait = true, end-start
		if e.Err == nil && p.leaseTracer != nil {
			// The lease's start, for LeaseEnd, from the read the wait's
			// end needed anyway.
			h.t.c.leasedAt.Store(int64(end) + 1)
		}
	}
	if e.Err != nil {
		e.Waited = true
	} else {
		c := h.t.c
		if p.leaseTracer != nil && !e.Waited {
			c.leasedAt.Store(p.leaseStamp())
		}
		e.Conn = c.info()
	}
	tr.AcquireEnd(ctx, e)
	return h, e.Err
}

// traceLeaseEnd tells the LeaseTracer that c's lease, stamped at its start
// by acquireTraced, ended. Its hold time is known anyway, so a pool with a
// LeaseTracer records every released lease in Stats.HoldTime, not one in
// holdSampling.
func (p *Pool[T]) traceLeaseEnd(c *conn[T], destroyed bool) {
	var held time.Duration
	if at := c.leasedAt.Load(); at != 0 {
		held = p.heldFor(at)
		if !destroyed {
			p.holds.add(held)
		}
	}
	p.leaseTracer.LeaseEnd(LeaseEvent{Conn: c.info(), Held: held, Destroyed: destroyed})
}
