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

func TestChecksThatReturnAtOnceDoNotAllocate(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	var resets, alive atomic.Int64
	cfg.HealthCheck = func(context.Context, *res) error { return nil }
	cfg.Reset = func(context.Context, *res) error { resets.Add(1); return nil }
	cfg.Alive = func(*res) bool { alive.Add(1); return true }
	p, _ := newPool(t, cfg) // HealthCheckAfter and CheckTimeout at their defaults
	require.NoError(t, acquireN(t, p, 1)[0].Release())
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		c, err := p.Acquire(ctx)
		if err != nil {
			panic(err)
		}
		if err := c.Release(); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs, "a Reset and Alive that return at once, and a health check not yet due, allocate nothing")
	assert.GreaterOrEqual(t, resets.Load(), int64(1000))
	assert.GreaterOrEqual(t, alive.Load(), int64(1000))
	assert.Zero(t, p.Stats().Closed.Health)
}

func TestResetThatLooksAtItsContextIsBoundedFromThen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.CheckTimeout = time.Second
		var deadlines []time.Time
		cfg.Reset = func(ctx context.Context, _ *res) error {
			d, ok := ctx.Deadline()
			require.True(t, ok)
			deadlines = append(deadlines, d)
			return nil
		}
		p, clk := newPool(t, cfg)
		c := acquireN(t, p, 1)[0]
		start := clk.Now()
		require.NoError(t, c.Release())
		clk.Advance(time.Minute)
		c = acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
		require.Len(t, deadlines, 2)
		assert.Equal(t, start.Add(time.Second), deadlines[0])
		assert.Equal(t, start.Add(time.Minute+time.Second), deadlines[1], "each Reset gets a context of its own")
		assert.Zero(t, p.Stats().Closed.Reset)
	})
}

func TestResetPastItsDeadlineClosesTheConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.CheckTimeout = time.Second
		var clk interface{ Advance(time.Duration) }
		cfg.Reset = func(ctx context.Context, _ *res) error {
			_ = ctx.Done()           // looks at its context, then
			clk.Advance(time.Second) // takes CheckTimeout, ignoring it
			return nil
		}
		p, fake := newPool(t, cfg)
		clk = fake
		c := acquireN(t, p, 1)[0]
		r := c.Value()
		require.NoError(t, c.Release())
		synctest.Wait()
		assert.True(t, r.closed.Load(), "a Reset that returns after its deadline does not count")
		assert.Equal(t, uint64(1), p.Stats().Closed.Reset)
	})
}

func TestAliveRunsOnEveryAcquireOfAnIdleConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		var calls atomic.Int64
		var dead atomic.Pointer[res]
		cfg.Alive = func(r *res) bool {
			calls.Add(1)
			if r == dead.Load() {
				return false
			}
			if r.id == 2 {
				panic("alive exploded")
			}
			return true
		}
		logs := captureLogs(&cfg)
		p, _ := newPool(t, cfg)

		c := acquireN(t, p, 1)[0]
		assert.Zero(t, calls.Load(), "not for a connection straight from its dial")
		first := c.Value()
		require.NoError(t, c.Release())
		c = acquireN(t, p, 1)[0]
		assert.Equal(t, int64(1), calls.Load())
		assert.Same(t, first, c.Value())

		dead.Store(first)
		require.NoError(t, c.Release())
		c = acquireN(t, p, 1)[0]
		assert.NotSame(t, first, c.Value(), "a connection that is not alive is replaced")
		synctest.Wait()
		assert.True(t, first.closed.Load())
		require.NoError(t, c.Release()) // connection 2, whose Alive panics

		c = acquireN(t, p, 1)[0]
		assert.Equal(t, 3, c.Value().id, "a panic counts as not alive")
		assert.Contains(t, logs.String(), "alive exploded")
		require.NoError(t, c.Release())
		synctest.Wait()
		assert.Equal(t, uint64(2), p.Stats().Closed.Health)
	})
}

func TestUnlimitedWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxWaiting = chanpool.Unlimited
		p, _, held := fullPool(t, cfg)
		const n = 500
		waiters := make([]<-chan outcome, n)
		for i := range waiters {
			waiters[i] = startAcquire(context.Background(), p)
			synctest.Wait()
		}
		s := p.Stats()
		assert.Equal(t, n, s.Waiting, "nobody is turned away")
		assert.Zero(t, s.Exhausted)
		c := held
		for i, w := range waiters {
			require.NoError(t, c.Release())
			o := <-w
			require.NoError(t, o.err, "waiter %d", i)
			c = o.c
		}
		require.NoError(t, c.Release())

		for _, field := range []string{"MinConns", "MaxDialing", "AcquireTimeout"} {
			cfg := b.config()
			switch field {
			case "MinConns":
				cfg.MinConns = chanpool.Unlimited
			case "MaxDialing":
				cfg.MaxDialing = chanpool.Unlimited
			case "AcquireTimeout":
				cfg.AcquireTimeout = chanpool.Unlimited
			}
			_, err := chanpool.New(cfg)
			if assert.Error(t, err, "Unlimited is for MaxWaiting only") {
				assert.Contains(t, err.Error(), "Config."+field)
			}
		}
	})
}

func TestCloseRunsOffTheCallersGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 1
		gate := make(chan struct{})
		cfg.Close = func(r *res) error {
			<-gate // a slow close
			return b.close(r)
		}
		p, _ := newPool(t, cfg)
		c := acquireN(t, p, 1)[0]
		w := startAcquire(context.Background(), p)
		synctest.Wait()

		require.NoError(t, c.Destroy(), "Destroy returns while the close still runs")
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 1, s.Closing)
		assert.Equal(t, 1, s.Total, "a closing connection keeps its place under MaxConns")
		checkStats(t, s)
		select {
		case o := <-w:
			t.Fatalf("the waiter was served while the close ran: %v", o.err)
		default:
		}

		close(gate) // the close returns: its slot is dialed for the waiter
		o := <-w
		require.NoError(t, o.err)
		assert.NotEqual(t, c.ID(), o.c.ID())
		require.NoError(t, o.c.Release())
		assert.Zero(t, p.Stats().Closing)
	})
}

func TestCloseClosesIdleConnectionsConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		gate := make(chan struct{})
		var running, most atomic.Int64
		cfg.Close = func(r *res) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-gate
			running.Add(-1)
			return b.close(r)
		}
		p, _ := newPool(t, cfg)
		for _, c := range acquireN(t, p, 3) {
			require.NoError(t, c.Release())
		}
		done := make(chan error, 1)
		go func() { done <- p.Close(context.Background()) }()
		synctest.Wait()
		assert.Equal(t, int64(3), running.Load(), "all three closes run at once")
		select {
		case err := <-done:
			t.Fatalf("Close returned before the closes did: %v", err)
		default:
		}
		close(gate)
		require.NoError(t, <-done)
		assert.Equal(t, int64(3), most.Load())
		assert.Equal(t, 0, b.open())
	})
}

func TestCloseErrorCountsWhatIsStillRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		closeGate, checkGate, dialGate := make(chan struct{}), make(chan struct{}), make(chan struct{})
		dials := 0
		cfg.Dial = func(ctx context.Context) (*res, error) {
			if dials++; dials == 4 {
				<-dialGate // ignores ctx
			}
			return b.dial(ctx)
		}
		cfg.Close = func(r *res) error {
			<-closeGate
			return b.close(r)
		}
		var checking atomic.Bool
		cfg.HealthCheck = func(ctx context.Context, r *res) error {
			if r.id == 3 {
				checking.Store(true)
				<-checkGate // ignores ctx
			}
			return nil
		}
		cfg.HealthCheckAfter = chanpool.None
		p, _ := newPool(t, cfg)
		cs := acquireN(t, p, 3)
		require.NoError(t, cs[2].Release())
		_, err := p.TryAcquire(context.Background()) // checks connection 3 in the background, dials a fourth
		require.ErrorIs(t, err, chanpool.ErrNoIdle)
		require.NoError(t, cs[1].Release()) // idle: Close closes it
		synctest.Wait()
		require.True(t, checking.Load())

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Close(ctx) }()
		synctest.Wait()
		cancel()
		err = <-done
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "1 connections still in use")
		assert.Contains(t, err.Error(), "still running: 1 closes, 1 dials, 1 health checks")

		close(checkGate)
		close(dialGate)
		close(closeGate)
		synctest.Wait()
		assert.Equal(t, 0, b.open(), "everything is closed in the end")
		assert.ErrorIs(t, cs[0].Release(), chanpool.ErrClosed)
	})
}

func TestAcquireKeepsItsDeadlineWhileACheckHangs(t *testing.T) {
	for _, bound := range []string{"context", "AcquireTimeout"} {
		t.Run(bound, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &backend{}
				cfg := b.config()
				cfg.MaxConns = 1 // nothing else to dial
				cfg.AcquireTimeout = 300 * time.Millisecond
				cfg.CheckTimeout = time.Second
				cfg.HealthCheckAfter = chanpool.None
				unblock := make(chan struct{})
				cfg.HealthCheck = func(context.Context, *res) error {
					<-unblock // a hung server, and a check that ignores ctx
					return nil
				}
				p, clk := newPool(t, cfg)
				require.NoError(t, acquireN(t, p, 1)[0].Release())

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				w := startAcquire(ctx, p)
				synctest.Wait()
				if bound == "context" {
					cancel()
				} else {
					clk.Advance(300 * time.Millisecond)
				}
				synctest.Wait()
				select {
				case o := <-w:
					require.Error(t, o.err)
					if bound == "context" {
						assert.ErrorIs(t, o.err, context.Canceled)
					} else {
						assert.ErrorIs(t, o.err, chanpool.ErrAcquireTimeout)
					}
				default:
					t.Fatal("Acquire is still blocked behind the hung check")
				}
				assert.Equal(t, 1, p.Stats().Checking, "the check goes on in the background")

				clk.Advance(time.Second) // past CheckTimeout: still running, still owning its connection
				synctest.Wait()
				assert.Equal(t, 1, p.Stats().Checking)
				close(unblock)
				synctest.Wait()
				s := p.Stats()
				assert.Equal(t, uint64(1), s.Closed.Health, "a check that returns after CheckTimeout fails")
				checkStats(t, s)
			})
		})
	}
}

func TestChecksAndDialsSeeTheirDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.CheckTimeout = 300 * time.Millisecond
		cfg.DialTimeout = 2 * time.Second
		cfg.HealthCheckAfter = chanpool.None
		// The bubble's time stands still while nothing blocks: the deadline
		// each sees is its bound from now.
		var checkLeft, dialLeft time.Duration
		var checkOK, dialOK bool
		cfg.HealthCheck = func(ctx context.Context, _ *res) error {
			var d time.Time
			d, checkOK = ctx.Deadline()
			checkLeft = time.Until(d)
			return nil
		}
		cfg.Dial = func(ctx context.Context) (*res, error) {
			var d time.Time
			d, dialOK = ctx.Deadline()
			dialLeft = time.Until(d)
			return b.dial(ctx)
		}
		p, _ := newPool(t, cfg)
		require.NoError(t, acquireN(t, p, 1)[0].Release())
		require.True(t, dialOK, "a dial's context has a deadline")
		assert.Equal(t, 2*time.Second, dialLeft)
		require.NoError(t, acquireN(t, p, 1)[0].Release())
		require.True(t, checkOK, "a health check's context has a deadline")
		assert.Equal(t, 300*time.Millisecond, checkLeft, "CheckTimeout from when the check began")
	})
}

// A caller dialing for itself takes a connection released meanwhile, which
// is due a check; the check fails, and so does the dial it gave up on. The
// caller must not be left waiting for nothing: it looks again and dials.
func TestFailedCheckWhileDialingForItselfLooksAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 3
		cfg.AcquireTimeout = time.Minute
		cfg.HealthCheckAfter = chanpool.None
		var check switchable
		cfg.HealthCheck = check.run
		gate := make(chan struct{})
		var dials atomic.Int64
		cfg.Dial = func(ctx context.Context) (*res, error) {
			if dials.Add(1) == 3 { // the caller's own dial: held up, then failing
				<-gate
				return nil, errBoom
			}
			return b.dial(ctx)
		}
		p, clk := newPool(t, cfg)
		held := acquireN(t, p, 2)
		w := startAcquire(context.Background(), p) // room for one more: it dials, behind the gate
		synctest.Wait()
		check.fail.Store(true)
		require.NoError(t, held[1].Release()) // reaches the dialing caller first; its check fails
		synctest.Wait()
		check.fail.Store(false)
		close(gate) // and the dial it gave up on fails too
		synctest.Wait()
		clk.Advance(time.Second) // past any retry backoff, far short of AcquireTimeout
		synctest.Wait()
		select {
		case o := <-w:
			require.NoError(t, o.err, "the caller looked again and got a connection")
			require.NoError(t, o.c.Release())
		default:
			t.Fatal("the caller still waits, with slots free")
		}
		require.NoError(t, held[0].Release())
	})
}
