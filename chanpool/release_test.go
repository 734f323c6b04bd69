package chanpool_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestReleaseTwiceIsRejected(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	logs := captureLogs(&cfg)
	p, _ := newPool(t, cfg)

	c := acquireN(t, p, 1)[0]
	require.NoError(t, c.Release())
	before := p.Stats()
	assert.ErrorIs(t, c.Release(), chanpool.ErrNotHeld)
	assert.ErrorIs(t, c.Destroy(), chanpool.ErrNotHeld, "Destroy after Release")

	after := p.Stats()
	assert.Equal(t, uint64(2), after.Misuse)
	assert.Equal(t, before.Released, after.Released, "no double count")
	assert.Equal(t, before.Idle, after.Idle, "the idle list is unchanged")
	assert.Equal(t, before.Destroyed, after.Destroyed)
	assert.Equal(t, int64(0), b.closes.Load(), "nothing closed")
	assert.Contains(t, logs.String(), "does not hold the connection", "misuse is reported")
}

func TestStaleHandleCannotTouchTheNextHolder(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.MaxConns = 1
	p, _ := newPool(t, cfg)

	stale := acquireN(t, p, 1)[0]
	copyOfStale := stale
	require.NoError(t, stale.Release())
	current := acquireN(t, p, 1)[0]
	require.Equal(t, stale.ID(), current.ID(), "same connection, new lease")

	assert.ErrorIs(t, copyOfStale.Release(), chanpool.ErrNotHeld)
	assert.ErrorIs(t, stale.Destroy(), chanpool.ErrNotHeld)
	s := p.Stats()
	assert.Equal(t, 1, s.Busy, "the current holder still holds it")
	assert.Equal(t, 0, s.Idle)
	assert.Equal(t, uint64(0), s.Destroyed)
	_, err := p.TryAcquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrNoIdle, "nobody else can lease it")

	require.NoError(t, current.Release())
}

func TestZeroConn(t *testing.T) {
	var c chanpool.Conn[*res]
	assert.ErrorIs(t, c.Release(), chanpool.ErrNotHeld)
	assert.ErrorIs(t, c.Destroy(), chanpool.ErrNotHeld)
	assert.Nil(t, c.Value())
	assert.Zero(t, c.ID())
	assert.Zero(t, c.Info())
}

func TestDestroyClosesAndNeverReuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())

		c := acquireN(t, p, 1)[0]
		r := c.Value()
		require.NoError(t, c.Destroy())
		synctest.Wait() // the close runs on a goroutine of the pool's
		assert.True(t, r.closed.Load())
		assert.ErrorIs(t, c.Release(), chanpool.ErrNotHeld, "Release after Destroy")

		s := p.Stats()
		assert.Equal(t, 0, s.Total)
		assert.Equal(t, uint64(1), s.Closed.Destroy)
		assert.Equal(t, uint64(1), s.DestroyedBusy)
		assert.Equal(t, uint64(0), s.Released)

		c2 := acquireN(t, p, 1)[0]
		assert.NotSame(t, r, c2.Value(), "a destroyed connection never comes back")
		require.NoError(t, c2.Release())
	})
}

func TestDestroyReplacesBelowMinConns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MinConns = 2
		p, _ := newPool(t, cfg)
		synctest.Wait()

		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Destroy())
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 2, s.Total, "replaced up to MinConns")
		assert.Equal(t, uint64(3), s.Created)
	})
}

func TestDestroyFreesSlotForWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, _, held := fullPool(t, cfg)

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		require.NoError(t, held.Destroy())
		o := <-w
		require.NoError(t, o.err, "the freed slot is dialed for the waiter")
		assert.NotEqual(t, held.ID(), o.c.ID())
		require.NoError(t, o.c.Release())
	})
}

func TestResetFailureDestroysInsteadOfReusing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var reset switchable
		cfg.Reset = reset.run
		resets, fail := &reset.calls, &reset.fail
		cfg.CheckTimeout = chanpool.None
		p, _ := newPool(t, cfg)

		c := acquireN(t, p, 1)[0]
		first := c.Value()
		require.NoError(t, c.Release())
		assert.Equal(t, int64(1), resets.Load())
		c = acquireN(t, p, 1)[0]
		assert.Same(t, first, c.Value(), "a clean reset reuses the connection")

		fail.Store(true)
		require.NoError(t, c.Release())
		synctest.Wait() // the close runs on a goroutine of the pool's
		assert.True(t, first.closed.Load(), "a failed reset closes the connection")
		s := p.Stats()
		assert.Equal(t, uint64(1), s.Closed.Reset)
		assert.Equal(t, 0, s.Idle)
		assert.Equal(t, uint64(2), s.Released, "the lease still ended by Release")

		c = acquireN(t, p, 1)[0]
		assert.NotSame(t, first, c.Value())
		fail.Store(false)
		require.NoError(t, c.Release())
	})
}

func TestResetThatHangsIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.CheckTimeout = time.Second
		cfg.Reset = func(ctx context.Context, r *res) error {
			<-ctx.Done() // honors its context
			return ctx.Err()
		}
		p, clk := newPool(t, cfg)
		c := acquireN(t, p, 1)[0]
		done := make(chan error, 1)
		go func() { done <- c.Release() }()
		synctest.Wait()
		clk.Advance(time.Second)
		require.NoError(t, <-done)
		assert.Equal(t, uint64(1), p.Stats().Closed.Reset)
	})
}

func TestHealthCheckAfterIdleThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var check switchable
		cfg.HealthCheck = check.run
		checks, fail := &check.calls, &check.fail
		cfg.HealthCheckAfter = time.Second
		cfg.CheckTimeout = chanpool.None
		p, clk := newPool(t, cfg)

		clk.Advance(10 * time.Millisecond) // releases between the clock's ticks
		c := acquireN(t, p, 1)[0]
		first := c.Value()
		require.NoError(t, c.Release())

		// Idle time is counted in ticks of a clock that ticks every
		// HealthCheckAfter/8: a connection idle for HealthCheckAfter is
		// always checked, one idle less than HealthCheckAfter minus a tick
		// never is.
		tick := time.Second / 8
		clk.Advance(time.Second - tick - time.Nanosecond)
		synctest.Wait()
		c = acquireN(t, p, 1)[0]
		assert.Equal(t, int64(0), checks.Load(), "idle for less than the threshold less a tick: no check")
		require.NoError(t, c.Release())

		clk.Advance(time.Second)
		synctest.Wait()
		c = acquireN(t, p, 1)[0]
		assert.Equal(t, int64(1), checks.Load(), "idle for the threshold: checked")
		assert.Same(t, first, c.Value())
		require.NoError(t, c.Release())

		c = acquireN(t, p, 1)[0]
		assert.Equal(t, int64(1), checks.Load(), "a check counts as use: no second check at once")
		require.NoError(t, c.Release())

		fail.Store(true)
		clk.Advance(2 * time.Second)
		c = acquireN(t, p, 1)[0]
		assert.NotSame(t, first, c.Value(), "an unhealthy connection is replaced")
		synctest.Wait()
		assert.True(t, first.closed.Load())
		assert.Equal(t, uint64(1), p.Stats().Closed.Health)
		require.NoError(t, c.Release())
	})
}

func TestHealthCheckEveryAcquireWithNone(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	var checks atomic.Int64
	cfg.HealthCheck = func(context.Context, *res) error { checks.Add(1); return nil }
	cfg.HealthCheckAfter = chanpool.None
	cfg.CheckTimeout = chanpool.None
	p, _ := newPool(t, cfg)
	for range 3 {
		require.NoError(t, acquireN(t, p, 1)[0].Release())
	}
	assert.Equal(t, int64(2), checks.Load(), "every acquire but the first, straight from its dial")
}

func TestHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var created, acquired, released atomic.Int64
		reasons := make(chan chanpool.CloseReason, 10)
		cfg.Hooks = chanpool.Hooks{
			OnCreate:  func(chanpool.ConnInfo) { created.Add(1) },
			OnAcquire: func(i chanpool.ConnInfo) { acquired.Add(1) },
			OnRelease: func(i chanpool.ConnInfo) { released.Add(1) },
			OnDestroy: func(_ chanpool.ConnInfo, r chanpool.CloseReason) { reasons <- r },
		}
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 2)
		require.NoError(t, cs[0].Release())
		require.NoError(t, cs[1].Destroy())
		synctest.Wait() // the close runs on a goroutine of the pool's
		require.NoError(t, p.Close(context.Background()))

		assert.Equal(t, int64(2), created.Load())
		assert.Equal(t, int64(2), acquired.Load())
		assert.Equal(t, int64(1), released.Load())
		assert.Equal(t, chanpool.ReasonDestroy, <-reasons)
		assert.Equal(t, chanpool.ReasonPoolClosed, <-reasons)
	})
}

func TestConnsSnapshot(t *testing.T) {
	b := &backend{}
	p, clk := newPool(t, b.config())
	cs := acquireN(t, p, 2)
	require.NoError(t, cs[1].Release())

	infos := p.Conns()
	require.Len(t, infos, 2)
	byID := map[uint64]chanpool.ConnInfo{}
	for _, i := range infos {
		byID[i.ID] = i
	}
	assert.Equal(t, chanpool.StateBusy, byID[cs[0].ID()].State)
	assert.Equal(t, chanpool.StateIdle, byID[cs[1].ID()].State)
	assert.Equal(t, uint64(1), byID[cs[0].ID()].UseCount)
	assert.WithinDuration(t, clk.Now(), byID[cs[0].ID()].Created, 0)
	assert.Equal(t, "busy", chanpool.StateBusy.String())
	require.NoError(t, cs[0].Release())
}
