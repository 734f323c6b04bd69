package chanpool

import (
	"context"
	"fmt"
	"log/slog"
)

// Retirement: closing a connection that reached state dead, unregistering
// it and freeing its slot, and why it was closed.
//
// Config.Close never runs on a caller's goroutine: Destroy, a failed check
// or reset, eviction and Close hand the connection to a goroutine of its
// own. A closing connection keeps its slot until Config.Close returns, so
// it still counts against MaxConns (and in Stats.Total, Stats.Closing): at
// no instant are more than MaxConns connections open, closing ones
// included. The closes so run at most MaxConns at a time.

// reasonCheckDue marks a connection due a health check (now.go). It is no
// CloseReason: mustClose never closes a connection for it.
const reasonCheckDue = numReasons

// doom marks c to be closed by the next goroutine that holds it idle, for
// reason r. A lifetime or a Reset outranks a shrink, a due check or a
// Group's need for room: the first of those stays. Those three marks are
// provisional (see mustClose).
func (c *conn[T]) doom(r CloseReason) {
	if r == ReasonResize || r == reasonCheckDue || r == ReasonGroupCap {
		c.doomReason.CompareAndSwap(0, uint32(r)+1)
	} else {
		c.doomReason.Store(uint32(r) + 1)
	}
	c.doomed.Store(true)
}

// mustClose reports whether c, doomed, must close now, and why. A
// connection doomed only by a shrink of MaxConns that has drained since
// (nothing owed) is not: its mark is lifted, and it is reused. Nor is one
// marked due a health check: its mark is lifted, and mustClose returns
// reasonCheckDue and false, for lease to start the check. Nor is one
// marked to make room under a Group's cap once the group needs no more
// room (share.claim).
func (p *Pool[T]) mustClose(c *conn[T]) (CloseReason, bool) {
	r := c.doomReason.Load()
	if r == uint32(reasonCheckDue)+1 {
		if c.doomReason.CompareAndSwap(r, 0) {
			c.doomed.Store(false)
			return reasonCheckDue, false
		}
		r = c.doomReason.Load() // a lifetime or a Reset got there first
	}
	if r == uint32(ReasonResize)+1 {
		// Close it only if what is owed is not already being paid by
		// connections closing for the same reason.
		for {
			sh := p.shedding.Load()
			if p.owed.Load()-sh <= 0 {
				if c.doomReason.CompareAndSwap(r, 0) {
					c.doomed.Store(false)
				}
				return 0, false
			}
			if p.shedding.CompareAndSwap(sh, sh+1) {
				c.shed = true
				return ReasonResize, true
			}
		}
	}
	if r == uint32(ReasonGroupCap)+1 {
		// Close it only while the group still needs the room.
		close, keep := false, false
		if p.share != nil {
			close, keep = p.share.claim(p)
		}
		if close {
			c.groupShed.Store(true)
			return ReasonGroupCap, true
		}
		if !keep && c.doomReason.CompareAndSwap(r, 0) {
			c.doomed.Store(false)
		}
		return 0, false
	}
	if r == 0 {
		return ReasonLifetime, true // doomed.Store raced ahead of the reason
	}
	return CloseReason(r - 1), true
}

// kill moves a connection the caller owns from state s to dead and retires
// it. If the state moved meanwhile (a forced Close got there first) it does
// nothing.
func (p *Pool[T]) kill(c *conn[T], s uint64, reason CloseReason) {
	if c.state.CompareAndSwap(s, withSt(s, stDead)) {
		p.retire(c, reason)
	}
}

// retire unregisters a connection already in state dead and closes it on a
// goroutine of the pool's, which frees its slot once Config.Close has
// returned. Only the goroutine that moved it to dead calls retire (or, for
// a connection a forced Close moved to dead while a check or reset ran on
// it, the goroutine that ran it: see checkEnded).
func (p *Pool[T]) retire(c *conn[T], reason CloseReason) {
	p.closes.Add(1)
	p.mu.Lock()
	p.conns[c.slot].Store(nil)
	p.free = append(p.free, c.slot)
	p.st.deadAcquired.Add(genOf(c.state.Load()))
	// The caller holds c's slot, and Close waits for every slot before it
	// waits for wg, so this Add comes before that Wait even once closed.
	p.wg.Add(1)
	p.mu.Unlock()
	p.st.destroyed.Add(1)
	p.st.closedBy[reason].Add(1)
	go func() {
		defer p.wg.Done()
		p.closeValue(c.value, c.id, reason)
		if p.cfg.Hooks.OnDestroy != nil {
			p.cfg.Hooks.OnDestroy(c.info(), reason)
		}
		p.closes.Add(-1)
		if c.shed {
			p.shedding.Add(-1)
		}
		p.freeSlotOf(c)
		if c.replace && !p.closed.Load() && p.trySlot() {
			p.startDial(nil) // a keepalive failed: keep the pool's size
		}
	}()
}

// closeValue runs Config.Close, recovering a panic; failures are counted
// and logged, and the connection counts as closed either way.
func (p *Pool[T]) closeValue(v T, id uint64, reason CloseReason) {
	if p.cfg.Close == nil {
		return
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("close panicked: %v", r)
			}
		}()
		return p.cfg.Close(v)
	}()
	if err != nil {
		p.st.closeErrors.Add(1)
		p.log.Warn("chanpool: close failed", "conn", id, "reason", reason.String(), "err", err)
	} else if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug("chanpool: closed connection", "conn", id, "reason", reason.String())
	}
}

// CloseReason says why a connection was closed.
type CloseReason uint8

// Reasons a connection is closed.
const (
	ReasonIdle       CloseReason = iota // surplus to the load for IdleTimeout
	ReasonLifetime                      // past MaxLifetime
	ReasonHealth                        // HealthCheck failed
	ReasonReset                         // Reset failed
	ReasonDestroy                       // the holder called Destroy
	ReasonPoolClosed                    // the pool closed
	ReasonLeaked                        // the holder lost its handle without ending the lease
	ReasonResize                        // surplus to a lowered MaxConns (Pool.SetMaxConns)
	ReasonPoolReset                     // dialed before Pool.Reset
	ReasonKeepalive                     // failed a keepalive ping while idle
	ReasonGroupCap                      // closed to make room for another key under a Group's MaxConns
	ReasonDetached                      // taken out of the pool by Conn.Detach, not closed
	numReasons
)

func (r CloseReason) String() string {
	switch r {
	case ReasonIdle:
		return "idle"
	case ReasonLifetime:
		return "lifetime"
	case ReasonHealth:
		return "health"
	case ReasonReset:
		return "reset"
	case ReasonDestroy:
		return "destroy"
	case ReasonPoolClosed:
		return "pool_closed"
	case ReasonLeaked:
		return "leaked"
	case ReasonResize:
		return "resize"
	case ReasonPoolReset:
		return "pool_reset"
	case ReasonKeepalive:
		return "keepalive"
	case ReasonGroupCap:
		return "group_cap"
	case ReasonDetached:
		return "detached"
	}
	return "unknown"
}
