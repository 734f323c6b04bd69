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

func TestRaisingMaxConnsServesWaitersAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 2
		p, _ := newPool(t, cfg)
		held := acquireN(t, p, 2)
		var waiters []<-chan outcome
		for range 3 {
			waiters = append(waiters, startAcquire(context.Background(), p))
			synctest.Wait()
		}
		require.Equal(t, 3, p.Stats().Waiting)

		require.NoError(t, p.SetMaxConns(5))
		synctest.Wait()
		for i, w := range waiters {
			select {
			case o := <-w:
				require.NoError(t, o.err, "waiter %d", i)
				require.NoError(t, o.c.Release())
			default:
				t.Fatalf("waiter %d still waits after MaxConns rose", i)
			}
		}
		s := p.Stats()
		assert.Equal(t, 5, s.Total)
		assert.Equal(t, 5, s.MaxConns)
		assert.Equal(t, 5, p.Limits().MaxConns)
		checkStats(t, s)
		for _, c := range held {
			require.NoError(t, c.Release())
		}
	})
}

func TestLoweringMaxConnsClosesTheSurplusAsItComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 6
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 6)
		require.NoError(t, cs[4].Release())
		require.NoError(t, cs[5].Release())
		busy := cs[:4]

		require.NoError(t, p.SetMaxConns(3))
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, uint64(2), s.Closed.Resize, "the idle surplus closes at once")
		assert.Equal(t, 4, s.Total, "busy connections stay with their holders: above the new bound, below the old")
		assert.Equal(t, 4, s.Busy)
		assert.Equal(t, s.Total, s.Busy+s.Idle+s.Closing)

		// The pool is over its bound: a newcomer waits rather than dials.
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		assert.Equal(t, 1, p.Stats().Waiting)
		assert.Equal(t, 4, p.Stats().Total)

		// The first busy one to come back is surplus: it closes, and the
		// waiter gets the next.
		r := busy[0].Value()
		require.NoError(t, busy[0].Release())
		synctest.Wait()
		assert.True(t, r.closed.Load(), "busy surplus closes as it comes back")
		assert.Equal(t, 3, p.Stats().Total)
		require.NoError(t, busy[1].Release())
		o := <-w
		require.NoError(t, o.err)
		assert.Equal(t, busy[1].ID(), o.c.ID(), "within the bound, a connection is handed on as usual")
		require.NoError(t, o.c.Release())
		require.NoError(t, busy[2].Release())
		require.NoError(t, busy[3].Release())
		synctest.Wait()
		s = p.Stats()
		assert.Equal(t, uint64(3), s.Closed.Resize)
		assert.Equal(t, 3, s.Total, "the surplus has drained: the new bound holds")
		assert.Equal(t, 3, s.Idle)
		checkStats(t, s)

		// The drained pool serves as a pool of three: none of the three is
		// closed for the old shrink when it is used again.
		again := acquireN(t, p, 3)
		for _, c := range again {
			require.NoError(t, c.Release())
		}
		synctest.Wait()
		assert.Equal(t, uint64(3), p.Stats().Closed.Resize)
		assert.Equal(t, 3, p.Stats().Idle)
	})
}

func TestRaisingAgainForgivesWhatAShrinkWasOwed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 4
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 4)
		require.NoError(t, p.SetMaxConns(1)) // all four busy: three are owed
		require.NoError(t, p.SetMaxConns(4)) // and forgiven
		for _, c := range cs {
			require.NoError(t, c.Release())
		}
		synctest.Wait()
		s := p.Stats()
		assert.Zero(t, s.Closed.Resize, "nothing is surplus any more")
		assert.Equal(t, 4, s.Idle)
		for _, c := range acquireN(t, p, 4) { // all four can be leased at once again
			require.NoError(t, c.Release())
		}
		checkStats(t, p.Stats())
	})
}

func TestSetLimitsRejectInvalidValues(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.MaxConns = 4
	cfg.MaxConnsLimit = 8
	cfg.MinConns = 2
	p, _ := newPool(t, cfg)
	before := p.Limits()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"SetMaxConns(0)", p.SetMaxConns(0), "SetMaxConns(0)"},
		{"SetMaxConns above the limit", p.SetMaxConns(9), "MaxConnsLimit (8)"},
		{"SetMaxConns below MinConns", p.SetMaxConns(1), "below MinConns (2)"},
		{"SetMinConns(-1)", p.SetMinConns(-1), "SetMinConns(-1)"},
		{"SetMinConns above MaxConns", p.SetMinConns(5), "MaxConns (4)"},
		{"SetMaxWaiting(-3)", p.SetMaxWaiting(-3), "SetMaxWaiting(-3)"},
	} {
		if assert.Error(t, tc.err, tc.name) {
			assert.Contains(t, tc.err.Error(), tc.want, tc.name)
		}
	}
	assert.Equal(t, before, p.Limits(), "an invalid value changes nothing")
	assert.Equal(t, chanpool.Limits{MaxConns: 4, MaxConnsLimit: 8, MinConns: 2, MaxWaiting: 50}, before)

	_, err := chanpool.New(chanpool.Config[*res]{Dial: b.dial, MaxConns: 4, MaxConnsLimit: 3})
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "Config.MaxConnsLimit")
	}
}

func TestSetMinConnsAndMaxWaitingTakeEffectAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, _ := newPool(t, cfg)
		require.NoError(t, p.SetMinConns(3))
		synctest.Wait()
		assert.Equal(t, 3, p.Stats().Idle, "dialed up to the new MinConns")

		cfg2 := b.config()
		cfg2.MaxWaiting = 1
		q, _, held := fullPool(t, cfg2)
		w := startAcquire(context.Background(), q)
		synctest.Wait()
		require.NoError(t, q.SetMaxWaiting(0))
		_, err := q.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrExhausted, "newcomers are turned away at once")
		assert.Equal(t, 1, q.Stats().Waiting, "the caller already waiting keeps waiting")
		require.NoError(t, q.SetMaxWaiting(chanpool.Unlimited))
		assert.Equal(t, chanpool.Unlimited, q.Limits().MaxWaiting)
		require.NoError(t, held.Release())
		o := <-w
		require.NoError(t, o.err)
		require.NoError(t, o.c.Release())
	})
}

func TestResetRetiresEveryConnectionDialedBeforeIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MinConns = 2
		p, _ := newPool(t, cfg)
		synctest.Wait()         // the two warm connections are dialed
		cs := acquireN(t, p, 3) // two warm, one dialed
		require.NoError(t, cs[1].Release())
		require.NoError(t, cs[2].Release())
		gate := make(chan struct{})
		b.setGate(gate)
		w := startAcquire(context.Background(), p) // takes an idle one
		o := <-w
		require.NoError(t, o.err)
		dialing := startAcquire(context.Background(), p) // idle: one left
		synctest.Wait()
		d := <-dialing
		require.NoError(t, d.err)
		inFlight := startAcquire(context.Background(), p) // a dial in flight, behind the gate
		synctest.Wait()
		require.Equal(t, 1, p.Stats().Dialing)
		old := map[uint64]bool{cs[0].ID(): true, o.c.ID(): true, d.c.ID(): true}

		p.Reset()
		close(gate) // the dial in flight finishes after the Reset
		b.setGate(nil)
		synctest.Wait()
		f := <-inFlight
		require.NoError(t, f.err)
		assert.False(t, old[f.c.ID()])
		assert.Equal(t, 5, f.c.Value().id, "the dial that began before Reset was dialed again")

		for _, c := range []chanpool.Conn[*res]{cs[0], o.c, d.c} {
			r := c.Value()
			require.NoError(t, c.Release(), "a holder hands back as usual")
			synctest.Wait()
			assert.True(t, r.closed.Load(), "connection %d, dialed before Reset, closes as it comes back", c.ID())
		}
		require.NoError(t, f.c.Release())
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, uint64(1), s.Resets)
		assert.Equal(t, uint64(4), s.Closed.PoolReset, "the three held, and the one dialed in flight")
		assert.GreaterOrEqual(t, s.Total, 2, "dialed back up to MinConns")
		for _, c := range acquireN(t, p, s.Idle) {
			assert.False(t, old[c.ID()], "an old connection is never handed out again")
			require.NoError(t, c.Release())
		}
		checkStats(t, p.Stats())
	})
}

func TestResetDuringAnOutageKeepsTheBreakerOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, breakerConfig(b))
		held := acquireN(t, p, 1)[0]
		b.setFail(errBoom)
		for range 3 {
			_, err := p.TryAcquire(context.Background())
			require.ErrorIs(t, err, chanpool.ErrNoIdle)
			synctest.Wait()
			clk.Advance(time.Second)
			synctest.Wait()
		}
		require.True(t, p.Stats().BreakerOpen)
		p.Reset()
		synctest.Wait()
		assert.True(t, p.Stats().BreakerOpen, "a Reset does not make the breaker forget the outage")
		_, err := p.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrBreakerOpen)
		require.NoError(t, held.Release())
		synctest.Wait()
		assert.Equal(t, uint64(1), p.Stats().Closed.PoolReset)

		b.setFail(nil)
		clk.Advance(10 * time.Millisecond)
		synctest.Wait()
		_, _ = p.TryAcquire(context.Background()) // turned away, it starts a probe
		synctest.Wait()
		c, err := p.Acquire(context.Background())
		require.NoError(t, err, "the first good dial closes the breaker")
		require.NoError(t, c.Release())
	})
}

func TestMinIdleKeepsSpareConnectionsReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := evictConfig(b, 6, 0)
		cfg.MinIdle = 2
		p, clk := newPool(t, cfg)
		synctest.Wait()
		assert.Equal(t, 2, p.Stats().Idle, "spare connections dialed ahead of demand")

		var held []chanpool.Conn[*res]
		for i := 1; i <= 4; i++ {
			held = append(held, acquireN(t, p, 1)...)
			synctest.Wait()
			s := p.Stats()
			assert.Equal(t, i, s.Busy)
			assert.Equal(t, 2, s.Idle, "after %d acquires, still two spare", i)
		}
		held = append(held, acquireN(t, p, 1)...)
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 6, s.Total, "never above MaxConns")
		assert.Equal(t, 1, s.Idle)
		checkStats(t, s)

		// Four go back; the load now needs one busy connection. Eviction
		// by need closes the surplus, but keeps busy + MinIdle.
		for _, c := range held[1:] {
			require.NoError(t, c.Release())
		}
		step(clk, cfg.IdleTimeout+2*cfg.EvictionInterval, nil)
		s = p.Stats()
		assert.Equal(t, 1, s.Busy)
		assert.Equal(t, 2, s.Idle, "eviction stops at busy + MinIdle")
		assert.Equal(t, uint64(3), s.Closed.Idle)
		require.NoError(t, held[0].Release())
		checkStats(t, p.Stats())
	})
}
