package chanpool

import (
	"context"
)

// Handing connections over in bulk or for good: Pool.AcquireAllIdle and
// Conn.Detach.

// AcquireAllIdle leases every connection that is idle at the call, the
// hot slot's included, and returns them: for a caller's own keepalive or
// maintenance pass over the pool's idle connections. It never dials, never
// waits and never blocks. On the way it treats each connection as Acquire
// would: one past its lifetime or failing Config.Alive is closed, and one
// due a health check is checked in the background, with ctx's values, and
// left out (it goes back to idle if it passes). Callers waiting for a
// connection lose nothing to it: while anyone waits, released connections
// go to them, not to idle.
//
// Each lease is an ordinary one, counted in Stats.Acquired (but not in
// Stats.AcquireWait) and reported to Config.Tracer as an acquire that did
// not wait: end each with Release or Destroy. The idle list stays empty
// until they come back, so other callers meanwhile wait or dial. On a
// closed pool, or with ctx already done, it returns nil.
func (p *Pool[T]) AcquireAllIdle(ctx context.Context) []Conn[T] {
	if p.closed.Load() || !alive(ctx) {
		return nil
	}
	var out []Conn[T]
	take := func(t *token[T]) {
		actx := ctx
		if p.traced {
			actx = p.cfg.Tracer.AcquireStart(ctx)
		}
		h, ok := p.lease(actx, t, false, nil)
		if !ok {
			return
		}
		if p.traced {
			// Served at once from the idle list, as acquireTraced's
			// acquires that did not wait: no wait, no clock read but a
			// LeaseTracer's stamp.
			c := h.t.c
			if p.leaseTracer != nil {
				c.leasedAt.Store(p.leaseStamp())
			}
			p.cfg.Tracer.AcquireEnd(actx, AcquireEvent{Conn: c.info()})
		}
		out = append(out, h)
	}
	if t := p.takeHot(); t != nil {
		take(t)
	}
	for n := len(p.idle); n > 0; n-- {
		select {
		case t := <-p.idle:
			if t == nil {
				defer p.signaled() // after the loop, which would meet it again
				continue
			}
			take(t)
		default:
			n = 1 // empty: end the loop
		}
	}
	return out
}

// Detach ends the lease and takes the connection out of the pool for good,
// returning it: the pool forgets it and frees its slot (which serves a
// waiting caller or, below MinConns, is dialed again), but does not close
// it. Config.Close does not run on it; Hooks.OnDestroy does, with
// ReasonDetached, and it counts in Stats.DestroyedBusy, Stats.Destroyed and
// Stats.Closed.Detached, as a lease that ended without coming back. The
// caller owns the connection from then on, and must close it.
//
// Detach returns ErrNotHeld, changing nothing, if this handle does not hold
// the lease, and ErrClosed if a Close whose context ended closed the
// connection under its holder; in both cases it returns the zero T.
func (h Conn[T]) Detach() (T, error) {
	var zero T
	if h.t == nil {
		return zero, ErrNotHeld
	}
	c := h.t.c
	p := c.pool
	if !c.state.CompareAndSwap(word(h.gen, stBusy), word(h.gen, stDead)) {
		return zero, p.notHeld(c, h.gen, "Detach")
	}
	if p.leaseTracer != nil {
		p.traceLeaseEnd(c, true)
	}
	p.st.destroyedBusy.Add(1)
	// Unregistered as retire does, and counted the same way, but with no
	// close: the connection is the caller's now.
	p.mu.Lock()
	p.conns[c.slot].Store(nil)
	p.free = append(p.free, c.slot)
	p.st.deadAcquired.Add(genOf(c.state.Load()))
	p.mu.Unlock()
	p.st.destroyed.Add(1)
	p.st.closedBy[ReasonDetached].Add(1)
	if p.cfg.Hooks.OnDestroy != nil {
		p.cfg.Hooks.OnDestroy(c.info(), ReasonDetached)
	}
	p.freeSlotOf(c)
	return c.value, nil
}
