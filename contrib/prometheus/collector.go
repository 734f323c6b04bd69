package chanpoolprom

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chanpool/chanpool/chanpool"
)

// closeReasons is every chanpool.CloseReason, in order, for one series each.
var closeReasons = chanpool.CloseReasons()

// StatsSource is what a Collector reads. Every *chanpool.Pool[T] satisfies
// it, whatever its T.
type StatsSource interface {
	// Stats returns a snapshot of the pool's statistics. The Collector calls
	// it once per Collect, possibly from several goroutines at once.
	Stats() chanpool.Stats
}

// Collector is a prometheus.Collector that exports a pool's Stats: gauges
// for the connections and waiting callers, counters for the pool's events,
// and for its wait, hold and dial latencies a histogram each plus gauges of
// their recent quantiles. See the package documentation for the list of
// metrics.
//
// Each Collect reads Stats once; the Collector keeps no other state, so it is
// safe for concurrent use, and every scrape sees the pool as it is then. The
// zero value is not usable: create Collectors with NewCollector.
type Collector struct {
	src       StatsSource
	values    []value
	closed    *prometheus.Desc // counter, label reason
	latencies []latency
}

// value is one metric whose sample is a single number from Stats.
type value struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	get  func(*chanpool.Stats) float64
}

// latency is one chanpool.Latency: a histogram of every sample, and the
// quantiles of the most recent ones.
type latency struct {
	histogram *prometheus.Desc // histogram
	recent    *prometheus.Desc // gauge, label q
	get       func(*chanpool.Stats) *chanpool.Latency
}

// quantiles are the values of the q label and the Latency field each one
// reports. q="1" is the maximum.
var quantiles = []struct {
	q   string
	get func(*chanpool.Latency) time.Duration
}{
	{"0.5", func(l *chanpool.Latency) time.Duration { return l.P50 }},
	{"0.9", func(l *chanpool.Latency) time.Duration { return l.P90 }},
	{"0.99", func(l *chanpool.Latency) time.Duration { return l.P99 }},
	{"0.999", func(l *chanpool.Latency) time.Duration { return l.P999 }},
	{"1", func(l *chanpool.Latency) time.Duration { return l.Max }},
}

// NewCollector returns a Collector for src, typically a *chanpool.Pool[T].
// Register it with prometheus.MustRegister or a Registry of your own.
//
// Metric names are namespace_subsystem_name, with namespace "chanpool" and
// no subsystem unless WithNamespace or WithSubsystem say otherwise. An
// invalid name or constant label is reported when the Collector is
// registered: Register returns the error (MustRegister panics with it).
// NewCollector panics if src is nil.
func NewCollector(src StatsSource, opts ...Option) *Collector {
	if src == nil {
		panic("chanpoolprom: NewCollector with a nil StatsSource")
	}
	c := newCollector(newOptions(opts), nil)
	c.src = src
	return c
}

func newOptions(opts []Option) options {
	o := options{namespace: "chanpool", keyLabel: "key", maxKeys: DefaultMaxKeys}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// newCollector builds the descriptors of a pool's metrics; every one of
// them has the variable labels lead first (a group's key label), then its
// own.
func newCollector(o options, lead []string) *Collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.namespace, o.subsystem, name), help,
			append(slices.Clone(lead), labels...), o.constLabels)
	}
	gauge := func(name, help string, get func(*chanpool.Stats) float64) value {
		return value{desc(name, help), prometheus.GaugeValue, get}
	}
	counter := func(name, help string, get func(*chanpool.Stats) uint64) value {
		return value{desc(name, help), prometheus.CounterValue, func(s *chanpool.Stats) float64 { return float64(get(s)) }}
	}
	lat := func(name, histogramHelp, recentHelp string, get func(*chanpool.Stats) *chanpool.Latency) latency {
		h := desc(name+"_seconds", histogramHelp)
		if _, ok := o.constLabels["le"]; ok {
			// A histogram's buckets carry le themselves; the registry
			// would not notice the clash, so refuse it here.
			h = prometheus.NewInvalidDesc(fmt.Errorf("chanpoolprom: constant label %q is reserved for histogram buckets", "le"))
		}
		return latency{h, desc(name+"_recent_seconds", recentHelp, "q"), get}
	}
	return &Collector{
		values: []value{
			// Gauges.
			gauge("max_connections", "Config.MaxConns in force: the most connections, open plus dialing, the pool allows.",
				func(s *chanpool.Stats) float64 { return float64(s.MaxConns) }),
			gauge("min_connections", "Config.MinConns in force: the connections the pool keeps open even when idle.",
				func(s *chanpool.Stats) float64 { return float64(s.MinConns) }),
			gauge("connections", "Open connections plus dials in flight; never more than max_connections.",
				func(s *chanpool.Stats) float64 { return float64(s.Total) }),
			gauge("idle_connections", "Open connections in the idle list, ready to be acquired.",
				func(s *chanpool.Stats) float64 { return float64(s.Idle) }),
			gauge("busy_connections", "Connections leased to callers.",
				func(s *chanpool.Stats) float64 { return float64(s.Busy) }),
			gauge("dialing_connections", "Dials in flight.",
				func(s *chanpool.Stats) float64 { return float64(s.Dialing) }),
			gauge("checking_connections", "Connections taken off the idle list for a health check or keepalive ping now; counted in connections.",
				func(s *chanpool.Stats) float64 { return float64(s.Checking) }),
			gauge("closing_connections", "Connections whose Config.Close runs now; counted in connections until it returns.",
				func(s *chanpool.Stats) float64 { return float64(s.Closing) }),
			gauge("waiting_clients", "Callers waiting in Acquire for a connection.",
				func(s *chanpool.Stats) float64 { return float64(s.Waiting) }),
			gauge("breaker_open", "1 while the dial breaker is open (Acquire fails fast with ErrBreakerOpen when no connection is idle), else 0.",
				func(s *chanpool.Stats) float64 { return bit(s.BreakerOpen) }),

			// Counters.
			counter("acquires_total", "Leases granted by Acquire and TryAcquire.",
				func(s *chanpool.Stats) uint64 { return s.Acquired }),
			counter("releases_total", "Leases ended by Conn.Release.",
				func(s *chanpool.Stats) uint64 { return s.Released }),
			counter("destroyed_busy_total", "Leases ended by Conn.Destroy, or by a forced Close that closed the connection under its holder.",
				func(s *chanpool.Stats) uint64 { return s.DestroyedBusy }),
			counter("connections_created_total", "Connections dialed successfully.",
				func(s *chanpool.Stats) uint64 { return s.Created }),
			counter("acquire_waits_total", "Acquires that found no idle connection and waited for a release or a dial, then got a connection.",
				func(s *chanpool.Stats) uint64 { return s.Waited }),
			counter("acquire_timeouts_total", "Acquire calls that failed with ErrAcquireTimeout.",
				func(s *chanpool.Stats) uint64 { return s.Timeouts }),
			counter("acquire_canceled_total", "Acquire calls ended by their context while waiting.",
				func(s *chanpool.Stats) uint64 { return s.Canceled }),
			counter("acquire_exhausted_total", "Acquire calls rejected with ErrExhausted because Config.MaxWaiting callers were already waiting.",
				func(s *chanpool.Stats) uint64 { return s.Exhausted }),
			counter("dial_errors_total", "Failed dials.",
				func(s *chanpool.Stats) uint64 { return s.DialErrors }),
			counter("close_errors_total", "Config.Close calls that failed or panicked.",
				func(s *chanpool.Stats) uint64 { return s.CloseErrors }),
			counter("misuse_total", "Release or Destroy calls through a handle that does not hold the lease (ignored by the pool).",
				func(s *chanpool.Stats) uint64 { return s.Misuse }),
			counter("breaker_trips_total", "Times the dial breaker opened.",
				func(s *chanpool.Stats) uint64 { return s.BreakerTrips }),
			counter("held_too_long_total", "Leases reported for outliving Config.LeakThreshold (always 0 while it is unset).",
				func(s *chanpool.Stats) uint64 { return s.HeldTooLong }),
			counter("resets_total", "Pool.Reset calls.",
				func(s *chanpool.Stats) uint64 { return s.Resets }),
		},
		closed: desc("connections_closed_total",
			"Connections closed, by reason: idle (surplus for IdleTimeout), lifetime (past MaxLifetime), health (HealthCheck failed), reset (Reset failed), destroy (Conn.Destroy), pool_closed (the pool closed), leaked (the handle was lost without Release or Destroy), resize (surplus to a lowered MaxConns), pool_reset (retired by Pool.Reset), keepalive (failed a keepalive ping), group_cap (closed to make room for another key under a Group's cap), detached (taken out of the pool by Conn.Detach, not closed).",
			"reason"),
		latencies: []latency{
			lat("acquire_wait",
				"How long the acquires that found no idle connection waited (see acquire_waits_total), since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.",
				`Quantile q of how long the most recent acquires that had to wait waited, over up to 1024 of them; q="1" is their maximum. Absent until the first such acquire.`,
				func(s *chanpool.Stats) *chanpool.Latency { return &s.AcquireWait }),
			lat("hold",
				"Lease durations, acquire to release, of the sampled leases (one in 64 per connection; every lease when Config.LeakThreshold is set), since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.",
				`Quantile q of recent lease durations over up to 1024 sampled leases; q="1" is their maximum. Absent until the first sample.`,
				func(s *chanpool.Stats) *chanpool.Latency { return &s.HoldTime }),
			lat("dial",
				"Durations of successful dials since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.",
				`Quantile q of the duration of recent successful dials, over up to 1024 of them; q="1" is their maximum. Absent until the first dial.`,
				func(s *chanpool.Stats) *chanpool.Latency { return &s.DialTime }),
		},
	}
}

// Describe sends the descriptors of every metric the Collector exports. It
// implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.values {
		ch <- v.desc
	}
	ch <- c.closed
	for _, l := range c.latencies {
		ch <- l.histogram
		ch <- l.recent
	}
}

// Collect reads the pool's Stats once and sends its metrics. It implements
// prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	c.collect(ch, &s)
}

// collect sends the metrics of s, each with the values lead of the leading
// labels (see newCollector).
func (c *Collector) collect(ch chan<- prometheus.Metric, s *chanpool.Stats, lead ...string) {
	with := func(labels ...string) []string { return append(slices.Clone(lead), labels...) }
	for _, v := range c.values {
		ch <- metric(v.desc, v.typ, v.get(s), lead...)
	}
	for _, r := range closeReasons {
		ch <- metric(c.closed, prometheus.CounterValue, float64(s.Closed.Of(r)), with(r.String())...)
	}
	for _, l := range c.latencies {
		lt := l.get(s)
		ch <- histogram(l.histogram, lt, lead...)
		if lt.Samples == 0 {
			// No data: an absent series, not a latency of zero.
			continue
		}
		for _, q := range quantiles {
			ch <- metric(l.recent, prometheus.GaugeValue, q.get(lt).Seconds(), with(q.q)...)
		}
	}
}

// metric is prometheus.MustNewConstMetric without the panic: a descriptor
// that failed to build (an invalid name or label) becomes an invalid metric,
// which fails the scrape with the error instead of crashing it. A registry
// rejects such a Collector before it ever collects.
func metric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// histogram is a latency's cumulative buckets as a Prometheus histogram;
// like metric, an error becomes an invalid metric.
func histogram(d *prometheus.Desc, l *chanpool.Latency, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(l.Buckets))
	for _, b := range l.Buckets {
		buckets[b.Le.Seconds()] = b.Count
	}
	m, err := prometheus.NewConstHistogram(d, l.Count, l.Sum.Seconds(), buckets, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
