package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chanpool/chanpool/benchmarks"
)

// chanpool's performance targets, per cell.
const (
	barFloor        = 1.3 // chanpool ≤ 1.3x the channel floor
	barPuddle       = 2.0 // chanpool's throughput ≥ 2x puddle's ...
	barFloorPuddle  = 2.6 // ... unless even the floor is not 2.6x puddle's,
	barFloorInstead = 1.1 // then chanpool within 1.1x of the floor
)

// verdict is the targets' judgement of one cell.
type verdict struct {
	c            cell
	misses       []string
	overFloor    float64 // chanpool / chan
	overCAS      float64 // chanpool / chancas, for the report (the targets are about chan)
	puddleFactor float64 // puddle / chanpool: chanpool's throughput over puddle's
	// checks is chanpool-checks / chanpool, the cost of a HealthCheck and
	// a Reset, for the report; hasChecks is false in results without
	// chanpool-checks.
	checks    float64
	hasChecks bool
}

// allocPools are the contenders whose allocs/op the tables show: chanpool,
// chanpool-checks and the peers. The targets want 0 from both chanpools.
var allocPools = benchmarks.GridNames[:5]

func judge(r *results, c cell) (verdict, bool) {
	overFloor, ok1 := r.ratio(c, "chanpool", "chan")
	puddleFactor, ok2 := r.ratio(c, "puddle", "chanpool")
	floorFactor, ok3 := r.ratio(c, "puddle", "chan")
	if !ok1 || !ok2 || !ok3 {
		return verdict{}, false
	}
	v := verdict{c: c, overFloor: overFloor, puddleFactor: puddleFactor}
	v.overCAS, _ = r.ratio(c, "chanpool", "chancas")
	v.checks, v.hasChecks = r.ratio(c, benchmarks.Checks, "chanpool")
	if v.overFloor > barFloor {
		v.misses = append(v.misses, fmt.Sprintf("floor (%.2fx > %.1fx)", v.overFloor, barFloor))
	}
	if v.puddleFactor < barPuddle {
		if floorFactor >= barFloorPuddle {
			v.misses = append(v.misses, fmt.Sprintf("puddle (%.2fx < %.0fx)", v.puddleFactor, barPuddle))
		} else if v.overFloor > barFloorInstead {
			v.misses = append(v.misses, fmt.Sprintf("puddle (%.2fx < %.0fx, floor only %.2fx puddle, and %.2fx > %.1fx floor)",
				v.puddleFactor, barPuddle, floorFactor, v.overFloor, barFloorInstead))
		}
	}
	k := c
	k.pool = "chanpool"
	if a, ok := r.allocs(k); ok && a > 0 {
		v.misses = append(v.misses, fmt.Sprintf("allocs (%g/op)", a))
	}
	k.pool = benchmarks.Checks
	if a, ok := r.allocs(k); ok && a > 0 {
		v.misses = append(v.misses, fmt.Sprintf("allocs (%s %g/op)", benchmarks.Checks, a))
	}
	return v, true
}

// benchTable writes one markdown table for a benchmark: every cell, every
// contender's median ns/op, the ratios to chanpool's (those the targets are
// about, and chanpool-checks'), the allocs/op of both chanpools and the
// peers, and the verdict. It returns the verdicts.
func benchTable(w io.Writer, r *results, bench string, sizes, clients, procs []int) []verdict {
	fmt.Fprintf(w, "| size | clients | -cpu |")
	for _, name := range benchmarks.GridNames {
		fmt.Fprintf(w, " %s |", name)
	}
	fmt.Fprintf(w, " chanpool/chan | chanpool/chancas | %s/chanpool | puddle/chanpool | allocs/op (%s) | targets |\n",
		benchmarks.Checks, strings.Join(allocPools, " · "))
	fmt.Fprintf(w, "|---:|---:|---:|%s---:|---:|---:|---:|---|---|\n", strings.Repeat("---:|", len(benchmarks.GridNames)))
	var verdicts []verdict
	for _, size := range sizes {
		for _, n := range clients {
			for _, p := range procs {
				c := cell{bench: bench, size: size, clients: n, procs: p}
				fmt.Fprintf(w, "| %d | %d | %d |", size, n, p)
				for _, name := range benchmarks.GridNames {
					c.pool = name
					ns, ok := r.ns(c)
					if !ok {
						fmt.Fprint(w, " – |")
						continue
					}
					fmt.Fprintf(w, " %s |", fmtNs(ns))
				}
				c.pool = ""
				v, ok := judge(r, c)
				if !ok {
					fmt.Fprintln(w, " – | – | – | – | – | – |")
					continue
				}
				verdicts = append(verdicts, v)
				var allocs []string
				for _, name := range allocPools {
					c.pool = name
					if a, ok := r.allocs(c); ok {
						allocs = append(allocs, fmt.Sprintf("%g", a))
					} else {
						allocs = append(allocs, "–")
					}
				}
				checks := "–"
				if v.hasChecks {
					checks = fmt.Sprintf("%.2fx", v.checks)
				}
				mark := "✓"
				if len(v.misses) > 0 {
					mark = "✗ " + strings.Join(v.misses, "; ")
				}
				fmt.Fprintf(w, " %.2fx | %.2fx | %s | %.2fx | %s | %s |\n",
					v.overFloor, v.overCAS, checks, v.puddleFactor, strings.Join(allocs, " · "), mark)
			}
		}
	}
	return verdicts
}

// tailTable writes the tail-latency table of one scenario and returns the
// targets it misses.
func tailTable(w io.Writer, sc tailScenario, tails map[string]tailStats) []string {
	seedHead, seedRule := "", ""
	if sc.seed {
		seedHead, seedRule = " targets |", "---|"
	}
	fmt.Fprintln(w, "| pool | acquires/round | acquire p50 | p99 | p99.9 | max | mean | spread (max/mean) | p99.9/p50 | release p99 | release p99.9 |"+seedHead)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"+seedRule)
	for _, name := range benchmarks.Names {
		t, ok := tails[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %.1f | %s | %s | %s |", name, t.ops,
			fmtDur(t.p50), fmtDur(t.p99), fmtDur(t.p999), fmtDur(t.max), fmtDur(t.mean), t.spread,
			tailRatio(t.p999, t.p50), fmtDur(t.relP99), fmtDur(t.relP999))
		if sc.seed {
			mark := "✓"
			if t.p999 >= seedAcquire || t.relP999 >= seedRelease {
				mark = "✗"
			}
			fmt.Fprintf(w, " %s |", mark)
		}
		fmt.Fprintln(w)
	}

	var misses []string
	cp, okc := tails["chanpool"]
	pu, okp := tails["puddle"]
	if okc && okp && cp.p999 > pu.p999 {
		misses = append(misses, fmt.Sprintf("%s: chanpool's p99.9 acquire wait %s > puddle's %s", sc.title, fmtDur(cp.p999), fmtDur(pu.p999)))
	}
	if okc {
		var better []string
		for _, name := range benchmarks.Names {
			if t, ok := tails[name]; ok && name != "chanpool" && t.spread < cp.spread {
				better = append(better, fmt.Sprintf("%s %.1f", name, t.spread))
			}
		}
		if len(better) > 0 {
			misses = append(misses, fmt.Sprintf("%s: chanpool's fairness spread %.1f is not the smallest (%s)", sc.title, cp.spread, strings.Join(better, ", ")))
		}
		if sc.seed && cp.p999 >= seedAcquire {
			misses = append(misses, fmt.Sprintf("%s: chanpool's p99.9 acquire %s ≥ %s", sc.title, fmtDur(cp.p999), seedAcquire))
		}
		if sc.seed && cp.relP999 >= seedRelease {
			misses = append(misses, fmt.Sprintf("%s: chanpool's p99.9 release %s ≥ %s", sc.title, fmtDur(cp.relP999), seedRelease))
		}
	}
	return misses
}

// tailRatio formats p999/p50, the width of the body of the wait
// distribution: unlike max/mean, one slow wait does not set it.
func tailRatio(p999, p50 time.Duration) string {
	if p50 <= 0 {
		return "–"
	}
	r := float64(p999) / float64(p50)
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// growthTable writes ns/op of BenchmarkGrowth, one row per contender and
// GOMAXPROCS, one column per client count.
func growthTable(w io.Writer, r *results, size int, clients, procs []int) {
	fmt.Fprint(w, "| pool | -cpu |")
	for _, n := range clients {
		fmt.Fprintf(w, " %d clients |", n)
	}
	fmt.Fprintf(w, "\n|---|---:|%s\n", strings.Repeat("---:|", len(clients)))
	for _, name := range benchmarks.Names {
		for _, p := range procs {
			fmt.Fprintf(w, "| %s | %d |", name, p)
			for _, n := range clients {
				if ns, ok := r.ns(cell{"Growth", name, size, n, p}); ok {
					fmt.Fprintf(w, " %s |", fmtNs(ns))
				} else {
					fmt.Fprint(w, " – |")
				}
			}
			fmt.Fprintln(w)
		}
	}
}

// memoryTable writes the bytes per waiting client and per connection.
func memoryTable(w io.Writer, m *memory) {
	fmt.Fprint(w, "| pool |")
	for _, n := range m.waiters {
		fmt.Fprintf(w, " B/waiter, %d waiting |", n)
	}
	fmt.Fprintf(w, " B/conn beyond T, %d idle |\n", m.connSize)
	fmt.Fprintf(w, "|---|%s---:|\n", strings.Repeat("---:|", len(m.waiters)))
	for _, name := range benchmarks.Names {
		fmt.Fprintf(w, "| %s |", name)
		for _, n := range m.waiters {
			fmt.Fprintf(w, " %.0f |", m.waiter[name][n])
		}
		fmt.Fprintf(w, " %.0f |\n", m.perConn[name])
	}
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	case ns >= 100:
		return fmt.Sprintf("%.0f", ns)
	}
	return fmt.Sprintf("%.1f", ns)
}

func fmtDur(dur time.Duration) string {
	d := float64(dur)
	switch {
	case d >= 1e9:
		return fmt.Sprintf("%.2fs", d/1e9)
	case d >= 1e6:
		return fmt.Sprintf("%.2fms", d/1e6)
	case d >= 1e3:
		return fmt.Sprintf("%.1fµs", d/1e3)
	}
	return fmt.Sprintf("%dns", int64(dur))
}
