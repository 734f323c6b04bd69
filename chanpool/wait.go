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
	max := p.maxWaiting.Load()
	if max == unlimitedWaiting {
		p.waiting.Add(1)
		return true
	}
	for {
		n := p.waiting.Load()
		if n >= max {
			return false
		}
		if p.waiting.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// wait blocks until a connection arrives on the idle list or from req (a
// dial or a health check started for the caller; req may be nil), or until
// ctx, AcquireTimeout, Close or the breaker end it. The last two reach
// waiters through the idle list itself, as the wake-up signal (raise), so a
// caller with nothing else to watch waits on a plain receive: the cheapest
// wait there is.
//
// A connection from the idle list that is due a health check is checked
// for this caller, which waits for it as for a dial. If a check fails, a
// queued caller (in the waiting room) waits on, for the slot it frees is
// dialed for the longest waiter; any other returns errRecheck, to look for
// a connection again. left is what is left of AcquireTimeout: all of it,
// unless the caller waited already.
func (p *Pool[T]) wait(ctx context.Context, req *dialReq[T], queued bool, left time.Duration) (Conn[T], error) {
	// Counted before it blocks (a queued caller is, in waiting), then the
	// hot slot flushed to the channel: rule count in hot.go, without which
	// a connection parked just before this caller was counted would stay
	// in the slot while it waits.
	if !queued {
		p.listening.Add(1)
		defer p.listening.Add(-1)
	}
	if p.hot.Load() != 0 {
		p.flushHot()
	}
	if req == nil && p.set.acquireTimeout <= 0 && ctx.Done() == nil {
		for req == nil {
			if h, ok, err := p.fromIdle(ctx, <-p.idle, &req); ok || err != nil {
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
		if left <= 0 {
			p.abandon(req)
			return Conn[T]{}, p.timedOut()
		}
		t := p.getTimer(left)
		defer p.putTimer(t)
		timeout = t.C()
	}
	for {
		select {
		case t := <-p.idle:
			if t != nil {
				if err := p.gone(ctx, timeout); err != nil {
					// The caller's time ran out as the connection reached
					// it: the connection goes on to the next waiter.
					p.put(t)
					p.abandon(req)
					return Conn[T]{}, err
				}
				if req != nil {
					// A connection came first: the dial goes to the next
					// waiter or to idle.
					p.abandon(req)
					req, dialed = nil, nil
				}
			}
			if h, ok, err := p.fromIdle(ctx, t, &req); ok || err != nil {
				p.abandon(req)
				return h, err
			}
			if req != nil {
				dialed = req.ch // a check started for this caller
			}
		case r := <-dialed:
			if r.err == errRecheck && queued {
				req, dialed = nil, nil
				continue
			}
			if r.err != nil {
				return Conn[T]{}, r.err
			}
			if err := p.gone(ctx, timeout); err != nil {
				p.put(r.t)
				return Conn[T]{}, err
			}
			if h, ok := p.lease(ctx, r.t, true, nil); ok {
				return h, nil
			}
			req, dialed = nil, nil
		case <-ctx.Done():
			p.abandon(req)
			return Conn[T]{}, p.canceled(ctx)
		case <-timeout:
			p.abandon(req)
			return Conn[T]{}, p.timedOut()
		}
	}
}

// gone returns the error of a caller whose context ended or whose
// AcquireTimeout passed, even though a connection reached it first (a
// select picks among ready cases at random), and nil for a caller still
// waiting.
func (p *Pool[T]) gone(ctx context.Context, timeout <-chan time.Time) error {
	if !alive(ctx) {
		return p.canceled(ctx)
	}
	select {
	case <-timeout:
		return p.timedOut()
	default:
		return nil
	}
}

// canceled counts and returns the error of a wait ended by ctx.
func (p *Pool[T]) canceled(ctx context.Context) error {
	p.st.canceled.Add(1)
	return p.ctxErr(ctx)
}

// timedOut counts and returns the error of a wait ended by AcquireTimeout.
func (p *Pool[T]) timedOut() error {
	p.st.timeouts.Add(1)
	if err := p.lastDialErr.Load(); err != nil {
		// Dials are failing: say why the wait was in vain.
		return fmt.Errorf("%w (after %v; last dial error: %w)", ErrAcquireTimeout, p.set.acquireTimeout, err)
	}
	return ErrAcquireTimeout
}

// fromIdle handles what a waiter received from the idle list: a connection,
// which it leases (ok), or the wake-up signal, whose news (Close, the
// breaker) ends the wait with an error. When neither — the connection was
// unusable, or is being checked for the caller (*chk is set, if it was
// nil), or the signal was stale — the caller waits on.
func (p *Pool[T]) fromIdle(ctx context.Context, t *token[T], chk **dialReq[T]) (h Conn[T], ok bool, err error) {
	if t == nil {
		return Conn[T]{}, false, p.signaled()
	}
	h, ok = p.lease(ctx, t, false, chk)
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
