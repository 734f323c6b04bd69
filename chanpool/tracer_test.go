package chanpool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

type traceKey struct{}

// recorder is a Tracer that keeps every event, and marks each acquire's
// context so that the test can see it flow.
type recorder struct {
	mu       sync.Mutex
	name     string
	acquires []chanpool.AcquireEvent
	ends     []chanpool.LeaseEvent
	ctxs     []any // the traceKey value AcquireEnd saw
}

func (r *recorder) AcquireStart(ctx context.Context) context.Context {
	prev, _ := ctx.Value(traceKey{}).(string)
	return context.WithValue(ctx, traceKey{}, prev+r.name)
}

func (r *recorder) AcquireEnd(ctx context.Context, e chanpool.AcquireEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acquires = append(r.acquires, e)
	r.ctxs = append(r.ctxs, ctx.Value(traceKey{}))
}

func (r *recorder) LeaseEnd(e chanpool.LeaseEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends = append(r.ends, e)
}

func (r *recorder) last() chanpool.AcquireEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.acquires[len(r.acquires)-1]
}

func TestTracerSeesEveryAcquireAndLeaseEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		rec := &recorder{name: "a"}
		cfg := b.config()
		cfg.MaxConns = 1
		cfg.MaxWaiting = 1
		cfg.AcquireTimeout = time.Second
		cfg.Tracer = rec
		var checked any
		cfg.HealthCheck = func(ctx context.Context, _ *res) error {
			checked = ctx.Value(traceKey{})
			return nil
		}
		cfg.HealthCheckAfter = chanpool.None
		p, clk := newPool(t, cfg)

		c := acquireN(t, p, 1)[0] // dialed
		e := rec.last()
		assert.True(t, e.Waited, "a dial is a wait")
		assert.NoError(t, e.Err)
		assert.Equal(t, c.ID(), e.Conn.ID)

		// Held for 2s of the pool's time, then released.
		clk.Advance(2 * time.Second)
		require.NoError(t, c.Release())
		require.Len(t, rec.ends, 1)
		assert.Equal(t, 2*time.Second, rec.ends[0].Held)
		assert.False(t, rec.ends[0].Destroyed)

		// From the idle list, through a health check that sees the
		// tracer's context.
		c = acquireN(t, p, 1)[0]
		assert.Equal(t, "a", checked, "the health check gets the context AcquireStart returned")
		assert.True(t, rec.last().Waited, "a health check is a wait")
		assert.Equal(t, "a", rec.ctxs[len(rec.ctxs)-1], "and so does AcquireEnd")
		assert.NoError(t, rec.last().Err)

		// A waiter served after 300ms, one timed out, one turned away.
		w := startAcquire(context.Background(), p)
		synctest.Wait()
		_, err := p.Acquire(context.Background())
		require.ErrorIs(t, err, chanpool.ErrExhausted)
		assert.ErrorIs(t, rec.last().Err, chanpool.ErrExhausted, "errors reach the tracer as the caller sees them")
		_, err = p.TryAcquire(context.Background())
		require.ErrorIs(t, err, chanpool.ErrNoIdle)
		assert.ErrorIs(t, rec.last().Err, chanpool.ErrNoIdle)
		assert.True(t, rec.last().Waited, "a failed acquire was not served at once")
		clk.Advance(300 * time.Millisecond)
		require.NoError(t, c.Release())
		o := <-w
		require.NoError(t, o.err)
		e = rec.last()
		assert.True(t, e.Waited)
		assert.Equal(t, 300*time.Millisecond, e.Wait)
		// Its lease starts where its wait ends.
		clk.Advance(time.Second)
		require.NoError(t, o.c.Destroy())
		end := rec.ends[len(rec.ends)-1]
		assert.True(t, end.Destroyed)
		assert.Equal(t, time.Second, end.Held, "a waiter's lease starts at the end of its wait")

		// A wait that times out, and one whose context ends.
		held := acquireN(t, p, 1)[0]
		w = startAcquire(context.Background(), p)
		synctest.Wait()
		clk.Advance(time.Second)
		require.ErrorIs(t, (<-w).err, chanpool.ErrAcquireTimeout)
		assert.ErrorIs(t, rec.last().Err, chanpool.ErrAcquireTimeout)
		ctx, cancel := context.WithCancel(context.Background())
		w = startAcquire(ctx, p)
		synctest.Wait()
		cancel()
		require.ErrorIs(t, (<-w).err, context.Canceled)
		assert.ErrorIs(t, rec.last().Err, context.Canceled)
		require.NoError(t, held.Destroy())
		synctest.Wait()

		// A failed dial.
		b.setFail(errBoom)
		_, err = p.Acquire(context.Background())
		require.ErrorIs(t, err, chanpool.ErrDial)
		assert.ErrorIs(t, rec.last().Err, errBoom)
		assert.Zero(t, rec.last().Conn)
		b.setFail(nil)
		synctest.Wait()
	})
}

func TestTracersCompose(t *testing.T) {
	assert.Nil(t, chanpool.Tracers(), "no tracer")
	assert.Nil(t, chanpool.Tracers(nil, nil))
	one := &recorder{name: "x"}
	assert.Same(t, one, chanpool.Tracers(nil, one), "one tracer is itself")

	a, b := &recorder{name: "a"}, &recorder{name: "b"}
	acq := &acquireCounter{}
	tr := chanpool.Tracers(a, nil, acq, b)
	ctx := tr.AcquireStart(context.Background())
	assert.Equal(t, "ab", ctx.Value(traceKey{}), "each adds to the context, in order")
	tr.AcquireEnd(ctx, chanpool.AcquireEvent{Err: errBoom})
	lt, ok := tr.(chanpool.LeaseTracer)
	require.True(t, ok, "with a LeaseTracer among them, the composition is one")
	lt.LeaseEnd(chanpool.LeaseEvent{Held: time.Second})
	for _, r := range []*recorder{a, b} {
		require.Len(t, r.acquires, 1)
		assert.True(t, errors.Is(r.acquires[0].Err, errBoom))
		assert.Equal(t, "ab", r.ctxs[0], "every tracer gets the final context")
		require.Len(t, r.ends, 1)
		assert.Equal(t, time.Second, r.ends[0].Held)
	}
	assert.Equal(t, 1, acq.ends, "a Tracer that does not time leases gets every AcquireEnd")

	_, ok = chanpool.Tracers(acq, nopTracer{}).(chanpool.LeaseTracer)
	assert.False(t, ok, "Tracers that do not time leases compose into one that does not")
}

// acquireCounter is a Tracer, not a LeaseTracer, that counts AcquireEnd.
type acquireCounter struct{ ends int }

func (*acquireCounter) AcquireStart(ctx context.Context) context.Context    { return ctx }
func (a *acquireCounter) AcquireEnd(context.Context, chanpool.AcquireEvent) { a.ends++ }

// countingClock counts the reads of the clock it wraps.
type countingClock struct {
	clock.Clock
	reads atomic.Int64
}

func (c *countingClock) Now() time.Time      { c.reads.Add(1); return c.Clock.Now() }
func (c *countingClock) Mono() time.Duration { c.reads.Add(1); return c.Clock.Mono() }

// tracedFastPool returns a warm pool of one connection traced by tr, on a
// fake clock whose reads are counted, with nothing else that reads it.
func tracedFastPool(t *testing.T, tr chanpool.Tracer) (*chanpool.Pool[*res], *clock.Fake, *countingClock) {
	t.Helper()
	fake := clock.NewFake()
	clk := &countingClock{Clock: fake}
	cfg := (&backend{}).config()
	cfg.MaxConns = 1
	cfg.Tracer = tr
	p, err := chanpool.NewWithClock(cfg, clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	require.NoError(t, acquireN(t, p, 1)[0].Release()) // dials
	return p, fake, clk
}

// An acquire served at once from the idle list did not wait: its Wait is
// 0, and tracing it reads no clock; nor does its release, unless the
// Tracer times leases, which costs one read at each end of the lease.
func TestTracerReadsTheClockOnlyForWaitsAndLeases(t *testing.T) {
	t.Run("Tracer", func(t *testing.T) {
		rec := &onlyAcquires{}
		p, clk, reads := tracedFastPool(t, rec)
		before := reads.reads.Load()
		for range 10 { // leases 2 to 11 of the connection: none sampled for Stats.HoldTime
			c := acquireN(t, p, 1)[0]
			clk.Advance(time.Second)
			require.NoError(t, c.Release())
		}
		assert.Zero(t, reads.reads.Load()-before, "clock reads")
		e := rec.r.last()
		assert.False(t, e.Waited)
		assert.Zero(t, e.Wait)
		assert.NoError(t, e.Err)
		assert.Equal(t, uint64(11), e.Conn.UseCount)
	})
	t.Run("LeaseTracer", func(t *testing.T) {
		rec := &recorder{}
		p, clk, reads := tracedFastPool(t, rec)
		before := reads.reads.Load()
		c := acquireN(t, p, 1)[0]
		clk.Advance(1500 * time.Millisecond)
		require.NoError(t, c.Release())
		assert.Equal(t, int64(2), reads.reads.Load()-before, "clock reads: the lease's start and end")
		assert.False(t, rec.last().Waited)
		assert.Zero(t, rec.last().Wait)
		require.Len(t, rec.ends, 2)
		assert.Equal(t, 1500*time.Millisecond, rec.ends[1].Held, "from the take off the idle list to Release")
	})
}

// onlyAcquires hides recorder's LeaseEnd: a Tracer that is not a
// LeaseTracer.
type onlyAcquires struct{ r recorder }

func (o *onlyAcquires) AcquireStart(ctx context.Context) context.Context {
	return o.r.AcquireStart(ctx)
}
func (o *onlyAcquires) AcquireEnd(ctx context.Context, e chanpool.AcquireEvent) {
	o.r.AcquireEnd(ctx, e)
}

// A LeaseTracer has every released lease timed, so Stats.HoldTime counts
// them all; a Tracer that is not one leaves the sampling as it is without
// a Tracer.
func TestTracerHoldTimeSampling(t *testing.T) {
	for _, c := range []struct {
		name string
		tr   chanpool.Tracer
		want uint64
	}{
		{"none", nil, 2},
		{"Tracer", &onlyAcquires{}, 2},
		{"LeaseTracer", &recorder{}, 128},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := (&backend{}).config()
			cfg.MaxConns = 1
			cfg.Tracer = c.tr
			p, _ := newPool(t, cfg)
			for range 128 { // leases 1 to 128: one in 64 is sampled, the 64th and the 128th
				require.NoError(t, acquireN(t, p, 1)[0].Release())
			}
			assert.Equal(t, c.want, p.Stats().HoldTime.Count, "leases timed")
		})
	}
}

// nopTracer allocates nothing, and does not time leases; nopLeaseTracer
// is the same with a LeaseEnd, so the pool times every lease for it.
type (
	nopTracer      struct{}
	nopLeaseTracer struct{ nopTracer }
)

func (nopTracer) AcquireStart(ctx context.Context) context.Context  { return ctx }
func (nopTracer) AcquireEnd(context.Context, chanpool.AcquireEvent) {}
func (nopLeaseTracer) LeaseEnd(chanpool.LeaseEvent)                 {}

func TestTracerCostsNoAllocation(t *testing.T) {
	for _, tr := range []chanpool.Tracer{nopTracer{}, nopLeaseTracer{}} {
		b := &backend{}
		cfg := b.config()
		cfg.Tracer = tr
		p, _ := newPool(t, cfg)
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
		assert.Zero(t, allocs, "%T: a Tracer that allocates nothing costs the pool no allocation", tr)
	}
}

// LeaseEnd comes before the connection is reset, with the hold time up to
// the Release call.
func TestLeaseEndBeforeReset(t *testing.T) {
	rec := &recorder{}
	cfg := (&backend{}).config()
	cfg.MaxConns = 1
	cfg.Tracer = rec
	var endsAtReset []int
	cfg.Reset = func(context.Context, *res) error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		endsAtReset = append(endsAtReset, len(rec.ends))
		return nil
	}
	p, clk := newPool(t, cfg)
	c := acquireN(t, p, 1)[0]
	clk.Advance(time.Second)
	require.NoError(t, c.Release())
	assert.Equal(t, []int{1}, endsAtReset, "LeaseEnd before Reset")
	require.Len(t, rec.ends, 1)
	assert.Equal(t, time.Second, rec.ends[0].Held)
}

// AcquireAllIdle's leases are traced as acquires served at once from the
// idle list: no wait, and the hold time of a LeaseTracer's leases from the
// take to the release.
func TestTracerSeesAcquireAllIdle(t *testing.T) {
	rec := &recorder{}
	p, clk, _ := tracedFastPool(t, rec)
	clk.Advance(time.Minute) // idle a while: not part of the next lease
	all := p.AcquireAllIdle(context.Background())
	require.Len(t, all, 1)
	e := rec.last()
	assert.False(t, e.Waited)
	assert.Zero(t, e.Wait)
	assert.Equal(t, all[0].ID(), e.Conn.ID)
	clk.Advance(700 * time.Millisecond)
	require.NoError(t, all[0].Release())
	require.Len(t, rec.ends, 2)
	assert.Equal(t, 700*time.Millisecond, rec.ends[1].Held)
}
