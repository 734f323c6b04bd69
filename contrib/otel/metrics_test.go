package chanpoolotel_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

var (
	poolAttr = attribute.String("db.client.connection.pool.name", "db")
	withPool = set(poolAttr)
)

// drive leaves p with one connection leased, none idle, one destroyed, one
// acquire timed out, and two dials and waits of dialTime each.
func drive(t *testing.T, p *chanpool.Pool[*conn]) {
	t.Helper()
	ctx := context.Background()
	a, err := p.Acquire(ctx) // dials: waits dialTime
	require.NoError(t, err, "Acquire a")
	b, err := p.Acquire(ctx) // dials: waits dialTime
	require.NoError(t, err, "Acquire b")
	_, err = p.Acquire(ctx) // pool full: times out
	require.ErrorIs(t, err, chanpool.ErrAcquireTimeout, "third Acquire")
	require.NoError(t, a.Release(), "Release a")
	require.NoError(t, b.Destroy(), "Destroy b")
	c, err := p.Acquire(ctx) // a, at once from the idle list
	require.NoError(t, err, "Acquire c")
	t.Cleanup(func() { _ = c.Release() }) // before the pool's Close, which waits for it
	synctest.Wait()                       // b's close has returned
}

func sum(monotonic bool, points ...metricdata.DataPoint[int64]) metricdata.Sum[int64] {
	return metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: monotonic, DataPoints: points}
}

func point(v int64, attrs attribute.Set) metricdata.DataPoint[int64] {
	return metricdata.DataPoint[int64]{Attributes: attrs, Value: v}
}

// Every asynchronous instrument against a real pool: name, unit, kind,
// attributes and value.
func TestRegisterMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, chanpool.Config[*conn]{MaxConns: 2, AcquireTimeout: 10 * time.Millisecond})
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		reg, err := chanpoolotel.RegisterMetrics(p, mp, chanpoolotel.WithPoolName("db"))
		require.NoError(t, err, "RegisterMetrics")
		drive(t, p)

		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm), "Collect")
		require.Len(t, rm.ScopeMetrics, 1, "scopes")
		assert.Equal(t, chanpoolotel.ScopeName, rm.ScopeMetrics[0].Scope.Name, "scope name")
		assert.Equal(t, "https://opentelemetry.io/schemas/1.43.0", rm.ScopeMetrics[0].Scope.SchemaURL, "schema URL")

		closes := []metricdata.DataPoint[int64]{}
		for _, r := range []string{"idle", "lifetime", "health", "reset", "destroy", "pool_closed", "leaked", "resize", "pool_reset", "keepalive", "group_cap", "detached"} {
			v := int64(0)
			if r == "destroy" {
				v = 1
			}
			closes = append(closes, point(v, set(poolAttr, chanpoolotel.CloseReasonKey.String(r))))
		}
		want := []struct {
			name, unit string
			data       metricdata.Aggregation
		}{
			{"db.client.connection.count", "{connection}", sum(false,
				point(0, set(poolAttr, attribute.String("db.client.connection.state", "idle"))),
				point(1, set(poolAttr, attribute.String("db.client.connection.state", "used"))))},
			{"db.client.connection.idle.max", "{connection}", sum(false, point(2, withPool))},
			{"db.client.connection.idle.min", "{connection}", sum(false, point(0, withPool))},
			{"db.client.connection.max", "{connection}", sum(false, point(2, withPool))},
			{"db.client.connection.pending_requests", "{request}", sum(false, point(0, withPool))},
			{"db.client.connection.timeouts", "{timeout}", sum(true, point(1, withPool))},
			{"chanpool.connection.dialing", "{connection}", sum(false, point(0, withPool))},
			{"chanpool.connection.checking", "{connection}", sum(false, point(0, withPool))},
			{"chanpool.connection.closing", "{connection}", sum(false, point(0, withPool))},
			{"chanpool.connection.creates", "{connection}", sum(true, point(2, withPool))},
			{"chanpool.connection.dial_errors", "{error}", sum(true, point(0, withPool))},
			{"chanpool.connection.closes", "{connection}", sum(true, closes...)},
			{"chanpool.breaker.open", "1", sum(false, point(0, withPool))},
			{"chanpool.breaker.trips", "{trip}", sum(true, point(0, withPool))},
			{"chanpool.acquires", "{lease}", sum(true, point(3, withPool))},
			{"chanpool.releases", "{lease}", sum(true, point(1, withPool))},
			{"chanpool.acquire.canceled", "{request}", sum(true, point(0, withPool))},
			{"chanpool.acquire.exhausted", "{request}", sum(true, point(0, withPool))},
			{"chanpool.pool.resets", "{reset}", sum(true, point(0, withPool))},
		}
		assert.Len(t, rm.ScopeMetrics[0].Metrics, len(want), "metrics")
		for _, w := range want {
			got := find(t, &rm, w.name)
			assert.Equal(t, w.unit, got.Unit, "%s: unit", w.name)
			assert.NotEmpty(t, got.Description, "%s: description", w.name)
			metricdatatest.AssertAggregationsEqual(t, w.data, got.Data, metricdatatest.IgnoreTimestamp())
		}

		require.NoError(t, reg.Unregister(), "Unregister")
		rm = metricdata.ResourceMetrics{}
		require.NoError(t, reader.Collect(context.Background(), &rm), "Collect after Unregister")
		for _, sm := range rm.ScopeMetrics {
			assert.Empty(t, sm.Metrics, "metrics after Unregister")
		}
	})
}

// One collection reads Stats once, however many instruments it observes.
func TestRegisterMetricsReadsStatsOnce(t *testing.T) {
	src := &fakeSource{}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	_, err := chanpoolotel.RegisterMetrics(src, mp)
	require.NoError(t, err, "RegisterMetrics")
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm), "Collect")
	assert.Equal(t, int64(1), src.calls.Load(), "Stats calls per collection")
	got := find(t, &rm, "db.client.connection.max").Data.(metricdata.Sum[int64]).DataPoints[0].Attributes
	v, _ := got.Value("db.client.connection.pool.name")
	assert.Equal(t, chanpoolotel.DefaultPoolName, v.AsString(), "default pool name")
}

func TestNilArguments(t *testing.T) {
	mp := sdkmetric.NewMeterProvider()
	assert.Panics(t, func() { _, _ = chanpoolotel.RegisterMetrics(nil, mp) }, "RegisterMetrics(nil, mp)")
	assert.Panics(t, func() { _, _ = chanpoolotel.RegisterMetrics(&fakeSource{}, nil) }, "RegisterMetrics(src, nil)")
	assert.Panics(t, func() { chanpoolotel.NewProducer(nil) }, "NewProducer(nil)")
	assert.Panics(t, func() { chanpoolotel.NewTracer(nil) }, "NewTracer(nil)")
}
