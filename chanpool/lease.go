package chanpool

import (
	"context"
	"fmt"
)

// Leasing: turning a connection taken from the idle list, a dial or a
// check into a Conn, and the errors of an Acquire whose context ended.

// lease turns a connection taken from the idle list (or fresh from a dial)
// into a Conn. It returns false when it did not lease it, and the caller
// should look again: the connection was unusable, and has been closed (or
// was already dead), or it is due a health check, which now runs in the
// background (startCheck). If chk is not nil and *chk is nil, that check
// runs for the caller: *chk is set to its request, for the caller to wait
// on. fresh says t comes straight from its dial or its check: Alive and
// the health check are not needed.
func (p *Pool[T]) lease(ctx context.Context, t *token[T], fresh bool, chk **dialReq[T]) (Conn[T], bool) {
	c := t.c
	s := c.state.Load()
	if stOf(s) != stIdle {
		return Conn[T]{}, false // closed by a forced Close while idle
	}
	// HealthCheckAfter None: every acquire, but the first since the dial.
	due := p.set.healthAfter <= 0 && genOf(s) != 0
	// A connection marked to make room under a Group's cap is leased, mark
	// and all: it closes when it goes idle again (requeue), not under a
	// caller it may have been dialed for (see groupcap.go).
	if c.doomed.Load() && c.doomReason.Load() != uint32(ReasonGroupCap)+1 {
		r, ok := p.mustClose(c)
		if ok {
			p.kill(c, s, r)
			return Conn[T]{}, false
		}
		due = due || r == reasonCheckDue
	}
	if !fresh && p.cfg.Alive != nil && !p.isAlive(c) {
		p.kill(c, s, ReasonHealth)
		return Conn[T]{}, false
	}
	if !fresh && p.cfg.HealthCheck != nil && due {
		var req *dialReq[T]
		if chk != nil && *chk == nil {
			req = &dialReq[T]{ch: make(chan dialResult[T], 1)}
			*chk = req
		}
		p.startCheck(ctx, t, s, req, false)
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
