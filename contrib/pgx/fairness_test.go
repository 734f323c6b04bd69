package pgxpool_test

// Saturation against a real server: many more clients than connections,
// each request holding its connection for a server-side pg_sleep, so that
// every acquire waits. A FIFO pool serves the waiters in turn, which shows
// in the tail: no client starves and the slowest waits stay near the typical
// one.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	px "github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// leaser is the acquire and release both pools are driven through: it
// returns the leased connection and the function giving it back.
type leaser func(ctx context.Context) (*pgx.Conn, func(), error)

// leaserOf is the leaser of a pool's Acquire, whichever pool's.
func leaserOf[C interface {
	Conn() *pgx.Conn
	Release()
}](acquire func(context.Context) (C, error)) leaser {
	return func(ctx context.Context) (*pgx.Conn, func(), error) {
		c, err := acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		return c.Conn(), c.Release, nil
	}
}

// bothPools starts a contrib/pgx pool and a pgxpool on s, conns
// connections each, closed at the end of the test.
func bothPools(t *testing.T, s *server, conns int) (*pgxpool.Pool, *px.Pool) {
	t.Helper()
	settings := fmt.Sprintf("pool_max_conns=%d&pool_min_conns=%d", conns, conns)
	cp := newPool(t, s, settings, nil)
	pp, err := px.New(context.Background(), s.connString(settings))
	require.NoError(t, err)
	t.Cleanup(pp.Close)
	return cp, pp
}

// saturation is what a saturating load saw: each client's request count,
// every acquire wait, and the requests that failed.
type saturation struct {
	counts []int
	waits  []time.Duration // sorted
	errors int
}

// saturate runs n clients looping acquire, sql, release through l for d
// (after a warm-up of warm, not recorded), each acquire and query bounded
// by a 5 s context.
func saturate(l leaser, n int, sql string, warm, d time.Duration) saturation {
	counts := make([]int, n)
	waits := make([][]time.Duration, n)
	errs := make([]int, n)
	from := time.Now().Add(warm)
	end := from.Add(d)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, release, err := l(ctx)
				wait := time.Since(t0)
				if err == nil {
					_, err = c.Exec(ctx, sql)
					release()
				}
				cancel()
				if t0.Before(from) {
					continue
				}
				if err != nil {
					errs[i]++
					continue
				}
				counts[i]++
				waits[i] = append(waits[i], wait)
			}
		})
	}
	wg.Wait()
	s := saturation{counts: counts, waits: slices.Concat(waits...)}
	slices.Sort(s.waits)
	for _, e := range errs {
		s.errors += e
	}
	return s
}

// quantile is the q-quantile of sorted v (v non-empty).
func quantile[T any](v []T, q float64) T { return v[min(len(v)-1, int(q*float64(len(v))))] }

func (s saturation) minCount() int { return slices.Min(s.counts) }
func (s saturation) medianCount() int {
	c := slices.Sorted(slices.Values(s.counts))
	return quantile(c, 0.5)
}

func (s saturation) String() string {
	if len(s.waits) == 0 {
		return "no request succeeded"
	}
	w := func(q float64) time.Duration { return quantile(s.waits, q).Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d requests, %d failed; per client min %d, median %d, max %d; acquire wait p50 %v, p99 %v, p99.9 %v, max %v (p99.9/p50 %.1f)",
		len(s.waits), s.errors, s.minCount(), s.medianCount(), slices.Max(s.counts),
		w(0.5), w(0.99), w(0.999), s.waits[len(s.waits)-1], float64(quantile(s.waits, 0.999))/float64(quantile(s.waits, 0.5)))
}

// 64 clients on 8 connections, each request holding its connection for a
// 2 ms pg_sleep, for 2 s: every client completes requests (the least served
// at least a quarter of the median client's count) and the acquire-wait
// p99.9 stays within a few times the median wait. pgxpool's figures from
// the same run are logged, not asserted.
func TestSaturationIsFair(t *testing.T) {
	const (
		clients = 64
		sql     = "SELECT pg_sleep(0.002)"
		warm    = 300 * time.Millisecond
		run     = 2 * time.Second
		// The bounds leave a wide margin over what a loaded 2-core machine
		// measures (see the README's Tests section).
		minShare  = 0.25
		tailRatio = 10.0
	)
	cp, pp := bothPools(t, startServer(t), 8)
	got := saturate(leaserOf(cp.Acquire), clients, sql, warm, run)
	ref := saturate(leaserOf(pp.Acquire), clients, sql, warm, run)
	t.Logf("contrib/pgx: %v", got)
	t.Logf("pgxpool:     %v", ref)

	require.NotEmpty(t, got.waits, "no request succeeded")
	assert.Zero(t, got.errors, "requests failed")
	assert.GreaterOrEqual(t, float64(got.minCount()), minShare*float64(got.medianCount()),
		"a client starved: got %d requests, the median client %d", got.minCount(), got.medianCount())
	med, tail := quantile(got.waits, 0.5), quantile(got.waits, 0.999)
	assert.LessOrEqual(t, float64(tail), tailRatio*float64(med),
		"acquire-wait p99.9 %v more than %v times the median %v", tail, tailRatio, med)
}
