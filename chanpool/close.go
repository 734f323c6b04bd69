package chanpool

import (
	"context"
	"fmt"
	"sync"
)

// Shutdown: Pool.Close, and closing what is idle or still out.

// Close shuts the pool down. New acquires get ErrClosed at once, every
// waiting caller is rejected with ErrClosed at once, dials in flight are
// canceled, idle connections are closed at once, concurrently, and busy
// ones as their holders hand them back. Close blocks until every
// connection is closed (its Config.Close has returned) and every goroutine
// the pool started has ended, or until ctx is done. Then it returns at
// once, with an error wrapping ctx.Err() that counts what was still
// running, by kind: the connections still leased, which it closes now
// (their holders' next Release returns ErrClosed), and the closes, dials
// and health checks still running, which go on in the background. A
// connection that a Reset or health check still runs on is closed when
// that returns, never under it. A second Close returns ErrClosed.
func (p *Pool[T]) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed.Store(true)
	p.offFast.Store(true)
	close(p.closing)
	p.raise()
	if p.retry != nil && p.retry.Stop() {
		p.wg.Done() // the retry will not run
	}
	p.retry = nil
	p.stopTickingLocked()
	p.mu.Unlock()
	p.cancel()

	for {
		p.drainIdle()
		if p.open.Load() == 0 {
			break
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			closes := p.closes.Load()
			busy := p.forceClose()
			return p.stillRunning(ctx, busy, closes)
		}
	}
	return p.waitGoroutines(ctx)
}

// stillRunning is Close's error when ctx ended first: busy connections were
// still leased (forceClose is closing them), and closes were running before
// that.
func (p *Pool[T]) stillRunning(ctx context.Context, busy int, closes int64) error {
	return fmt.Errorf("chanpool: close: the context ended with %d connections still in use (closing them now, under their holders); still running: %d closes, %d dials, %d health checks: %w",
		busy, closes, p.dialing.Load(), p.checking.Load(), ended(ctx))
}

// waitGoroutines waits for every goroutine the pool started, or for ctx.
// Once every connection is closed only a Dial or HealthCheck that ignores
// its context can keep one running; the error then says so.
func (p *Pool[T]) waitGoroutines(ctx context.Context) error {
	if waitFor(ctx, &p.wg) {
		return nil
	}
	return p.stillRunning(ctx, 0, p.closes.Load())
}

// waitFor waits for wg, or for ctx, reporting whether wg was done first.
// When ctx wins, the goroutine that waits for wg runs on until it is done.
func waitFor(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// drainIdle closes every connection in the idle list and the hot slot. Used
// once closing.
func (p *Pool[T]) drainIdle() {
	if t := p.swapHot(); t != nil {
		if s := t.c.state.Load(); stOf(s) == stIdle {
			p.kill(t.c, s, ReasonPoolClosed)
		}
	}
	for {
		select {
		case t := <-p.idle:
			if t == nil {
				// Passed on at once it would come back to this loop:
				// after it, so that callers still waiting hear it.
				defer p.signaled()
				continue
			}
			if s := t.c.state.Load(); stOf(s) == stIdle {
				p.kill(t.c, s, ReasonPoolClosed)
			}
		default:
			return
		}
	}
}

// forceClose closes every connection still registered, whoever holds it, and
// returns how many were leased. A connection that a Reset or HealthCheck
// runs on only moves to dead: the goroutine running it closes it when it
// returns (checkEnded).
func (p *Pool[T]) forceClose() int {
	busy := 0
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		for {
			s := c.state.Load()
			if stOf(s) == stDead {
				break
			}
			st := stOf(s)
			leased := st == stBusy || st == stReleasing
			c.diedLeased.Store(leased) // before the CAS that publishes dead
			if c.state.CompareAndSwap(s, withSt(s, stDead)) {
				if leased {
					busy++
					p.st.destroyedBusy.Add(1)
				}
				if st != stReleasing && st != stChecking {
					p.retire(c, ReasonPoolClosed)
				}
				break
			}
		}
	}
	p.drainIdle()
	return busy
}
