package chanpool

import (
	"context"
	"time"
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
// goes to the next waiter or to the idle list. Nor is a health check: an
// idle connection due one (see Config.HealthCheck) is checked on a goroutine
// of the pool's while the caller waits for it or for anything else that
// comes first, so Acquire returns by ctx's deadline and AcquireTimeout
// whatever the check does. On success the caller must end the lease with
// Conn.Release or Conn.Destroy.
func (p *Pool[T]) Acquire(ctx context.Context) (Conn[T], error) {
	// The fast path: one receive from the idle list. Everything else —
	// closed pool, done context, an unusable connection, waiting, a
	// Tracer — is acquireSlow's (or acquireTraced's). offFast is set by
	// Close and, from New, by a Tracer: one test keeps both off this path.
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return p.doneOnEntry(ctx)
		default:
		}
	}
	if !p.offFast.Load() {
		// The hot slot first (hot.go): the connection released last, which
		// a lone caller keeps reusing. It is kept only if nobody waits;
		// else it goes to the channel, for the longest waiter, and this
		// caller queues behind. That test after the swap is what keeps a
		// newcomer from passing a waiter: do not move it before the swap.
		var t *token[T]
		if v := p.hot.Load(); v != 0 {
			if v = p.hot.Swap(0); v != 0 {
				t = p.unpark(v)
				if p.waiting.Load()|p.listening.Load() != 0 {
					p.put(t)
					return p.acquireSlow(ctx, false, nil)
				}
			}
		}
		if t == nil {
			select {
			case t = <-p.idle:
				if t == nil {
					p.signaled()
					return p.acquireSlow(ctx, true, nil)
				}
			default:
				// Empty: no need to look again before waiting, for the
				// wait takes whatever comes next.
				return p.acquireSlow(ctx, false, nil)
			}
		}
		if p.watchIdle {
			// len counts the wake-up signal, if it is in the list: at the
			// mark, only then is the exact count needed. The hot slot is
			// empty or refilled since: the count is never too high.
			n, low := int64(len(p.idle)), p.idleMark.Load()
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
		var chk *dialReq[T]
		if h, ok := p.lease(ctx, t, false, &chk); ok {
			return h, nil
		}
		return p.acquireSlow(ctx, true, chk)
	}
	if p.traced {
		return p.acquireTraced(ctx, false)
	}
	return p.acquireSlow(ctx, true, nil)
}

// doneOnEntry is Acquire called with a context already done.
func (p *Pool[T]) doneOnEntry(ctx context.Context) (Conn[T], error) {
	if p.traced {
		return p.acquireTraced(ctx, false)
	}
	return Conn[T]{}, p.ctxErr(ctx)
}

// idleLen is the number of idle connections: in the idle list and in the
// hot slot.
func (p *Pool[T]) idleLen() int {
	n := len(p.idle)
	if n > 0 && p.signal.Load() {
		n-- // the signal is not a connection
	}
	if p.hot.Load() != 0 {
		n++
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
// background, so that a later call can succeed. It never waits for a
// health check: an idle connection due one is checked in the background,
// with ctx's values, and goes back to the idle list if it passes.
func (p *Pool[T]) TryAcquire(ctx context.Context) (Conn[T], error) {
	if p.traced {
		return p.acquireTraced(ctx, true)
	}
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	return p.tryAcquire(ctx)
}

// tryAcquire is TryAcquire on an open pool.
func (p *Pool[T]) tryAcquire(ctx context.Context) (Conn[T], error) {
	if h, ok := p.takeIdle(ctx, nil); ok {
		return h, nil
	}
	p.noteIdle(0)
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if p.breakerOpen.Load() {
		p.probeOnDemand()
		return Conn[T]{}, p.breakerErr()
	}
	if p.trySlot() {
		p.startDial(nil)
	}
	return Conn[T]{}, ErrNoIdle
}

// takeIdle leases the first usable connection of the hot slot and the idle
// list, closing unusable ones and starting the health checks due on the way
// (the first for the caller, through chk: see lease). It reports false once
// the list is empty. The wake-up signal, if it is in the list, is passed on
// (to the back of the list, if its news still holds) and looked past once.
func (p *Pool[T]) takeIdle(ctx context.Context, chk **dialReq[T]) (Conn[T], bool) {
	if t := p.takeHot(); t != nil {
		p.noteIdle(p.idleLen())
		if h, ok := p.lease(ctx, t, false, chk); ok {
			return h, true
		}
		if chk != nil && *chk != nil {
			return Conn[T]{}, false // a check runs for the caller: wait for it
		}
	}
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
			if h, ok := p.lease(ctx, t, false, chk); ok {
				return h, true
			}
			if chk != nil && *chk != nil {
				return Conn[T]{}, false // a check runs for the caller: wait for it
			}
		default:
			return Conn[T]{}, false
		}
	}
}

// acquireSlow is Acquire after the fast path gave up. look says whether
// the idle list may still hold a usable connection (the fast path met the
// wake-up signal or an unusable connection, not an empty list). chk, if not
// nil, is a health check running for this caller.
func (p *Pool[T]) acquireSlow(ctx context.Context, look bool, chk *dialReq[T]) (Conn[T], error) {
	start := p.clock.Mono()
	waited := false
	for {
		if p.closed.Load() {
			p.abandon(chk)
			return Conn[T]{}, ErrClosed
		}
		if !alive(ctx) {
			p.abandon(chk)
			return Conn[T]{}, p.ctxErr(ctx)
		}
		if look {
			if h, ok := p.takeIdle(ctx, &chk); ok {
				p.abandon(chk)
				return h, nil
			}
		}
		if chk == nil {
			h, err := p.acquireNew(ctx, start, p.left(start, waited))
			if err != errRecheck {
				return h, err
			}
			// A check met while waiting for its own dial failed.
			look, waited = true, true
			continue
		}
		// A connection of the idle list is being checked for this caller:
		// wait for it, or for whatever comes first, and look again if it
		// fails. The caller is not in the waiting room: the connection it
		// waits for is its own.
		h, err := p.wait(ctx, chk, false, p.left(start, waited))
		if err != errRecheck {
			if err == nil {
				p.waits.add(p.clock.Mono() - start)
			}
			return h, err
		}
		chk, look, waited = nil, true, true
	}
}

// left is what is left of AcquireTimeout for a caller that began waiting
// at start: all of it if it has not waited yet, which costs no clock read.
func (p *Pool[T]) left(start time.Duration, waited bool) time.Duration {
	if !waited || p.set.acquireTimeout <= 0 {
		return p.set.acquireTimeout
	}
	return p.set.acquireTimeout - (p.clock.Mono() - start)
}

// acquireNew is acquireSlow once the idle list has nothing for the caller:
// it dials, if the pool has room and nobody waits, or waits its turn. A
// caller that dials for itself is not in the waiting room, so a failed
// check met meanwhile returns errRecheck, for acquireSlow to look again.
func (p *Pool[T]) acquireNew(ctx context.Context, start, left time.Duration) (Conn[T], error) {
	p.noteIdle(0)
	if p.breakerOpen.Load() {
		p.probeOnDemand()
		return Conn[T]{}, p.breakerErr()
	}
	var req *dialReq[T]
	queued := false
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
		queued = true
		// Check for a slot again now that we are registered as waiting: a
		// slot freed in between saw no waiter (see slots.go).
		// The dial has no owner, so its connection goes to the longest
		// waiter, not necessarily to this caller.
		if p.trySlot() {
			p.startDial(nil)
		}
	}
	h, err := p.wait(ctx, req, queued, left)
	if err == nil {
		p.waits.add(p.clock.Mono() - start)
	}
	return h, err
}
