package chanpool_test

import (
	"context"
	"runtime"
	"testing"
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
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case r := <-destroyed:
			return r
		case <-deadline:
			t.Fatal("the pool never noticed the lost handle")
		case <-time.After(10 * time.Millisecond): // another GC cycle
		}
	}
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
