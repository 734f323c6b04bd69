package chanpool_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
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
		clk.Advance(300 * time.Millisecond)
		require.NoError(t, c.Release())
		o := <-w
		require.NoError(t, o.err)
		e = rec.last()
		assert.True(t, e.Waited)
		assert.Equal(t, 300*time.Millisecond, e.Wait)
		require.NoError(t, o.c.Destroy())
		assert.True(t, rec.ends[len(rec.ends)-1].Destroyed)

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
	tr := chanpool.Tracers(a, nil, b)
	ctx := tr.AcquireStart(context.Background())
	assert.Equal(t, "ab", ctx.Value(traceKey{}), "each adds to the context, in order")
	tr.AcquireEnd(ctx, chanpool.AcquireEvent{Err: errBoom})
	tr.LeaseEnd(chanpool.LeaseEvent{Held: time.Second})
	for _, r := range []*recorder{a, b} {
		require.Len(t, r.acquires, 1)
		assert.True(t, errors.Is(r.acquires[0].Err, errBoom))
		assert.Equal(t, "ab", r.ctxs[0], "every tracer gets the final context")
		require.Len(t, r.ends, 1)
	}
}

// nopTracer allocates nothing.
type nopTracer struct{}

func (nopTracer) AcquireStart(ctx context.Context) context.Context  { return ctx }
func (nopTracer) AcquireEnd(context.Context, chanpool.AcquireEvent) {}
func (nopTracer) LeaseEnd(chanpool.LeaseEvent)                      {}

func TestTracerCostsNoAllocation(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.Tracer = nopTracer{}
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
	assert.Zero(t, allocs, "a Tracer that allocates nothing costs the pool no allocation")
}
