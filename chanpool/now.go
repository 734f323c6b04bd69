package chanpool

import "time"

// The coarse clock, and idle times from its ticks. Stamping each release
// for the health check (Config.HealthCheck with HealthCheckAfter) or the
// keepalive (Config.KeepaliveInterval) would cost a clock read per release,
// about as much as the rest of an acquire+release together, and testing
// each acquire's idle time would keep HealthCheck pools off the fast path
// (DESIGN.md, "The coarse clock"). Instead a timer ticks every tick
// (HealthCheckAfter/8, or KeepaliveInterval/8, at least minTick). Each tick
// stores the wall time in Pool.now, and looks at every connection: one in
// use has conn.lastUsed set to now and no idle ticks; one idle has one more
// idle tick, or its first if it was used since the last tick (its lease
// generation moved). When a connection has been idle at checkTicks ticks in
// a row (HealthCheckAfter over the tick, rounded up) it is marked due a
// check (doom, reasonCheckDue), which the fast path's doomed test already
// catches: an acquire takes it through lease, which starts the check. So a
// connection is marked by the time it has been idle HealthCheckAfter, and
// never before it has been idle HealthCheckAfter less one tick.

// minTick is the coarse clock's shortest tick.
const minTick = time.Millisecond

// coarseTick is the coarse clock's tick for the settings s, or 0 when
// nothing reads it.
func coarseTick[T any](cfg *Config[T], s settings) time.Duration {
	var tick time.Duration
	if cfg.HealthCheck != nil && s.healthAfter > 0 {
		tick = max(s.healthAfter/8, minTick)
	}
	if s.keepalive > 0 {
		k := max(s.keepalive/8, minTick)
		if tick == 0 || k < tick {
			tick = k
		}
	}
	return tick
}

// startTicking arms the coarse clock's first tick. Called once, from New.
func (p *Pool[T]) startTicking() {
	p.now.Store(p.clock.Now().UnixNano())
	if p.tick <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wg.Add(1)
	p.ticker = p.clock.AfterFunc(p.tick, p.onTick)
}

// onTick advances the coarse clock, counts idle ticks and arms the next
// tick, until Close. Ticks run one after another: only onTick touches
// conn.tickGen.
func (p *Pool[T]) onTick() {
	defer p.wg.Done()
	now := p.clock.Now().UnixNano()
	p.now.Store(now)
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		s := c.state.Load()
		g := genOf(s)
		if stOf(s) != stIdle {
			c.tickGen = g
			c.idleTicks.Store(0)
			c.lastUsed.Store(now) // in use now
			continue
		}
		var n int64
		if g != c.tickGen {
			// Leased and handed back since the last tick: idle for up to a
			// tick. Its use is stamped at the earliest it could have ended.
			c.tickGen = g
			c.idleTicks.Store(1)
			c.lastUsed.Store(now - int64(p.tick))
			n = 1
		} else {
			n = c.idleTicks.Add(1)
		}
		if p.checkTicks > 0 && n >= p.checkTicks && !c.doomed.Load() {
			c.doom(reasonCheckDue)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		p.ticker = nil
		return
	}
	p.wg.Add(1)
	p.ticker.Reset(p.tick)
}

// stopTickingLocked stops the coarse clock. Caller must hold p.mu, with
// p.closed set.
func (p *Pool[T]) stopTickingLocked() {
	if p.ticker != nil && p.ticker.Stop() {
		p.wg.Done() // the tick will not run
	}
	p.ticker = nil
}
