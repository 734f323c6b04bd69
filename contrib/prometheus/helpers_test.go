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
// invariants Stats documents for a pool at rest. Each latency's Count, Sum
// and Buckets come from a made-up list of every sample ever recorded; its
// quantiles describe a recent window and are set separately.
var fixedStats = chanpool.Stats{
	MaxConns: 10, MinConns: 2,
	Total: 7, Idle: 3, Busy: 3, Dialing: 1, Waiting: 4,
	Acquired: 1000, Released: 990, DestroyedBusy: 7,
	Created: 34, Destroyed: 28,
	Closed: chanpool.CloseCounts{
		Idle: 1, Lifetime: 2, Health: 3, Reset: 4, Destroy: 5, PoolClosed: 6, Leaked: 7,
	},
	Timeouts: 11, Canceled: 12, Exhausted: 13, DialErrors: 14, CloseErrors: 15, Misuse: 16,
	BreakerOpen: true, BreakerTrips: 17, HeldTooLong: 18, Resets: 19,
	Waited:     100,
	AvgAcquire: 275 * time.Microsecond, // AcquireWait.Sum / Acquired
	AcquireWait: withQuantiles(histogram( // Count 100, Sum 275ms
		samples{time.Millisecond, 50},
		samples{2500 * time.Microsecond, 40},
		samples{10 * time.Millisecond, 8},
		samples{20 * time.Millisecond, 1},
		samples{25 * time.Millisecond, 1},
	), 100, time.Millisecond, 2500*time.Microsecond, 10*time.Millisecond, 20*time.Millisecond, 25*time.Millisecond),
	HoldTime: withQuantiles(histogram( // Count 2000, Sum 103.414s
		samples{250 * time.Microsecond, 1000},
		samples{time.Millisecond, 800},
		samples{4 * time.Millisecond, 180},
		samples{8 * time.Millisecond, 18},
		samples{1500 * time.Millisecond, 1},
		samples{100 * time.Second, 1}, // above the last bound: only in Count and Sum
	), 1024, 250*time.Microsecond, time.Millisecond, 4*time.Millisecond, 8*time.Millisecond, 1500*time.Millisecond),
	DialTime: withQuantiles(histogram( // Count 34, Sum 91ms
		samples{2 * time.Millisecond, 17},
		samples{3 * time.Millisecond, 14},
		samples{5 * time.Millisecond, 3},
	), 34, 2*time.Millisecond, 3*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond),
}

// samples is n samples of duration d.
type samples struct {
	d time.Duration
	n uint64
}

// histogram returns the Count, Sum and cumulative Buckets chanpool keeps
// for the given samples: the bounds are 2^10 ns to 2^36 ns, a sample d
// counts in the first bound b with d ≤ b and in every bound after it, and a
// sample above the last bound counts only in Count and Sum.
func histogram(ss ...samples) chanpool.Latency {
	var l chanpool.Latency
	for shift := 10; shift <= 36; shift++ {
		l.Buckets = append(l.Buckets, chanpool.Bucket{Le: 1 << shift})
	}
	for _, s := range ss {
		l.Count += s.n
		l.Sum += time.Duration(s.n) * s.d
		for i := range l.Buckets {
			if s.d <= l.Buckets[i].Le {
				l.Buckets[i].Count += s.n
			}
		}
	}
	return l
}

// withQuantiles sets the recent-window fields of l.
func withQuantiles(l chanpool.Latency, n int, p50, p90, p99, p999, maxLatency time.Duration) chanpool.Latency {
	l.Samples, l.P50, l.P90, l.P99, l.P999, l.Max = n, p50, p90, p99, p999, maxLatency
	return l
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
