// Command demo exports one traced slow acquire to stdout through
// chanpoolotel: a pool of one connection, held by one caller while another
// waits for it under a request's span. OpenTelemetry's stdouttrace exporter
// prints the acquire's span, chanpool.acquire, a child of the request's,
// as JSON with its attributes: the pool's name, waited, the wait time and
// the connection's id. It exits 1 if that span is not as described.
//
//	make demo-otel      # from the repository root
//	go run ./cmd/demo   # from contrib/otel
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// hold is how long the first caller keeps the connection, and so about how
// long the second waits for it.
const hold = 25 * time.Millisecond

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run makes one acquire wait hold for the pool's only connection, exports
// the spans to w, and checks the acquire's span.
func run(w io.Writer) error {
	ctx := context.Background()
	exp, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	rec := tracetest.NewSpanRecorder() // for the check at the end
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("chanpool-demo"))),
	)
	defer tp.Shutdown(ctx)

	p, err := chanpool.New(chanpool.Config[*bytes.Buffer]{
		Dial:     func(context.Context) (*bytes.Buffer, error) { return new(bytes.Buffer), nil },
		MaxConns: 1,
		MinConns: 1,
		Tracer:   chanpoolotel.NewTracer(tp, chanpoolotel.WithPoolName("demo")),
	})
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	// The connection is dialed in the background: once it is idle, taking
	// it does not wait, and gets no span.
	for deadline := time.Now().Add(5 * time.Second); p.Stats().Idle < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New("the pool's connection was not dialed within 5s")
		}
	}
	held, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	go func() {
		time.Sleep(hold)
		_ = held.Release()
	}()

	ctx, req := tp.Tracer("demo").Start(ctx, "handle request")
	c, err := p.Acquire(ctx) // waits for the release above
	if err != nil {
		return err
	}
	_ = c.Release()
	req.End()
	return check(rec.Ended(), req.SpanContext().SpanID())
}

// check returns an error unless spans hold exactly one acquire span, a
// child of parent, that waited.
func check(spans []sdktrace.ReadOnlySpan, parent [8]byte) error {
	var acquires []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == chanpoolotel.SpanName {
			acquires = append(acquires, s)
		}
	}
	if len(acquires) != 1 {
		return fmt.Errorf("got %d %s spans, want 1", len(acquires), chanpoolotel.SpanName)
	}
	s := acquires[0]
	if s.Parent().SpanID() != parent {
		return fmt.Errorf("the %s span is not a child of the request's", s.Name())
	}
	for _, kv := range s.Attributes() {
		if kv.Key == chanpoolotel.WaitedKey && kv.Value.AsBool() {
			return nil
		}
	}
	return fmt.Errorf("the %s span does not say it waited: %v", s.Name(), s.Attributes())
}
