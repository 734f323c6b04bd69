package chanpoolprom_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// fakeSource returns fixed Stats and counts the calls.
type fakeSource struct {
	stats chanpool.Stats
	calls atomic.Int64
}

func (f *fakeSource) Stats() chanpool.Stats {
	f.calls.Add(1)
	return f.stats
}

// fixedStats has a different number in every field, consistent with the
// invariants Stats documents for a pool at rest.
var fixedStats = chanpool.Stats{
	MaxConns: 10, MinConns: 2,
	Total: 7, Idle: 3, Busy: 3, Dialing: 1, Waiting: 4,
	Acquired: 1000, Released: 990, DestroyedBusy: 7,
	Created: 34, Destroyed: 28,
	Closed: chanpool.CloseCounts{
		Idle: 1, Lifetime: 2, Health: 3, Reset: 4, Destroy: 5, PoolClosed: 6, Leaked: 7,
	},
	Timeouts: 11, Canceled: 12, Exhausted: 13, DialErrors: 14, CloseErrors: 15, Misuse: 16,
	BreakerOpen: true, BreakerTrips: 17, HeldTooLong: 18,
	Waited:     100,
	AvgAcquire: time.Millisecond,
	AcquireWait: chanpool.Latency{
		Count: 100, Samples: 100,
		P50: time.Millisecond, P90: 2500 * time.Microsecond, P99: 10 * time.Millisecond,
		P999: 20 * time.Millisecond, Max: 25 * time.Millisecond,
	},
	HoldTime: chanpool.Latency{
		Count: 2000, Samples: 1024,
		P50: 250 * time.Microsecond, P90: time.Millisecond, P99: 4 * time.Millisecond,
		P999: 8 * time.Millisecond, Max: 1500 * time.Millisecond,
	},
	DialTime: chanpool.Latency{
		Count: 34, Samples: 34,
		P50: 2 * time.Millisecond, P90: 3 * time.Millisecond, P99: 5 * time.Millisecond,
		P999: 5 * time.Millisecond, Max: 5 * time.Millisecond,
	},
}

// conn is an in-memory connection.
type conn struct{ id int64 }

// newPool returns a pool of in-memory connections, closed when the test
// ends (a test may close it earlier). Unless cfg says otherwise it keeps no warm connections, so that
// every connection it counts was asked for by the test.
func newPool(t *testing.T, cfg chanpool.Config[*conn]) *chanpool.Pool[*conn] {
	t.Helper()
	var ids atomic.Int64
	if cfg.Dial == nil {
		cfg.Dial = func(context.Context) (*conn, error) { return &conn{id: ids.Add(1)}, nil }
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
