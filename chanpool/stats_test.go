package chanpool_test

import (
	"context"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestStatsAddUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		cfg.MaxConns = 3
		cfg.AcquireTimeout = time.Second
		cfg.MaxWaiting = 1
		p, clk := newPool(t, cfg)
		checkStats(t, p.Stats())

		cs := acquireN(t, p, 3)
		checkStats(t, p.Stats())
		require.NoError(t, cs[0].Release())
		require.NoError(t, cs[1].Destroy())
		synctest.Wait()
		checkStats(t, p.Stats())

		cs = append(cs[2:], acquireN(t, p, 2)...)
		w := startAcquire(context.Background(), p) // waits, then times out
		synctest.Wait()
		_, err := p.Acquire(context.Background())
		require.ErrorIs(t, err, chanpool.ErrExhausted)
		clk.Advance(time.Second)
		require.ErrorIs(t, (<-w).err, chanpool.ErrAcquireTimeout)
		require.ErrorIs(t, cs[0].Release(), nil)
		require.ErrorIs(t, cs[0].Release(), chanpool.ErrNotHeld)

		s := p.Stats()
		checkStats(t, s)
		assert.Equal(t, uint64(5), s.Acquired)
		assert.Equal(t, uint64(2), s.Released)
		assert.Equal(t, uint64(1), s.DestroyedBusy)
		assert.Equal(t, 2, s.Busy)
		assert.Equal(t, 1, s.Idle)
		assert.Equal(t, uint64(4), s.Created)
		assert.Equal(t, uint64(1), s.Destroyed)
		assert.Equal(t, uint64(1), s.Timeouts)
		assert.Equal(t, uint64(1), s.Exhausted)
		assert.Equal(t, uint64(1), s.Misuse)
		for _, c := range cs[1:] {
			require.NoError(t, c.Release())
		}
		checkStats(t, p.Stats())
		require.NoError(t, p.Close(context.Background()))
		s = p.Stats()
		checkStats(t, s)
		assert.Equal(t, s.Created, s.Destroyed)
	})
}

func TestAcquireWaitStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		cfg := b.config()
		p, clk, held := fullPool(t, cfg) // dialed: waited 0 on the fake clock

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(2 * time.Second)
		require.NoError(t, held.Release())
		o := <-w
		require.NoError(t, o.err)

		s := p.Stats()
		assert.Equal(t, uint64(2), s.Waited)
		assert.Equal(t, 2, s.AcquireWait.Samples)
		assert.Equal(t, 2*time.Second, s.AcquireWait.Max)
		assert.Equal(t, 2*time.Second, s.AcquireWait.P99)
		assert.Equal(t, time.Duration(0), s.AcquireWait.P50)
		assert.Equal(t, time.Second, s.AvgAcquire, "2s of waiting over 2 acquires")
		assert.Equal(t, 2*time.Second, s.AcquireWait.Sum)
		at := func(le time.Duration) uint64 { // cumulative count at bound le
			for _, b := range s.AcquireWait.Buckets {
				if b.Le == le {
					return b.Count
				}
			}
			t.Fatalf("no bucket with bound %v", le)
			return 0
		}
		assert.Equal(t, uint64(1), at(1024), "the dial's zero wait is in the first bucket")
		assert.Equal(t, uint64(1), at(1<<30), "2s is above 2^30 ns")
		assert.Equal(t, uint64(2), at(1<<31), "and within 2^31 ns")
		assert.Equal(t, uint64(2), s.AcquireWait.Buckets[len(s.AcquireWait.Buckets)-1].Count)

		require.NoError(t, o.c.Release())
		c := acquireN(t, p, 1)[0] // from the idle list: not a wait
		assert.Equal(t, uint64(2), p.Stats().Waited)
		assert.Equal(t, 2*time.Second/3, p.Stats().AvgAcquire)
		require.NoError(t, c.Release())
	})
}

func TestStatsDoNotAllocateOnHotPath(t *testing.T) {
	b := &backend{}
	p, _ := newPool(t, b.config())
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
	assert.Zero(t, allocs, "acquire+release from the idle list allocates nothing")
}

func TestCloseCountsOfEveryReason(t *testing.T) {
	c := chanpool.CloseCounts{Idle: 1, Lifetime: 2, Health: 3, Reset: 4, Destroy: 5, PoolClosed: 6, Leaked: 7,
		Resize: 8, PoolReset: 9, Keepalive: 10, GroupCap: 11, Detached: 12}
	rs := chanpool.CloseReasons()
	require.Len(t, rs, reflect.TypeOf(c).NumField(), "one reason per field")
	for i, r := range rs {
		assert.Equal(t, uint64(i+1), c.Of(r), "%v", r)
		assert.NotEqual(t, "unknown", r.String())
	}
	assert.Zero(t, c.Of(chanpool.CloseReason(len(rs))), "not a reason")
}
