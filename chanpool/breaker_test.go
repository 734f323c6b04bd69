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

func TestBreakerReleasesWaitersWithLastDialError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, breakerConfig(b))
		held := acquireN(t, p, 2)
		w := startAcquire(context.Background(), p)
		synctest.Wait()

		b.setFail(errBoom)
		require.NoError(t, held[0].Destroy()) // the replacement dial fails...
		synctest.Wait()
		require.NoError(t, held[1].Destroy())
		synctest.Wait()
		clk.Advance(time.Second) // ...and so does its retry: three in a row
		synctest.Wait()

		o := <-w
		require.Error(t, o.err, "the waiter is released at once, long before AcquireTimeout")
		assert.ErrorIs(t, o.err, chanpool.ErrBreakerOpen)
		assert.ErrorIs(t, o.err, chanpool.ErrDial)
		assert.ErrorIs(t, o.err, errBoom, "the last dial error is attached")
		s := p.Stats()
		assert.True(t, s.BreakerOpen)
		assert.Equal(t, uint64(1), s.BreakerTrips)
		assert.Equal(t, uint64(3), s.DialErrors)

		start := clk.Now()
		_, err := p.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrBreakerOpen, "newcomers fail fast")
		assert.Equal(t, start, clk.Now())
		_, err = p.TryAcquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrBreakerOpen)
	})
}

func TestBreakerProbesWithBackoffAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		b.setFail(errBoom)
		p, clk := newPool(t, breakerConfig(b))
		for range 3 {
			_, err := p.Acquire(context.Background())
			require.ErrorIs(t, err, chanpool.ErrDial)
			synctest.Wait()
		}
		require.True(t, p.Stats().BreakerOpen)

		// While open, the pool probes alone, one dial per backoff period,
		// and the periods grow.
		var gaps []time.Duration
		last, errs := clk.Now(), p.Stats().DialErrors
		for len(gaps) < 6 {
			clk.Advance(10 * time.Millisecond)
			synctest.Wait()
			if n := p.Stats().DialErrors; n != errs {
				require.Equal(t, errs+1, n, "one probe at a time")
				gaps = append(gaps, clk.Since(last))
				last, errs = clk.Now(), n
			}
		}
		assert.Greater(t, gaps[5], gaps[0], "backoff grows: %v", gaps)
		assert.LessOrEqual(t, b.maxInDial.Load(), int64(1))

		b.setFail(nil)
		clk.Advance(2 * time.Second) // past the longest backoff: the probe succeeds
		synctest.Wait()
		s := p.Stats()
		assert.False(t, s.BreakerOpen, "one good dial closes the breaker")
		assert.Equal(t, 1, s.Idle, "the probe's connection waits for the next caller")
		c, err := p.Acquire(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Release())
	})
}

func TestBreakerNoneWaitsOutTimeoutWithDialError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := breakerConfig(b)
		cfg.BreakerThreshold = chanpool.None
		cfg.AcquireTimeout = 5 * time.Second
		p, clk, held := fullPool(t, cfg)
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		b.setFail(errBoom)
		require.NoError(t, held.Destroy())
		for range 50 {
			clk.Advance(100 * time.Millisecond)
			synctest.Wait()
		}
		o := <-w
		assert.ErrorIs(t, o.err, chanpool.ErrAcquireTimeout)
		assert.ErrorIs(t, o.err, errBoom, "the timeout says why the wait was in vain")
		s := p.Stats()
		assert.False(t, s.BreakerOpen)
		assert.Greater(t, s.DialErrors, uint64(3), "dials kept being retried")
		assert.Less(t, s.DialErrors, uint64(50), "with backoff, not in a storm")
	})
}

func TestMaxDialingCapsConcurrentDials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		gate := make(chan struct{})
		b.setGate(gate)
		cfg := b.config()
		cfg.MaxConns = 6
		cfg.MinConns = 6
		cfg.MaxDialing = 2
		p, _ := newPool(t, cfg)
		synctest.Wait()
		assert.Equal(t, int64(2), b.inDial.Load(), "only MaxDialing dials run")
		assert.Equal(t, 6, p.Stats().Dialing, "the rest queue for their turn")
		close(gate)
		synctest.Wait()
		assert.Equal(t, 6, p.Stats().Idle)
		assert.Equal(t, int64(2), b.maxInDial.Load())
	})
}

func TestBreakerProbesOnDemandAndRecoversAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		b.setFail(errBoom)
		cfg := breakerConfig(b)
		cfg.MaxConns = 8
		p, clk := newPool(t, cfg)
		for range 3 {
			_, err := p.Acquire(context.Background())
			require.ErrorIs(t, err, chanpool.ErrDial)
			synctest.Wait()
		}
		require.True(t, p.Stats().BreakerOpen)

		// An outage under load: 32 callers, each trying every millisecond
		// for half a second. Every one fails fast, and the pool dials about once
		// per probe floor, not once per caller.
		const callers, outage = 32, 500 * time.Millisecond
		start, dialsBefore := clk.Now(), p.Stats().DialErrors
		calls := 0
		for clk.Since(start) < outage {
			for range callers {
				at := clk.Now()
				_, err := p.Acquire(context.Background())
				require.ErrorIs(t, err, chanpool.ErrBreakerOpen)
				require.Equal(t, at, clk.Now(), "fails at once")
				calls++
			}
			synctest.Wait()
			clk.Advance(time.Millisecond)
		}
		dials := p.Stats().DialErrors - dialsBefore
		assert.LessOrEqual(t, dials, uint64(calls)/50, "at most 2%% of the %d calls dial: %d did", calls, dials)
		assert.GreaterOrEqual(t, dials, uint64(outage/(20*time.Millisecond)), "demand keeps probing: %d dials", dials)
		assert.LessOrEqual(t, b.maxInDial.Load(), int64(1), "one probe at a time")

		// The backend is back: the first caller after the probe floor
		// starts the probe that closes the breaker.
		b.setFail(nil)
		back := clk.Now()
		for {
			c, err := p.TryAcquire(context.Background())
			if err == nil {
				require.NoError(t, c.Release())
				break
			}
			synctest.Wait()
			clk.Advance(time.Millisecond)
			require.Less(t, clk.Since(back), 50*time.Millisecond, "not served within 50ms of the backend's return: %v", err)
		}
		assert.False(t, p.Stats().BreakerOpen)
		t.Logf("%d calls, %d dials during the outage; served %v after the backend came back", calls, dials, clk.Since(back))
	})
}
