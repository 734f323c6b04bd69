package chanpool

import "time"

// The coarse clock. A release that stamps its connection for the health
// check (Config.HealthCheck with HealthCheckAfter) or the keepalive
// (Config.KeepaliveInterval) would pay a clock read,
// which costs about as much as the rest of an acquire+release together
// (DESIGN.md, "The coarse clock"). Instead Pool.now holds the wall time as
// of the last tick, every HealthCheckAfter/8 (at least a millisecond), and
// releases and acquires read it with one atomic load. checkDue accounts for
// the tick.

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

// onTick advances the coarse clock and arms the next tick, until Close.
func (p *Pool[T]) onTick() {
	defer p.wg.Done()
	p.now.Store(p.clock.Now().UnixNano())
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
