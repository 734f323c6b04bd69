package chanpool

import (
	"time"

	"github.com/chanpool/chanpool/internal/clock"
)

// Eviction by need, not by per-connection idle time.
//
// The idle list is a FIFO channel, so under a light steady load of a few
// callers every idle connection is reused in turn and none ever sits idle for
// long (the hot slot spares only a lone caller the rotation): a pool that
// grew in a burst would never shrink if eviction looked at each connection's
// idle time. Instead the pool watches the low-water mark of the idle list:
// every acquire lowers idleLow to the idle count it saw (0 when it had to
// wait or dial). If the list never went below k during the last IdleTimeout,
// the load never needed those k connections, and the evictor closes k of
// them, oldest-idle first (the front of the channel; the hot slot of hot.go
// last), never going below MinConns. The check runs every EvictionInterval
// over the last ceil(IdleTimeout/EvictionInterval) intervals, so a surplus is
// closed within IdleTimeout + EvictionInterval of the moment it appeared. It costs each
// acquire a len of the idle channel and an atomic load, and only when idle
// eviction is on (Pool.watchIdle).

// evictor is the evictor goroutine's private state.
type evictor struct {
	lows []int64 // idle low-water mark of each recent interval, oldest first
}

// tickers arms the maintenance goroutine's tickers (nil when off). They are
// armed in New, so that a test's fake clock sees them as soon as New returns.
func (p *Pool[T]) tickers() (evict, leaks, keep clock.Ticker) {
	if p.set.evictionInterval > 0 {
		evict = p.clock.NewTicker(p.set.evictionInterval)
	}
	if p.set.leakThreshold > 0 {
		leaks = p.clock.NewTicker(max(p.set.leakThreshold/2, time.Millisecond))
	}
	if p.set.keepalive > 0 {
		keep = p.clock.NewTicker(keepaliveTick(p.set.keepalive))
	}
	return evict, leaks, keep
}

// maintain is the pool's background goroutine: eviction, leak scans and
// keepalives. It ends when Close begins.
func (p *Pool[T]) maintain(evictT, leakT, keepT clock.Ticker) {
	defer p.wg.Done()
	evictC, leakC, keepC := tickerC(evictT), tickerC(leakT), tickerC(keepT)
	for _, t := range []clock.Ticker{evictT, leakT, keepT} {
		if t != nil {
			defer t.Stop()
		}
	}
	var e evictor
	window := 1
	if p.set.idleTimeout > 0 && p.set.evictionInterval > 0 {
		window = int((p.set.idleTimeout + p.set.evictionInterval - 1) / p.set.evictionInterval)
	}
	e.lows = make([]int64, 0, window)
	for {
		select {
		case <-p.closing:
			return
		case <-evictC:
			p.evict(&e, window)
		case <-leakC:
			p.scanLeaks()
		case <-keepC:
			p.keepalive()
		}
	}
}

// tickerC is t's channel, or nil (a case that never fires) for no ticker.
func tickerC(t clock.Ticker) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

// evict is one eviction run.
func (p *Pool[T]) evict(e *evictor, window int) {
	now := p.clock.Now().UnixNano()

	// Bookkeeping and lifetimes, from the registry.
	doomedIdle := 0
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		s := c.state.Load()
		if gen := genOf(s); p.tick <= 0 && gen != c.seenGen {
			c.seenGen = gen
			c.lastUsed.Store(now)
		}
		if c.expires != 0 && now >= c.expires {
			c.doom(ReasonLifetime)
			if stOf(s) == stIdle {
				doomedIdle++
			}
		}
	}

	// The surplus: the smallest low-water mark over the IdleTimeout window.
	// Connections out for a keepalive ping are idle as far as the load is
	// concerned: count them, so that pings never keep the pool from
	// shrinking.
	low := min(p.idleLow.Load(), int64(p.idleLen())+p.pinging.Load())
	if len(e.lows) == window {
		copy(e.lows, e.lows[1:])
		e.lows = e.lows[:window-1]
	}
	e.lows = append(e.lows, low)
	surplus := int64(0)
	if p.set.idleTimeout > 0 && len(e.lows) == window {
		surplus = e.lows[0]
		for _, l := range e.lows {
			surplus = min(surplus, l)
		}
	}
	live := p.open.Load() - p.dialing.Load()
	// Never below MinConns, nor below the busy connections plus MinIdle.
	busy := live - int64(p.idleLen()) - p.pinging.Load()
	surplus = min(surplus, live-max(p.minConns.Load(), busy+p.minIdle.Load()))

	// Close from the front of the idle list: the surplus, and any connection
	// past its lifetime met on the way. Healthy ones met while looking for
	// doomed ones go to the back again. The hot slot comes last: its
	// connection is the one used most recently (hot.go).
	closed := int64(0)
	judge := func(t *token[T]) (keep bool) {
		c := t.c
		s := c.state.Load()
		reason, doomed := CloseReason(0), false
		if c.doomed.Load() {
			reason, doomed = p.mustClose(c)
		}
		switch {
		case stOf(s) != stIdle:
			// Closed by a forced Close; nothing to do.
		case doomed:
			doomedIdle--
			surplus--
			closed++
			p.kill(c, s, reason)
		case surplus > 0:
			surplus--
			closed++
			p.kill(c, s, ReasonIdle)
		default:
			return true
		}
		return false
	}
	var keep []*token[T]
	for n := len(p.idle); n > 0 && (surplus > 0 || doomedIdle > 0); n-- {
		var t *token[T]
		select {
		case t = <-p.idle:
		default:
			n = 0
			continue
		}
		if t == nil {
			defer p.signaled() // after the loop, which would meet it again
			continue
		}
		if judge(t) {
			keep = append(keep, t)
		}
	}
	var hot *token[T]
	if surplus > 0 || doomedIdle > 0 {
		if t := p.swapHot(); t != nil && judge(t) {
			hot = t
		}
	}
	for _, t := range keep {
		p.put(t)
	}
	if hot != nil {
		p.park(hot)
	}
	// Surplus out for a keepalive ping closes when the ping returns.
	for i := 0; i < len(p.conns) && surplus > 0; i++ {
		if c := p.conns[i].Load(); c != nil && c.pingOut.Load() && !c.doomed.Load() {
			c.doom(ReasonIdle)
			surplus--
			closed++
		}
	}
	// The closed connections are gone from every interval's idle count.
	for i := range e.lows {
		e.lows[i] = max(0, e.lows[i]-closed)
	}
	p.resetIdleMark()
	if p.breakerOpen.Load() {
		// Probe now rather than at the end of the breaker's backoff, so a
		// backend that came back is found within one EvictionInterval.
		p.probe()
	} else {
		p.refill()
	}
}

// noteIdle lowers idleLow to n, the idle count an acquirer just saw, and
// dials ahead if n is below MinIdle. The evictor reads the low-water mark
// to learn how many connections the load did not need.
func (p *Pool[T]) noteIdle(n int) {
	for {
		low := p.idleLow.Load()
		if int64(n) >= low || p.idleLow.CompareAndSwap(low, int64(n)) {
			break
		}
	}
	minIdle := p.minIdle.Load()
	p.idleMark.Store(max(p.idleLow.Load(), minIdle))
	if int64(n) < minIdle {
		p.refill()
	}
}

// resetIdleMark starts a new low-water mark at the idle count now.
func (p *Pool[T]) resetIdleMark() {
	n := int64(p.idleLen()) + p.pinging.Load()
	p.idleLow.Store(n)
	p.idleMark.Store(max(n, p.minIdle.Load()))
}
