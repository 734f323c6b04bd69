package chanpool_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestAcquireAllIdleLeasesEveryIdleConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config()) // MaxConns 4
		for _, c := range acquireN(t, p, 4) {
			require.NoError(t, c.Release())
		}
		require.NotZero(t, chanpool.HotID(p), "one of them is in the hot slot")
		all := p.AcquireAllIdle(context.Background())
		require.Len(t, all, 4, "the hot slot's connection included")
		ids := map[uint64]bool{}
		for _, c := range all {
			ids[c.ID()] = true
		}
		assert.Len(t, ids, 4, "four different connections")
		s := p.Stats()
		assert.Equal(t, 0, s.Idle)
		assert.Equal(t, 4, s.Busy)
		assert.Equal(t, uint64(8), s.Acquired, "ordinary leases")
		checkStats(t, s)
		_, err := p.TryAcquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrNoIdle, "nothing left idle")
		for _, c := range all {
			require.NoError(t, c.Release())
		}
		assert.Equal(t, 4, p.Stats().Idle)
		assert.Equal(t, 4, b.count(), "no dial")
	})
}

func TestAcquireAllIdleNeverDialsNorWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _, held := fullPool(t, b.config())
		assert.Empty(t, p.AcquireAllIdle(context.Background()), "nothing idle: nothing, at once")
		waiter := startAcquire(context.Background(), p)
		synctest.Wait()
		assert.Empty(t, p.AcquireAllIdle(context.Background()))
		require.NoError(t, held.Release())
		synctest.Wait()
		o := servedNow(t, waiter, "the waiter lost its connection")
		assert.Equal(t, held.ID(), o.c.ID())
		require.NoError(t, o.c.Release())
		assert.Equal(t, 1, b.count(), "no dial")

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.Empty(t, p.AcquireAllIdle(ctx), "ctx done")
		require.NoError(t, p.Close(context.Background()))
		assert.Empty(t, p.AcquireAllIdle(context.Background()), "closed")
	})
}

func TestAcquireAllIdleClosesWhatAcquireWould(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var mu sync.Mutex
		dead := map[*res]bool{}
		cfg.Alive = func(r *res) bool {
			mu.Lock()
			defer mu.Unlock()
			return !dead[r]
		}
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 3)
		mu.Lock()
		dead[cs[1].Value()] = true
		mu.Unlock()
		for _, c := range cs {
			require.NoError(t, c.Release())
		}
		all := p.AcquireAllIdle(context.Background())
		require.Len(t, all, 2)
		for _, c := range all {
			assert.NotEqual(t, cs[1].ID(), c.ID(), "the dead one is not leased")
			require.NoError(t, c.Release())
		}
		synctest.Wait()
		assert.True(t, cs[1].Value().closed.Load(), "the dead one is closed")
		checkStats(t, p.Stats())
	})
}

func TestDetachTakesTheConnectionOutWithoutClosingIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var reasons []chanpool.CloseReason
		var mu sync.Mutex
		cfg.Hooks.OnDestroy = func(_ chanpool.ConnInfo, r chanpool.CloseReason) {
			mu.Lock()
			defer mu.Unlock()
			reasons = append(reasons, r)
		}
		p, _, held := fullPool(t, cfg)
		waiter := startAcquire(context.Background(), p)
		synctest.Wait()

		v, err := held.Detach()
		require.NoError(t, err)
		assert.Same(t, held.Value(), v)
		synctest.Wait()
		assert.False(t, v.closed.Load(), "the pool does not close a detached connection")
		assert.Zero(t, b.closes.Load())
		o := servedNow(t, waiter, "the freed slot did not serve the waiter")
		assert.NotEqual(t, held.ID(), o.c.ID(), "a new connection, dialed for the waiter")

		s := p.Stats()
		assert.Equal(t, uint64(1), s.Closed.Detached)
		assert.Equal(t, uint64(1), s.DestroyedBusy)
		assert.Equal(t, 1, s.Total)
		checkStats(t, s)
		mu.Lock()
		assert.Equal(t, []chanpool.CloseReason{chanpool.ReasonDetached}, reasons)
		mu.Unlock()
		assert.Equal(t, "detached", chanpool.ReasonDetached.String())

		_, err = held.Detach()
		assert.ErrorIs(t, err, chanpool.ErrNotHeld, "twice")
		assert.ErrorIs(t, held.Release(), chanpool.ErrNotHeld, "Release after Detach")
		_, err = chanpool.Conn[*res]{}.Detach()
		assert.ErrorIs(t, err, chanpool.ErrNotHeld, "the zero Conn")
		require.NoError(t, o.c.Release())
	})
}

func TestDetachAfterAForcedClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())
		c := acquireN(t, p, 1)[0]
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.Error(t, p.Close(ctx))
		synctest.Wait()
		v, err := c.Detach()
		assert.ErrorIs(t, err, chanpool.ErrClosed)
		assert.Nil(t, v)
		assert.True(t, c.Value().closed.Load(), "closed by the forced Close, as before")
	})
}
