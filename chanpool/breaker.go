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
// instead of waiting out their timeout. While open, the pool keeps probing
// with one dial per backoff period; the first success closes the breaker
// and its connection serves the next caller.

// Retry pacing for dials.
const (
	retryBase = 10 * time.Millisecond
	retryMax  = time.Second
)

// The wake-up signal. When the pool closes or the breaker opens, every
// waiting caller must give up at once. Rather than have each waiter watch a
// second channel (a select locks and queues on every channel it watches;
// before this change selectgo was 31% of a contended acquire's profile),
// the news travels through the idle list itself as a nil token: raise puts
// it there, and whoever receives it calls signaled, which passes it on for
// as long as the news holds. Waiters so leave one after another, each
// waking the next; once nobody waits, the signal stays in the list until a
// caller or Close takes it. A signal whose news no longer holds (the
// breaker closed again) is dropped by its next receiver.
//
// At most one signal exists: raise sets Pool.signal before sending it and
// signaled clears it on receipt. The idle channel has room for MaxConns
// connections and the signal, so sending it never blocks.

// raise puts the wake-up signal in the idle list, unless it is out already.
func (p *Pool[T]) raise() {
	if p.signal.CompareAndSwap(false, true) {
		select {
		case p.idle <- nil:
		default:
			panic(errOverflow)
		}
	}
}

// signaled is called by whoever received the wake-up signal. It returns the
// error a waiting caller should give up with — ErrClosed, or the breaker's
// error — after passing the signal on to the next receiver, or nil, dropping
// the signal, if its news no longer holds.
func (p *Pool[T]) signaled() error {
	p.signal.Store(false)
	var err error
	switch {
	case p.closed.Load():
		err = ErrClosed
	case p.breakerOpen.Load():
		err = p.breakerErr()
	default:
		return nil
	}
	p.raise()
	return err
}

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
	if !p.breakerOpen.Load() && p.waiting.Load() == 0 && p.open.Load() >= int64(p.set.minConns) {
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

// probe starts one dial while the breaker is open, if none is in flight.
func (p *Pool[T]) probe() {
	if p.dialing.Load() == 0 && p.trySlot() {
		p.startDial(nil)
		return
	}
	p.scheduleRetry()
}
