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
BenchmarkAcquireRelease/pool=chancas/size=8/clients=64-2    	 1000	       100.0 ns/op	       0 B/op	       0 allocs/op
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

// TestBenchTable checks each bar's column in two cells: the ratio, marked
// met or missed, or "–" where a contender of the ratio was not run (as
// chanpool-checks and chancas at 8/1), and the allocation bar.
func TestBenchTable(t *testing.T) {
	r := readSample(t)
	var w strings.Builder
	verdicts := benchTable(&w, r, "AcquireRelease", []int{8}, []int{1, 64}, []int{1, 2})
	require.Len(t, verdicts, 2, "cells with chanpool runs: 8/1 -cpu 1 and 8/64 -cpu 2")
	lines := strings.Split(w.String(), "\n")
	require.Len(t, lines, 5, w.String()) // header, rule, 2 rows, ""
	assert.True(t, strings.HasPrefix(lines[0], "| size | clients | -cpu | chanpool | chanpool-checks | puddle |"), lines[0])
	assert.Contains(t, lines[0], "| chanpool/chancas (≤ 1.15x) | puddle/chanpool (≥ 2x) |")
	for _, l := range lines[1:4] {
		assert.Equal(t, strings.Count(lines[0], "|"), strings.Count(l, "|"), l)
	}
	// 8/1 -cpu 1: puddle only 170/90 = 1.89x chanpool's ns/op: missed.
	assert.True(t, strings.HasPrefix(lines[2], "| 8 | 1 | 1 | 90.0 | – | 170 |"), lines[2])
	assert.Contains(t, lines[2], "| – | 1.89x ✗ | – | – | 0 ✓ | 1.13x |")
	// 8/64 -cpu 2: 1.2x chancas (missed), puddle 2.5x (met), chanpool-checks
	// 1.2x chanpool per pass (met), one alloc in chanpool's third run.
	assert.True(t, strings.HasPrefix(lines[3], "| 8 | 64 | 2 | 120 | 144 | 300 |"), lines[3])
	assert.Contains(t, lines[3], "| 1.20x ✗ | 2.50x ✓ | – | 1.20x ✓ | chanpool 1 ✗ | 1.20x |")

	v := verdicts[1]
	require.Len(t, v.marks, 4)
	assert.False(t, v.marks[0].met)
	assert.True(t, v.marks[1].met)
	assert.False(t, v.marks[2].ok, "smartconnpool was not run")
	assert.False(t, v.allocs.met)

	tallies := map[string]*tally{}
	var order []string
	tallyCells(tallies, &order, verdicts)
	assert.Equal(t, []string{casBar.name, puddleBar.name, smartBar.name, checksBar.name, "0 allocs/op"}, order)
	assert.Equal(t, 0, tallies[casBar.name].met)
	assert.Equal(t, 1, tallies[casBar.name].miss, "8/1 has no chancas: not counted")
	assert.Equal(t, 1, tallies[puddleBar.name].met)
	assert.Equal(t, 1, tallies[puddleBar.name].miss)
	assert.Equal(t, 0, tallies[smartBar.name].met+tallies[smartBar.name].miss)
	assert.Equal(t, []string{"AcquireRelease size=8 clients=64 -cpu 2 (chanpool 1)"}, tallies["0 allocs/op"].missed)
}

func TestProcs(t *testing.T) {
	assert.Equal(t, []int{1, 2}, readSample(t).procs())
}

// TestTailMarks checks the saturation bars: the median of the per-round
// throughput ratios, and the p99.9 wait against the pools' but not the
// floors'.
func TestTailMarks(t *testing.T) {
	tails := map[string]tailStats{
		"chanpool": {opsRounds: []int64{90, 100, 80}, p999: 500 * time.Microsecond},
		"chan":     {opsRounds: []int64{100, 100, 100}, p999: 100 * time.Microsecond},
		"puddle":   {opsRounds: []int64{50, 50, 50}, p999: 900 * time.Microsecond},
	}
	tp, p999 := tailMarks(tails)
	assert.InDelta(t, 0.9, tp.v, 1e-9, "median of 0.9, 1.0, 0.8")
	assert.False(t, tp.met)
	assert.True(t, p999.met, "chan is a floor, not a pool")

	tails["chanpool"] = tailStats{opsRounds: []int64{93, 93, 93}, p999: 500 * time.Microsecond}
	tp, _ = tailMarks(tails)
	assert.False(t, tp.met, "0.93 < 0.95")

	tails["chanpool"] = tailStats{opsRounds: []int64{96, 100, 95}, p999: 500 * time.Microsecond}
	tails["sql"] = tailStats{opsRounds: []int64{1, 1, 1}, p999: 400 * time.Microsecond}
	tp, p999 = tailMarks(tails)
	assert.True(t, tp.met, "0.96 ≥ 0.95")
	assert.False(t, p999.met)
	assert.Equal(t, "sql 400.0µs", p999.detail)
}

func TestReadCallgrind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cg.txt")
	out := `benchmark (GOMAXPROCS=1, 20000 and 220000 iterations)                  instructions/op
chanpool: ^BenchmarkAcquireRelease$                                      539
benchmarks: AcquireRelease/pool=chanpool/size=8/clients=1                 572
benchmarks: AcquireRelease/pool=chanpool-checks/size=8/clients=1          601
benchmarks: AcquireRelease/pool=chancas/size=8/clients=1                  520
`
	require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
	in, err := readCallgrind(path)
	require.NoError(t, err)
	assert.Equal(t, instructions{"chanpool": 572, benchmarks.Checks: 601, "chancas": 520}, in)
	m := in.mark()
	assert.InDelta(t, 1.1, m.v, 1e-9)
	assert.True(t, m.met, "572/520 = 1.1 ≤ 1.1")
	in["chanpool"] = 573
	assert.False(t, in.mark().met)

	require.NoError(t, os.WriteFile(path, []byte("valgrind: nothing\n"), 0o644))
	_, err = readCallgrind(path)
	assert.Error(t, err)
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

// synthetic returns results with the given ns/op runs, in pass order, for
// the contenders of one AcquireRelease cell (size 8, 1 client, -cpu 1).
func synthetic(runs map[string][]float64) (*results, cell) {
	c := cell{bench: "AcquireRelease", size: 8, clients: 1, procs: 1}
	r := &results{cells: map[cell]*samples{}}
	for name, ns := range runs {
		k := c
		k.pool = name
		r.cells[k] = &samples{ns: ns, allocs: make([]float64, len(ns))}
	}
	return r, c
}

// TestRatioIsPerPass: a ratio is the median of the per-pass ratios, which
// here (1, 1, 2) differs from the ratio of the medians (2).
func TestRatioIsPerPass(t *testing.T) {
	r, c := synthetic(map[string][]float64{"chanpool": {100, 300, 200}, "chancas": {100, 300, 100}})
	got, ok := r.ratio(c, "chanpool", "chancas")
	require.True(t, ok)
	assert.InDelta(t, 1, got, 1e-9)
}

// TestRatioBarLimits checks each bar at its limit (met) and just past it
// (missed).
func TestRatioBarLimits(t *testing.T) {
	for _, tc := range []struct {
		bar      ratioBar
		num, den float64
		met      bool
	}{
		{casBar, 115, 100, true},
		{casBar, 116, 100, false},
		{puddleBar, 200, 100, true},
		{puddleBar, 199, 100, false},
		{smartBar, 150, 100, true},
		{smartBar, 149, 100, false},
		{checksBar, 130, 100, true},
		{checksBar, 131, 100, false},
		{handoffBar, 95, 100, true},
		{handoffBar, 94, 100, false},
	} {
		r, c := synthetic(map[string][]float64{tc.bar.num: {tc.num}, tc.bar.den: {tc.den}})
		m := tc.bar.judge(r, c)
		assert.True(t, m.ok)
		assert.Equal(t, tc.met, m.met, "%s at %g/%g", tc.bar.name, tc.num, tc.den)
	}
}
