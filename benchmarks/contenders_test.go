package benchmarks_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/benchmarks"
)

// TestContenders runs every contender with more clients than connections
// and checks that no connection is ever held by two clients at once: each
// client writes to its connection while it holds it, and the race detector
// (go test -race) catches two writers.
func TestContenders(t *testing.T) {
	const size, clients, ops = 4, 16, 200
	for _, name := range benchmarks.GridNames {
		t.Run(name, func(t *testing.T) {
			c, err := benchmarks.New(name, size, clients)
			require.NoError(t, err)
			assert.Equal(t, name, c.Name())
			assert.Equal(t, size, c.Size())

			ctx := context.Background()
			seen := make([]map[int64]bool, clients)
			errs := make([]error, clients)
			var wg sync.WaitGroup
			for i := range clients {
				seen[i] = map[int64]bool{}
				wg.Go(func() {
					for range ops {
						err := benchmarks.Value(ctx, c, func(fc *benchmarks.FakeConn) {
							fc.Touch()
							seen[i][fc.ID] = true
						})
						if err != nil {
							errs[i] = err
							return
						}
					}
					_, errs[i] = c.Run(ctx, ops, 10, false)
				})
			}
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "client %d", i)
			}
			ids := map[int64]bool{}
			for _, s := range seen {
				for id := range s {
					ids[id] = true
				}
			}
			assert.LessOrEqual(t, len(ids), size, "distinct connections handed out")
			assert.NoError(t, c.Close())
		})
	}
}

func TestNewUnknown(t *testing.T) {
	_, err := benchmarks.New("nope", 1, 1)
	assert.Error(t, err)
}

// TestChanpoolZeroAllocs checks that chanpool allocates nothing per
// acquire+release, on the fast path (an idle connection is there) and on
// the waiting path (four clients share one connection, so most acquires
// wait for a release); both with no callbacks and with the HealthCheck and
// Reset of chanpool-checks, which a release more often than every
// HealthCheckAfter keeps from checking.
func TestChanpoolZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a quiet process")
	}
	for _, name := range []string{"chanpool", benchmarks.Checks} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c, err := benchmarks.New(name, 1, 4)
			require.NoError(t, err)
			defer func() { assert.NoError(t, c.Close()) }()

			fast := testing.AllocsPerRun(1000, func() {
				_, err := c.Run(ctx, 1, 0, false)
				require.NoError(t, err)
			})
			assert.Zero(t, fast, "allocs per acquire+release, fast path")

			const clients, ops = 4, 5000
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					<-start
					_, err := c.Run(ctx, ops, 0, false)
					assert.NoError(t, err)
				})
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			close(start)
			wg.Wait()
			runtime.ReadMemStats(&after)
			perOp := float64(after.Mallocs-before.Mallocs) / (clients * ops)
			assert.Less(t, perOp, 0.01, "allocs per acquire+release, waiting path")
		})
	}
}
