package chanpool

import (
	"context"
	"fmt"
)

// Shutdown: Pool.Close, and closing what is idle or still out.

// Close shuts the pool down. New acquires get ErrClosed at once, every
// waiting caller is rejected with ErrClosed at once, dials in flight are
// canceled, idle connections are closed at once and busy ones as their
// holders hand them back. Close blocks until every connection is closed and
// every goroutine the pool started has ended, or until ctx is done: then it
// closes the connections still out (their holders' next Release returns
// ErrClosed) and returns an error wrapping ctx.Err() that says how many
// were still out. A second Close returns ErrClosed.
func (p *Pool[T]) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed.Store(true)
	close(p.closing)
	p.raise()
	if p.retry != nil && p.retry.Stop() {
		p.wg.Done() // the retry will not run
	}
	p.retry = nil
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
			busy := p.forceClose()
			dialing := p.dialing.Load()
			if dialing == 0 && p.checking.Load() == 0 {
				// Nothing left can block on user code that ignores its
				// context: the rest of the goroutines end promptly.
				p.wg.Wait()
			}
			return fmt.Errorf("chanpool: close: %d connections still in use and %d dials still running when the context ended; closed the connections: %w",
				busy, dialing, ended(ctx))
		}
	}
	return p.waitGoroutines(ctx)
}

// waitGoroutines waits for every goroutine the pool started, or for ctx.
// Only a Dial, HealthCheck or Reset that ignores its canceled context can
// keep one running; the error then says so.
func (p *Pool[T]) waitGoroutines(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chanpool: close: %d dials and %d checks ignoring their canceled context still running when the context ended: %w",
			p.dialing.Load(), p.checking.Load(), ended(ctx))
	}
}

// drainIdle closes every connection in the idle list. Used once closing.
func (p *Pool[T]) drainIdle() {
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
// returns how many were leased.
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
				p.retire(c, ReasonPoolClosed)
				break
			}
		}
	}
	p.drainIdle()
	return busy
}
