package pgxpool_test

// The comparison behind the README's table (make bench): pgxpool and this
// package on the same server in the same run, 8 connections each, in
// interleaved rounds (every case and pool once a round, the order of the two
// pools alternating from round to round), reporting the median over the
// rounds of each figure. A request is acquire, query, release; its latency
// and the acquire wait alone go to HDR histograms (one per client, merged).
// The cases: SELECT 1 at several client counts, acquire+release with no
// query (the pool's own overhead), and a 1 ms server-side hold at 64
// clients.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// benchCase is one row pair of the table: clients running sql ("" for no
// query: acquire and release only). A pooled case runs sql through the
// pool's own QueryRow (acquire, query, release on Scan), timing the request
// only.
type benchCase struct {
	name    string
	sql     string
	clients int
	pooled  bool
}

func (c benchCase) key() string { return fmt.Sprintf("%s/clients=%d", c.name, c.clients) }

var benchCases = []benchCase{
	{"SELECT 1", "SELECT 1", 1, false},
	{"SELECT 1", "SELECT 1", 8, false},
	{"SELECT 1", "SELECT 1", 64, false},
	{"SELECT 1", "SELECT 1", 256, false},
	{"Pool.QueryRow SELECT 1", "SELECT 1", 1, true},
	{"Pool.QueryRow SELECT 1", "SELECT 1", 8, true},
	{"acquire+release", "", 1, false},
	{"acquire+release", "", 8, false},
	{"acquire+release", "", 64, false},
	{"pg_sleep(0.001)", "SELECT pg_sleep(0.001)", 64, false},
}

// round is one measurement: requests/s, request and acquire-wait
// percentiles.
type round struct {
	rps              float64
	req, acq         [4]time.Duration // p50, p99, p99.9, max
	errors, requests int
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestCompareWithPgxpool prints the README's table. ROUNDS and ROUND_MS set
// the length, CONNS each pool's connections (default 8); BENCH_POOL (a pool's name) and BENCH_CASE (a substring of a
// case's key, e.g. "SELECT 1/clients=8") restrict the run, for profiling one
// pool on one case.
func TestCompareWithPgxpool(t *testing.T) {
	if os.Getenv("CHANPOOL_PGX_BENCH") != "1" {
		t.Skip("the pgxpool comparison runs only with CHANPOOL_PGX_BENCH=1 (make -C contrib/pgx bench)")
	}
	rounds := envInt("ROUNDS", 5)
	dur := time.Duration(envInt("ROUND_MS", 1000)) * time.Millisecond
	conns := envInt("CONNS", 8)
	cp, pp := bothPools(t, startServer(t), conns)
	type named struct {
		name string
		l    leaser
		q    querier
	}
	pools := []named{{"pgxpool", leaserOf(pp.Acquire), pp}, {"contrib/pgx", leaserOf(cp.Acquire), cp}}
	if only := os.Getenv("BENCH_POOL"); only != "" {
		pools = slices.DeleteFunc(pools, func(p named) bool { return p.name != only })
	}
	cases := slices.DeleteFunc(slices.Clone(benchCases), func(c benchCase) bool {
		return !strings.Contains(c.key(), os.Getenv("BENCH_CASE"))
	})
	require.NotEmpty(t, pools, "BENCH_POOL names no pool")
	require.NotEmpty(t, cases, "BENCH_CASE matches no case")
	var h hists
	for _, p := range pools {
		h.measure(p.l, p.q, benchCase{"warm-up", "SELECT 1", 8, false}, 300*time.Millisecond) // dial, plan caches
	}

	res := map[string][]round{}
	for r := range rounds {
		for _, c := range cases {
			for i := range pools {
				p := pools[(i+r)%len(pools)]
				k := p.name + " " + c.key()
				res[k] = append(res[k], h.measure(p.l, p.q, c, dur))
			}
		}
	}
	fmt.Printf("\n%d connections, %d rounds of %v, medians over the rounds (pool order alternating by round)\n\n", conns, rounds, dur)
	fmt.Println("| case | clients | pool | requests/s | rounds' range | request p50 | p99 | p99.9 | max | acquire wait p50 | p99 | p99.9 | max | errors |")
	fmt.Println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range cases {
		for _, p := range pools {
			rs := res[p.name+" "+c.key()]
			errs := 0
			for _, r := range rs {
				errs += r.errors
			}
			lo, hi := rs[0].rps, rs[0].rps
			for _, r := range rs {
				lo, hi = min(lo, r.rps), max(hi, r.rps)
			}
			fmt.Printf("| %s | %d | %s | %.0f | %.0f–%.0f |", c.name, c.clients, p.name, median(rs, func(r round) float64 { return r.rps }), lo, hi)
			for _, f := range []func(round) [4]time.Duration{func(r round) [4]time.Duration { return r.req }, func(r round) [4]time.Duration { return r.acq }} {
				for q := range 4 {
					if c.pooled && f(rs[0]) == [4]time.Duration{} {
						fmt.Print(" – |") // not timed: the acquire is inside QueryRow
						continue
					}
					fmt.Printf(" %v |", roundDur(time.Duration(median(rs, func(r round) float64 { return float64(f(r)[q]) }))))
				}
			}
			fmt.Printf(" %d |\n", errs)
		}
	}
}

// roundDur keeps three significant figures.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond)
	default:
		return d.Round(10 * time.Nanosecond)
	}
}

func median(rs []round, f func(round) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// hists holds a request and an acquire histogram per client, reused from
// one measurement to the next.
type hists struct{ req, acq []*hdrhistogram.Histogram }

// newHist records nanoseconds from 1 ns to 10 s with three significant
// figures.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(10*time.Second), 3) }

// querier is the pool's own QueryRow, for the pooled cases.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// measure runs c.clients clients through l (q for a pooled case) for d.
func (h *hists) measure(l leaser, q querier, c benchCase, d time.Duration) round {
	for len(h.req) < c.clients {
		h.req, h.acq = append(h.req, newHist()), append(h.acq, newHist())
	}
	for i := range c.clients {
		h.req[i].Reset()
		h.acq[i].Reset()
	}
	errs := make([]int, c.clients)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range c.clients {
		wg.Go(func() {
			ctx := context.Background()
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				if c.pooled {
					if err := q.QueryRow(ctx, c.sql).Scan(nil); err != nil {
						errs[i]++
						continue
					}
					_ = h.req[i].RecordValue(int64(time.Since(t0)))
					continue
				}
				pc, release, err := l(ctx)
				if err != nil {
					errs[i]++
					continue
				}
				t1 := time.Now()
				if c.sql != "" {
					err = pc.QueryRow(ctx, c.sql).Scan(nil) // nil: the value is discarded
				}
				release()
				t2 := time.Now()
				if err != nil {
					errs[i]++
					continue
				}
				_ = h.acq[i].RecordValue(int64(t1.Sub(t0)))
				_ = h.req[i].RecordValue(int64(t2.Sub(t0)))
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	req, acq := newHist(), newHist()
	for i := range c.clients {
		req.Merge(h.req[i])
		acq.Merge(h.acq[i])
	}
	r := round{requests: int(req.TotalCount()), rps: float64(req.TotalCount()) / el.Seconds()}
	for _, e := range errs {
		r.errors += e
	}
	pct := func(h *hdrhistogram.Histogram) [4]time.Duration {
		return [4]time.Duration{time.Duration(h.ValueAtQuantile(50)), time.Duration(h.ValueAtQuantile(99)),
			time.Duration(h.ValueAtQuantile(99.9)), time.Duration(h.Max())}
	}
	r.req, r.acq = pct(req), pct(acq)
	return r
}
