package chanpool_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// leakOne acquires a connection and drops the handle without ending the
// lease. It returns the connection's id. noinline keeps the handle out of the
// caller's frame.
//
//go:noinline
func leakOne(t *testing.T, p *chanpool.Pool[*res]) uint64 {
	c, err := p.Acquire(context.Background())
	require.NoError(t, err)
	return c.ID()
}

// awaitDestroy collects garbage until the pool reports a destroyed
// connection, or fails after a generous real-time bound.
func awaitDestroy(t *testing.T, destroyed <-chan chanpool.CloseReason) chanpool.CloseReason {
	t.Helper()
	var r chanpool.CloseReason
	if !poll(10*time.Second, func() bool {
		runtime.GC()
		select {
		case r = <-destroyed:
			return true
		default:
			return false
		}
	}) {
		t.Fatal("the pool never noticed the lost handle")
	}
	return r
}

func TestLostHandleIsReclaimed(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.MaxConns = 1
	cfg.AcquireTimeout = 30 * time.Second
	destroyed := make(chan chanpool.CloseReason, 4)
	cfg.Hooks.OnDestroy = func(_ chanpool.ConnInfo, r chanpool.CloseReason) { destroyed <- r }
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	defer p.Close(context.Background())

	leakOne(t, p)
	// A waiter that would starve forever without leak recovery.
	w := startAcquire(context.Background(), p)

	assert.Equal(t, chanpool.ReasonLeaked, awaitDestroy(t, destroyed))
	o := <-w
	require.NoError(t, o.err, "the reclaimed slot serves the waiter")
	s := p.Stats()
	assert.Equal(t, uint64(1), s.Closed.Leaked)
	assert.Equal(t, uint64(1), s.DestroyedBusy)
	assert.Equal(t, 1, s.Busy)
	assert.True(t, b.dialed[0].closed.Load(), "the leaked connection is closed")
	require.NoError(t, o.c.Release())
}

func TestReleasedHandleIsNotALeak(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	destroyed := make(chan chanpool.CloseReason, 4)
	cfg.Hooks.OnDestroy = func(_ chanpool.ConnInfo, r chanpool.CloseReason) { destroyed <- r }
	p, err := chanpool.New(cfg)
	require.NoError(t, err)

	for range 3 {
		require.NoError(t, acquireN(t, p, 1)[0].Release())
	}
	for range 3 {
		runtime.GC()
	}
	assert.Equal(t, uint64(0), p.Stats().Closed.Leaked, "idle connections are not leaks")
	require.NoError(t, p.Close(context.Background()))
	assert.Equal(t, chanpool.ReasonPoolClosed, <-destroyed)
	for range 3 {
		runtime.GC() // the closed connection's token is collected too: still no leak
	}
	assert.Equal(t, uint64(0), p.Stats().Closed.Leaked)
}

func TestLeakThresholdReportsOnceWithStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.LeakThreshold = 10 * time.Second
		logs := captureLogs(&cfg)
		p, clk := newPool(t, cfg)
		c := holdForLeakTest(t, p)
		quick := acquireN(t, p, 1)[0]

		clk.Advance(5 * time.Second)
		require.NoError(t, quick.Release()) // held 5s: fine
		clk.Advance(5*time.Second + time.Millisecond)
		synctest.Wait()
		clk.Advance(5 * time.Second)
		synctest.Wait()

		s := p.Stats()
		assert.Equal(t, uint64(1), s.HeldTooLong, "reported once per lease")
		out := logs.String()
		assert.Contains(t, out, "held longer than LeakThreshold")
		assert.Contains(t, out, "holdForLeakTest", "the log names where the connection was acquired")
		assert.Equal(t, 1, strings.Count(out, "held longer than LeakThreshold"))

		infos := p.Conns()
		require.Len(t, infos, 2)
		assert.Equal(t, chanpool.StateBusy, infos[0].State)
		assert.Contains(t, infos[0].Stack, "holdForLeakTest")
		assert.WithinDuration(t, clk.Now().Add(-15*time.Second-time.Millisecond), infos[0].LeasedAt, 0)
		assert.Equal(t, chanpool.StateIdle, infos[1].State)
		assert.Empty(t, infos[1].Stack)
		require.NoError(t, c.Release())
		assert.Equal(t, 2, p.Stats().HoldTime.Samples, "every lease is timed with leak detection on")
		assert.Equal(t, 15*time.Second+time.Millisecond, p.Stats().HoldTime.Max)
	})
}

//go:noinline
func holdForLeakTest(t *testing.T, p *chanpool.Pool[*res]) chanpool.Conn[*res] {
	return acquireN(t, p, 1)[0]
}

func TestHoldAndDialTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, b.config())
		chanpool.SampleEveryHold(p)
		for i := 1; i <= 4; i++ {
			c := acquireN(t, p, 1)[0]
			clk.Advance(time.Duration(i) * time.Second)
			require.NoError(t, c.Release())
		}
		s := p.Stats()
		assert.Equal(t, uint64(4), s.HoldTime.Count)
		assert.Equal(t, 2*time.Second, s.HoldTime.P50)
		assert.Equal(t, 4*time.Second, s.HoldTime.P99)
		assert.Equal(t, 4*time.Second, s.HoldTime.Max)
		assert.Equal(t, uint64(1), s.DialTime.Count, "one dial, timed on the fake clock")
		assert.Equal(t, time.Duration(0), s.DialTime.Max)
	})
}

func TestHoldTimeIsSampledByDefault(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
	for range 640 {
		require.NoError(t, acquireN(t, p, 1)[0].Release())
	}
	assert.Equal(t, uint64(10), p.Stats().HoldTime.Count, "one lease in 64")
}
