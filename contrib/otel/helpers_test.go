package chanpoolotel_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/chanpool/chanpool/chanpool"
)

// dialTime is how long newPool's Dial takes, in the synctest bubble's
// virtual time.
const dialTime = 3 * time.Millisecond

// conn is an in-memory connection.
type conn struct{ id int64 }

// newPool returns a pool of in-memory connections whose Dial sleeps
// dialTime, closed when the test ends. Unless cfg says otherwise it keeps
// no warm connections, so that every connection it counts was asked for
// by the test. Run it inside synctest.Test: the sleeps are then virtual
// and exact.
func newPool(t *testing.T, cfg chanpool.Config[*conn]) *chanpool.Pool[*conn] {
	t.Helper()
	var ids atomic.Int64
	if cfg.Dial == nil {
		cfg.Dial = func(context.Context) (*conn, error) {
			time.Sleep(dialTime)
			return &conn{id: ids.Add(1)}, nil
		}
	}
	if cfg.MinConns == 0 {
		cfg.MinConns = chanpool.None
	}
	p, err := chanpool.New(cfg)
	require.NoError(t, err, "chanpool.New")
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil && !errors.Is(err, chanpool.ErrClosed) {
			t.Errorf("Close: got %v, want nil or ErrClosed", err)
		}
	})
	return p
}

// find returns the metric named name in rm, failing the test if there is
// none or more than one.
func find(t *testing.T, rm *metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	var found []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				found = append(found, m)
			}
		}
	}
	require.Len(t, found, 1, "metrics named %s", name)
	return found[0]
}

// set is the attribute set of kvs.
func set(kvs ...attribute.KeyValue) attribute.Set { return attribute.NewSet(kvs...) }

// fakeSource returns fixed Stats and counts the calls.
type fakeSource struct {
	stats chanpool.Stats
	calls atomic.Int64
}

func (f *fakeSource) Stats() chanpool.Stats {
	f.calls.Add(1)
	return f.stats
}
