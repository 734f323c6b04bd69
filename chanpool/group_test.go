package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

// keyed is a set of backends, one per key, that also counts the
// connections open across all of them (the most ever seen, too).
type keyed struct {
	mu       sync.Mutex
	backends map[string]*backend
	open     atomic.Int64
	maxOpen  atomic.Int64
	maxConns int // each key's MaxConns
}

func newKeyed(maxConns int) *keyed {
	return &keyed{backends: map[string]*backend{}, maxConns: maxConns}
}

func (k *keyed) backend(key string) *backend {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.backends[key]
	if b == nil {
		b = &backend{}
		k.backends[key] = b
	}
	return b
}

// config is GroupConfig.Config: each key dials its own backend, and the
// group-wide count moves with every dial and close.
func (k *keyed) config(key string) (chanpool.Config[*res], error) {
	b := k.backend(key)
	cfg := b.config()
	cfg.MaxConns = k.maxConns
	cfg.Dial = func(ctx context.Context) (*res, error) {
		r, err := b.dial(ctx)
		if err == nil {
			n := k.open.Add(1)
			for m := k.maxOpen.Load(); n > m && !k.maxOpen.CompareAndSwap(m, n); m = k.maxOpen.Load() {
			}
		}
		return r, err
	}
	cfg.Close = func(r *res) error {
		k.open.Add(-1)
		return b.close(r)
	}
	return cfg, nil
}

// newGroup builds a group of keyed pools on a fake clock, closed when the
// test ends.
func newGroup(t *testing.T, k *keyed, maxConns int, idle time.Duration) (*chanpool.Group[string, *res], *clock.Fake) {
	t.Helper()
	clk := clock.NewFake()
	g, err := chanpool.NewGroupWithClock(chanpool.GroupConfig[string, *res]{
		Config:         k.config,
		MaxConns:       maxConns,
		KeyIdleTimeout: idle,
	}, clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	return g, clk
}

func startGroupAcquire(ctx context.Context, g *chanpool.Group[string, *res], key string) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		c, err := g.Acquire(ctx, key)
		ch <- outcome{c, err}
	}()
	return ch
}

// served returns the waiter's connection, failing the test if it still
// waits or failed.
func served(t *testing.T, w <-chan outcome, what string) chanpool.Conn[*res] {
	t.Helper()
	select {
	case o := <-w:
		require.NoError(t, o.err, what)
		return o.c
	default:
		t.Fatalf("%s still waits", what)
		return chanpool.Conn[*res]{}
	}
}

func waits(t *testing.T, w <-chan outcome, what string) {
	t.Helper()
	select {
	case o := <-w:
		t.Fatalf("%s returned (%v) while it should wait", what, o.err)
	default:
	}
}

// checkGroup asserts the identities of every key's Stats and of their sum,
// and that the cap holds.
func checkGroup(t *testing.T, g *chanpool.Group[string, *res]) chanpool.GroupStats[string] {
	t.Helper()
	gs := g.Stats()
	total := 0
	for k, s := range gs.Keys {
		checkStats(t, s)
		assert.LessOrEqual(t, s.Total, s.MaxConns, "key %s", k)
		total += s.Total
	}
	assert.Equal(t, total, gs.Sum.Total)
	assert.Equal(t, gs.Open, total, "the group's count of open connections is the keys' sum")
	if gs.MaxConns > 0 {
		assert.LessOrEqual(t, gs.Open, gs.MaxConns)
	}
	return gs
}

func TestGroupCapHoldsUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 8, chanpool.None)
		const goroutines, keys, rounds = 64, 16, 50
		var wg sync.WaitGroup
		var fails atomic.Int64
		for i := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					key := fmt.Sprintf("k%d", (i+r)%keys)
					c, err := g.Acquire(context.Background(), key)
					if err != nil {
						fails.Add(1)
						continue
					}
					if n := k.open.Load(); n > 8 {
						t.Errorf("%d connections open across keys, cap 8", n)
					}
					time.Sleep(time.Millisecond) // synctest's clock: hold the connection a while
					if r%7 == 0 {
						_ = c.Destroy()
					} else {
						_ = c.Release()
					}
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		assert.Zero(t, fails.Load(), "every acquire is served")
		assert.LessOrEqual(t, k.maxOpen.Load(), int64(8), "never more than the cap open at once")
		assert.Equal(t, int64(8), k.maxOpen.Load(), "the load used the whole cap")
		gs := checkGroup(t, g)
		assert.Equal(t, uint64(goroutines*rounds), gs.Sum.Acquired)
		assert.Len(t, gs.Keys, keys)
		assert.Positive(t, gs.Sum.Closed.GroupCap, "keys made room for each other")
		require.NoError(t, g.Close(context.Background()))
		assert.Zero(t, k.open.Load(), "every connection closed")
	})
}

func TestGroupClosesAnIdleConnectionOfAnotherKeyForAWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 4, chanpool.None)
		var held []chanpool.Conn[*res]
		for range 4 {
			c, err := g.Acquire(context.Background(), "b")
			require.NoError(t, err)
			held = append(held, c)
		}
		for _, c := range held {
			require.NoError(t, c.Release()) // b holds the whole cap, idle
		}
		w := startGroupAcquire(context.Background(), g, "a")
		synctest.Wait()
		c := served(t, w, "a's caller")
		gs := checkGroup(t, g)
		assert.Equal(t, uint64(1), gs.Keys["b"].Closed.GroupCap, "one of b's idle connections made room")
		assert.Equal(t, 3, gs.Keys["b"].Idle)
		require.NoError(t, c.Release())
	})
}

func TestGroupWaiterIsServedByTheNextConnectionAnotherKeyReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 2, chanpool.None)
		b1, err := g.Acquire(context.Background(), "b")
		require.NoError(t, err)
		b2, err := g.Acquire(context.Background(), "b")
		require.NoError(t, err)
		w := startGroupAcquire(context.Background(), g, "a")
		synctest.Wait()
		waits(t, w, "a's caller, with the cap held by b")
		assert.Equal(t, 1, g.Stats().Queued)

		// b has no caller waiting: its connection closes instead of going
		// idle, and a dials with the room.
		require.NoError(t, b1.Release())
		synctest.Wait()
		a := served(t, w, "a's caller")
		gs := checkGroup(t, g)
		assert.Zero(t, gs.Keys["b"].Idle, "b's released connection did not go idle")
		assert.Equal(t, uint64(1), gs.Keys["b"].Closed.GroupCap)

		// Nobody queues now: b2 goes back to idle, its mark lifted.
		require.NoError(t, b2.Release())
		synctest.Wait()
		gs = checkGroup(t, g)
		assert.Equal(t, 1, gs.Keys["b"].Idle)
		assert.Equal(t, uint64(1), gs.Keys["b"].Closed.GroupCap)
		require.NoError(t, a.Release())
	})
}

func TestGroupQueueIsFIFOAcrossKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 1, chanpool.None)
		a, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		wb := startGroupAcquire(context.Background(), g, "b")
		synctest.Wait()
		wc := startGroupAcquire(context.Background(), g, "c")
		synctest.Wait()
		wd := startGroupAcquire(context.Background(), g, "d")
		synctest.Wait()

		require.NoError(t, a.Release())
		synctest.Wait()
		b := served(t, wb, "b, queued first")
		waits(t, wc, "c")
		waits(t, wd, "d")

		// b's connection was dialed while c and d queued: it goes on to
		// them when b is done with it, not back to b's idle list.
		require.NoError(t, b.Release())
		synctest.Wait()
		c := served(t, wc, "c, queued second")
		waits(t, wd, "d")
		require.NoError(t, c.Release())
		synctest.Wait()
		d := served(t, wd, "d, queued last")
		require.NoError(t, d.Release())
		synctest.Wait()
		gs := checkGroup(t, g)
		assert.Equal(t, uint64(3), gs.Sum.Closed.GroupCap)
		assert.Equal(t, 1, gs.Keys["d"].Idle, "the last one keeps its connection")
	})
}

func TestGroupSaturatedKeysShareTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(8)
		g, _ := newGroup(t, k, 8, chanpool.None)
		// Key a saturates the cap first; then b's callers arrive. Both keep
		// their callers waiting from then on.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		served := map[string]*atomic.Int64{"a": {}, "b": {}}
		load := func(key string, n int) {
			for range n {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						c, err := g.Acquire(context.Background(), key)
						if err != nil {
							t.Errorf("%s: %v", key, err)
							return
						}
						served[key].Add(1)
						time.Sleep(time.Millisecond)
						_ = c.Release()
					}
				})
			}
		}
		load("a", 16)
		time.Sleep(10 * time.Millisecond)
		require.Equal(t, 8, g.Stats().Keys["a"].Total, "a took the whole cap")
		load("b", 16)
		time.Sleep(100 * time.Millisecond)
		gs := g.Stats() // under load: the identities hold at rest only
		assert.Equal(t, 4, gs.Keys["a"].Total, "a keeps its equal share")
		assert.Equal(t, 4, gs.Keys["b"].Total, "b gets its equal share")
		closes := gs.Sum.Closed.GroupCap
		assert.Equal(t, uint64(4), closes, "a gave up exactly what it held over its share")
		before := served["b"].Load()
		time.Sleep(100 * time.Millisecond)
		assert.Greater(t, served["b"].Load(), before, "b keeps being served")
		assert.Equal(t, closes, g.Stats().Sum.Closed.GroupCap, "at equal shares the keys stop trading connections")
		close(stop)
		wg.Wait()
		synctest.Wait()
		checkGroup(t, g)
	})
}

func TestGroupFIFOWithinAKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(1)
		g, _ := newGroup(t, k, 8, chanpool.None)
		first, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		var ws []<-chan outcome
		for range 5 {
			ws = append(ws, startGroupAcquire(context.Background(), g, "a"))
			synctest.Wait()
		}
		held := first
		for i, w := range ws {
			require.NoError(t, held.Release())
			synctest.Wait()
			held = served(t, w, fmt.Sprintf("waiter %d", i))
			for _, later := range ws[i+1:] {
				waits(t, later, "a later waiter")
			}
		}
		require.NoError(t, held.Release())
	})
}

func TestGroupRemovesIdleKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(2)
		g, clk := newGroup(t, k, 8, time.Minute)
		for _, key := range []string{"a", "b"} {
			c, err := g.Acquire(context.Background(), key)
			require.NoError(t, err)
			require.NoError(t, c.Release())
		}
		pa := g.Pool("a")
		require.NotNil(t, pa)
		// b keeps being used; a does not.
		for range 8 {
			clk.Advance(15 * time.Second)
			synctest.Wait()
			c, err := g.Acquire(context.Background(), "b")
			require.NoError(t, err)
			require.NoError(t, c.Release())
		}
		assert.ElementsMatch(t, []string{"b"}, g.Keys(), "a, unused for its KeyIdleTimeout, is gone")
		assert.Nil(t, g.Pool("a"))
		_, err := pa.Acquire(context.Background())
		assert.ErrorIs(t, err, chanpool.ErrClosed, "a's pool is closed")
		assert.True(t, k.backend("a").dialed[0].closed.Load(), "a's idle connection closed")
		gs := g.Stats()
		assert.Equal(t, uint64(2), gs.KeysCreated)
		assert.Equal(t, uint64(1), gs.KeysRemoved)

		// Acquiring a again makes a new pool for it.
		c, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		require.NoError(t, c.Release())
		assert.NotSame(t, pa, g.Pool("a"))
		assert.Equal(t, uint64(3), g.Stats().KeysCreated)
	})
}

func TestGroupKeepsAKeyWithALeaseOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(2)
		g, clk := newGroup(t, k, 8, time.Minute)
		c, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		for range 12 {
			clk.Advance(15 * time.Second)
			synctest.Wait()
		}
		assert.Equal(t, []string{"a"}, g.Keys(), "a lease out keeps the key, however long")
		require.NoError(t, c.Release())
		for range 5 {
			clk.Advance(15 * time.Second)
			synctest.Wait()
		}
		assert.Empty(t, g.Keys())
	})
}

func TestGroupCloseWithWaitersOnManyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(1)
		g, _ := newGroup(t, k, 4, chanpool.None)
		var ws []<-chan outcome
		var held []chanpool.Conn[*res]
		for i := range 8 {
			key := fmt.Sprintf("k%d", i)
			if i < 4 {
				c, err := g.Acquire(context.Background(), key)
				require.NoError(t, err)
				held = append(held, c)
			}
			ws = append(ws, startGroupAcquire(context.Background(), g, key), startGroupAcquire(context.Background(), g, key))
			synctest.Wait()
		}
		closed := make(chan error, 1)
		go func() { closed <- g.Close(context.Background()) }()
		synctest.Wait()
		requireAllEnded(t, ws, chanpool.ErrClosed, "Close")
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) with leases out", err)
		default:
		}
		for _, c := range held {
			assert.ErrorIs(t, c.Release(), nil)
		}
		synctest.Wait()
		require.NoError(t, <-closed)
		assert.Zero(t, k.open.Load())
		_, err := g.Acquire(context.Background(), "k0")
		assert.ErrorIs(t, err, chanpool.ErrClosed)
		assert.ErrorIs(t, g.Close(context.Background()), chanpool.ErrClosed)
	})
}

func TestGroupRemoveClosesAKeyNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(1)
		g, _ := newGroup(t, k, 4, chanpool.None)
		c, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		w := startGroupAcquire(context.Background(), g, "a")
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err = g.Remove(ctx, "a")
		assert.ErrorIs(t, err, context.Canceled, "the lease out was closed under its holder")
		synctest.Wait()
		o := <-w
		assert.ErrorIs(t, o.err, chanpool.ErrClosed, "a caller waiting for a removed key")
		assert.ErrorIs(t, c.Release(), chanpool.ErrClosed)
		assert.Empty(t, g.Keys())
		assert.Zero(t, k.open.Load())
		assert.NoError(t, g.Remove(context.Background(), "a"), "removing a key with no pool")
	})
}

func TestGroupResetAndPoolClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(2)
		g, _ := newGroup(t, k, 4, chanpool.None)
		c, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		require.NoError(t, c.Release())
		g.Reset("a")
		synctest.Wait()
		assert.Equal(t, uint64(1), g.Stats().Keys["a"].Closed.PoolReset)
		g.Reset("nobody") // no pool: nothing to do

		p := g.Pool("a")
		require.NoError(t, p.Close(context.Background()))
		_, err = g.Acquire(context.Background(), "a")
		assert.ErrorIs(t, err, chanpool.ErrClosed, "the call that meets the closed pool")
		c, err = g.Acquire(context.Background(), "a")
		require.NoError(t, err, "a pool closed through Pool.Close is removed: the next call makes a new one")
		require.NoError(t, c.Release())
		assert.NotSame(t, p, g.Pool("a"))
	})
}

func TestGroupSetMaxConns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 4, chanpool.None)
		var held []chanpool.Conn[*res]
		for _, key := range []string{"a", "a", "b", "b"} {
			c, err := g.Acquire(context.Background(), key)
			require.NoError(t, err)
			held = append(held, c)
		}
		w := startGroupAcquire(context.Background(), g, "c")
		synctest.Wait()
		waits(t, w, "c, the cap full")
		require.NoError(t, g.SetMaxConns(5))
		synctest.Wait()
		c := served(t, w, "c, after the cap rose")
		held = append(held, c)

		// Lower to 2: two idle close now, the rest as they come back.
		require.NoError(t, held[0].Release())
		require.NoError(t, held[2].Release())
		require.NoError(t, g.SetMaxConns(2))
		synctest.Wait()
		gs := g.Stats() // above the new cap until the busy surplus is back
		assert.Equal(t, 3, gs.Open, "the two idle closed at once")
		assert.Equal(t, 2, gs.MaxConns)
		require.NoError(t, held[1].Release())
		synctest.Wait()
		assert.Equal(t, 2, checkGroup(t, g).Open, "the busy surplus closed as it came back")
		require.NoError(t, held[3].Release())
		require.NoError(t, held[4].Release())
		synctest.Wait()
		gs = checkGroup(t, g)
		assert.Equal(t, 2, gs.Open, "within the new cap, the others stay")
		assert.Equal(t, 2, gs.MaxConns)

		assert.ErrorContains(t, g.SetMaxConns(0), "n must be between 1 and GroupConfig.MaxConnsLimit")
		assert.ErrorContains(t, g.SetMaxConns(1000), "MaxConnsLimit")
	})
}

func TestNewGroupRejectsBadConfig(t *testing.T) {
	cfgFn := func(string) (chanpool.Config[*res], error) { return (&backend{}).config(), nil }
	for _, tc := range []struct {
		cfg  chanpool.GroupConfig[string, *res]
		want string
	}{
		{chanpool.GroupConfig[string, *res]{}, "GroupConfig.Config is required"},
		{chanpool.GroupConfig[string, *res]{Config: cfgFn, MaxConns: -5}, "GroupConfig.MaxConns"},
		{chanpool.GroupConfig[string, *res]{Config: cfgFn, MaxConns: 10, MaxConnsLimit: 5}, "GroupConfig.MaxConnsLimit"},
		{chanpool.GroupConfig[string, *res]{Config: cfgFn, KeyIdleTimeout: -time.Second}, "GroupConfig.KeyIdleTimeout"},
	} {
		_, err := chanpool.NewGroup(tc.cfg)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestGroupConfigErrorsFailTheAcquire(t *testing.T) {
	errNoKey := errors.New("no such tenant")
	g, err := chanpool.NewGroup(chanpool.GroupConfig[string, *res]{
		Config: func(key string) (chanpool.Config[*res], error) {
			if key == "bad" {
				return chanpool.Config[*res]{}, errNoKey
			}
			cfg := (&backend{}).config()
			if key == "invalid" {
				cfg.MaxConns = -7
			}
			return cfg, nil
		},
		KeyIdleTimeout: chanpool.None,
	})
	require.NoError(t, err)
	defer g.Close(context.Background())
	_, err = g.Acquire(context.Background(), "bad")
	assert.ErrorIs(t, err, errNoKey)
	_, err = g.Acquire(context.Background(), "invalid")
	assert.ErrorContains(t, err, "MaxConns")
	assert.Empty(t, g.Keys(), "a failed Config makes no pool")
}

// TestGroupRemovedKeyLeavesNoGoroutine checks with goleak that a key
// removed for being idle takes its pool's goroutines with it, while the
// group's own go on.
func TestGroupRemovedKeyLeavesNoGoroutine(t *testing.T) {
	k := newKeyed(2)
	clk := clock.NewFake()
	g, err := chanpool.NewGroupWithClock(chanpool.GroupConfig[string, *res]{
		Config: func(key string) (chanpool.Config[*res], error) {
			cfg, err := k.config(key)
			cfg.EvictionInterval = 0 // the default: each pool runs its evictor goroutine
			return cfg, err
		},
		KeyIdleTimeout: time.Minute,
	}, clk)
	require.NoError(t, err)
	defer g.Close(context.Background())
	before := goleak.IgnoreCurrent() // the group's janitor
	c, err := g.Acquire(context.Background(), "a")
	require.NoError(t, err)
	require.NoError(t, c.Release())
	require.Error(t, goleak.Find(before), "the key's pool runs goroutines")
	// The janitor may miss a tick it was slow to take (the fake clock never
	// blocks on a send): advance until it has looked often enough.
	removed := poll(10*time.Second, func() bool {
		clk.Advance(15 * time.Second)
		return len(g.Keys()) == 0
	})
	require.True(t, removed, "a removed")
	goleak.VerifyNone(t, before)
	assert.Zero(t, k.open.Load(), "its connection closed")
}

func TestGroupMakesNoRoomForCallersServedMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 3, chanpool.None)
		a1, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		a2, err := g.Acquire(context.Background(), "a")
		require.NoError(t, err)
		b, err := g.Acquire(context.Background(), "b")
		require.NoError(t, err)
		w := startGroupAcquire(context.Background(), g, "a")
		synctest.Wait()
		require.Equal(t, 1, g.Stats().Queued, "a's caller queues for the cap")

		// a's own release serves it: the group owes a nothing now.
		require.NoError(t, a1.Release())
		synctest.Wait()
		a3 := served(t, w, "a's caller")
		require.NoError(t, b.Release())
		synctest.Wait()
		gs := checkGroup(t, g)
		assert.Equal(t, 1, gs.Keys["b"].Idle, "b's connection goes back to idle")
		assert.Zero(t, gs.Sum.Closed.GroupCap, "no connection closed to make room for a caller already served")
		require.NoError(t, a2.Release())
		require.NoError(t, a3.Release())
	})
}

// A key's only idle connection, the one it released last, sits in its hot
// slot, not its idle channel: making room must find it there too.
func TestGroupMakesRoomFromAnotherKeysHotConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeyed(4)
		g, _ := newGroup(t, k, 4, chanpool.None)
		for i := range 12 {
			key := fmt.Sprintf("k%d", i)
			w := startGroupAcquire(context.Background(), g, key)
			synctest.Wait()
			c := served(t, w, key)
			require.NoError(t, c.Release())
			synctest.Wait()
		}
		gs := checkGroup(t, g)
		assert.Equal(t, 4, gs.Open)
		assert.Equal(t, uint64(8), gs.Sum.Closed.GroupCap, "each key past the cap closed another's idle connection")
	})
}

func TestGroupAcquireOnAnExistingKeyDoesNotAllocate(t *testing.T) {
	k := newKeyed(2)
	g, _ := newGroup(t, k, 8, chanpool.None)
	key := fmt.Sprintf("replica-%d:5432", 7) // not a constant: its conversion could escape
	c, err := g.Acquire(context.Background(), key)
	require.NoError(t, err)
	require.NoError(t, c.Release())
	allocs := testing.AllocsPerRun(1000, func() {
		c, err := g.Acquire(context.Background(), key)
		if err != nil {
			panic(err)
		}
		if err := c.Release(); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs, "a lookup and an acquire+release from the idle list allocate nothing")
}
