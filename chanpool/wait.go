package chanpool

import (
	"context"
	"fmt"
	"time"

	"github.com/chanpool/chanpool/internal/clock"
)

// Waiting for a connection: the waiting room (MaxWaiting) and the wait
// itself, bounded by the caller's context and AcquireTimeout.

// enterWaitRoom admits the caller to the waiting room, counting it in
// waiting, unless MaxWaiting callers are already there.
func (p *Pool[T]) enterWaitRoom() bool {
	for {
		n := p.waiting.Load()
		if n >= int64(p.set.maxWaiting) {
			return false
		}
		if p.waiting.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// wait blocks until a connection arrives on the idle list or from req's
// dial (req may be nil), or until ctx, AcquireTimeout, Close or the breaker
// end it. The last two reach waiters through the idle list itself, as the
// wake-up signal (raise), so a caller with nothing else to watch waits on a
// plain receive: the cheapest wait there is.
func (p *Pool[T]) wait(ctx context.Context, req *dialReq[T]) (Conn[T], error) {
	if req == nil && p.set.acquireTimeout <= 0 && ctx.Done() == nil {
		for {
			if h, ok, err := p.fromIdle(ctx, <-p.idle); ok || err != nil {
				return h, err
			}
		}
	}
	var dialed <-chan dialResult[T]
	if req != nil {
		dialed = req.ch
	}
	var timeout <-chan time.Time
	if p.set.acquireTimeout > 0 {
		t := p.getTimer(p.set.acquireTimeout)
		defer p.putTimer(t)
		timeout = t.C()
	}
	for {
		select {
		case t := <-p.idle:
			if t != nil && req != nil {
				// A connection came first: the dial goes to the next
				// waiter or to idle.
				p.abandon(req)
				req, dialed = nil, nil
			}
			if h, ok, err := p.fromIdle(ctx, t); ok || err != nil {
				p.abandon(req)
				return h, err
			}
		case r := <-dialed:
			if r.err != nil {
				return Conn[T]{}, r.err
			}
			if h, ok := p.lease(ctx, r.t, true); ok {
				return h, nil
			}
			req, dialed = nil, nil
		case <-ctx.Done():
			p.abandon(req)
			p.st.canceled.Add(1)
			return Conn[T]{}, p.ctxErr(ctx)
		case <-timeout:
			p.abandon(req)
			p.st.timeouts.Add(1)
			if err := p.lastDialErr.Load(); err != nil {
				// Dials are failing: say why the wait was in vain.
				return Conn[T]{}, fmt.Errorf("%w (after %v; last dial error: %w)", ErrAcquireTimeout, p.set.acquireTimeout, err)
			}
			return Conn[T]{}, ErrAcquireTimeout
		}
	}
}

// fromIdle handles what a waiter received from the idle list: a connection,
// which it leases (ok), or the wake-up signal, whose news (Close, the
// breaker) ends the wait with an error. When neither — the connection was
// unusable, the signal stale — the caller waits on.
func (p *Pool[T]) fromIdle(ctx context.Context, t *token[T]) (h Conn[T], ok bool, err error) {
	if t == nil {
		return Conn[T]{}, false, p.signaled()
	}
	h, ok = p.lease(ctx, t, false)
	return h, ok, nil
}

// getTimer returns a timer armed for d, reusing one when it can, so that a
// waiting Acquire does not allocate.
func (p *Pool[T]) getTimer(d time.Duration) clock.Timer {
	if t, ok := p.timers.Get().(clock.Timer); ok {
		t.Reset(d)
		return t
	}
	return p.clock.NewTimer(d)
}

func (p *Pool[T]) putTimer(t clock.Timer) {
	t.Stop()
	p.timers.Put(t)
}
