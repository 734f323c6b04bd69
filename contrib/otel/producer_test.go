package chanpoolotel_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// bounds are chanpool's histogram bounds in seconds: 2^10 ns to 2^36 ns.
func bounds() []float64 {
	var b []float64
	for shift := 10; shift <= 36; shift++ {
		b = append(b, time.Duration(1<<shift).Seconds())
	}
	return b
}

// histogram is the one data point of the histogram named name in rm.
func histogram(t *testing.T, rm *metricdata.ResourceMetrics, name string) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	m := find(t, rm, name)
	assert.Equal(t, "s", m.Unit, "%s: unit", name)
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s: got %T, want metricdata.Histogram[float64]", name, m.Data)
	assert.Equal(t, metricdata.CumulativeTemporality, h.Temporality, "%s: temporality", name)
	require.Len(t, h.DataPoints, 1, "%s: data points", name)
	return h.DataPoints[0]
}

// The Producer's histograms, registered on a ManualReader, against a real
// pool: the dials and waits took dialTime each, exactly, in the bubble.
func TestProducer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, chanpool.Config[*conn]{MaxConns: 2, AcquireTimeout: 10 * time.Millisecond})
		prod := chanpoolotel.NewProducer(p, chanpoolotel.WithPoolName("db"))
		reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))
		sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		drive(t, p)
		s := p.Stats()

		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm), "Collect")
		require.Len(t, rm.ScopeMetrics, 1, "scopes")
		assert.Equal(t, chanpoolotel.ScopeName, rm.ScopeMetrics[0].Scope.Name, "scope name")

		// dialTime, 3ms, is in (2^21 ns, 2^22 ns]: bucket 22-10.
		want := make([]uint64, len(bounds())+1)
		want[12] = 2
		for _, name := range []string{"db.client.connection.create_time", "db.client.connection.wait_time"} {
			dp := histogram(t, &rm, name)
			assert.Equal(t, withPool, dp.Attributes, "%s: attributes", name)
			assert.Equal(t, bounds(), dp.Bounds, "%s: bounds", name)
			assert.Equal(t, want, dp.BucketCounts, "%s: bucket counts", name)
			assert.Equal(t, uint64(2), dp.Count, "%s: count", name)
			assert.InDelta(t, 2*dialTime.Seconds(), dp.Sum, 1e-12, "%s: sum", name)
			assert.False(t, dp.StartTime.After(dp.Time), "%s: start time %v after time %v", name, dp.StartTime, dp.Time)
		}
		dp := histogram(t, &rm, "db.client.connection.use_time")
		assert.Equal(t, s.HoldTime.Count, dp.Count, "use_time: count")
		assert.InDelta(t, s.HoldTime.Sum.Seconds(), dp.Sum, 1e-12, "use_time: sum")
	})
}

// Buckets read while samples arrive may not be monotonic, nor Count their
// last: the data point stays consistent (counts add up to Count), and a
// sample above the last bound lands in the overflow bucket.
func TestProducerBuckets(t *testing.T) {
	b := func(le time.Duration, n uint64) chanpool.Bucket { return chanpool.Bucket{Le: le, Count: n} }
	src := &fakeSource{stats: chanpool.Stats{
		DialTime:    chanpool.Latency{Count: 5, Sum: time.Second, Buckets: []chanpool.Bucket{b(1, 1), b(2, 3), b(4, 4)}},
		AcquireWait: chanpool.Latency{Count: 2, Buckets: []chanpool.Bucket{b(1, 3), b(2, 2), b(4, 4)}},
	}}
	got, err := chanpoolotel.NewProducer(src).Produce(context.Background())
	require.NoError(t, err, "Produce")
	rm := metricdata.ResourceMetrics{ScopeMetrics: got}
	assert.Equal(t, int64(1), src.calls.Load(), "Stats calls per Produce")

	dp := histogram(t, &rm, "db.client.connection.create_time")
	assert.Equal(t, []float64{1e-9, 2e-9, 4e-9}, dp.Bounds, "create_time: bounds")
	assert.Equal(t, []uint64{1, 2, 1, 1}, dp.BucketCounts, "create_time: bucket counts")
	assert.Equal(t, uint64(5), dp.Count, "create_time: count")
	assert.Equal(t, 1.0, dp.Sum, "create_time: sum")

	dp = histogram(t, &rm, "db.client.connection.wait_time")
	assert.Equal(t, []uint64{3, 0, 1, 0}, dp.BucketCounts, "wait_time: bucket counts")
	assert.Equal(t, uint64(4), dp.Count, "wait_time: count")

	dp = histogram(t, &rm, "db.client.connection.use_time")
	assert.Equal(t, []uint64{0}, dp.BucketCounts, "use_time with no buckets: bucket counts")
	assert.Empty(t, dp.Bounds, "use_time with no buckets: bounds")
}

// use_time against a real pool that times every lease (LeakThreshold set):
// one lease held 5ms, exactly, in the bubble.
func TestProducerUseTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, chanpool.Config[*conn]{MaxConns: 1, LeakThreshold: time.Hour})
		c, err := p.Acquire(context.Background())
		require.NoError(t, err, "Acquire")
		time.Sleep(5 * time.Millisecond)
		require.NoError(t, c.Release(), "Release")
		prod := chanpoolotel.NewProducer(p, chanpoolotel.WithPoolName("db"))
		reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))
		sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm), "Collect")
		dp := histogram(t, &rm, "db.client.connection.use_time")
		assert.Equal(t, withPool, dp.Attributes, "attributes")
		assert.Equal(t, bounds(), dp.Bounds, "bounds")
		// 5ms is in (2^22 ns, 2^23 ns]: bucket 23-10.
		want := make([]uint64, len(bounds())+1)
		want[13] = 1
		assert.Equal(t, want, dp.BucketCounts, "bucket counts")
		assert.Equal(t, uint64(1), dp.Count, "count")
		assert.InDelta(t, 0.005, dp.Sum, 1e-12, "sum")
	})
}
