package chanpool

import (
	"context"
	"time"
)

// Tracing: an event per acquire, with the caller's context, and one per
// lease end, with the hold time. A traced acquire+release reads the clock
// three times: at the acquire's start and end, and at the release.

// Tracer observes acquires and the ends of leases, for tracing: a span per
// acquire that hangs off the caller's trace, say. Set Config.Tracer to use
// one; a nil Tracer costs Acquire one comparison and Release nothing. The
// methods run synchronously on the caller's goroutine, on every acquire and
// every release, so they must be fast and must not call back into the
// pool's blocking methods. A Tracer that allocates nothing costs the pool
// no allocation. To use several, compose them with Tracers.
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
	// LeaseEnd is called when a lease ends with Release or Destroy.
	LeaseEnd(e LeaseEvent)
}

// AcquireEvent is what a Tracer learns of an acquire that returned.
type AcquireEvent struct {
	// Conn is the connection leased; the zero ConnInfo if Err is set.
	Conn ConnInfo
	// Waited says no idle connection was usable at once: the acquire
	// dialed, queued, waited for a health check, or was turned away.
	Waited bool
	// Wait is how long the acquire took, from AcquireStart to AcquireEnd.
	Wait time.Duration
	// Err is the error the caller got: ErrAcquireTimeout, a context's
	// error, ErrExhausted, ErrNoIdle, ErrBreakerOpen, an ErrDial error or
	// ErrClosed.
	Err error
}

// LeaseEvent is what a Tracer learns of a lease that ended.
type LeaseEvent struct {
	Conn ConnInfo
	// Held is how long the lease lasted.
	Held time.Duration
	// Destroyed says the lease ended with Destroy, not Release.
	Destroyed bool
}

// Tracers returns a Tracer that calls each of ts in turn: AcquireStart
// threads the context through them in order, so each may add its own
// values, and AcquireEnd gives every one the final context. Nil entries are
// skipped; with none left, Tracers returns nil.
func Tracers(ts ...Tracer) Tracer {
	var m multiTracer
	for _, t := range ts {
		if t != nil {
			m = append(m, t)
		}
	}
	switch len(m) {
	case 0:
		return nil
	case 1:
		return m[0]
	}
	return m
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

func (m multiTracer) LeaseEnd(e LeaseEvent) {
	for _, t := range m {
		t.LeaseEnd(e)
	}
}

// acquireTraced is Acquire (or TryAcquire, with try) with Config.Tracer set.
func (p *Pool[T]) acquireTraced(ctx context.Context, try bool) (Conn[T], error) {
	tr := p.cfg.Tracer
	ctx = tr.AcquireStart(ctx)
	start := p.clock.Mono()
	var h Conn[T]
	var err error
	waited := true
	switch {
	case p.closed.Load():
		err = ErrClosed
	case try:
		h, err = p.tryAcquire(ctx)
		waited = err != nil
	case !alive(ctx):
		err = p.ctxErr(ctx)
	default:
		var chk *dialReq[T]
		var ok bool
		if h, ok = p.takeIdle(ctx, &chk); ok {
			waited = false
		} else {
			h, err = p.acquireSlow(ctx, false, chk)
		}
	}
	end := p.clock.Mono()
	e := AcquireEvent{Waited: waited, Wait: end - start, Err: err}
	if err == nil {
		c := h.t.c
		// The lease's start, for LeaseEnd's hold time, from the clock read
		// the acquire's end needed anyway (a sampled lease is stamped
		// already, to the same effect).
		c.leasedAt.Store(int64(end) + 1)
		e.Conn = c.info()
	}
	tr.AcquireEnd(ctx, e)
	return h, err
}

// traceLeaseEnd tells Config.Tracer that c's lease, stamped at its start
// by acquireTraced, ended. Its hold time is known anyway, so a traced pool
// records every released lease in Stats.HoldTime, not one in holdSampling.
func (p *Pool[T]) traceLeaseEnd(c *conn[T], destroyed bool) {
	var held time.Duration
	if at := c.leasedAt.Load(); at != 0 {
		held = p.heldFor(at)
		if !destroyed {
			p.holds.add(held)
		}
	}
	p.cfg.Tracer.LeaseEnd(LeaseEvent{Conn: c.info(), Held: held, Destroyed: destroyed})
}
