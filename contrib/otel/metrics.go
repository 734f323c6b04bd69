package chanpoolotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/chanpool/chanpool/chanpool"
)

// closeReasons is every chanpool.CloseReason, in order, for one series each.
var closeReasons = chanpool.CloseReasons()

// ScopeName is the instrumentation scope of the meter, the Producer's
// metrics and the tracer.
const ScopeName = "github.com/chanpool/chanpool/contrib/otel"

// StatsSource is what RegisterMetrics and NewProducer read. Every
// *chanpool.Pool[T] satisfies it, whatever its T.
type StatsSource interface {
	// Stats returns a snapshot of the pool's statistics. It is called once
	// per collection by RegisterMetrics's callback and once by the
	// Producer, possibly from several goroutines at once.
	Stats() chanpool.Stats
}

// CloseReasonKey is the attribute of chanpool.connection.closes that says
// why connections were closed; its values are chanpool.CloseReason's String.
const CloseReasonKey = attribute.Key("chanpool.close.reason")

// gauge is an asynchronous instrument observed with one number from Stats.
type gauge struct {
	inst metric.Int64Observable
	get  func(*chanpool.Stats) int64
}

// RegisterMetrics creates the pool's asynchronous instruments on a meter of
// mp named ScopeName and registers one callback that reads src's Stats once
// per collection and observes them all. Nothing is recorded between
// collections: the instruments cost Acquire and Release nothing. Call
// Unregister on the returned Registration to stop observing src (a closed
// pool keeps reporting its final state until then).
//
// The latency histograms are not among these instruments: see NewProducer.
// RegisterMetrics returns the first error the meter reports and registers
// nothing then. It panics if src or mp is nil.
func RegisterMetrics(src StatsSource, mp metric.MeterProvider, opts ...Option) (metric.Registration, error) {
	if src == nil || mp == nil {
		panic("chanpoolotel: RegisterMetrics with a nil StatsSource or MeterProvider")
	}
	o := newOptions(opts)
	m := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	ins, err := newInstruments(m)
	if err != nil {
		return nil, err
	}
	attrs := ins.attrs(o.poolName)
	return m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		s := src.Stats()
		ins.observe(ob, &s, &attrs)
		return nil
	}, ins.all()...)
}

// instruments are a pool's asynchronous instruments.
type instruments struct {
	count, closes metric.Int64Observable
	gauges        []gauge
}

// poolAttrs are the attribute sets of one pool's observations.
type poolAttrs struct {
	pool, idle, used metric.ObserveOption
	reason           []metric.ObserveOption // by closeReasons
}

// newInstruments creates a pool's instruments on m, returning the first
// error the meter reports.
func newInstruments(m metric.Meter) (*instruments, error) {
	var errs []error
	upDown := func(name, unit, desc string) metric.Int64Observable {
		i, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	counter := func(name, unit, desc string) metric.Int64Observable {
		i, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	count := upDown("db.client.connection.count", "{connection}",
		"The number of connections that are currently in state described by the state attribute.")
	gauges := []gauge{
		{upDown("db.client.connection.idle.max", "{connection}",
			"The maximum number of idle open connections allowed: chanpool has no separate idle limit, so MaxConns."),
			func(s *chanpool.Stats) int64 { return int64(s.MaxConns) }},
		{upDown("db.client.connection.idle.min", "{connection}",
			"The minimum number of idle open connections allowed: chanpool's MinConns."),
			func(s *chanpool.Stats) int64 { return int64(s.MinConns) }},
		{upDown("db.client.connection.max", "{connection}",
			"The maximum number of open connections allowed, dials in flight included."),
			func(s *chanpool.Stats) int64 { return int64(s.MaxConns) }},
		{upDown("db.client.connection.pending_requests", "{request}",
			"The number of current pending requests for an open connection."),
			func(s *chanpool.Stats) int64 { return int64(s.Waiting) }},
		{counter("db.client.connection.timeouts", "{timeout}",
			"The number of connection timeouts that have occurred trying to obtain a connection from the pool."),
			func(s *chanpool.Stats) int64 { return int64(s.Timeouts) }},
		{upDown("chanpool.connection.dialing", "{connection}", "Dials in flight."),
			func(s *chanpool.Stats) int64 { return int64(s.Dialing) }},
		{upDown("chanpool.connection.checking", "{connection}",
			"Connections taken off the idle list for a health check or keepalive ping now."),
			func(s *chanpool.Stats) int64 { return int64(s.Checking) }},
		{upDown("chanpool.connection.closing", "{connection}",
			"Connections whose Config.Close runs now; they hold their place under MaxConns until it returns."),
			func(s *chanpool.Stats) int64 { return int64(s.Closing) }},
		{counter("chanpool.connection.creates", "{connection}", "Connections dialed successfully."),
			func(s *chanpool.Stats) int64 { return int64(s.Created) }},
		{counter("chanpool.connection.dial_errors", "{error}", "Failed dials."),
			func(s *chanpool.Stats) int64 { return int64(s.DialErrors) }},
		{upDown("chanpool.breaker.open", "1",
			"1 while the dial breaker is open (Acquire fails fast with ErrBreakerOpen when no connection is idle), else 0."),
			func(s *chanpool.Stats) int64 { return bit(s.BreakerOpen) }},
		{counter("chanpool.breaker.trips", "{trip}", "Times the dial breaker opened."),
			func(s *chanpool.Stats) int64 { return int64(s.BreakerTrips) }},
		{counter("chanpool.acquires", "{lease}", "Leases granted by Acquire and TryAcquire."),
			func(s *chanpool.Stats) int64 { return int64(s.Acquired) }},
		{counter("chanpool.releases", "{lease}", "Leases ended by Conn.Release."),
			func(s *chanpool.Stats) int64 { return int64(s.Released) }},
		{counter("chanpool.acquire.canceled", "{request}", "Acquire calls ended by their context while waiting."),
			func(s *chanpool.Stats) int64 { return int64(s.Canceled) }},
		{counter("chanpool.acquire.exhausted", "{request}", "Acquire calls turned away with ErrExhausted: MaxWaiting callers were waiting."),
			func(s *chanpool.Stats) int64 { return int64(s.Exhausted) }},
		{counter("chanpool.pool.resets", "{reset}", "Pool.Reset calls."),
			func(s *chanpool.Stats) int64 { return int64(s.Resets) }},
	}
	closes := counter("chanpool.connection.closes", "{connection}",
		"Connections closed, by the reason in chanpool.close.reason.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &instruments{count: count, closes: closes, gauges: gauges}, nil
}

// all lists the instruments, for RegisterCallback.
func (ins *instruments) all() []metric.Observable {
	all := []metric.Observable{ins.count, ins.closes}
	for _, g := range ins.gauges {
		all = append(all, g.inst)
	}
	return all
}

// attrs builds the attribute sets of the pool named name.
func (ins *instruments) attrs(name string) poolAttrs {
	pool := semconv.DBClientConnectionPoolName(name)
	a := poolAttrs{
		pool:   metric.WithAttributeSet(attribute.NewSet(pool)),
		idle:   metric.WithAttributeSet(attribute.NewSet(pool, semconv.DBClientConnectionStateIdle)),
		used:   metric.WithAttributeSet(attribute.NewSet(pool, semconv.DBClientConnectionStateUsed)),
		reason: make([]metric.ObserveOption, len(closeReasons)),
	}
	for i, r := range closeReasons {
		a.reason[i] = metric.WithAttributeSet(attribute.NewSet(pool, CloseReasonKey.String(r.String())))
	}
	return a
}

// observe observes s, one pool's Stats, with a's attributes.
func (ins *instruments) observe(ob metric.Observer, s *chanpool.Stats, a *poolAttrs) {
	ob.ObserveInt64(ins.count, int64(s.Idle), a.idle)
	ob.ObserveInt64(ins.count, int64(s.Busy), a.used)
	for _, g := range ins.gauges {
		ob.ObserveInt64(g.inst, g.get(s), a.pool)
	}
	for i, r := range closeReasons {
		ob.ObserveInt64(ins.closes, int64(s.Closed.Of(r)), a.reason[i])
	}
}

func bit(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
