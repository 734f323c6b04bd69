package chanpoolotel_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// tracedPool returns a pool of one connection whose acquires time out after
// 10ms, traced by a Tracer with opts on an SDK provider, the recorder of
// its spans, and a parent span's context for the acquires.
func tracedPool(t *testing.T, opts ...chanpoolotel.Option) (*chanpool.Pool[*conn], *tracetest.SpanRecorder, context.Context) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := newPool(t, chanpool.Config[*conn]{
		MaxConns:       1,
		AcquireTimeout: 10 * time.Millisecond,
		Tracer:         chanpoolotel.NewTracer(tp, opts...),
	})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	t.Cleanup(func() { parent.End() })
	return p, rec, ctx
}

// attrs is a span's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// A span for the acquire that dialed and the one that timed out, none for
// the one served at once from the idle list.
func TestTracer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, rec, ctx := tracedPool(t, chanpoolotel.WithPoolName("db"))
		parent := rec.Started()[0].SpanContext()

		c, err := p.Acquire(ctx) // dials: waits dialTime
		require.NoError(t, err, "first Acquire")
		require.NoError(t, c.Release(), "Release")
		c, err = p.Acquire(ctx) // at once from the idle list
		require.NoError(t, err, "second Acquire")
		_, err = p.Acquire(ctx) // the only connection is leased: times out
		require.ErrorIs(t, err, chanpool.ErrAcquireTimeout, "third Acquire")
		require.NoError(t, c.Release(), "Release")

		spans := rec.Ended()
		require.Len(t, spans, 2, "spans ended")
		for _, s := range spans {
			assert.Equal(t, chanpoolotel.SpanName, s.Name(), "span name")
			assert.Equal(t, parent.SpanID(), s.Parent().SpanID(), "%s: parent", s.Name())
			assert.Equal(t, chanpoolotel.ScopeName, s.InstrumentationScope().Name, "scope")
			assert.Equal(t, "db", attrs(s)["db.client.connection.pool.name"].AsString(), "pool name")
			assert.True(t, attrs(s)[chanpoolotel.WaitedKey].AsBool(), "waited")
			assert.Equal(t, trace.SpanKindInternal, s.SpanKind(), "span kind")
		}

		dialed := spans[0]
		assert.Equal(t, dialTime, dialed.EndTime().Sub(dialed.StartTime()), "dialed: span duration")
		assert.Equal(t, dialTime.Seconds(), attrs(dialed)[chanpoolotel.WaitTimeKey].AsFloat64(), "dialed: wait time")
		assert.Equal(t, c.Info().ID, uint64(attrs(dialed)[chanpoolotel.ConnIDKey].AsInt64()), "dialed: connection id")
		assert.Equal(t, codes.Unset, dialed.Status().Code, "dialed: status")
		assert.Empty(t, dialed.Events(), "dialed: events")

		failed := spans[1]
		assert.Equal(t, 10*time.Millisecond, failed.EndTime().Sub(failed.StartTime()), "timed out: span duration")
		assert.NotContains(t, attrs(failed), chanpoolotel.ConnIDKey, "timed out: connection id")
		assert.Equal(t, "ErrAcquireTimeout", attrs(failed)[chanpoolotel.ErrorTypeKey].AsString(), "timed out: error.type")
		assert.NotContains(t, attrs(dialed), chanpoolotel.ErrorTypeKey, "dialed: error.type")
		assert.Equal(t, codes.Error, failed.Status().Code, "timed out: status")
		assert.Equal(t, chanpool.ErrAcquireTimeout.Error(), failed.Status().Description, "timed out: status description")
		require.Len(t, failed.Events(), 1, "timed out: events")
		assert.Equal(t, "exception", failed.Events()[0].Name, "timed out: event")
	})
}

// WithEveryAcquire: the acquire served at once gets a span too.
func TestTracerEveryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, rec, ctx := tracedPool(t, chanpoolotel.WithEveryAcquire())
		for range 2 {
			c, err := p.Acquire(ctx)
			require.NoError(t, err, "Acquire")
			require.NoError(t, c.Release(), "Release")
		}
		spans := rec.Ended()
		require.Len(t, spans, 2, "spans ended")
		assert.True(t, attrs(spans[0])[chanpoolotel.WaitedKey].AsBool(), "first: waited")
		fast := spans[1]
		assert.False(t, attrs(fast)[chanpoolotel.WaitedKey].AsBool(), "second: waited")
		assert.Zero(t, attrs(fast)[chanpoolotel.WaitTimeKey].AsFloat64(), "second: wait time")
		assert.Equal(t, attrs(spans[0])[chanpoolotel.ConnIDKey], attrs(fast)[chanpoolotel.ConnIDKey], "second: connection id, the first's")
		assert.Equal(t, int64(1), attrs(fast)[chanpoolotel.ConnIDKey].AsInt64(), "second: connection id")
		assert.NotContains(t, attrs(fast), chanpoolotel.ErrorTypeKey, "second: error.type")
		assert.Len(t, fast.Attributes(), 4, "second: attributes")
		assert.Equal(t, trace.SpanKindInternal, fast.SpanKind(), "second: span kind")
		assert.Equal(t, time.Duration(0), fast.EndTime().Sub(fast.StartTime()), "second: span duration")
		assert.Equal(t, chanpoolotel.DefaultPoolName, attrs(fast)["db.client.connection.pool.name"].AsString(), "default pool name")
	})
}

// Without WithEveryAcquire, an acquire that neither waits nor fails costs
// the Tracer no allocation (and no span).
func TestTracerFastPathAllocs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, rec, ctx := tracedPool(t)
		assert.Zero(t, allocsPerAcquire(t, p, ctx), "allocations per acquire and release")
		assert.Len(t, rec.Ended(), 1, "spans ended (the dial's only)")
	})
}

// WithEveryAcquire allocates nothing of the Tracer's own for a span that
// is not recording: with a provider whose Start allocates nothing (freeStarts),
// an acquire and release allocate nothing. What is left with a real
// provider is its own (contrib/otel's README, "Benchmark").
func TestTracerEveryAcquireAllocs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, chanpool.Config[*conn]{
			MaxConns: 1,
			Tracer:   chanpoolotel.NewTracer(freeStarts{}, chanpoolotel.WithEveryAcquire()),
		})
		assert.Zero(t, allocsPerAcquire(t, p, context.Background()), "allocations per acquire and release")
	})
}

// freeStarts is a TracerProvider whose spans are the API's non-recording
// span, started without allocating, to tell the Tracer's allocations from
// a provider's.
type freeStarts struct{ embedded.TracerProvider }

func (freeStarts) Tracer(string, ...trace.TracerOption) trace.Tracer { return freeTracer{} }

type freeTracer struct{ embedded.Tracer }

func (freeTracer) Start(ctx context.Context, _ string, _ ...trace.SpanStartOption) (context.Context, trace.Span) {
	return ctx, trace.SpanFromContext(context.Background())
}

// A span the sampler drops gets none of the attributes, error or status,
// and the recorder sees no span at all; the acquire still succeeds.
func TestTracerSampledOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.NeverSample()))
		p := newPool(t, chanpool.Config[*conn]{
			MaxConns:       1,
			AcquireTimeout: 10 * time.Millisecond,
			Tracer:         chanpoolotel.NewTracer(tp, chanpoolotel.WithEveryAcquire()),
		})
		for range 2 {
			c, err := p.Acquire(context.Background())
			require.NoError(t, err, "Acquire")
			require.NoError(t, c.Release(), "Release")
		}
		assert.Empty(t, rec.Started(), "spans started")
		assert.Empty(t, rec.Ended(), "spans ended")
	})
}

// allocsPerAcquire warms p with one acquire (a dial) and returns the
// allocations of an acquire and release that follow, with ctx.
func allocsPerAcquire(t *testing.T, p *chanpool.Pool[*conn], ctx context.Context) float64 {
	t.Helper()
	c, err := p.Acquire(ctx) // dials
	require.NoError(t, err, "Acquire")
	require.NoError(t, c.Release(), "Release")
	return testing.AllocsPerRun(100, func() {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatalf("Acquire: got %v, want nil", err)
		}
		_ = c.Release()
	})
}
