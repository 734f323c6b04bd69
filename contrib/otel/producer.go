package chanpoolotel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/chanpool/chanpool/chanpool"
)

// Producer is an sdk/metric Producer of a pool's latency histograms:
// db.client.connection.create_time (Stats.DialTime),
// db.client.connection.wait_time (Stats.AcquireWait) and
// db.client.connection.use_time (Stats.HoldTime), in seconds.
//
// The pool already counts every dial, wait and sampled hold in cumulative
// buckets of its own, bounded by the powers of two from 1.024µs to 68.7s.
// The Producer reads them once per collection and hands them to the reader
// as cumulative explicit-bucket histograms with those bounds, so the
// histograms cost Acquire and Release nothing: no OpenTelemetry instrument
// records anything per acquire. The price is that the bounds are the pool's,
// not a View's, and the temporality is always cumulative whatever the
// reader's TemporalitySelector says. Min and max are not reported.
//
// Register it on a reader with sdkmetric.WithProducer. It is safe for
// concurrent use. The zero value is not usable: create Producers with
// NewProducer.
type Producer struct {
	src   StatsSource
	attrs attribute.Set
	start time.Time
}

var _ sdkmetric.Producer = (*Producer)(nil)

// NewProducer returns a Producer of src's latency histograms. Their start
// time is the moment NewProducer is called: samples recorded by the pool
// before it count in the first collection. NewProducer panics if src is nil.
func NewProducer(src StatsSource, opts ...Option) *Producer {
	if src == nil {
		panic("chanpoolotel: NewProducer with a nil StatsSource")
	}
	o := newOptions(opts)
	return &Producer{
		src:   src,
		attrs: attribute.NewSet(semconv.DBClientConnectionPoolName(o.poolName)),
		start: time.Now(),
	}
}

// Produce reads the pool's Stats once and returns its three histograms in
// one ScopeMetrics of scope ScopeName. It never fails. It implements
// sdkmetric.Producer.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	s := p.src.Stats()
	now := time.Now()
	h := func(name, desc string, l *chanpool.Latency) metricdata.Metrics {
		return metricdata.Metrics{
			Name:        name,
			Description: desc,
			Unit:        "s",
			Data: metricdata.Histogram[float64]{
				Temporality: metricdata.CumulativeTemporality,
				DataPoints:  []metricdata.HistogramDataPoint[float64]{p.point(l, now)},
			},
		}
	}
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName, SchemaURL: semconv.SchemaURL},
		Metrics: []metricdata.Metrics{
			h("db.client.connection.create_time", "The time it took to create a new connection.", &s.DialTime),
			h("db.client.connection.wait_time", "The time it took to obtain an open connection from the pool (acquires that had to wait only).", &s.AcquireWait),
			h("db.client.connection.use_time", "The time between borrowing a connection and returning it to the pool (sampled leases).", &s.HoldTime),
		},
	}}, nil
}

// point turns l's cumulative buckets into one data point: BucketCounts[i]
// counts the samples in (Bounds[i-1], Bounds[i]], the last one those above
// the last bound.
func (p *Producer) point(l *chanpool.Latency, now time.Time) metricdata.HistogramDataPoint[float64] {
	bounds := make([]float64, len(l.Buckets))
	counts := make([]uint64, len(l.Buckets)+1)
	var below uint64
	for i, b := range l.Buckets {
		bounds[i] = b.Le.Seconds()
		// Stats reads the buckets one by one while samples arrive: a
		// later bucket may have been read before an earlier one grew.
		c := max(b.Count, below)
		counts[i] = c - below
		below = c
	}
	count := max(l.Count, below)
	counts[len(l.Buckets)] = count - below
	return metricdata.HistogramDataPoint[float64]{
		Attributes:   p.attrs,
		StartTime:    p.start,
		Time:         now,
		Count:        count,
		Bounds:       bounds,
		BucketCounts: counts,
		Sum:          l.Sum.Seconds(),
	}
}
