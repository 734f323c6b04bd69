package chanpool_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// Close and the breaker reach waiting callers through the idle list, as a
// wake-up signal each receiver passes on (breaker.go). These tests pin down
// that every kind of waiter hears it — those on a plain receive (no context
// to watch, no timeout) and those in a select — and that the signal never
// counts as, or hides, an idle connection.

func TestCloseWakesEveryWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _, held := fullPool(t, b.config()) // no AcquireTimeout
		var waiters []<-chan outcome
		for range 3 {
			waiters = append(waiters, startAcquire(context.Background(), p)) // plain receive
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range 2 {
			waiters = append(waiters, startAcquire(ctx, p)) // select with ctx.Done
		}
		synctest.Wait()
		require.Equal(t, 5, p.Stats().Waiting)

		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		synctest.Wait()
		requireAllEnded(t, waiters, chanpool.ErrClosed, "Close")
		s := p.Stats()
		assert.Equal(t, 0, s.Waiting)
		assert.Equal(t, 0, s.Idle, "the signal is not an idle connection")
		require.NoError(t, held.Release())
		require.NoError(t, <-closed)
		assert.Equal(t, 0, b.open())
	})
}

func TestBreakerWakesPlainWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := breakerConfig(b)
		cfg.AcquireTimeout = chanpool.None // waiters block on a plain receive
		p, clk := newPool(t, cfg)
		held := acquireN(t, p, 2)
		var waiters []<-chan outcome
		for range 4 {
			waiters = append(waiters, startAcquire(context.Background(), p))
		}
		synctest.Wait()

		b.setFail(errBoom)
		require.NoError(t, held[0].Destroy())
		synctest.Wait()
		require.NoError(t, held[1].Destroy())
		synctest.Wait()
		clk.Advance(time.Second) // the third failure in a row trips the breaker
		synctest.Wait()

		requireAllEnded(t, waiters, chanpool.ErrBreakerOpen, "the breaker opened")
		assert.Equal(t, 0, p.Stats().Waiting)
	})
}

func TestSignalDoesNotHideIdleConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, breakerConfig(b)) // MaxConns 2, BreakerThreshold 3
		held := acquireN(t, p, 1)[0]

		// Trip the breaker with nobody waiting: the signal stays in the
		// idle list, and the released connection queues behind it.
		b.setFail(errBoom)
		for range 3 {
			_, err := p.TryAcquire(context.Background()) // each starts a dial that fails
			require.ErrorIs(t, err, chanpool.ErrNoIdle)
			synctest.Wait()
		}
		require.True(t, p.Stats().BreakerOpen)
		require.NoError(t, held.Release())
		assert.Equal(t, 1, p.Stats().Idle)

		c, err := p.TryAcquire(context.Background())
		require.NoError(t, err, "TryAcquire looks past the signal")
		require.NoError(t, c.Release())
		c, err = p.Acquire(context.Background())
		require.NoError(t, err, "so does Acquire")
		require.NoError(t, c.Release())

		// The breaker closes; the signal, its news stale, is dropped by the
		// next receiver, and waiters wait again instead of failing.
		b.setFail(nil)
		clk.Advance(2 * time.Second)
		synctest.Wait()
		require.False(t, p.Stats().BreakerOpen)
		held2 := acquireN(t, p, 2)
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		select {
		case o := <-w:
			t.Fatalf("a waiter returned while the pool was merely full: %v", o.err)
		default:
		}
		require.NoError(t, held2[0].Release())
		o := <-w
		require.NoError(t, o.err)
		require.NoError(t, o.c.Release())
		require.NoError(t, held2[1].Release())
		s := p.Stats()
		assert.Equal(t, 2, s.Idle)
		assert.Equal(t, s.Total, s.Idle+s.Busy+s.Dialing)
	})
}

func TestEvictorPassesSignalOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := evictConfig(b, 3, 0)
		cfg.BreakerThreshold = 3
		p, clk := newPool(t, cfg)
		held := acquireN(t, p, 3)
		require.NoError(t, held[1].Destroy())
		require.NoError(t, held[2].Destroy())
		synctest.Wait() // their closes free their slots

		// Trip the breaker with nobody waiting: the signal stays in the
		// idle list, ahead of the connection released after it.
		b.setFail(errBoom)
		for range 3 {
			_, err := p.TryAcquire(context.Background())
			require.ErrorIs(t, err, chanpool.ErrNoIdle)
			synctest.Wait()
		}
		require.True(t, p.Stats().BreakerOpen)
		require.True(t, chanpool.SignalOut(p))
		require.NoError(t, held[0].Release())

		// Unused for IdleTimeout, the connection is surplus: the evictor
		// meets the signal on its way to it, closes the connection and
		// passes the signal on, the breaker being still open.
		step(clk, cfg.IdleTimeout+cfg.EvictionInterval, nil)
		s := p.Stats()
		assert.Equal(t, uint64(1), s.Closed.Idle, "the surplus connection is closed")
		assert.Equal(t, 0, s.Idle)
		assert.True(t, s.BreakerOpen)
		assert.True(t, chanpool.SignalOut(p), "the news still holds: the signal is passed on")

		// The breaker closes at an eviction run's probe; the next receiver
		// drops the stale signal, and the pool serves again.
		b.setFail(nil)
		step(clk, cfg.EvictionInterval, nil)
		require.False(t, p.Stats().BreakerOpen)
		c, err := p.Acquire(context.Background())
		require.NoError(t, err)
		assert.False(t, chanpool.SignalOut(p), "a stale signal is dropped")
		require.NoError(t, c.Release())
		s = p.Stats()
		assert.Equal(t, s.Total, s.Idle+s.Busy+s.Dialing)
		assert.Equal(t, s.Created, s.Destroyed+uint64(s.Total-s.Dialing))
	})
}
