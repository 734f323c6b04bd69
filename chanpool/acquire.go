package chanpool

import (
	"context"
	"fmt"
)

// Acquire and TryAcquire: the fast path from the idle list, and the slow
// path that dials or joins the wait (wait.go).

// Acquire leases a connection: an idle one if there is one, else a newly
// dialed one if the pool is under MaxConns, else the next one released,
// waiting in FIFO order behind earlier callers. It blocks until it has a
// connection or fails with:
//   - ErrClosed if the pool is closed or closes while waiting;
//   - ErrExhausted, at once, if MaxWaiting callers are already waiting;
//   - ErrAcquireTimeout after AcquireTimeout;
//   - ctx.Err() (wrapped) when ctx is done first — also at once if ctx is
//     already done on entry;
//   - an ErrDial error wrapping the dial's own error, if the dial started for
//     this caller fails.
//
// A dial started for a caller that gives up is not wasted: its connection
// goes to the next waiter or to the idle list. On success the caller must
// end the lease with Conn.Release or Conn.Destroy.
func (p *Pool[T]) Acquire(ctx context.Context) (Conn[T], error) {
	// The fast path: one receive from the idle list. Everything else —
	// closed pool, done context, an unusable connection, waiting — is
	// acquireSlow's.
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return Conn[T]{}, p.ctxErr(ctx)
		default:
		}
	}
	if !p.closed.Load() {
		select {
		case t := <-p.idle:
			if t == nil {
				p.signaled()
				break
			}
			if p.watchIdle {
				// len counts the wake-up signal, if it is in the list: at
				// the mark, only then is the exact count needed.
				n, low := int64(len(p.idle)), p.idleLow.Load()
				if n < low || n == low && p.signal.Load() {
					p.noteIdle(p.idleLen())
				}
			}
			c := t.c
			s := c.state.Load()
			// nextLease, genOf and stOf written out: on the hottest path an
			// inlined call can still leave a NOP behind (its inline mark).
			next := s + genOne | stBusy
			if (next>>stateBits)&p.leaseMask != 0 && s&stateMask == stIdle && !c.doomed.Load() &&
				c.state.CompareAndSwap(s, next) {
				return Conn[T]{t: t, gen: next >> stateBits}, nil
			}
			if h, ok := p.lease(ctx, t, false); ok {
				return h, nil
			}
		default:
			// Empty: no need to look again before waiting, for the wait
			// takes whatever comes next.
			return p.acquireSlow(ctx, false)
		}
	}
	return p.acquireSlow(ctx, true)
}

// idleLen is the number of connections in the idle list.
func (p *Pool[T]) idleLen() int {
	n := len(p.idle)
	if n > 0 && p.signal.Load() {
		n-- // the signal is not a connection
	}
	return n
}

// alive reports whether ctx is not done yet, cheaply for a context that can
// never be canceled.
func alive(ctx context.Context) bool {
	done := ctx.Done()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// TryAcquire leases an idle connection if one is available and returns
// ErrNoIdle at once otherwise (ErrClosed if the pool is closed). When it
// finds none and the pool is under MaxConns it starts a dial in the
// background, so that a later call can succeed. ctx bounds only the health
// check, if one runs.
func (p *Pool[T]) TryAcquire(ctx context.Context) (Conn[T], error) {
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if h, ok := p.takeIdle(ctx); ok {
		return h, nil
	}
	p.noteIdle(0)
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if p.breakerOpen.Load() {
		return Conn[T]{}, p.breakerErr()
	}
	if p.trySlot() {
		p.startDial(nil)
	}
	return Conn[T]{}, ErrNoIdle
}

// takeIdle leases the first usable connection on the idle list, closing
// unusable ones on the way. It reports false once the list is empty. The
// wake-up signal, if it is in the list, is passed on (to the back of the
// list, if its news still holds) and looked past once.
func (p *Pool[T]) takeIdle(ctx context.Context) (Conn[T], bool) {
	passed := false
	for {
		select {
		case t := <-p.idle:
			if t == nil {
				p.signaled()
				if passed {
					return Conn[T]{}, false // around the list once
				}
				passed = true
				continue
			}
			p.noteIdle(p.idleLen())
			if h, ok := p.lease(ctx, t, false); ok {
				return h, true
			}
		default:
			return Conn[T]{}, false
		}
	}
}

// acquireSlow is Acquire after the fast path gave up. look says whether
// the idle list may still hold a usable connection (the fast path met the
// wake-up signal or an unusable connection, not an empty list).
func (p *Pool[T]) acquireSlow(ctx context.Context, look bool) (Conn[T], error) {
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if !alive(ctx) {
		return Conn[T]{}, p.ctxErr(ctx)
	}
	if look {
		if h, ok := p.takeIdle(ctx); ok {
			return h, nil
		}
	}
	p.noteIdle(0)
	if p.breakerOpen.Load() {
		return Conn[T]{}, p.breakerErr()
	}
	start := p.clock.Mono()
	var req *dialReq[T]
	if p.waiting.Load() == 0 && p.trySlot() {
		// Under MaxConns and nobody queued: dial for this caller, but keep
		// listening to the idle list, so a release that lands first is
		// taken and the dial goes to idle.
		if req = p.newDialReq(); req == nil {
			return Conn[T]{}, ErrClosed
		}
	} else {
		// Queue behind the callers already waiting: whatever comes next,
		// released or dialed, goes to the longest waiter.
		if !p.enterWaitRoom() {
			p.st.exhausted.Add(1)
			return Conn[T]{}, ErrExhausted
		}
		defer p.waiting.Add(-1)
		// Check for a slot again now that we are registered as waiting: a
		// slot freed in between saw no waiter (see slots.go).
		// The dial has no owner, so its connection goes to the longest
		// waiter, not necessarily to this caller.
		if p.trySlot() {
			p.startDial(nil)
		}
	}
	h, err := p.wait(ctx, req)
	if err == nil {
		p.waits.add(p.clock.Mono() - start)
	}
	return h, err
}

// lease turns a connection taken from the idle list (or fresh from a dial)
// into a Conn. It returns false when the connection was unusable; it has then
// been closed (or was already dead) and the caller should look again.
// fresh says t comes straight from its dial: no health check is needed.
func (p *Pool[T]) lease(ctx context.Context, t *token[T], fresh bool) (Conn[T], bool) {
	c := t.c
	s := c.state.Load()
	if stOf(s) != stIdle {
		return Conn[T]{}, false // closed by a forced Close while idle
	}
	if c.doomed.Load() {
		p.kill(c, s, ReasonLifetime)
		return Conn[T]{}, false
	}
	if p.cfg.HealthCheck != nil && !fresh && !p.healthy(ctx, c) {
		p.kill(c, s, ReasonHealth)
		return Conn[T]{}, false
	}
	next := nextLease(s)
	if genOf(next)&p.holdMask == 0 {
		p.stampLease(c) // a sampled lease, or leak detection is on
	}
	if !c.state.CompareAndSwap(s, next) {
		return Conn[T]{}, false
	}
	if p.cfg.Hooks.OnAcquire != nil {
		p.cfg.Hooks.OnAcquire(c.info())
	}
	return Conn[T]{t: t, gen: genOf(next)}, true
}

// ctxErr is the error of an Acquire whose context ended.
func (p *Pool[T]) ctxErr(ctx context.Context) error {
	return fmt.Errorf("chanpool: acquire: %w", ended(ctx))
}

// ended is the error of a context that is done: ctx.Err(), and the cause
// too when the context was canceled with one, both for errors.Is.
func ended(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}
