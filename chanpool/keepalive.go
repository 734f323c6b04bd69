package chanpool

import (
	"context"
	"math/rand/v2"
	"time"
)

// Keepalive of idle connections (Config.KeepaliveInterval).
//
// Every KeepaliveInterval/16 the maintenance goroutine looks through the
// registry for an idle connection unused and unpinged for KeepaliveInterval
// less its jitter. Only when it finds one does it take the idle list apart
// (as the evictor does), start a ping on each connection due, and put the
// others back in order: a busy pool, whose connections never sit idle that
// long, pays nothing. A ping is a health check run with ping set
// (startCheck): it owns its connection, and passing it stamps
// conn.pinged, not lastUsed, so that it is no use, and the pool still
// shrinks by need.

// keepaliveTick is how often the maintenance goroutine looks for
// connections due a ping.
func keepaliveTick(interval time.Duration) time.Duration {
	return max(interval/16, minTick)
}

// keepaliveJitter draws a connection's jitter, up to a quarter of the
// interval.
func keepaliveJitter(interval time.Duration) int64 {
	if q := int64(interval / 4); q > 0 {
		return rand.N(q)
	}
	return 0
}

// keepaliveDue reports whether c, idle, is due a ping at now.
func (p *Pool[T]) keepaliveDue(c *conn[T], now int64) bool {
	last := max(c.lastUsed.Load(), c.pinged.Load())
	return now-last >= int64(p.set.keepalive)-c.keepJitter
}

// keepalive is one keepalive run. Only the maintenance goroutine calls it.
func (p *Pool[T]) keepalive() {
	now := p.now.Load()
	due := false
	for i := range p.conns {
		if c := p.conns[i].Load(); c != nil && stOf(c.state.Load()) == stIdle && p.keepaliveDue(c, now) {
			due = true
			break
		}
	}
	if !due {
		return
	}
	p.sweep(func(t *token[T], s uint64) bool {
		if !p.keepaliveDue(t.c, now) {
			return true
		}
		p.startCheck(context.Background(), t, s, nil, true)
		return false
	})
}
