package chanpoolotel_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"slices"

	"go.opentelemetry.io/otel/attribute"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// A pool's metrics and traces wired into the OpenTelemetry SDK. A real
// service would use a PeriodicReader with an exporter and a batching span
// processor; here a ManualReader and a SpanRecorder show what they get.
func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	// In-memory buffers stand in for real connections.
	p, err := chanpool.New(chanpool.Config[*bytes.Buffer]{
		Dial:     func(context.Context) (*bytes.Buffer, error) { return new(bytes.Buffer), nil },
		MinConns: chanpool.None, // dial on demand only, so that the counts below are exact
		Tracer:   chanpoolotel.NewTracer(tp, chanpoolotel.WithPoolName("sessions")),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	prod := chanpoolotel.NewProducer(p, chanpoolotel.WithPoolName("sessions"))
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg, err := chanpoolotel.RegisterMetrics(p, mp, chanpoolotel.WithPoolName("sessions"))
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	// The first acquire dials and waits, and gets a span; the others do
	// not. Hold times are sampled, one lease in 64 per connection (the
	// Tracer is not a chanpool.LeaseTracer): the 64th is timed.
	for range 64 {
		s, err := p.Acquire(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if err := s.Release(); err != nil {
			log.Fatal(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string // sorted below: the SDK gives no order across scopes
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == "db.client.connection.count" || m.Name == "chanpool.connection.creates" {
					for _, dp := range d.DataPoints {
						lines = append(lines, fmt.Sprint(m.Name, " ", dp.Attributes.Encoded(attribute.DefaultEncoder()), " ", dp.Value))
					}
				}
			case metricdata.Histogram[float64]:
				lines = append(lines, fmt.Sprint(m.Name, " ", m.Unit, " count ", d.DataPoints[0].Count))
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	for _, s := range rec.Ended() {
		fmt.Println("span", s.Name())
	}
	// Output:
	// chanpool.connection.creates db.client.connection.pool.name=sessions 1
	// db.client.connection.count db.client.connection.pool.name=sessions,db.client.connection.state=idle 1
	// db.client.connection.count db.client.connection.pool.name=sessions,db.client.connection.state=used 0
	// db.client.connection.create_time s count 1
	// db.client.connection.use_time s count 1
	// db.client.connection.wait_time s count 1
	// span chanpool.acquire
}
