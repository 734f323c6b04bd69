package chanpoolotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/chanpool/chanpool/chanpool"
)

// SpanName is the name of the span of an acquire.
const SpanName = "chanpool.acquire"

// Attributes of the span of an acquire, besides db.client.connection.pool.name.
const (
	// WaitedKey says no idle connection was usable at once (AcquireEvent.Waited).
	WaitedKey = attribute.Key("chanpool.acquire.waited")
	// WaitTimeKey is how long the acquire took, in seconds.
	WaitTimeKey = attribute.Key("chanpool.acquire.wait_time")
	// ConnIDKey is the ID of the connection leased (ConnInfo.ID); absent
	// when the acquire failed.
	ConnIDKey = attribute.Key("chanpool.connection.id")
	// ErrorTypeKey is the semantic conventions' error.type on a failed
	// acquire: the chanpool sentinel or context error it wraps, by its Go
	// name (ErrAcquireTimeout, context.Canceled, ...), or _OTHER.
	ErrorTypeKey = attribute.Key("error.type")
)

// errorType is the error.type of an acquire that failed with err: few
// values, so that it can be grouped on.
func errorType(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{chanpool.ErrAcquireTimeout, "ErrAcquireTimeout"},
		{chanpool.ErrExhausted, "ErrExhausted"},
		{chanpool.ErrBreakerOpen, "ErrBreakerOpen"}, // before ErrDial, which it wraps
		{chanpool.ErrDial, "ErrDial"},
		{chanpool.ErrClosed, "ErrClosed"},
		{chanpool.ErrNoIdle, "ErrNoIdle"},
		{context.Canceled, "context.Canceled"},
		{context.DeadlineExceeded, "context.DeadlineExceeded"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "_OTHER"
}

// Tracer is a chanpool.Tracer that opens a span named SpanName for every
// acquire that waited or failed, as a child of the span in the caller's
// context. A failed acquire's span records the error and has status Error.
// With WithEveryAcquire, the acquires served at once from the idle list get
// a span too; without it they get none, and cost the Tracer no clock read
// and no allocation.
//
// Whether an acquire waits is known only when it ends, so the span is
// created then, in AcquireEnd, backdated to the start of the wait
// (chanpool.AcquireEvent.Wait) with trace.WithTimestamp: AcquireStart
// returns the caller's context unchanged. A consequence is that the
// acquire's span is not in the context the pool gives a health check, whose
// spans, if any, are its siblings. The span of an acquire that did not wait
// has the provider's own start and end times. Tracer is not a
// chanpool.LeaseTracer, so the pool does not time leases for it.
//
// A sampler sees the span's name and kind, not its attributes: they, the
// error and the status are set once the span is known to be recording, so
// that a span sampled out, or from a no-op provider, costs no more than
// the provider's Start and End.
//
// Set it as chanpool.Config.Tracer, or compose it with chanpool.Tracers. It
// is safe for concurrent use. The zero value is not usable: create Tracers
// with NewTracer.
type Tracer struct {
	tracer trace.Tracer
	pool   attribute.KeyValue
	every  bool
	// kind is the one start option of a span that needs no timestamp,
	// built once, so that passing it allocates nothing.
	kind []trace.SpanStartOption
}

var _ chanpool.Tracer = (*Tracer)(nil)

// NewTracer returns a Tracer whose spans come from tp's tracer named
// ScopeName. It panics if tp is nil.
func NewTracer(tp trace.TracerProvider, opts ...Option) *Tracer {
	if tp == nil {
		panic("chanpoolotel: NewTracer with a nil TracerProvider")
	}
	o := newOptions(opts)
	return &Tracer{
		tracer: tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		pool:   semconv.DBClientConnectionPoolName(o.poolName),
		every:  o.everyAcquire,
		kind:   []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)},
	}
}

// AcquireStart returns ctx: the span, if any, is made by AcquireEnd.
func (t *Tracer) AcquireStart(ctx context.Context) context.Context { return ctx }

// AcquireEnd creates and ends the acquire's span if it waited or failed (or
// always, with WithEveryAcquire).
func (t *Tracer) AcquireEnd(ctx context.Context, e chanpool.AcquireEvent) {
	if e.Waited || e.Err != nil {
		t.waited(ctx, e)
		return
	}
	if !t.every {
		return
	}
	// Served at once from the idle list: Wait is 0, so the span needs no
	// timestamps of its own.
	_, span := t.tracer.Start(ctx, SpanName, t.kind...)
	if span.IsRecording() {
		span.SetAttributes(t.pool, WaitedKey.Bool(false), WaitTimeKey.Float64(0), ConnIDKey.Int64(int64(e.Conn.ID)))
	}
	span.End()
}

// waited makes the span of an acquire that waited or failed, starting
// e.Wait before now.
func (t *Tracer) waited(ctx context.Context, e chanpool.AcquireEvent) {
	end := time.Now()
	_, span := t.tracer.Start(ctx, SpanName, t.kind[0], trace.WithTimestamp(end.Add(-e.Wait)))
	if span.IsRecording() {
		last := ConnIDKey.Int64(int64(e.Conn.ID))
		if e.Err != nil {
			last = ErrorTypeKey.String(errorType(e.Err))
		}
		span.SetAttributes(t.pool, WaitedKey.Bool(e.Waited), WaitTimeKey.Float64(e.Wait.Seconds()), last)
		if e.Err != nil {
			span.RecordError(e.Err, trace.WithTimestamp(end))
			span.SetStatus(codes.Error, e.Err.Error())
		}
	}
	span.End(trace.WithTimestamp(end))
}
