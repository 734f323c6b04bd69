package chanpool

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Dial failure handling: backoff and the breaker.
//
// Every failed dial counts toward dialFails (reset by any success) and, while
// something still needs a connection, schedules one retry after a backoff
// that doubles from retryBase to retryMax, with jitter, so a dead backend
// sees a trickle of dials rather than a storm.
//
// After BreakerThreshold consecutive failures the breaker opens: every
// waiting caller is released at once with ErrBreakerOpen wrapping the last
// dial error, and callers that find no idle connection fail the same way
// instead of waiting out their timeout. While open, the pool probes: one
// dial at a time, started by demand — a caller turned away starts one, if
// none is in flight and none started in the last probeFloor — and, with no
// demand, by the backoff timer and each eviction run. The first success
// closes the breaker and its connection serves the next caller, so a
// backend that comes back under load is found within about probeFloor,
// while one that stays down sees at most one dial per probeFloor however
// many callers arrive.

// Retry pacing for dials.
const (
	retryBase = 10 * time.Millisecond
	retryMax  = time.Second
	// probeFloor is the least time between two probes started by demand
	// while the breaker is open.
	probeFloor = 10 * time.Millisecond
)

// dialFailed records a failed dial and opens the breaker at the threshold.
func (p *Pool[T]) dialFailed(err error) {
	p.lastDialErr.Store(err)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialFails++
	if p.set.breakerThreshold > 0 && p.dialFails >= p.set.breakerThreshold && !p.breakerOpen.Load() {
		p.breakerOpen.Store(true)
		p.raise()
		p.st.breakerTrips.Add(1)
		p.log.Warn("chanpool: dial breaker open: callers fail fast until a dial succeeds",
			"consecutive_failures", p.dialFails, "err", err)
	}
}

// dialSucceededLocked records a successful dial and closes the breaker.
// Caller must hold p.mu.
func (p *Pool[T]) dialSucceededLocked() {
	p.dialFails = 0
	p.lastDialErr.Store(nil)
	if p.breakerOpen.Load() {
		p.breakerOpen.Store(false)
		p.log.Info("chanpool: dial breaker closed: a dial succeeded")
	}
}

// breakerErr is what callers get while the breaker is open.
func (p *Pool[T]) breakerErr() error {
	if err := p.lastDialErr.Load(); err != nil {
		return fmt.Errorf("%w: %w", ErrBreakerOpen, err)
	}
	return ErrBreakerOpen
}

// scheduleRetry arranges for the pool to dial again after a backoff, if
// anything still needs a connection: a waiting caller, MinConns, or a probe
// while the breaker is open. At most one retry is pending at a time.
func (p *Pool[T]) scheduleRetry() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() || p.retry != nil || p.dialFails == 0 {
		return
	}
	if !p.breakerOpen.Load() && p.waiting.Load() == 0 && p.open.Load() >= p.minConns.Load() {
		return
	}
	d := min(retryBase<<min(p.dialFails-1, 16), retryMax)
	d = d/2 + rand.N(d/2+1) // jitter: [d/2, d]
	p.wg.Add(1)
	p.retry = p.clock.AfterFunc(d, func() {
		defer p.wg.Done()
		p.mu.Lock()
		p.retry = nil
		p.mu.Unlock()
		if p.breakerOpen.Load() {
			p.probe()
		} else {
			p.refill()
		}
	})
}

// probeOnDemand is called by a caller that the open breaker turns away. It
// starts a probe unless one started less than probeFloor ago (or one is in
// flight: see probe). The caller does not wait for it: it fails fast.
func (p *Pool[T]) probeOnDemand() {
	last, now := p.lastProbe.Load(), int64(p.clock.Mono())
	if now-last < int64(probeFloor) || !p.lastProbe.CompareAndSwap(last, now) {
		return
	}
	p.probe()
}

// probe starts one dial while the breaker is open, if none is in flight.
func (p *Pool[T]) probe() {
	if p.dialing.Load() == 0 && p.trySlot() {
		p.startDial(nil)
		return
	}
	p.scheduleRetry()
}
