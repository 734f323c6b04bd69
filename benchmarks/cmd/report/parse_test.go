package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/chanpool/chanpool/benchmarks
cpu: Test CPU
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       130.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       110.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       120.0 ns/op	       0 B/op	       1 allocs/op
BenchmarkAcquireRelease/pool=chan/size=8/clients=64-2       	 1000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=puddle/size=8/clients=64-2     	 1000	       300.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=1      	 1000	        90.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chan/size=8/clients=1          	 1000	        80.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=puddle/size=8/clients=1        	 1000	       170.0 ns/op	       0 B/op	       0 allocs/op
PASS
`

func readSample(t *testing.T) *results {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bench.txt")
	require.NoError(t, os.WriteFile(path, []byte(sample), 0o644))
	r, err := readResults(path)
	require.NoError(t, err)
	return r
}

func TestReadResults(t *testing.T) {
	r := readSample(t)
	assert.Equal(t, "Test CPU", r.cpu)
	c := cell{"AcquireRelease", "chanpool", 8, 64, 2}
	assert.Equal(t, 3, r.runs(c))
	ns, ok := r.ns(c)
	require.True(t, ok)
	assert.InDelta(t, 120, ns, 0.001, "median ns/op")
	a, ok := r.allocs(c)
	require.True(t, ok)
	assert.Equal(t, 1.0, a, "largest allocs/op")
	_, ok = r.ns(cell{"AcquireRelease", "chanpool", 8, 64, 1})
	assert.False(t, ok, "-cpu 1 was not run")
}

func TestJudge(t *testing.T) {
	r := readSample(t)
	// clients=64: 1.2x the floor (within 1.3x), puddle 2.5x slower, one alloc.
	v, ok := judge(r, cell{bench: "AcquireRelease", size: 8, clients: 64, procs: 2})
	require.True(t, ok)
	assert.InDelta(t, 1.2, v.overFloor, 0.001)
	assert.InDelta(t, 2.5, v.puddleFactor, 0.001)
	require.Len(t, v.misses, 1)
	assert.True(t, strings.HasPrefix(v.misses[0], "allocs"), v.misses[0])

	// clients=1: puddle only 1.89x slower than chanpool, and the floor is
	// only 2.1x faster than puddle, so chanpool must be within 1.1x of the
	// floor: 90/80 = 1.125x misses.
	v, ok = judge(r, cell{bench: "AcquireRelease", size: 8, clients: 1, procs: 1})
	require.True(t, ok)
	require.Len(t, v.misses, 1)
	assert.True(t, strings.HasPrefix(v.misses[0], "puddle"), v.misses[0])

	_, ok = judge(r, cell{bench: "Hold", size: 8, clients: 1, procs: 1})
	assert.False(t, ok, "no results")
}

func TestTailRatio(t *testing.T) {
	for _, tc := range []struct {
		p999, p50 time.Duration
		want      string
	}{
		{2 * time.Millisecond, time.Millisecond, "2.00"},
		{1860 * time.Microsecond, time.Millisecond, "1.86"},
		{200 * time.Microsecond, time.Microsecond, "200"},
		{time.Millisecond, 0, "–"},
	} {
		if got := tailRatio(tc.p999, tc.p50); got != tc.want {
			t.Errorf("tailRatio(%v, %v) = %q, want %q", tc.p999, tc.p50, got, tc.want)
		}
	}
}
