package chanpool_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestCloseRejectsWaitersAndNewcomersAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, _, held := fullPool(t, cfg)
		w := startAcquire(context.Background(), p)
		synctest.Wait()

		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		o := <-w
		assert.ErrorIs(t, o.err, chanpool.ErrClosed, "a waiter is rejected at once")
		_, err := p.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrClosed)
		_, err = p.TryAcquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrClosed)

		synctest.Wait()
		select {
		case err := <-closed:
			t.Fatalf("Close returned while a connection was still out: %v", err)
		default:
		}
		assert.False(t, held.Value().closed.Load(), "a busy connection is not closed under its holder")
		require.NoError(t, held.Release())
		require.NoError(t, <-closed)
		assert.True(t, held.Value().closed.Load(), "closed as it comes back")
		assert.Equal(t, 0, b.open())
		assert.ErrorIs(t, p.Close(context.Background()), chanpool.ErrClosed, "second Close")
		assert.False(t, p.Healthy())
	})
}

func TestCloseClosesIdleAtOnce(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
	for _, c := range acquireN(t, p, 3) {
		require.NoError(t, c.Release())
	}
	require.NoError(t, p.Close(context.Background()))
	assert.Equal(t, 0, b.open())
	s := p.Stats()
	assert.Equal(t, uint64(3), s.Closed.PoolClosed)
	assert.Equal(t, 0, s.Total)
}

func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())
		held := acquireN(t, p, 2)
		require.NoError(t, held[1].Release())

		ctx, cancel := context.WithCancel(context.Background())
		closed := make(chan error, 1)
		go func() { closed <- p.Close(ctx) }()
		synctest.Wait()
		cancel()
		err := <-closed
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "1 connections still in use")
		synctest.Wait() // the closes Close started run on
		assert.True(t, held[0].Value().closed.Load(), "what was still out is closed")
		assert.Equal(t, 0, b.open())

		assert.ErrorIs(t, held[0].Release(), chanpool.ErrClosed, "the holder learns the pool closed")
		s := p.Stats()
		assert.Equal(t, uint64(0), s.Misuse, "a release after a forced close is not misuse")
		assert.Equal(t, uint64(1), s.DestroyedBusy)
		assert.Equal(t, 0, s.Total)
	})
}

func TestCloseCancelsDialsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		b.setGate(make(chan struct{})) // dials block until their ctx ends
		cfg := b.config()
		cfg.MinConns = 2
		p, _ := newPool(t, cfg)
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		assert.Equal(t, 3, p.Stats().Dialing)

		require.NoError(t, p.Close(context.Background()))
		assert.ErrorIs(t, (<-w).err, chanpool.ErrClosed)
		assert.Equal(t, 0, p.Stats().Total)
	})
}

func TestCloseWithDialThatIgnoresContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		cfg := (&backend{}).config()
		cfg.Dial = func(context.Context) (*res, error) {
			<-release // ignores ctx
			return &res{}, nil
		}
		p, _ := newPool(t, cfg)
		_, err := p.TryAcquire(context.Background()) // starts a dial
		require.ErrorIs(t, err, chanpool.ErrNoIdle)
		synctest.Wait()

		ctx, cancel := context.WithCancel(context.Background())
		closed := make(chan error, 1)
		go func() { closed <- p.Close(ctx) }()
		synctest.Wait()
		cancel()
		err = <-closed
		assert.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "still running: 0 closes, 1 dials, 0 health checks")

		close(release) // the dial finally returns: its connection is closed
		synctest.Wait()
		assert.Equal(t, 0, p.Stats().Total)
	})
}
