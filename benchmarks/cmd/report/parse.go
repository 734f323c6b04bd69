package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// cell identifies one benchmark case, GOMAXPROCS included.
type cell struct {
	bench         string // "AcquireRelease", "Hold", "Growth"
	pool          string
	size, clients int
	procs         int
}

// samples holds every run of one cell, one value per run.
type samples struct {
	ns, allocs, bytes []float64
}

// results is everything parsed from `go test -bench` output.
type results struct {
	cells map[cell]*samples
	cpu   string // the "cpu:" line go test prints
}

// readResults parses go test -bench output with benchfmt.
func readResults(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &results{cells: map[cell]*samples{}}
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		rec, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors and unit metadata
		}
		if res.cpu == "" {
			res.cpu = rec.GetConfig("cpu")
		}
		c, err := parseName(rec.Name)
		if err != nil {
			return nil, err
		}
		s := res.cells[c]
		if s == nil {
			s = &samples{}
			res.cells[c] = s
		}
		for _, v := range rec.Values {
			switch v.Unit {
			case "sec/op": // benchfmt's tidy form of ns/op
				s.ns = append(s.ns, v.Value*1e9)
			case "ns/op":
				s.ns = append(s.ns, v.Value)
			case "allocs/op":
				s.allocs = append(s.allocs, v.Value)
			case "B/op":
				s.bytes = append(s.bytes, v.Value)
			}
		}
	}
	if err := r.Err(); err != nil && err != io.EOF {
		return nil, err
	}
	if len(res.cells) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return res, nil
}

// parseName turns "AcquireRelease/pool=chanpool/size=8/clients=64-2" into a
// cell.
func parseName(n benchfmt.Name) (cell, error) {
	base, parts := n.Parts()
	c := cell{bench: string(base), procs: 1}
	for _, p := range parts {
		s := string(p)
		if procs, ok := strings.CutPrefix(s, "-"); ok {
			v, err := strconv.Atoi(procs)
			if err != nil {
				return c, fmt.Errorf("%s: %w", n.Full(), err)
			}
			c.procs = v
			continue
		}
		k, v, _ := strings.Cut(strings.TrimPrefix(s, "/"), "=")
		var err error
		switch k {
		case "pool":
			c.pool = v
		case "size":
			c.size, err = strconv.Atoi(v)
		case "clients":
			c.clients, err = strconv.Atoi(v)
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", n.Full(), err)
		}
	}
	return c, nil
}

// ns returns the median ns/op of a cell, and false if it was not run.
func (r *results) ns(c cell) (float64, bool) {
	s := r.cells[c]
	if s == nil || len(s.ns) == 0 {
		return 0, false
	}
	return median(s.ns), true
}

// ratio returns num's ns/op over den's in cell c (c.pool is ignored): the
// median of the per-pass ratios when both have one run per pass — run.sh
// runs the contenders of a cell back to back in each pass, so each ratio
// compares runs made seconds apart, under the same load —, else the ratio
// of the medians.
func (r *results) ratio(c cell, num, den string) (float64, bool) {
	c.pool = num
	n := r.cells[c]
	c.pool = den
	d := r.cells[c]
	if n == nil || d == nil || len(n.ns) == 0 || len(d.ns) == 0 {
		return 0, false
	}
	if len(n.ns) != len(d.ns) {
		return median(n.ns) / median(d.ns), true
	}
	rs := make([]float64, len(n.ns))
	for i := range rs {
		rs[i] = n.ns[i] / d.ns[i]
	}
	return median(rs), true
}

// allocs returns the largest allocs/op seen in any run of a cell.
func (r *results) allocs(c cell) (float64, bool) {
	s := r.cells[c]
	if s == nil || len(s.allocs) == 0 {
		return 0, false
	}
	return slices.Max(s.allocs), true
}

// has reports whether the results have any run of benchmark bench.
func (r *results) has(bench string) bool {
	for c := range r.cells {
		if c.bench == bench {
			return true
		}
	}
	return false
}

// procs returns the -cpu values of the results, ascending.
func (r *results) procs() []int {
	var ps []int
	for c := range r.cells {
		if !slices.Contains(ps, c.procs) {
			ps = append(ps, c.procs)
		}
	}
	slices.Sort(ps)
	return ps
}

// runs returns how many runs a cell has.
func (r *results) runs(c cell) int {
	if s := r.cells[c]; s != nil {
		return len(s.ns)
	}
	return 0
}

// median leaves xs in run order: benchmath.NewSample sorts the slice it is
// given, and ratio pairs the runs of two contenders by pass.
func median(xs []float64) float64 {
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(xs), &benchmath.DefaultThresholds), 0.95)
	return sum.Center
}
