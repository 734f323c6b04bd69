package pgxpool_test

// The comparison behind the README's table (make bench): SELECT 1 through
// pgxpool and through this package, on the same server in the same run, 8
// connections each, at several client counts, in interleaved rounds (the
// order of the two pools alternates from round to round), reporting the
// median over the rounds of queries/s and latency percentiles.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	px "github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// querier is the one method both pools are driven through.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// round is one measurement: queries/s and latency percentiles.
type round struct {
	qps             float64
	p50, p99, p999  time.Duration
	errors, queries int
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestCompareWithPgxpool(t *testing.T) {
	if os.Getenv("CHANPOOL_PGX_BENCH") != "1" {
		t.Skip("the pgxpool comparison runs only with CHANPOOL_PGX_BENCH=1 (make -C contrib/pgx bench)")
	}
	rounds := envInt("ROUNDS", 5)
	dur := time.Duration(envInt("ROUND_MS", 1000)) * time.Millisecond
	s := startServer(t)
	dsn := s.connString("pool_max_conns=8&pool_min_conns=8")
	ctx := context.Background()
	pp, err := px.New(ctx, dsn)
	require.NoError(t, err)
	defer pp.Close()
	cp, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer cp.Close()
	pools := []struct {
		name string
		q    querier
	}{{"pgxpool", pp}, {"contrib/pgx", cp}}
	for _, p := range pools {
		measure(p.q, 8, 300*time.Millisecond) // warm up: dial, plan caches
	}

	clients := []int{1, 8, 64, 256}
	res := map[string]map[int][]round{}
	for r := range rounds {
		for _, n := range clients {
			for i := range pools {
				p := pools[(i+r)%len(pools)]
				if res[p.name] == nil {
					res[p.name] = map[int][]round{}
				}
				res[p.name][n] = append(res[p.name][n], measure(p.q, n, dur))
			}
		}
	}
	fmt.Printf("\nSELECT 1, 8 connections, %d rounds of %v, medians (pool order alternating by round)\n\n", rounds, dur)
	fmt.Println("| clients | pool | queries/s | p50 | p99 | p99.9 | errors |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|")
	for _, n := range clients {
		for _, p := range pools {
			rs := res[p.name][n]
			errs := 0
			for _, r := range rs {
				errs += r.errors
			}
			fmt.Printf("| %d | %s | %.0f | %v | %v | %v | %d |\n", n, p.name,
				median(rs, func(r round) float64 { return r.qps }),
				time.Duration(median(rs, func(r round) float64 { return float64(r.p50) })).Round(time.Microsecond),
				time.Duration(median(rs, func(r round) float64 { return float64(r.p99) })).Round(time.Microsecond),
				time.Duration(median(rs, func(r round) float64 { return float64(r.p999) })).Round(time.Microsecond),
				errs)
		}
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

// measure runs n clients doing SELECT 1 through q for d.
func measure(q querier, n int, d time.Duration) round {
	lat := make([][]time.Duration, n)
	errs := make([]int, n)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range n {
		wg.Go(func() {
			ctx := context.Background()
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				var one int
				if err := q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
					errs[i]++
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := round{queries: len(all), qps: float64(len(all)) / el.Seconds()}
	for _, e := range errs {
		r.errors += e
	}
	if len(all) > 0 {
		at := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
		r.p50, r.p99, r.p999 = at(0.50), at(0.99), at(0.999)
	}
	return r
}
