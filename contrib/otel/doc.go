// Package chanpoolotel exports a chanpool pool's statistics as OpenTelemetry
// metrics and traces its acquires as OpenTelemetry spans.
//
// It is a module of its own, so that chanpool itself does not depend on
// OpenTelemetry. Import it as
//
//	import chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
//
// Metrics come in two parts, both reading the pool's Stats at collection
// time only, so they cost Acquire and Release nothing:
//
//   - RegisterMetrics registers asynchronous instruments (the connection
//     counts, limits and counters) on a MeterProvider, with one callback
//     that reads Stats once per collection.
//   - NewProducer returns an sdk/metric Producer for the three latency
//     histograms. The pool already keeps cumulative power-of-two buckets of
//     its dial, wait and hold times; the Producer hands them to the reader
//     as they are, instead of recording every acquire into an OpenTelemetry
//     histogram a second time. Register it on the reader with
//     metric.WithProducer.
//
// Wired together, with one name for the pool:
//
//	prod := chanpoolotel.NewProducer(p, chanpoolotel.WithPoolName("db"))
//	reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(prod))
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//	reg, err := chanpoolotel.RegisterMetrics(p, mp, chanpoolotel.WithPoolName("db"))
//	if err != nil {
//		return err
//	}
//	defer reg.Unregister()
//
// The names, units and attributes follow the OpenTelemetry semantic
// conventions for database client connection pools (db.client.connection.*,
// semantic conventions v1.43.0); what chanpool counts beyond them is under
// the chanpool. prefix. The README lists every metric.
//
// NewTracer returns a chanpool.Tracer that opens a span for every acquire
// that waited or failed, and by default none for the acquires served at once
// from the idle list; set it as chanpool.Config.Tracer.
package chanpoolotel
