package chanpoolotel_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

// collectGroup registers a group's metrics on a manual reader and returns
// one collection, by instrument name.
func collectGroup(t *testing.T, g *chanpool.Group[string, *conn], gopts ...chanpoolotel.GroupOption[string]) map[string]metricdata.Metrics {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg, err := chanpoolotel.RegisterGroupMetrics(g, mp, []chanpoolotel.Option{chanpoolotel.WithPoolName("replicas")}, gopts...)
	require.NoError(t, err)
	defer reg.Unregister()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// byPool maps each data point's pool name to its value, for points with no
// other attribute than the pool name.
func byPool(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 sum", m.Name)
	out := map[string]int64{}
	for _, p := range s.DataPoints {
		if p.Attributes.Len() != 1 {
			continue
		}
		v, _ := p.Attributes.Value(attribute.Key("db.client.connection.pool.name"))
		out[v.AsString()] = p.Value
	}
	return out
}

func newGroup(t *testing.T, keys ...string) (*chanpool.Group[string, *conn], chanpool.Conn[*conn]) {
	t.Helper()
	var ids atomic.Int64
	g, err := chanpool.NewGroup(chanpool.GroupConfig[string, *conn]{
		Config: func(string) (chanpool.Config[*conn], error) {
			return chanpool.Config[*conn]{
				Dial:     func(context.Context) (*conn, error) { return &conn{id: ids.Add(1)}, nil },
				MaxConns: 4, MinConns: chanpool.None,
			}, nil
		},
		MaxConns:       16,
		KeyIdleTimeout: chanpool.None,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	for i, k := range keys {
		for range i + 1 {
			c, err := g.Acquire(context.Background(), k)
			require.NoError(t, err)
			require.NoError(t, c.Release())
		}
	}
	held, err := g.Acquire(context.Background(), keys[0])
	require.NoError(t, err)
	return g, held
}

func TestRegisterGroupMetrics(t *testing.T) {
	g, held := newGroup(t, "a", "b")
	defer held.Release()
	got := collectGroup(t, g)
	assert.Equal(t, map[string]int64{"replicas/a": 2, "replicas/b": 2}, byPool(t, got["chanpool.acquires"]))
	assert.Equal(t, map[string]int64{"replicas/a": 4, "replicas/b": 4}, byPool(t, got["db.client.connection.max"]))
	assert.Equal(t, map[string]int64{"replicas": 16}, byPool(t, got["chanpool.group.connection.max"]))
	assert.Equal(t, map[string]int64{"replicas": 2}, byPool(t, got["chanpool.group.connection.count"]))
	assert.Equal(t, map[string]int64{"replicas": 0}, byPool(t, got["chanpool.group.pending_requests"]))
	assert.Equal(t, map[string]int64{"replicas": 2}, byPool(t, got["chanpool.group.keys"]))
	assert.Equal(t, "{connection}", got["chanpool.group.connection.count"].Unit)
}

func TestRegisterGroupMetricsCapsTheKeys(t *testing.T) {
	keys := []string{"a", "b", "c", "d"}
	g, held := newGroup(t, keys...)
	defer held.Release()
	got := collectGroup(t, g, chanpoolotel.WithMaxKeys[string](2), chanpoolotel.WithKeyString(func(k string) string { return "t-" + k }))
	// t-a and t-b on their own; c and d (3 and 4 acquires) added up.
	assert.Equal(t, map[string]int64{"replicas/t-a": 2, "replicas/t-b": 2, "replicas/" + chanpoolotel.OtherKey: 7},
		byPool(t, got["chanpool.acquires"]))
	for i := range 30 {
		c, err := g.Acquire(context.Background(), fmt.Sprintf("more-%d", i))
		require.NoError(t, err)
		require.NoError(t, c.Release())
	}
	got = collectGroup(t, g, chanpoolotel.WithMaxKeys[string](2))
	assert.Len(t, byPool(t, got["chanpool.acquires"]), 3, "34 keys: two of their own, one for the rest")

	mp := sdkmetric.NewMeterProvider()
	_, err := chanpoolotel.RegisterGroupMetrics(g, mp, nil, chanpoolotel.WithMaxKeys[string](0))
	assert.ErrorContains(t, err, "WithMaxKeys(0)")
}
