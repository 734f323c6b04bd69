package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/chanpool/chanpool/benchmarks"
)

// tailScenario is one row group of the tail-latency table.
type tailScenario struct {
	title string
	tc    benchmarks.TailCase
	seed  bool // check the latency targets on this scenario
}

// The latency targets, checked at p99.9 with 50 callers waiting.
const (
	seedAcquire = 5 * time.Millisecond
	seedRelease = time.Millisecond
	seedWaiters = 50
	seedSize    = 8
)

func tailScenarios(d, warmup time.Duration) []tailScenario {
	hold := benchmarks.HoldIters()
	return []tailScenario{
		{
			title: "saturation: size 8, 256 clients",
			tc:    benchmarks.TailCase{Size: 8, Clients: 256, Hold: hold, Warmup: warmup, Duration: d},
		},
		{
			title: fmt.Sprintf("latency targets: size %d, %d clients (%d waiting)", seedSize, seedSize+seedWaiters, seedWaiters),
			tc:    benchmarks.TailCase{Size: seedSize, Clients: seedSize + seedWaiters, Hold: hold, Warmup: warmup, Duration: d},
			seed:  true,
		},
	}
}

// tailStats summarizes one contender in one scenario: each field is the
// median over the rounds, so that one round disturbed by the rest of the
// machine does not decide the table.
type tailStats struct {
	ops                       int64   // acquires recorded per round
	opsRounds                 []int64 // the same, each round, in run order
	p50, p99, p999, max, mean time.Duration
	spread                    float64
	relP99, relP999           time.Duration
	rounds                    int
}

func summarize(rounds []benchmarks.Tail) tailStats {
	med := func(f func(benchmarks.Tail) float64) float64 {
		xs := make([]float64, len(rounds))
		for i, t := range rounds {
			xs[i] = f(t)
		}
		slices.Sort(xs)
		if n := len(xs); n%2 == 0 {
			return (xs[n/2-1] + xs[n/2]) / 2
		}
		return xs[len(xs)/2]
	}
	q := func(pct float64, acquire bool) time.Duration {
		return time.Duration(med(func(t benchmarks.Tail) float64 {
			if acquire {
				return float64(t.Acquire.ValueAtQuantile(pct))
			}
			return float64(t.Release.ValueAtQuantile(pct))
		}))
	}
	return tailStats{
		ops: int64(med(func(t benchmarks.Tail) float64 { return float64(t.Ops) })),
		opsRounds: func() []int64 {
			ops := make([]int64, len(rounds))
			for i, t := range rounds {
				ops[i] = t.Ops
			}
			return ops
		}(),
		p50:     q(50, true),
		p99:     q(99, true),
		p999:    q(99.9, true),
		max:     time.Duration(med(func(t benchmarks.Tail) float64 { return float64(t.Acquire.Max()) })),
		mean:    time.Duration(med(func(t benchmarks.Tail) float64 { return t.Acquire.Mean() })),
		spread:  med(benchmarks.Tail.Spread),
		relP99:  q(99, false),
		relP999: q(99.9, false),
		rounds:  len(rounds),
	}
}

// runTails runs every scenario for every contender, rounds times, the
// contenders taking turns within each round so that a slow spell of the
// machine is shared out rather than landing on one of them.
func runTails(scenarios []tailScenario, rounds int, progress func(string, ...any)) ([]map[string]tailStats, error) {
	out := make([]map[string]tailStats, len(scenarios))
	for i, sc := range scenarios {
		all := map[string][]benchmarks.Tail{}
		for round := range rounds {
			for _, name := range benchmarks.Names {
				progress("tail %s, round %d/%d: %s", sc.title, round+1, rounds, name)
				c, err := benchmarks.New(name, sc.tc.Size, sc.tc.Clients)
				if err != nil {
					return nil, err
				}
				t, err := benchmarks.RunTail(c, sc.tc)
				if cerr := c.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return nil, fmt.Errorf("tail %s %s: %w", sc.title, name, err)
				}
				all[name] = append(all[name], t)
			}
		}
		out[i] = map[string]tailStats{}
		for name, ts := range all {
			out[i][name] = summarize(ts)
		}
	}
	return out, nil
}

// memory is what the memory harness measured.
type memory struct {
	waiters  []int                      // waiting-client counts, ascending
	waiter   map[string]map[int]float64 // pool → waiters → heap bytes per waiter
	connSize int
	perConn  map[string]float64 // pool → bytes per pooled connection beyond T
}

func runMemory(waiters []int, size, connSize int, progress func(string, ...any)) (*memory, error) {
	m := &memory{
		waiters:  waiters,
		waiter:   map[string]map[int]float64{},
		connSize: connSize,
		perConn:  map[string]float64{},
	}
	for _, name := range benchmarks.Names {
		m.waiter[name] = map[int]float64{}
		for _, n := range waiters {
			progress("memory: %s, %d waiting on %d connections", name, n, size)
			cost, err := benchmarks.MeasureWaiters(name, size, n)
			if err != nil {
				return nil, fmt.Errorf("memory %s %d waiters: %w", name, n, err)
			}
			m.waiter[name][n] = cost
		}
		progress("memory: %s, %d idle connections", name, connSize)
		b, err := benchmarks.ConnOverhead(name, connSize)
		if err != nil {
			return nil, fmt.Errorf("memory %s per connection: %w", name, err)
		}
		m.perConn[name] = b
	}
	return m, nil
}
