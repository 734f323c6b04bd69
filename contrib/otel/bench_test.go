package chanpoolotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// emptyTracer does nothing: what any Tracer costs the pool itself; with
// LeaseEnd (emptyLeaseTracer), the pool also times every lease for it.
type (
	emptyTracer      struct{}
	emptyLeaseTracer struct{ emptyTracer }
)

func (emptyTracer) AcquireStart(ctx context.Context) context.Context  { return ctx }
func (emptyTracer) AcquireEnd(context.Context, chanpool.AcquireEvent) {}
func (emptyLeaseTracer) LeaseEnd(chanpool.LeaseEvent)                 {}

// BenchmarkTimeNow is one clock read: the pool makes two per lease for a
// LeaseTracer, and two per wait.
func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}

// BenchmarkAcquireRelease is an uncontended acquire and release of a warm
// pool's one connection: the fast path, which never waits, with no Tracer,
// with a Tracer that does nothing (and one that is also a LeaseTracer), and
// with the OpenTelemetry Tracer on a no-op and an SDK provider (spans
// sampled and ended into a processor that drops them), under a recording
// parent span. By default the Tracer makes no span there; every=true makes
// one per acquire.
func BenchmarkAcquireRelease(b *testing.B) {
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	cases := []struct {
		name   string
		tracer chanpool.Tracer
	}{
		{"tracer=none", nil},
		{"tracer=empty", emptyTracer{}},
		{"tracer=empty-leases", emptyLeaseTracer{}},
		{"tracer=otel/provider=noop/every=false", chanpoolotel.NewTracer(noop.NewTracerProvider())},
		{"tracer=otel/provider=sdk/every=false", chanpoolotel.NewTracer(sdk)},
		{"tracer=otel/provider=noop/every=true", chanpoolotel.NewTracer(noop.NewTracerProvider(), chanpoolotel.WithEveryAcquire())},
		{"tracer=otel/provider=sdk/every=true", chanpoolotel.NewTracer(sdk, chanpoolotel.WithEveryAcquire())},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := chanpool.New(chanpool.Config[*conn]{
				Dial:     func(context.Context) (*conn, error) { return &conn{}, nil },
				MaxConns: 1,
				MinConns: 1,
				Tracer:   c.tracer,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx, span := sdk.Tracer("bench").Start(context.Background(), "parent")
			defer span.End()
			warm, err := p.Acquire(ctx) // dials: the loop below never waits
			if err != nil {
				b.Fatal(err)
			}
			if err := warm.Release(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				c, err := p.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChannelFloor is the bare channel receive and send that the pool
// is built on: the floor to compare BenchmarkAcquireRelease with, from the
// same run.
func BenchmarkChannelFloor(b *testing.B) {
	ch := make(chan *conn, 1)
	ch <- &conn{}
	for b.Loop() {
		ch <- <-ch
	}
}
