package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/benchmarks"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/chanpool/chanpool/benchmarks
cpu: Test CPU
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       130.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       110.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool/size=8/clients=64-2   	 1000	       120.0 ns/op	       0 B/op	       1 allocs/op
BenchmarkAcquireRelease/pool=chanpool-checks/size=8/clients=64-2	 1000	       156.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool-checks/size=8/clients=64-2	 1000	       132.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAcquireRelease/pool=chanpool-checks/size=8/clients=64-2	 1000	       144.0 ns/op	       0 B/op	       0 allocs/op
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

// TestRatioPairsPasses checks that ratio divides the runs of one pass by
// each other, also after a median of one side was taken.
func TestRatioPairsPasses(t *testing.T) {
	r := readSample(t)
	c := cell{"AcquireRelease", "chanpool", 8, 64, 2}
	_, ok := r.ns(c)
	require.True(t, ok)
	got, ok := r.ratio(c, benchmarks.Checks, "chanpool")
	require.True(t, ok)
	assert.InDelta(t, 1.2, got, 0.001, "median of 156/130, 132/110, 144/120")
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
	assert.True(t, v.hasChecks)
	assert.InDelta(t, 1.2, v.checks, 0.001, "chanpool-checks/chanpool, per pass")

	// clients=1: puddle only 1.89x slower than chanpool, and the floor is
	// only 2.1x faster than puddle, so chanpool must be within 1.1x of the
	// floor: 90/80 = 1.125x misses.
	v, ok = judge(r, cell{bench: "AcquireRelease", size: 8, clients: 1, procs: 1})
	require.True(t, ok)
	require.Len(t, v.misses, 1)
	assert.True(t, strings.HasPrefix(v.misses[0], "puddle"), v.misses[0])
	assert.False(t, v.hasChecks, "chanpool-checks was not run")

	_, ok = judge(r, cell{bench: "Hold", size: 8, clients: 1, procs: 1})
	assert.False(t, ok, "no results")
}

// TestBenchTable checks the columns of chanpool-checks: its ns/op beside
// chanpool's, its ratio to chanpool and its allocs/op, or "–" in a cell
// where it was not run, as in results from before it existed.
func TestBenchTable(t *testing.T) {
	r := readSample(t)
	var w strings.Builder
	verdicts := benchTable(&w, r, "AcquireRelease", []int{8}, []int{1, 64}, []int{1, 2})
	assert.Len(t, verdicts, 2)
	lines := strings.Split(w.String(), "\n")
	require.Len(t, lines, 7, w.String()) // header, rule, 4 rows, ""
	assert.True(t, strings.HasPrefix(lines[0], "| size | clients | -cpu | chanpool | chanpool-checks | puddle |"), lines[0])
	assert.Contains(t, lines[0], "| chanpool-checks/chanpool |")
	assert.Equal(t, strings.Count(lines[0], "|"), strings.Count(lines[1], "|"), "rule under the header")
	// 8/1 -cpu 1: no chanpool-checks.
	assert.True(t, strings.HasPrefix(lines[2], "| 8 | 1 | 1 | 90.0 | – | 170 |"), lines[2])
	assert.Contains(t, lines[2], "| 0 · – · 0 · – · – |")
	// 8/64 -cpu 2: 144 ns, 1.20x chanpool.
	assert.True(t, strings.HasPrefix(lines[5], "| 8 | 64 | 2 | 120 | 144 | 300 |"), lines[5])
	assert.Contains(t, lines[5], "| 1.20x | 2.50x | 1 · 0 · 0 · – · – |")
	for _, l := range lines[2:6] {
		assert.Equal(t, strings.Count(lines[0], "|"), strings.Count(l, "|"), l)
	}
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
