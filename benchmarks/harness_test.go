package benchmarks_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/benchmarks"
)

// The harnesses cmd/report runs, on a small scale: they must run to the end
// for every contender. Their numbers are not checked; speed is never
// asserted in a test.

func TestRunTail(t *testing.T) {
	tc := benchmarks.TailCase{Size: 2, Clients: 16, Hold: 10, Warmup: 5 * time.Millisecond, Duration: 20 * time.Millisecond}
	for _, name := range benchmarks.Names {
		t.Run(name, func(t *testing.T) {
			c, err := benchmarks.New(name, tc.Size, tc.Clients)
			require.NoError(t, err)
			tail, err := benchmarks.RunTail(c, tc)
			require.NoError(t, err)
			assert.NoError(t, c.Close())
			assert.Positive(t, tail.Ops)
			assert.Equal(t, tail.Ops, tail.Release.TotalCount())
			assert.GreaterOrEqual(t, tail.Acquire.Max(), tail.Acquire.ValueAtQuantile(50))
			assert.GreaterOrEqual(t, tail.Spread(), 1.0)
		})
	}
}

func TestMeasureMemory(t *testing.T) {
	for _, name := range benchmarks.Names {
		t.Run(name, func(t *testing.T) {
			_, err := benchmarks.MeasureWaiters(name, 2, 32)
			assert.NoError(t, err)
			_, err = benchmarks.ConnOverhead(name, 64)
			assert.NoError(t, err)
		})
	}
}
