package chanpool

import (
	"context"
	"errors"
	"fmt"
)

// Checks: Config.Alive and Config.HealthCheck on acquire, Config.Reset on
// release.
//
// Alive runs inline on every acquire of an idle connection; it must not
// block. HealthCheck, which may do a round trip, never runs on the
// acquiring caller's goroutine: a connection due one moves to state
// checking and is handed to a goroutine of the pool's (startCheck), which
// owns it until the check returns, however long that takes. The caller who
// found it waits for the result as it would for a dial, and for anything
// else that comes first, so its deadline holds whatever the check does.
// Reset runs inline on the releasing goroutine, with a context that costs
// nothing until Reset looks at it (resetCtx), so that a Reset that only
// reads the connection's state adds no goroutine, timer or allocation to a
// release.

// errRecheck is what a check delivers to the caller it ran for when the
// caller should look for a connection again: the check failed, timed out,
// or the pool closed under it. It never reaches a user.
var errRecheck = errors.New("chanpool: health check did not pass")

// isAlive runs Config.Alive on c; a panic counts as not alive.
func (p *Pool[T]) isAlive(c *conn[T]) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Warn("chanpool: Alive panicked; closing connection", "conn", c.id, "panic", r)
			ok = false
		}
	}()
	return p.cfg.Alive(c.value)
}

// startCheck moves c, taken idle in state s by the caller, to checking and
// runs HealthCheck on it on a goroutine of the pool's. If req is not nil
// the result goes to the caller waiting on it: the connection if it passed,
// errRecheck if it did not (or CheckTimeout passed first: the caller moves
// on while the check goes on in the background). A passed connection that
// nobody waits on goes to the longest waiter or the idle list; a failed one
// is closed. ctx gives the check the caller's values, not its cancellation:
// a caller giving up must not get a healthy connection destroyed.
//
// With ping, the check is a keepalive (keepalive.go): Config.Keepalive, or
// HealthCheck if that is nil; passing it does not count as a use, and a
// connection that fails it is replaced.
func (p *Pool[T]) startCheck(ctx context.Context, t *token[T], s uint64, req *dialReq[T], ping bool) {
	c := t.c
	checking := withSt(s, stChecking)
	if !c.state.CompareAndSwap(s, checking) {
		req.deliverTo(dialResult[T]{err: errRecheck}) // closed by a forced Close
		return
	}
	p.checking.Add(1)
	if ping {
		p.pinging.Add(1)
		c.pingOut.Store(true)
	}
	vals := context.WithoutCancel(ctx)
	if !p.goTracked(func() { p.runCheck(vals, t, checking, req, ping) }) {
		// Closed: no check will run; nor may anyone else use c.
		p.checking.Add(-1)
		if ping {
			p.pinging.Add(-1)
			c.pingOut.Store(false)
		}
		p.kill(c, checking, ReasonPoolClosed)
		req.deliverTo(dialResult[T]{err: errRecheck})
	}
}

// runCheck is the check goroutine's body (see startCheck).
func (p *Pool[T]) runCheck(vals context.Context, t *token[T], checking uint64, req *dialReq[T], ping bool) {
	defer p.checking.Add(-1)
	c := t.c
	check, reason, what := p.cfg.HealthCheck, ReasonHealth, "health check"
	if ping {
		reason, what = ReasonKeepalive, "keepalive"
		if p.cfg.Keepalive != nil {
			check = p.cfg.Keepalive
		}
	}
	ctx, cancel := p.bounded(vals, p.set.checkTimeout)
	stop := func() bool { return false }
	if req != nil && p.set.checkTimeout > 0 {
		// Free the caller at CheckTimeout even if the check ignores ctx.
		stop = context.AfterFunc(ctx, func() { req.deliverTo(dialResult[T]{err: errRecheck}) })
	}
	err := call(check, ctx, c.value)
	if ping {
		// Back from the ping: from here on, whatever becomes of the
		// connection is a close or a hand-back, not a ping.
		c.pingOut.Store(false)
		p.pinging.Add(-1)
	}
	stop() // before cancel, which would run it
	late := context.Cause(ctx) == context.DeadlineExceeded
	cancel()
	if late {
		// Passed or not, too late to count: the caller has moved on.
		err = fmt.Errorf("gave up after %v: %w", p.set.checkTimeout, errors.Join(context.DeadlineExceeded, err))
	}
	if err != nil {
		p.log.Warn("chanpool: "+what+" failed; closing connection", "conn", c.id, "err", err)
		c.replace = ping
		p.checkEnded(c, checking, reason)
		req.deliverTo(dialResult[T]{err: errRecheck})
		return
	}
	if ping {
		c.pinged.Store(p.now.Load()) // not a use
	} else {
		// Checked counts as used: a connection that goes to the idle list
		// is not due again at once (unless HealthCheckAfter is None).
		c.idleTicks.Store(0)
		c.lastUsed.Store(p.now.Load())
	}
	idle := withSt(checking, stIdle)
	if !c.state.CompareAndSwap(checking, idle) {
		p.checkEnded(c, checking, reason)
		req.deliverTo(dialResult[T]{err: errRecheck})
		return
	}
	if !req.deliverTo(dialResult[T]{t: t}) {
		p.requeue(t, idle)
	}
}

// checkEnded closes c after a failed check or reset, by the goroutine that
// ran it, from state s (checking or releasing). If a forced Close moved c
// to dead meanwhile, it left the close to this goroutine: closing it now,
// after the user's code returned, is what keeps a connection from being
// closed under a running check.
func (p *Pool[T]) checkEnded(c *conn[T], s uint64, reason CloseReason) {
	if c.state.CompareAndSwap(s, withSt(s, stDead)) {
		p.retire(c, reason)
		return
	}
	p.retire(c, ReasonPoolClosed) // dead already, by forceClose
}

// reset runs Config.Reset on c, leased in state releasing, on the calling
// goroutine. Unless CheckTimeout is None, Reset's context expires
// CheckTimeout after Reset first looks at it (resetCtx).
//
// It runs on every release, so it calls Reset directly, with the recover
// deferred here rather than through call.
func (p *Pool[T]) reset(c *conn[T]) (err error) {
	var ctx context.Context = context.Background()
	rc := c.rctx
	if rc != nil {
		ctx = rc
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
		if rc != nil && rc.end() {
			// Reset looked at its context: the next one gets a fresh
			// context, in case this one was kept.
			c.rctx = p.newResetCtx()
			if rc.expired() {
				err = fmt.Errorf("gave up after %v: %w", p.set.checkTimeout, errors.Join(context.DeadlineExceeded, err))
			}
		}
	}()
	return p.cfg.Reset(ctx, c.value)
}

// call runs a HealthCheck or Reset, turning a panic into an error.
func call[T any](f func(context.Context, T) error, ctx context.Context, v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return f(ctx, v)
}
