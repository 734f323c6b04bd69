package chanpool

import (
	"context"
	"log/slog"
)

// Ending a lease: Conn.Release and Conn.Destroy, and the hand-back to the
// longest waiter or the idle list.

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
	// The common case — no Reset, no release hook, a lease not
	// sampled for hold time, a connection within its lifetime — is one
	// compare-and-swap and one channel send; the rest is releaseSlow's.
	c := t.c
	p := c.pool
	if h.gen&p.releaseMask == 0 || c.doomed.Load() {
		return p.releaseSlow(t, h.gen)
	}
	idle := h.gen << stateBits // word(h.gen, stIdle), written out as in Acquire
	if !c.state.CompareAndSwap(idle|stBusy, idle) {
		return p.notHeld(c, h.gen, "Release")
	}
	// park (tryPark, then parked), by hand, for the calls are a measurable
	// part of the fast path: to the hot slot while nobody waits (hot.go).
	// The second read of the waiter count, mustFlush, is the step of the
	// slot's proof that no waiter is left behind: keep it after the swap.
	if p.waiting.Load()|p.listening.Load() == 0 {
		i := c.slot
		p.hotToks[i] = t
		if old := p.hot.Swap(uint64(i) + 1); old != 0 {
			p.displaced(old)
		}
		if p.mustFlush() {
			p.flushHot()
		}
		return nil
	}
	// put, by hand too (DESIGN.md, "Release: a plain send"); and with a
	// plain send: the idle list always has room (see put), so this never
	// blocks, and it is cheaper than put's non-blocking one.
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

// releaseSlow is Conn.Release with every feature: Reset, hooks,
// samples, lifetimes.
func (p *Pool[T]) releaseSlow(t *token[T], gen uint64) error {
	c := t.c
	busy := word(gen, stBusy)
	idle := word(gen, stIdle)
	if p.cfg.Reset != nil {
		if !c.state.CompareAndSwap(busy, word(gen, stReleasing)) {
			return p.notHeld(c, gen, "Release")
		}
		if p.leaseTracer != nil {
			p.traceLeaseEnd(c, false)
		} else if gen&p.holdMask == 0 {
			p.recordHold(c)
		}
		if err := p.reset(c); err != nil {
			p.log.Warn("chanpool: reset failed; closing connection", "conn", c.id, "err", err)
			p.checkEnded(c, word(gen, stReleasing), ReasonReset)
			return nil
		}
		busy = word(gen, stReleasing)
	}
	if !c.state.CompareAndSwap(busy, idle) {
		if busy == word(gen, stReleasing) {
			// Only a forced Close moves a releasing connection, and it left
			// the close to this goroutine, for Reset was running.
			p.checkEnded(c, busy, ReasonPoolClosed)
			return ErrClosed
		}
		return p.notHeld(c, gen, "Release")
	}
	// The connection is idle but not yet in the channel: this goroutine
	// still owns it.
	if p.cfg.Reset == nil {
		if p.leaseTracer != nil {
			p.traceLeaseEnd(c, false)
		} else if gen&p.holdMask == 0 {
			p.recordHold(c)
		}
	}
	if p.cfg.Hooks.OnRelease != nil {
		p.cfg.Hooks.OnRelease(c.info())
	}
	if c.doomed.Load() || p.closed.Load() {
		p.requeue(t, idle)
		return nil
	}
	p.park(t)
	return nil
}

// requeue puts a released connection, in state idle, back in the hot slot
// or on the idle list (park), or closes it if it is past its lifetime or the
// pool is closing.
func (p *Pool[T]) requeue(t *token[T], idle uint64) {
	if t.c.doomed.Load() {
		if r, ok := p.mustClose(t.c); ok {
			p.kill(t.c, idle, r)
			return
		}
	}
	switch {
	case p.closed.Load():
		p.kill(t.c, idle, ReasonPoolClosed)
	default:
		p.park(t)
	}
}

// destroyLease implements Conn.Destroy.
func (p *Pool[T]) destroyLease(c *conn[T], gen uint64) error {
	if !c.state.CompareAndSwap(word(gen, stBusy), word(gen, stDead)) {
		return p.notHeld(c, gen, "Destroy")
	}
	if p.leaseTracer != nil {
		p.traceLeaseEnd(c, true)
	}
	p.st.destroyedBusy.Add(1)
	p.retire(c, ReasonDestroy)
	return nil
}

// notHeld reports a Release or Destroy through a handle that does not hold
// the lease. A lease ended by a forced Close is not misuse: ErrClosed.
func (p *Pool[T]) notHeld(c *conn[T], gen uint64, op string) error {
	s := c.state.Load()
	if genOf(s) == gen && stOf(s) == stDead && c.diedLeased.Load() {
		return ErrClosed // closed under its holder by a forced Close
	}
	p.st.misuse.Add(1)
	if p.log.Enabled(context.Background(), slog.LevelWarn) {
		p.log.Warn("chanpool: "+op+" through a handle that does not hold the connection; ignored",
			"conn", c.id, "handle_lease", gen, "current_lease", genOf(s), "state", State(stOf(s)))
	}
	return ErrNotHeld
}

// sweep takes every connection off the idle list and the hot slot and calls
// f on each one still idle (s is its state word), which owns it meanwhile:
// f returns true to keep it, and the kept ones go back in their order once
// all are taken. The wake-up signal, if met, is passed on after the sweep,
// which would otherwise meet it again. Connections a forced Close took are
// dropped.
func (p *Pool[T]) sweep(f func(t *token[T], s uint64) (keep bool)) {
	// The hot slot's connection is swept first and, if kept, parked again
	// last, so it stays the one reused next.
	var hot *token[T]
	if t := p.swapHot(); t != nil {
		if s := t.c.state.Load(); stOf(s) == stIdle && f(t, s) {
			hot = t
		}
	}
	var keep []*token[T]
	for n := len(p.idle); n > 0; n-- {
		var t *token[T]
		select {
		case t = <-p.idle:
		default:
			n = 1 // empty: end the loop
			continue
		}
		if t == nil {
			defer p.signaled()
			continue
		}
		if s := t.c.state.Load(); stOf(s) == stIdle && f(t, s) {
			keep = append(keep, t)
		}
	}
	for _, t := range keep {
		p.put(t)
	}
	if hot != nil {
		p.park(hot)
	}
}

// put hands an idle connection the caller owns to the longest waiter, or to
// the idle list if nobody waits.
//
// The idle channel never blocks a send: its capacity is MaxConns+1, and it
// only ever holds open connections, at most MaxConns of them (slots.go), and
// at most one wake-up signal (signal.go). A full channel is a bug: panic.
func (p *Pool[T]) put(t *token[T]) {
	select {
	case p.idle <- t:
	default:
		panic(errOverflow)
	}
	// Close sets closed and then drains; a put that raced past the closed
	// check above it drains what it may have added (see Close).
	if p.closed.Load() {
		p.drainIdle()
	}
}
