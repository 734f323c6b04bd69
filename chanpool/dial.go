package chanpool

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"go.uber.org/atomic"
)

// Dialing: the dial goroutine, the request that connects it to the caller
// it was started for, and the registry of open connections.

// dialReq connects an acquiring caller to the dial started for it. Exactly
// one of the dial (deliver) and the caller (abandon) wins the state; the
// loser's side is then handled by the winner: a delivered result the caller
// no longer wants is put back on the idle list.
type dialReq[T any] struct {
	ch    chan dialResult[T] // buffer 1: deliver never blocks
	state atomic.Int32
}

const (
	reqOpen int32 = iota
	reqDelivered
	reqAbandoned
)

type dialResult[T any] struct {
	t   *token[T]
	err error
}

// newDialReq starts a dial owned by the calling acquirer, which must hold a
// slot. It returns nil (and frees the slot) if the pool is closed.
func (p *Pool[T]) newDialReq() *dialReq[T] {
	req := &dialReq[T]{ch: make(chan dialResult[T], 1)}
	if !p.startDial(req) {
		return nil
	}
	return req
}

// deliver hands r to the owner if it is still waiting.
func (req *dialReq[T]) deliver(r dialResult[T]) bool {
	if !req.state.CompareAndSwap(reqOpen, reqDelivered) {
		return false
	}
	req.ch <- r
	return true
}

// abandon tells req's dial that its owner is gone. If the dial has already
// delivered, the connection goes back to the idle list. req may be nil.
func (p *Pool[T]) abandon(req *dialReq[T]) {
	if req == nil || req.state.CompareAndSwap(reqOpen, reqAbandoned) {
		return
	}
	if r := <-req.ch; r.t != nil {
		p.put(r.t)
	}
}

// startDial starts a dial goroutine for a slot the caller holds. The dial
// delivers to req if its owner still waits, else to the idle list. It
// returns false, freeing the slot, if the pool is closed.
func (p *Pool[T]) startDial(req *dialReq[T]) bool {
	p.dialing.Add(1)
	if !p.goTracked(func() { p.dial(req) }) {
		p.dialing.Add(-1)
		p.dropSlot()
		return false
	}
	return true
}

func (p *Pool[T]) dial(req *dialReq[T]) {
	epoch := p.epoch.Load()
	// Cap concurrent dials, so that a backend coming back is not met by a
	// reconnect stampede. Close cancels p.ctx, which ends this wait.
	if err := p.dialSem.Acquire(p.ctx, 1); err != nil {
		p.dialing.Add(-1)
		p.dropSlot()
		req.deliverTo(dialResult[T]{err: ErrClosed})
		return
	}
	start := p.clock.Now()
	v, err := p.callDial()
	for err == nil && p.epoch.Load() != epoch && !p.closed.Load() {
		// A Reset came while dialing: this connection may point at the old
		// place. Dial again, for the same caller and slot.
		p.discardStale(v, start)
		epoch, start = p.epoch.Load(), p.clock.Now()
		v, err = p.callDial()
	}
	p.dialSem.Release(1)
	if err != nil {
		p.dialing.Add(-1)
		p.st.dialErrors.Add(1)
		p.log.Warn("chanpool: dial failed", "err", err)
		p.dialFailed(err)
		p.dropSlot()
		req.deliverTo(dialResult[T]{err: err})
		p.scheduleRetry()
		return
	}
	c := &conn[T]{pool: p, value: v, id: p.nextID.Add(1), created: start.UnixNano()}
	if p.cfg.Reset != nil && p.set.checkTimeout > 0 {
		c.rctx = p.newResetCtx()
	}
	if p.set.keepalive > 0 {
		c.keepJitter = keepaliveJitter(p.set.keepalive)
	}
	c.lastUsed.Store(c.created)
	if p.set.maxLifetime > 0 {
		life := p.set.maxLifetime
		if p.set.lifetimeJitter > 0 {
			life -= rand.N(p.set.lifetimeJitter)
		}
		c.expires = c.created + int64(life)
	}
	took := p.clock.Since(start)
	if !p.register(c) {
		// Closed while dialing: the connection never enters the pool.
		p.closes.Add(1)
		p.dialing.Add(-1)
		p.closeValue(v, c.id, ReasonPoolClosed)
		p.closes.Add(-1)
		p.dropSlot()
		req.deliverTo(dialResult[T]{err: ErrClosed})
		return
	}
	if p.epoch.Load() != epoch {
		c.doom(ReasonPoolReset) // dialed before a Reset: it may point at the old place
	} else if p.share != nil && p.share.queued.Load() > 0 {
		c.doom(ReasonGroupCap) // other keys wait for the cap (groupcap.go)
	}
	p.dialing.Add(-1)
	p.st.created.Add(1)
	p.dials.add(took)
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug("chanpool: dialed connection", "conn", c.id, "took", took)
	}
	if p.cfg.Hooks.OnCreate != nil {
		p.cfg.Hooks.OnCreate(c.info())
	}
	t := newToken(c)
	if !req.deliverTo(dialResult[T]{t: t}) {
		p.put(t)
	}
}

// discardStale closes a connection dialed before a Reset that never entered
// the pool, on the dial's goroutine, and counts it, with its hooks, as a
// connection created and closed for ReasonPoolReset, so that Stats and the
// hooks still add up.
func (p *Pool[T]) discardStale(v T, start time.Time) {
	info := ConnInfo{ID: p.nextID.Add(1), Created: start, LastUsed: start, State: StateClosed}
	p.st.created.Add(1)
	if p.cfg.Hooks.OnCreate != nil {
		p.cfg.Hooks.OnCreate(info)
	}
	p.st.destroyed.Add(1)
	p.st.closedBy[ReasonPoolReset].Add(1)
	p.closeValue(v, info.ID, ReasonPoolReset)
	if p.cfg.Hooks.OnDestroy != nil {
		p.cfg.Hooks.OnDestroy(info, ReasonPoolReset)
	}
}

// deliverTo is deliver for a possibly nil req.
func (req *dialReq[T]) deliverTo(r dialResult[T]) bool {
	return req != nil && req.deliver(r)
}

// callDial runs Config.Dial bounded by the pool's context and DialTimeout,
// turning a panic into an error. Every error it returns wraps ErrDial.
func (p *Pool[T]) callDial() (v T, err error) {
	ctx, cancel := p.bounded(p.ctx, p.set.dialTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: dial panicked: %v", ErrDial, r)
		}
	}()
	v, err = p.cfg.Dial(ctx)
	if err != nil {
		return v, fmt.Errorf("%w: %w", ErrDial, err)
	}
	return v, nil
}

// register adds a freshly dialed connection to the registry. It returns
// false if the pool has closed.
func (p *Pool[T]) register(c *conn[T]) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return false
	}
	c.slot = p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.conns[c.slot].Store(c)
	p.dialSucceededLocked()
	return true
}

// bounded returns ctx limited to d on the pool's clock (d == 0: no limit).
// Its Deadline reports the limit (or the parent's, if sooner), so that a
// Dial or a check that sets I/O deadlines from ctx.Deadline is bounded too.
// That deadline is in real time, for the I/O it bounds runs on the real
// clock even when the pool runs on a test's fake one; the context's end
// follows the pool's clock.
func (p *Pool[T]) bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	deadline := time.Now().Add(d)
	if pd, ok := ctx.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	inner, cancel := context.WithCancelCause(ctx)
	t := p.clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return deadlined{inner, deadline}, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// deadlined is a context that reports a deadline its parent does not.
type deadlined struct {
	context.Context
	deadline time.Time
}

func (d deadlined) Deadline() (time.Time, bool) { return d.deadline, true }
