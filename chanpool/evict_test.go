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

func TestEvictIdleDownToMinConns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, evictConfig(b, 6, 2))
		for _, c := range acquireN(t, p, 6) {
			require.NoError(t, c.Release())
		}
		synctest.Wait()

		step(clk, 30*time.Second-time.Second, nil)
		assert.Equal(t, 6, p.Stats().Total, "nothing is evicted before IdleTimeout")
		step(clk, 10*time.Second+time.Second, nil)
		s := p.Stats()
		assert.Equal(t, 2, s.Total, "idle connections closed down to MinConns")
		assert.Equal(t, uint64(4), s.Closed.Idle)
		assert.Equal(t, 2, b.open())

		step(clk, 5*time.Minute, nil)
		assert.Equal(t, 2, p.Stats().Total, "never below MinConns")
	})
}

// The buffered channel is FIFO, so a slow steady load touches every idle
// connection in turn; the pool must still shrink to what the load needs.
func TestEvictShrinksAfterBurstUnderSteadyLoad(t *testing.T) {
	for _, tc := range []struct {
		name        string
		minConns    int
		concurrency int // connections the steady load holds at once
		want        int
	}{
		{"one client", 0, 1, 1},
		{"one client, MinConns 2", 2, 1, 2},
		{"three at once", 0, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &backend{}
				cfg := evictConfig(b, 8, tc.minConns)
				p, clk := newPool(t, cfg)
				synctest.Wait()

				// Burst to MaxConns.
				for _, c := range acquireN(t, p, 8) {
					require.NoError(t, c.Release())
				}
				require.Equal(t, 8, p.Stats().Total)

				// Then a slow steady load: once a second, tc.concurrency
				// connections at once.
				load := func() {
					for _, c := range acquireN(t, p, tc.concurrency) {
						require.NoError(t, c.Release())
					}
				}
				step(clk, cfg.IdleTimeout+cfg.EvictionInterval, load)
				s := p.Stats()
				assert.Equal(t, tc.want, s.Total, "shrunk within IdleTimeout + EvictionInterval")
				assert.Equal(t, uint64(0), s.Timeouts+s.Exhausted)

				// And it stays there: the load is served without new dials.
				created := s.Created
				step(clk, 2*time.Minute, load)
				s = p.Stats()
				assert.Equal(t, tc.want, s.Total)
				assert.Equal(t, created, s.Created, "no churn once sized to the load")
			})
		})
	}
}

func TestEvictKeepsWhatTheLoadNeeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, evictConfig(b, 4, 0))
		held := acquireN(t, p, 4) // all busy for a long time
		step(clk, 2*time.Minute, nil)
		assert.Equal(t, 4, p.Stats().Total, "busy connections are never evicted")
		for _, c := range held {
			require.NoError(t, c.Release())
		}
	})
}

func TestIdleTimeoutNoneNeverEvicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := evictConfig(b, 4, 0)
		cfg.IdleTimeout = chanpool.None
		p, clk := newPool(t, cfg)
		for _, c := range acquireN(t, p, 4) {
			require.NoError(t, c.Release())
		}
		step(clk, 5*time.Minute, nil)
		assert.Equal(t, 4, p.Stats().Total)
	})
}

func TestMaxLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := evictConfig(b, 4, 2)
		cfg.IdleTimeout = chanpool.None
		cfg.MaxLifetime = time.Minute
		cfg.MaxLifetimeJitter = 10 * time.Second
		p, clk := newPool(t, cfg)
		synctest.Wait()
		busy := acquireN(t, p, 3) // two warm ones and a third
		require.NoError(t, busy[0].Release())
		require.NoError(t, busy[1].Release())
		first := map[uint64]bool{}
		for _, i := range p.Conns() {
			first[i.ID] = true
		}

		step(clk, 50*time.Second-time.Second, nil)
		assert.Equal(t, uint64(0), p.Stats().Closed.Lifetime, "none expires before MaxLifetime - jitter")

		step(clk, 20*time.Second, nil) // past MaxLifetime, plus an eviction run
		s := p.Stats()
		assert.Equal(t, uint64(2), s.Closed.Lifetime, "idle connections past their lifetime are closed")
		assert.Equal(t, 2, s.Total, "replaced up to MinConns, the busy one included")

		require.NoError(t, busy[2].Release())
		synctest.Wait()
		s = p.Stats()
		assert.Equal(t, uint64(3), s.Closed.Lifetime, "a busy one is closed when it comes back")
		assert.Equal(t, 2, s.Total)
		for _, i := range p.Conns() {
			assert.False(t, first[i.ID], "connection %d outlived MaxLifetime", i.ID)
		}
	})
}

func TestEvictorLastUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, evictConfig(b, 2, 0))
		start := clk.Now()
		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
		assert.WithinDuration(t, start, p.Conns()[0].LastUsed, 0)
		step(clk, 10*time.Second, nil)
		assert.WithinDuration(t, start.Add(10*time.Second), p.Conns()[0].LastUsed, 0, "the evictor saw it used")
	})
}

func TestClosedPoolStopsEvictor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := evictConfig(b, 2, 1)
		p, clk := newPool(t, cfg)
		synctest.Wait()
		require.NoError(t, p.Close(context.Background()))
		assert.Equal(t, 0, clk.Waiters(), "the evictor's ticker is stopped")
	})
}
