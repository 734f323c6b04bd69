package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chanpool/chanpool/benchmarks"
)

// The bars chanpool is held to. Each is checked per cell; ratios of ns/op
// are medians of per-pass ratios (results.ratio).
const (
	barCAS     = 1.15 // chanpool's ns/op ≤ 1.15x chancas's (AcquireRelease)
	barPuddle  = 2.0  // chanpool's throughput ≥ 2x puddle's (AcquireRelease)
	barSmart   = 1.5  // ... and ≥ 1.5x smartconnpool's (AcquireRelease)
	barChecks  = 1.3  // chanpool-checks' ns/op ≤ 1.3x chanpool's (every cell)
	barHandoff = 0.95 // chanpool's throughput ≥ 0.95x chan's (Handoff, saturation tail)
	barInstr   = 1.1  // callgrind instructions ≤ 1.1x chancas's
)

// mark is one bar's verdict in one cell: the figure, and whether it meets
// the bar. ok is false where a contender of the ratio was not run.
type mark struct {
	v      float64
	met    bool
	ok     bool
	detail string // for allocs: which pool allocated
}

func (m mark) String() string {
	if !m.ok {
		return "–"
	}
	return fmt.Sprintf("%.2fx %s", m.v, tick(m.met))
}

func tick(met bool) string {
	if met {
		return "✓"
	}
	return "✗"
}

// ratioBar is a bar on num's ns/op over den's in a cell: at most limit
// (atMost), or at least.
type ratioBar struct {
	name     string // as the summary names it
	num, den string
	limit    float64
	atMost   bool
}

func (b ratioBar) judge(r *results, c cell) mark {
	v, ok := r.ratio(c, b.num, b.den)
	if !ok {
		return mark{}
	}
	met := v >= b.limit
	if b.atMost {
		met = v <= b.limit
	}
	return mark{v: v, met: met, ok: true}
}

// header is the bar's column title: the ratio and its limit.
func (b ratioBar) header() string {
	op := "≥"
	if b.atMost {
		op = "≤"
	}
	return fmt.Sprintf("%s/%s (%s %gx)", b.num, b.den, op, b.limit)
}

var (
	casBar     = ratioBar{"chanpool ≤ 1.15x chancas", "chanpool", "chancas", barCAS, true}
	puddleBar  = ratioBar{"chanpool ≥ 2x puddle's throughput", "puddle", "chanpool", barPuddle, false}
	smartBar   = ratioBar{"chanpool ≥ 1.5x smartconnpool's throughput", benchmarks.Smartconnpool, "chanpool", barSmart, false}
	checksBar  = ratioBar{"chanpool-checks ≤ 1.3x chanpool", benchmarks.Checks, "chanpool", barChecks, true}
	handoffBar = ratioBar{"chanpool ≥ 0.95x chan's throughput", "chan", "chanpool", barHandoff, false}
)

// The bars of each benchmark's cells; allocs are checked in every cell.
// Hold has none of its own: its table marks AcquireRelease's, for
// information.
var cellBars = map[string][]ratioBar{
	"AcquireRelease": {casBar, puddleBar, smartBar, checksBar},
	"Hold":           {casBar, puddleBar, smartBar, checksBar},
	"Handoff":        {handoffBar, checksBar},
}

// allocPools are the contenders whose allocs/op the bar wants at 0.
var allocPools = []string{"chanpool", benchmarks.Checks}

// allocMark checks that both chanpools allocated nothing in any run of c.
func allocMark(r *results, c cell) mark {
	m := mark{met: true}
	for _, name := range allocPools {
		c.pool = name
		a, ok := r.allocs(c)
		if !ok {
			continue
		}
		m.ok = true
		m.v = max(m.v, a)
		if a > 0 {
			m.met = false
			m.detail = strings.TrimSpace(m.detail + " " + fmt.Sprintf("%s %g", name, a))
		}
	}
	return m
}

func (m mark) allocString() string {
	switch {
	case !m.ok:
		return "–"
	case m.met:
		return "0 ✓"
	}
	return m.detail + " ✗"
}

// verdict is the bars' judgement of one cell.
type verdict struct {
	c      cell
	marks  []mark // one per bar of cellBars[c.bench]
	allocs mark
}

// tally counts, per bar, the cells that meet and miss it, and names the
// missing ones.
type tally struct {
	name      string
	met, miss int
	missed    []string
}

func (t *tally) add(m mark, where string) {
	if !m.ok {
		return
	}
	if m.met {
		t.met++
		return
	}
	t.miss++
	t.missed = append(t.missed, where)
}

// benchTable writes one markdown table for a benchmark: every cell, every
// contender's median ns/op, each bar's ratio marked met (✓) or missed (✗),
// the allocation bar, and chanpool/chan for information. It returns the
// verdicts.
func benchTable(w io.Writer, r *results, bench string, sizes, clients, procs []int) []verdict {
	bars := cellBars[bench]
	fmt.Fprintf(w, "| size | clients | -cpu |")
	for _, name := range benchmarks.GridNames {
		fmt.Fprintf(w, " %s |", name)
	}
	for _, b := range bars {
		fmt.Fprintf(w, " %s |", b.header())
	}
	fmt.Fprintf(w, " allocs/op (%s) | chanpool/chan |\n", strings.Join(allocPools, ", "))
	fmt.Fprintf(w, "|---:|---:|---:|%s%s---|---:|\n", strings.Repeat("---:|", len(benchmarks.GridNames)), strings.Repeat("---|", len(bars)))
	var verdicts []verdict
	for _, size := range sizes {
		for _, n := range clients {
			for _, p := range procs {
				c := cell{bench: bench, size: size, clients: n, procs: p}
				if r.runs(cell{bench, "chanpool", size, n, p}) == 0 {
					continue
				}
				fmt.Fprintf(w, "| %d | %d | %d |", size, n, p)
				for _, name := range benchmarks.GridNames {
					c.pool = name
					if ns, ok := r.ns(c); ok {
						fmt.Fprintf(w, " %s |", fmtNs(ns))
					} else {
						fmt.Fprint(w, " – |")
					}
				}
				c.pool = ""
				v := verdict{c: c, allocs: allocMark(r, c)}
				for _, b := range bars {
					m := b.judge(r, c)
					v.marks = append(v.marks, m)
					fmt.Fprintf(w, " %s |", m)
				}
				floor := "–"
				if f, ok := r.ratio(c, "chanpool", "chan"); ok {
					floor = fmt.Sprintf("%.2fx", f)
				}
				fmt.Fprintf(w, " %s | %s |\n", v.allocs.allocString(), floor)
				verdicts = append(verdicts, v)
			}
		}
	}
	return verdicts
}

// tallyCells adds the verdicts to the per-bar tallies, keyed by bar name.
func tallyCells(tallies map[string]*tally, order *[]string, verdicts []verdict) {
	get := func(name string) *tally {
		t := tallies[name]
		if t == nil {
			t = &tally{name: name}
			tallies[name] = t
			*order = append(*order, name)
		}
		return t
	}
	for _, v := range verdicts {
		where := fmt.Sprintf("%s size=%d clients=%d -cpu %d", v.c.bench, v.c.size, v.c.clients, v.c.procs)
		for i, b := range cellBars[v.c.bench] {
			t := get(b.name)
			t.add(v.marks[i], fmt.Sprintf("%s (%.2fx)", where, v.marks[i].v))
		}
		get("0 allocs/op").add(v.allocs, fmt.Sprintf("%s (%s)", where, v.allocs.detail))
	}
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
	if cp, ok := tails["chanpool"]; ok && sc.seed {
		if cp.p999 >= seedAcquire {
			misses = append(misses, fmt.Sprintf("%s: chanpool's p99.9 acquire %s ≥ %s", sc.title, fmtDur(cp.p999), seedAcquire))
		}
		if cp.relP999 >= seedRelease {
			misses = append(misses, fmt.Sprintf("%s: chanpool's p99.9 release %s ≥ %s", sc.title, fmtDur(cp.relP999), seedRelease))
		}
	}
	return misses
}

// tailMarks judges a tail scenario against the two bars on it: chanpool's
// acquires per round ≥ 0.95x chan's (the median of the per-round ratios,
// the contenders taking turns within a round), and its p99.9 acquire wait
// the lowest of the pools (the floors, which are no pools, aside). It
// returns them in that order, each with what it is about.
func tailMarks(tails map[string]tailStats) (throughput, p999 mark) {
	cp, ok := tails["chanpool"]
	if !ok {
		return mark{}, mark{}
	}
	if ch, ok := tails["chan"]; ok && len(ch.opsRounds) == len(cp.opsRounds) && len(cp.opsRounds) > 0 {
		rs := make([]float64, len(cp.opsRounds))
		for i := range rs {
			rs[i] = float64(cp.opsRounds[i]) / float64(max(ch.opsRounds[i], 1))
		}
		v := median(rs)
		throughput = mark{v: v, met: v >= barHandoff, ok: true}
	}
	p999 = mark{v: float64(cp.p999), met: true, ok: true}
	for _, name := range benchmarks.Names {
		t, ok := tails[name]
		if !ok || name == "chanpool" || slices.Contains(benchmarks.Floors, name) {
			continue
		}
		if t.p999 < cp.p999 {
			p999.met = false
			p999.detail = strings.TrimSpace(p999.detail + fmt.Sprintf(" %s %s", name, fmtDur(t.p999)))
		}
	}
	return throughput, p999
}

// instructions are callgrind's counts per acquire+release, by contender
// (benchmarks' AcquireRelease, size 8, 1 client), as callgrind.sh prints
// them.
type instructions map[string]float64

// readCallgrind parses callgrind.sh's output: lines ending in
// "AcquireRelease/pool=P/size=8/clients=1 N".
func readCallgrind(path string) (instructions, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	in := instructions{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[len(f)-2], "AcquireRelease/pool=") {
			continue
		}
		pool, _, _ := strings.Cut(strings.TrimPrefix(f[len(f)-2], "AcquireRelease/pool="), "/")
		n, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		in[pool] = n
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: no instruction counts", path)
	}
	return in, nil
}

// instrMark judges chanpool's instructions against chancas's.
func (in instructions) mark() mark {
	cp, ok1 := in["chanpool"]
	cas, ok2 := in["chancas"]
	if !ok1 || !ok2 || cas == 0 {
		return mark{}
	}
	v := cp / cas
	return mark{v: v, met: v <= barInstr, ok: true}
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
