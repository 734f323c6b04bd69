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

// The hot slot: while nobody waits, the connection released last is the one
// leased next.

// servedNow returns what ch holds, failing the test with why if it holds
// nothing yet.
func servedNow(t *testing.T, ch <-chan outcome, why string) outcome {
	t.Helper()
	select {
	case o := <-ch:
		require.NoError(t, o.err)
		return o
	default:
		t.Fatal(why)
		return outcome{}
	}
}

// startUnlooked runs QueueUnlooked in a goroutine and returns a channel
// with its outcome.
func startUnlooked(p *chanpool.Pool[*res]) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		c, err := chanpool.QueueUnlooked(context.Background(), p)
		ch <- outcome{c, err}
	}()
	return ch
}

// TestLoneCallerReusesTheConnectionItReleased checks the slot's purpose: a
// caller alone on a pool of several idle connections gets back, every time,
// the one it released, and the connection in the slot counts as idle.
func TestLoneCallerReusesTheConnectionItReleased(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	p, _ := newPool(t, cfg)
	for _, c := range acquireN(t, p, 4) {
		require.NoError(t, c.Release())
	}
	last := acquireN(t, p, 1)[0]
	for i := range 20 {
		id := last.ID()
		require.NoError(t, last.Release())
		assert.Equal(t, id, chanpool.HotID(p), "released %d: it is in the hot slot", i)
		s := p.Stats()
		assert.Equal(t, 4, s.Idle, "the hot connection is idle")
		checkStats(t, s)
		for _, ci := range p.Conns() {
			if ci.ID == id {
				assert.Equal(t, chanpool.StateIdle, ci.State)
			}
		}
		last = acquireN(t, p, 1)[0]
		require.Equal(t, id, last.ID(), "acquire %d: the connection released last", i)
	}
	require.NoError(t, last.Release())
	c, err := p.TryAcquire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, last.ID(), c.ID(), "TryAcquire takes the hot connection too")
	require.NoError(t, c.Release())
}

// stalledPark builds a one-connection pool with a caller waiting for its
// connection, which a releaser then parks in the hot slot without its second
// read of the waiter count (ParkStalled); rest is that read. It must run
// inside synctest.Test.
func stalledPark(t *testing.T) (p *chanpool.Pool[*res], held chanpool.Conn[*res], waiter <-chan outcome, rest func()) {
	t.Helper()
	b := &backend{}
	p, _, held = fullPool(t, b.config())
	waiter = startAcquire(context.Background(), p)
	synctest.Wait()
	rest, ok := chanpool.ParkStalled(held)
	require.True(t, ok)
	require.Equal(t, held.ID(), chanpool.HotID(p))
	return p, held, waiter, rest
}

// TestHotSlotNewcomerQueues: a releaser parked a connection in the hot slot
// after a caller began waiting, and has not yet read the waiter count again.
// A newcomer that takes the connection out of the slot must see the waiter
// and hand it on, through the channel, to the waiter, and queue behind it.
func TestHotSlotNewcomerQueues(t *testing.T) {
	for _, how := range []string{"Acquire", "TryAcquire"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, held, waiter, rest := stalledPark(t)

				var newcomer <-chan outcome
				if how == "Acquire" {
					newcomer = startAcquire(context.Background(), p)
				} else {
					_, err := p.TryAcquire(context.Background())
					assert.ErrorIs(t, err, chanpool.ErrNoIdle, "the newcomer must not take it")
				}
				synctest.Wait()
				got := servedNow(t, waiter, "the waiter was not served: the newcomer kept the connection")
				assert.Equal(t, held.ID(), got.c.ID())
				if newcomer != nil {
					select {
					case o := <-newcomer:
						t.Fatalf("the newcomer was served first: %v", o.err)
					default:
					}
					assert.Equal(t, 1, p.Stats().Waiting, "the newcomer queues")
				}
				rest() // the stalled releaser's second half: nothing left to do
				assert.Zero(t, chanpool.HotID(p))
				require.NoError(t, got.c.Release())
				if newcomer != nil {
					o := <-newcomer
					require.NoError(t, o.err)
					require.NoError(t, o.c.Release())
				}
				checkStats(t, p.Stats())
			})
		})
	}
}

// TestHotSlotParkRechecks: a releaser that read the waiter count before a
// caller began waiting parks the connection in the slot; its second read
// of the count must then move it to the waiter, even with no acquirer to
// come.
func TestHotSlotParkRechecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, held, waiter, rest := stalledPark(t)
		synctest.Wait()
		select {
		case <-waiter:
			t.Fatal("served before the releaser's second read: the test sets nothing up")
		default:
		}
		rest()
		synctest.Wait()
		got := servedNow(t, waiter, "the waiter is left waiting with the connection in the hot slot")
		assert.Equal(t, held.ID(), got.c.ID())
		assert.Zero(t, chanpool.HotID(p))
		require.NoError(t, got.c.Release())
	})
}

// TestHotSlotWaiterFlushes: a caller that looked at the slot before a
// connection was parked there, and was not counted yet when the releaser
// read the count twice, must move the connection to the channel itself
// when it begins to wait: queued in the waiting room, or waiting for a dial
// of its own.
func TestHotSlotWaiterFlushes(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := &backend{}
			p, _, held := fullPool(t, b.config())
			require.NoError(t, held.Release())
			require.Equal(t, held.ID(), chanpool.HotID(p))
			done := startUnlooked(p)
			synctest.Wait()
			got := servedNow(t, done, "the waiter waits while the connection sits in the hot slot")
			assert.Equal(t, held.ID(), got.c.ID())
			require.NoError(t, got.c.Release())
		})
	})
	t.Run("dialing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := &backend{}
			cfg := b.config()
			cfg.MaxConns = 2
			p, _ := newPool(t, cfg)
			held := acquireN(t, p, 1)[0]
			require.NoError(t, held.Release())
			gate := make(chan struct{})
			b.setGate(gate) // the caller's own dial hangs
			done := startUnlooked(p)
			synctest.Wait()
			got := servedNow(t, done, "the dialing caller waits while the connection sits in the hot slot")
			assert.Equal(t, held.ID(), got.c.ID())
			close(gate)
			synctest.Wait()
			require.NoError(t, got.c.Release())
			checkStats(t, p.Stats())
		})
	})
}

// TestResetClosesTheHotConnection: Pool.Reset's sweep reaches the slot.
func TestResetClosesTheHotConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())
		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
		require.Equal(t, c.ID(), chanpool.HotID(p))
		p.Reset()
		synctest.Wait()
		assert.True(t, c.Value().closed.Load(), "the hot connection was dialed before Reset")
		assert.Zero(t, chanpool.HotID(p))
		s := p.Stats()
		assert.Equal(t, uint64(1), s.Closed.PoolReset)
		assert.Equal(t, 0, s.Idle)
		checkStats(t, s)
	})
}

// TestKeepalivePingsTheHotConnection: the keepalive's sweep reaches the
// slot; a connection that passes its ping is idle again.
func TestKeepalivePingsTheHotConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		pings := &switchable{}
		cfg.KeepaliveInterval = 20 * time.Second
		cfg.Keepalive = pings.run
		p, clk := newPool(t, cfg)
		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
		step(clk, 30*time.Second, nil)
		assert.Positive(t, pings.calls.Load(), "the idle connection in the hot slot was pinged")
		s := p.Stats()
		assert.Equal(t, 1, s.Idle, "and idle again")
		checkStats(t, s)
	})
}

// TestEvictorClosesTheHotConnectionLast: the evictor closes the surplus
// from the front of the idle channel, and the hot slot's connection, the one
// in use, only when the whole pool is surplus.
func TestEvictorClosesTheHotConnectionLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, clk := newPool(t, evictConfig(b, 3, 0))
		for _, c := range acquireN(t, p, 3) {
			require.NoError(t, c.Release())
		}
		hot := chanpool.HotID(p)
		require.NotZero(t, hot)
		// One caller, one request a second: the load needs one connection.
		step(clk, 50*time.Second, func() {
			c := acquireN(t, p, 1)[0]
			require.Equal(t, hot, c.ID(), "the lone caller keeps the hot connection")
			require.NoError(t, c.Release())
		})
		s := p.Stats()
		assert.Equal(t, 1, s.Total, "the surplus is closed")
		assert.Equal(t, uint64(2), s.Closed.Idle)
		assert.Equal(t, hot, chanpool.HotID(p), "the connection in use is the one kept")
		// No load at all: the last one goes too.
		step(clk, 50*time.Second, nil)
		s = p.Stats()
		assert.Equal(t, 0, s.Total, "the hot connection is surplus too")
		assert.Zero(t, chanpool.HotID(p))
		checkStats(t, s)
	})
}

// TestCloseClosesTheHotConnection: Close's drain reaches the slot, and so
// does a Release that lands after the drain.
func TestCloseClosesTheHotConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, _ := newPool(t, b.config())
		cs := acquireN(t, p, 2)
		require.NoError(t, cs[0].Release())
		require.Equal(t, cs[0].ID(), chanpool.HotID(p))
		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		synctest.Wait()
		assert.True(t, cs[0].Value().closed.Load(), "the idle hot connection closes at once")
		require.NoError(t, cs[1].Release()) // fast path: parks, then sees Close
		synctest.Wait()
		select {
		case err := <-closed:
			require.NoError(t, err)
		default:
			t.Fatal("Close still waits: the connection released after its drain sits in the hot slot")
		}
		assert.Zero(t, b.open())
		assert.Equal(t, uint64(2), p.Stats().Closed.PoolClosed)
	})
}

// TestHealthCheckDueReachesTheHotConnection: the coarse clock's mark on an
// idle connection in the slot sends the next acquirer through the check.
func TestHealthCheckDueReachesTheHotConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		checks := &switchable{}
		cfg.HealthCheck = checks.run
		cfg.HealthCheckAfter = 10 * time.Second
		p, clk := newPool(t, cfg)
		c := acquireN(t, p, 1)[0]
		require.NoError(t, c.Release())
		step(clk, 15*time.Second, nil)
		require.Equal(t, c.ID(), chanpool.HotID(p))
		again := acquireN(t, p, 1)[0]
		assert.Equal(t, int64(1), checks.calls.Load(), "checked once, on the way out of the hot slot")
		assert.Equal(t, c.ID(), again.ID())
		require.NoError(t, again.Release())
	})
}
