package chanpool_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestAcquireReusesReleasedConnection(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())

	c1, err := p.Acquire(context.Background())
	require.NoError(t, err)
	id := c1.ID()
	require.NoError(t, c1.Release())

	c2, err := p.Acquire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, id, c2.ID(), "second acquire should reuse the idle connection")
	assert.Equal(t, 1, b.count(), "dials")

	s := p.Stats()
	assert.Equal(t, uint64(2), s.Acquired)
	assert.Equal(t, uint64(1), s.Released)
	assert.Equal(t, 1, s.Busy)
	assert.Equal(t, 0, s.Idle)
	assert.Equal(t, uint64(1), s.Created)
	assert.Equal(t, uint64(2), c2.Info().UseCount)
	require.NoError(t, c2.Release())
}

func TestAcquireDialsUpToMaxConns(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.MaxWaiting = chanpool.None
	p, _ := newPool(t, cfg)

	held := acquireN(t, p, 4)
	ids := map[uint64]bool{}
	for _, c := range held {
		ids[c.ID()] = true
	}
	assert.Len(t, ids, 4, "each acquire under MaxConns gets its own connection")

	_, err := p.Acquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrExhausted, "MaxWaiting None: a full pool lets nobody wait")
	s := p.Stats()
	assert.Equal(t, 4, s.Total)
	assert.Equal(t, uint64(1), s.Exhausted)
	for _, c := range held {
		require.NoError(t, c.Release())
	}
}

func TestWaitersAreServedFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, _, held := fullPool(t, cfg)

		const n = 5
		waiters := make([]<-chan outcome, n)
		for i := range waiters {
			waiters[i] = startAcquire(context.Background(), p)
			synctest.Wait() // waiter i is blocked before i+1 arrives
		}
		require.Equal(t, n, p.Stats().Waiting)

		for i := range waiters {
			require.NoError(t, held.Release())
			// The release went straight to the longest waiter: a newcomer
			// finds nothing idle.
			_, err := p.TryAcquire(context.Background())
			require.ErrorIs(t, err, chanpool.ErrNoIdle, "newcomer after release %d", i)
			synctest.Wait()
			for j := i + 1; j < n; j++ {
				select {
				case <-waiters[j]:
					t.Fatalf("release %d served waiter %d before waiter %d", i, j, i)
				default:
				}
			}
			got := <-waiters[i]
			require.NoError(t, got.err, "waiter %d", i)
			held = got.c
		}
		require.NoError(t, held.Release())
		assert.Equal(t, 1, b.count(), "one connection served everyone")
	})
}

func TestExhaustedWhenWaitingRoomFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxWaiting = 2
		p, _, held := fullPool(t, cfg)

		w1 := startAcquire(context.Background(), p)
		synctest.Wait()
		w2 := startAcquire(context.Background(), p)
		synctest.Wait()
		_, err := p.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrExhausted)
		s := p.Stats()
		assert.Equal(t, 2, s.Waiting)
		assert.Equal(t, uint64(1), s.Exhausted)

		require.NoError(t, held.Release())
		o := <-w1
		require.NoError(t, o.err)
		require.NoError(t, o.c.Release())
		o = <-w2
		require.NoError(t, o.err)
		require.NoError(t, o.c.Release())
	})
}

func TestAcquireTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.AcquireTimeout = 5 * time.Second
		p, clk, held := fullPool(t, cfg)

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(5*time.Second - time.Nanosecond)
		synctest.Wait()
		select {
		case o := <-w:
			t.Fatalf("acquire returned before AcquireTimeout: %v", o.err)
		default:
		}
		clk.Advance(time.Nanosecond)
		o := <-w
		assert.ErrorIs(t, o.err, chanpool.ErrAcquireTimeout)
		assert.NotErrorIs(t, o.err, context.DeadlineExceeded)
		s := p.Stats()
		assert.Equal(t, uint64(1), s.Timeouts)
		assert.Equal(t, 0, s.Waiting)
		require.NoError(t, held.Release())
	})
}

func TestAcquireContextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.AcquireTimeout = time.Hour
		p, _, held := fullPool(t, cfg)

		ctx, cancel := context.WithCancel(context.Background())
		w := startAcquire(ctx, p)
		synctest.Wait()
		cancel()
		o := <-w
		assert.ErrorIs(t, o.err, context.Canceled)
		assert.NotErrorIs(t, o.err, chanpool.ErrAcquireTimeout)

		// A deadline on the caller's context is the caller's error, not ours.
		ctx, cancel = context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := p.Acquire(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, chanpool.ErrAcquireTimeout)

		s := p.Stats()
		assert.Equal(t, uint64(2), s.Canceled)
		assert.Equal(t, uint64(0), s.Timeouts)
		require.NoError(t, held.Release())
	})
}

func TestAcquireWithDoneContextFailsEvenWithIdle(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
	require.NoError(t, acquireN(t, p, 1)[0].Release())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Acquire(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.Stats().Idle, "the idle connection stays idle")
}

func TestDialErrorIsWrapped(t *testing.T) {
	b := &backend{}
	b.setFail(errBoom)
	p, _ := newPool(t, b.config())

	_, err := p.Acquire(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, chanpool.ErrDial)
	assert.ErrorIs(t, err, errBoom)
	s := p.Stats()
	assert.Equal(t, uint64(1), s.DialErrors)
	assert.Equal(t, 0, s.Total, "a failed dial gives its slot back")

	b.setFail(nil)
	c, err := p.Acquire(context.Background())
	require.NoError(t, err, "the pool recovers once dials succeed")
	require.NoError(t, c.Release())
}

func TestDialPanicIsAnError(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.MaxConns = 1
	var panics atomic.Bool
	panics.Store(true)
	cfg.Dial = func(ctx context.Context) (*res, error) {
		if panics.Load() {
			panic("dialer exploded")
		}
		return b.dial(ctx)
	}
	p, _ := newPool(t, cfg)

	_, err := p.Acquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrDial)
	assert.ErrorContains(t, err, "dialer exploded")
	assert.Equal(t, 0, p.Stats().Total)

	panics.Store(false)
	c, err := p.Acquire(context.Background())
	require.NoError(t, err, "the slot of the panicking dial was freed")
	require.NoError(t, c.Release())
}

func TestAbandonedDialServesNextWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		gate := make(chan struct{})
		b.setGate(gate)
		cfg := b.config()
		cfg.MaxConns = 1
		p, _ := newPool(t, cfg)

		ctx, cancel := context.WithCancel(context.Background())
		first := startAcquire(ctx, p) // starts the only dial
		synctest.Wait()
		second := startAcquire(context.Background(), p) // pool full: waits
		synctest.Wait()
		cancel()
		o := <-first
		require.ErrorIs(t, o.err, context.Canceled)

		close(gate)
		o = <-second
		require.NoError(t, o.err, "the abandoned dial's connection goes to the next waiter")
		assert.Equal(t, 1, b.count())
		require.NoError(t, o.c.Release())
	})
}

func TestAbandonedDialGoesIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		gate := make(chan struct{})
		b.setGate(gate)
		p, _ := newPool(t, b.config())

		ctx, cancel := context.WithCancel(context.Background())
		w := startAcquire(ctx, p)
		synctest.Wait()
		cancel()
		require.ErrorIs(t, (<-w).err, context.Canceled)
		close(gate)
		synctest.Wait()

		s := p.Stats()
		assert.Equal(t, 1, s.Idle, "the dialed connection waits in the idle list")
		assert.Equal(t, uint64(1), s.Created)
		c, err := p.TryAcquire(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Release())
	})
}

func TestReleaseWhileDialingServesTheDialer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 2
		p, _ := newPool(t, cfg)
		held := acquireN(t, p, 1)[0]

		gate := make(chan struct{})
		b.setGate(gate)
		w := startAcquire(context.Background(), p) // dials the second connection
		synctest.Wait()
		require.NoError(t, held.Release())
		o := <-w
		require.NoError(t, o.err)
		assert.Equal(t, held.ID(), o.c.ID(), "a release that lands first is taken")

		close(gate)
		synctest.Wait()
		assert.Equal(t, 1, p.Stats().Idle, "the late dial is not wasted")
		require.NoError(t, o.c.Release())
	})
}

func TestTryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())

		_, err := p.TryAcquire(context.Background())
		require.ErrorIs(t, err, chanpool.ErrNoIdle)
		synctest.Wait() // the background dial it started
		c, err := p.TryAcquire(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Release())
	})
}

func TestWarmUpDialsMinConns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MinConns = 3
		p, _ := newPool(t, cfg)
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 3, s.Total)
		assert.Equal(t, 3, s.Idle)
		assert.True(t, p.Healthy())
	})
}

func TestAcquireContextCauseIsKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, _, held := fullPool(t, cfg)

		ctx, cancel := context.WithCancelCause(context.Background())
		w := startAcquire(ctx, p)
		synctest.Wait()
		cancel(errBoom)
		o := <-w
		assert.ErrorIs(t, o.err, context.Canceled, "ctx.Err() is wrapped")
		assert.ErrorIs(t, o.err, errBoom, "and so is the cause")
		require.NoError(t, held.Release())
	})
}

// A connection that reaches a waiter whose context or AcquireTimeout ended
// at the same moment goes on to the next waiter: the one who has gone never
// gets it. The test makes both happen before the first waiter runs again:
// with one P, the releasing goroutine keeps running after the hand-off
// readies the waiter, and ends the waiter's time before it yields.
func TestGoneWaiterPassesConnectionOn(t *testing.T) {
	for _, how := range []string{"context", "AcquireTimeout"} {
		t.Run("ended by "+how, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			synctest.Test(t, func(t *testing.T) {
				b := &backend{}
				cfg := b.config()
				cfg.AcquireTimeout = time.Second
				p, clk, held := fullPool(t, cfg)

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				first := startAcquire(ctx, p)
				synctest.Wait()
				clk.Advance(time.Second / 2)
				second := startAcquire(context.Background(), p)
				synctest.Wait()

				require.NoError(t, held.Release()) // handed to the first waiter...
				if how == "context" {
					cancel() // ...whose context ends before it runs again
				} else {
					clk.Advance(time.Second / 2) // ...whose timeout fires before it runs again
				}
				synctest.Wait()

				o := <-first
				require.Error(t, o.err, "the waiter who has gone gets no connection")
				if how == "context" {
					assert.ErrorIs(t, o.err, context.Canceled)
				} else {
					assert.ErrorIs(t, o.err, chanpool.ErrAcquireTimeout)
				}
				select {
				case o := <-second:
					require.NoError(t, o.err, "the next waiter gets it")
					assert.Equal(t, held.ID(), o.c.ID())
					require.NoError(t, o.c.Release())
				default:
					t.Fatal("the connection did not go on to the next waiter")
				}
			})
		})
	}
}
