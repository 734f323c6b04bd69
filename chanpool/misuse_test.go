package chanpool_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// A handle knows its pool: releasing it after another pool was used, or
// after its own pool closed, touches only its own pool.
func TestHandleBelongsToItsPool(t *testing.T) {
	a, b := &backend{}, &backend{}
	pa, _ := newPool(t, a.config())
	pb, _ := newPool(t, b.config())
	ca := acquireN(t, pa, 1)[0]
	cb := acquireN(t, pb, 1)[0]
	require.NoError(t, ca.Release())
	assert.Equal(t, 1, pa.Stats().Idle)
	assert.Equal(t, 0, pb.Stats().Idle, "pool b is untouched by a's handle")
	assert.Equal(t, 1, pb.Stats().Busy)
	require.NoError(t, cb.Release())
}

func TestUseAfterClose(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
	c := acquireN(t, p, 1)[0]
	require.NoError(t, c.Release())
	require.NoError(t, p.Close(context.Background()))

	_, err := p.Acquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrClosed)
	_, err = p.TryAcquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrClosed)
	assert.ErrorIs(t, c.Release(), chanpool.ErrNotHeld, "a handle released before Close stays released")
	assert.ErrorIs(t, p.Close(context.Background()), chanpool.ErrClosed)
	s := p.Stats()
	checkStats(t, s)
	assert.Equal(t, 0, s.Total)
	assert.Equal(t, 0, b.open())
}

func TestDialThatHangsPastContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		unblock := make(chan struct{})
		cfg := b.config()
		cfg.MaxConns = 1
		cfg.AcquireTimeout = time.Second
		cfg.DialTimeout = chanpool.None
		cfg.Dial = func(context.Context) (*res, error) {
			<-unblock // ignores its context
			return b.dial(context.Background())
		}
		p, clk := newPool(t, cfg)

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(time.Second)
		o := <-w
		assert.ErrorIs(t, o.err, chanpool.ErrAcquireTimeout, "the acquire returns on time")
		s := p.Stats()
		assert.Equal(t, 1, s.Dialing, "the dial still holds its slot")
		assert.Equal(t, 1, s.Total)

		close(unblock)
		synctest.Wait()
		s = p.Stats()
		assert.Equal(t, 0, s.Dialing)
		assert.Equal(t, 1, s.Idle, "the late connection is kept for the next caller")
		checkStats(t, s)
	})
}

func TestDialThatFailsLateFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		unblock := make(chan struct{})
		cfg := b.config()
		cfg.MaxConns = 1
		cfg.AcquireTimeout = time.Second
		cfg.Dial = func(context.Context) (*res, error) {
			<-unblock
			return nil, errBoom
		}
		p, clk := newPool(t, cfg)
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(time.Second)
		require.ErrorIs(t, (<-w).err, chanpool.ErrAcquireTimeout)
		close(unblock)
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 0, s.Total, "the slot is freed when the dial gives up")
		assert.Equal(t, uint64(1), s.DialErrors)
		checkStats(t, s)
	})
}

func TestCloseFuncErrorsAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var n atomic.Int64 // the closes run concurrently
		cfg.Close = func(r *res) error {
			if n.Add(1) == 1 {
				return errBoom
			}
			panic("close exploded")
		}
		logs := captureLogs(&cfg)
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 2)
		require.NoError(t, cs[0].Destroy())
		require.NoError(t, cs[1].Destroy())
		synctest.Wait() // the close runs on a goroutine of the pool's

		s := p.Stats()
		assert.Equal(t, uint64(2), s.CloseErrors)
		assert.Equal(t, uint64(2), s.Destroyed, "a failed close still counts as closed")
		assert.Equal(t, 0, s.Total, "and frees the slot")
		checkStats(t, s)
		assert.Contains(t, logs.String(), "close exploded")
		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
	})
}

func TestHealthCheckOwnsItsConnectionPastCheckTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		unblock := make(chan struct{})
		var hung atomic.Bool
		cfg.HealthCheck = func(ctx context.Context, r *res) error {
			if hung.CompareAndSwap(false, true) {
				<-unblock // ignores ctx, and outlives CheckTimeout
			}
			r.uses++ // uses the connection: nobody else may, meanwhile
			return nil
		}
		cfg.Close = func(r *res) error {
			r.uses++
			return b.close(r)
		}
		cfg.HealthCheckAfter = chanpool.None
		cfg.CheckTimeout = time.Second
		p, clk := newPool(t, cfg)
		first := acquireN(t, p, 1)[0]
		r := first.Value()
		require.NoError(t, first.Release())

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(time.Second)
		o := <-w
		require.NoError(t, o.err, "at CheckTimeout the caller moves on to a new connection")
		assert.NotEqual(t, first.ID(), o.c.ID())
		synctest.Wait()
		assert.False(t, r.closed.Load(), "a connection is not closed while its check runs")
		s := p.Stats()
		assert.Equal(t, 1, s.Checking)
		assert.Zero(t, s.Closed.Health)
		checkStats(t, s)
		require.NoError(t, o.c.Release())

		close(unblock) // the check returns, too late: only now is its connection closed
		synctest.Wait()
		assert.True(t, r.closed.Load())
		assert.Equal(t, 2, r.uses, "the check, then the close")
		s = p.Stats()
		assert.Equal(t, uint64(1), s.Closed.Health)
		assert.Zero(t, s.Checking)
		checkStats(t, s)
	})
}

func TestMisuseNeverCorruptsCounts(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
	c := acquireN(t, p, 1)[0]
	copies := []chanpool.Conn[*res]{c, c, c}
	require.NoError(t, c.Release())
	for _, cp := range copies {
		assert.True(t, errors.Is(cp.Release(), chanpool.ErrNotHeld))
		assert.True(t, errors.Is(cp.Destroy(), chanpool.ErrNotHeld))
	}
	s := p.Stats()
	checkStats(t, s)
	assert.Equal(t, uint64(6), s.Misuse)
	assert.Equal(t, uint64(1), s.Released)
	assert.Equal(t, 1, s.Idle)
}

func TestDoneContextDoesNotFailHealthChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.HealthCheck = func(ctx context.Context, _ *res) error { return ctx.Err() }
		cfg.HealthCheckAfter = chanpool.None
		p, _ := newPool(t, cfg)
		require.NoError(t, acquireN(t, p, 1)[0].Release())

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.TryAcquire(ctx)
		assert.ErrorIs(t, err, chanpool.ErrNoIdle, "TryAcquire does not wait for the check")
		synctest.Wait()
		assert.Zero(t, p.Stats().Closed.Health, "a caller giving up does not make a healthy connection unhealthy")
		s := p.Stats()
		assert.Equal(t, 2, s.Idle, "the checked connection is back, beside the one TryAcquire dialed")
		assert.Equal(t, uint64(2), s.Created)
	})
}
