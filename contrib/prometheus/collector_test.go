package chanpoolprom_test

import (
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolprom "github.com/chanpool/chanpool/contrib/prometheus"
)

var update = flag.Bool("update", false, "rewrite testdata/fixed.prom from the collector's output")

// TestCollectFixedStats pins the whole exposition — names, help, types,
// labels and values — for Stats with a different number in every field, so
// that a field exported under the wrong name shows up here.
func TestCollectFixedStats(t *testing.T) {
	const golden = "testdata/fixed.prom"
	c := chanpoolprom.NewCollector(&fakeSource{stats: fixedStats},
		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "db"}))
	if *update {
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(c))
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		require.NoError(t, os.WriteFile(golden, rec.Body.Bytes(), 0o644))
	}
	want, err := os.Open(golden)
	require.NoError(t, err)
	defer want.Close()
	assert.NoError(t, testutil.CollectAndCompare(c, want))
}

func TestLint(t *testing.T) {
	for name, stats := range map[string]chanpool.Stats{
		"fixed":    fixedStats,
		"zero":     {},
		"new pool": newPool(t, chanpool.Config[*conn]{}).Stats(),
	} {
		t.Run(name, func(t *testing.T) {
			c := chanpoolprom.NewCollector(&fakeSource{stats: stats},
				chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "db"}))
			problems, err := testutil.CollectAndLint(c)
			require.NoError(t, err)
			assert.Empty(t, problems)
		})
	}
}

// A latency without samples has no recent-quantile series (a quantile of 0
// would read as "instant" on a dashboard), but its histogram is there, empty,
// so that rate() over it works from the first scrape.
func TestNoSamplesNoQuantiles(t *testing.T) {
	stats := fixedStats
	stats.DialTime = histogram() // as a pool that never dialed reports it
	c := chanpoolprom.NewCollector(&fakeSource{stats: stats})
	want := `
# HELP chanpool_dial_seconds Durations of successful dials since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.
# TYPE chanpool_dial_seconds histogram
chanpool_dial_seconds_bucket{le="1.024e-06"} 0
chanpool_dial_seconds_bucket{le="2.048e-06"} 0
chanpool_dial_seconds_bucket{le="4.096e-06"} 0
chanpool_dial_seconds_bucket{le="8.192e-06"} 0
chanpool_dial_seconds_bucket{le="1.6384e-05"} 0
chanpool_dial_seconds_bucket{le="3.2768e-05"} 0
chanpool_dial_seconds_bucket{le="6.5536e-05"} 0
chanpool_dial_seconds_bucket{le="0.000131072"} 0
chanpool_dial_seconds_bucket{le="0.000262144"} 0
chanpool_dial_seconds_bucket{le="0.000524288"} 0
chanpool_dial_seconds_bucket{le="0.001048576"} 0
chanpool_dial_seconds_bucket{le="0.002097152"} 0
chanpool_dial_seconds_bucket{le="0.004194304"} 0
chanpool_dial_seconds_bucket{le="0.008388608"} 0
chanpool_dial_seconds_bucket{le="0.016777216"} 0
chanpool_dial_seconds_bucket{le="0.033554432"} 0
chanpool_dial_seconds_bucket{le="0.067108864"} 0
chanpool_dial_seconds_bucket{le="0.134217728"} 0
chanpool_dial_seconds_bucket{le="0.268435456"} 0
chanpool_dial_seconds_bucket{le="0.536870912"} 0
chanpool_dial_seconds_bucket{le="1.073741824"} 0
chanpool_dial_seconds_bucket{le="2.147483648"} 0
chanpool_dial_seconds_bucket{le="4.294967296"} 0
chanpool_dial_seconds_bucket{le="8.589934592"} 0
chanpool_dial_seconds_bucket{le="17.179869184"} 0
chanpool_dial_seconds_bucket{le="34.359738368"} 0
chanpool_dial_seconds_bucket{le="68.719476736"} 0
chanpool_dial_seconds_bucket{le="+Inf"} 0
chanpool_dial_seconds_sum 0
chanpool_dial_seconds_count 0
`
	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"chanpool_dial_seconds", "chanpool_dial_recent_seconds"))
	assert.Equal(t, 5, testutil.CollectAndCount(c, "chanpool_hold_recent_seconds"), "hold quantiles, which have samples")
}

// Every CloseReason the pool knows has its series, so that a reason added
// to chanpool cannot go missing from the export unnoticed.
func TestCloseReasonsCovered(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(chanpoolprom.NewCollector(&fakeSource{stats: fixedStats})))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "chanpool_connections_closed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					got[l.GetValue()] = true
				}
			}
		}
	}
	var n int
	for r := chanpool.CloseReason(0); r.String() != "unknown"; r++ {
		assert.True(t, got[r.String()], "reason %q (CloseReason %d) not exported", r, r)
		n++
	}
	assert.Len(t, got, n, "exported reasons: got %v", got)
}

func TestCollectReadsStatsOnce(t *testing.T) {
	src := &fakeSource{stats: fixedStats}
	c := chanpoolprom.NewCollector(src)
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	assert.Equal(t, int64(1), src.calls.Load(), "Stats calls per Collect")
	assert.Equal(t, 54, len(ch), "metrics per Collect") // 24 one-number metrics, 12 close reasons, 3 × (histogram + 5 quantiles)
}

// A real pool, in a synctest bubble so that every duration is exact: the
// dial takes 10ms (so does the first acquire, which waits for it) and the
// one timed lease lasts 5ms. Each histogram has its one sample from the
// first bound at or above it on: 2^24 ns (16.8ms) for 10ms, 2^23 ns (8.4ms)
// for 5ms.
func TestRealPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, chanpool.Config[*conn]{
			Dial: func(context.Context) (*conn, error) {
				time.Sleep(10 * time.Millisecond)
				return &conn{}, nil
			},
			MaxConns:       1,
			AcquireTimeout: time.Second,
			LeakThreshold:  time.Hour, // times every lease's hold, not one in 64
		})
		ctx := t.Context()

		c1, err := p.Acquire(ctx) // dials, waits 10ms
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond)
		require.NoError(t, c1.Release())

		c2, err := p.Acquire(ctx) // idle: no wait
		require.NoError(t, err)
		_, err = p.Acquire(ctx) // nothing idle, no room to dial
		require.ErrorIs(t, err, chanpool.ErrAcquireTimeout)
		require.NoError(t, c2.Destroy())                      // not timed: holds end with Release
		require.ErrorIs(t, c2.Release(), chanpool.ErrNotHeld) // misuse

		want := `
# HELP chanpool_acquires_total Leases granted by Acquire and TryAcquire.
# TYPE chanpool_acquires_total counter
chanpool_acquires_total 2
# HELP chanpool_releases_total Leases ended by Conn.Release.
# TYPE chanpool_releases_total counter
chanpool_releases_total 1
# HELP chanpool_destroyed_busy_total Leases ended by Conn.Destroy, or by a forced Close that closed the connection under its holder.
# TYPE chanpool_destroyed_busy_total counter
chanpool_destroyed_busy_total 1
# HELP chanpool_connections_created_total Connections dialed successfully.
# TYPE chanpool_connections_created_total counter
chanpool_connections_created_total 1
# HELP chanpool_acquire_waits_total Acquires that found no idle connection and waited for a release or a dial, then got a connection.
# TYPE chanpool_acquire_waits_total counter
chanpool_acquire_waits_total 1
# HELP chanpool_acquire_timeouts_total Acquire calls that failed with ErrAcquireTimeout.
# TYPE chanpool_acquire_timeouts_total counter
chanpool_acquire_timeouts_total 1
# HELP chanpool_misuse_total Release or Destroy calls through a handle that does not hold the lease (ignored by the pool).
# TYPE chanpool_misuse_total counter
chanpool_misuse_total 1
# HELP chanpool_connections Open connections plus dials in flight; never more than max_connections.
# TYPE chanpool_connections gauge
chanpool_connections 0
# HELP chanpool_max_connections Config.MaxConns in force: the most connections, open plus dialing, the pool allows.
# TYPE chanpool_max_connections gauge
chanpool_max_connections 1
# HELP chanpool_acquire_wait_seconds How long the acquires that found no idle connection waited (see acquire_waits_total), since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.
# TYPE chanpool_acquire_wait_seconds histogram
chanpool_acquire_wait_seconds_bucket{le="1.024e-06"} 0
chanpool_acquire_wait_seconds_bucket{le="2.048e-06"} 0
chanpool_acquire_wait_seconds_bucket{le="4.096e-06"} 0
chanpool_acquire_wait_seconds_bucket{le="8.192e-06"} 0
chanpool_acquire_wait_seconds_bucket{le="1.6384e-05"} 0
chanpool_acquire_wait_seconds_bucket{le="3.2768e-05"} 0
chanpool_acquire_wait_seconds_bucket{le="6.5536e-05"} 0
chanpool_acquire_wait_seconds_bucket{le="0.000131072"} 0
chanpool_acquire_wait_seconds_bucket{le="0.000262144"} 0
chanpool_acquire_wait_seconds_bucket{le="0.000524288"} 0
chanpool_acquire_wait_seconds_bucket{le="0.001048576"} 0
chanpool_acquire_wait_seconds_bucket{le="0.002097152"} 0
chanpool_acquire_wait_seconds_bucket{le="0.004194304"} 0
chanpool_acquire_wait_seconds_bucket{le="0.008388608"} 0
chanpool_acquire_wait_seconds_bucket{le="0.016777216"} 1
chanpool_acquire_wait_seconds_bucket{le="0.033554432"} 1
chanpool_acquire_wait_seconds_bucket{le="0.067108864"} 1
chanpool_acquire_wait_seconds_bucket{le="0.134217728"} 1
chanpool_acquire_wait_seconds_bucket{le="0.268435456"} 1
chanpool_acquire_wait_seconds_bucket{le="0.536870912"} 1
chanpool_acquire_wait_seconds_bucket{le="1.073741824"} 1
chanpool_acquire_wait_seconds_bucket{le="2.147483648"} 1
chanpool_acquire_wait_seconds_bucket{le="4.294967296"} 1
chanpool_acquire_wait_seconds_bucket{le="8.589934592"} 1
chanpool_acquire_wait_seconds_bucket{le="17.179869184"} 1
chanpool_acquire_wait_seconds_bucket{le="34.359738368"} 1
chanpool_acquire_wait_seconds_bucket{le="68.719476736"} 1
chanpool_acquire_wait_seconds_bucket{le="+Inf"} 1
chanpool_acquire_wait_seconds_sum 0.01
chanpool_acquire_wait_seconds_count 1
# HELP chanpool_acquire_wait_recent_seconds Quantile q of how long the most recent acquires that had to wait waited, over up to 1024 of them; q="1" is their maximum. Absent until the first such acquire.
# TYPE chanpool_acquire_wait_recent_seconds gauge
chanpool_acquire_wait_recent_seconds{q="0.5"} 0.01
chanpool_acquire_wait_recent_seconds{q="0.9"} 0.01
chanpool_acquire_wait_recent_seconds{q="0.99"} 0.01
chanpool_acquire_wait_recent_seconds{q="0.999"} 0.01
chanpool_acquire_wait_recent_seconds{q="1"} 0.01
# HELP chanpool_hold_seconds Lease durations, acquire to release, of the sampled leases (one in 64 per connection; every lease when Config.LeakThreshold is set), since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.
# TYPE chanpool_hold_seconds histogram
chanpool_hold_seconds_bucket{le="1.024e-06"} 0
chanpool_hold_seconds_bucket{le="2.048e-06"} 0
chanpool_hold_seconds_bucket{le="4.096e-06"} 0
chanpool_hold_seconds_bucket{le="8.192e-06"} 0
chanpool_hold_seconds_bucket{le="1.6384e-05"} 0
chanpool_hold_seconds_bucket{le="3.2768e-05"} 0
chanpool_hold_seconds_bucket{le="6.5536e-05"} 0
chanpool_hold_seconds_bucket{le="0.000131072"} 0
chanpool_hold_seconds_bucket{le="0.000262144"} 0
chanpool_hold_seconds_bucket{le="0.000524288"} 0
chanpool_hold_seconds_bucket{le="0.001048576"} 0
chanpool_hold_seconds_bucket{le="0.002097152"} 0
chanpool_hold_seconds_bucket{le="0.004194304"} 0
chanpool_hold_seconds_bucket{le="0.008388608"} 1
chanpool_hold_seconds_bucket{le="0.016777216"} 1
chanpool_hold_seconds_bucket{le="0.033554432"} 1
chanpool_hold_seconds_bucket{le="0.067108864"} 1
chanpool_hold_seconds_bucket{le="0.134217728"} 1
chanpool_hold_seconds_bucket{le="0.268435456"} 1
chanpool_hold_seconds_bucket{le="0.536870912"} 1
chanpool_hold_seconds_bucket{le="1.073741824"} 1
chanpool_hold_seconds_bucket{le="2.147483648"} 1
chanpool_hold_seconds_bucket{le="4.294967296"} 1
chanpool_hold_seconds_bucket{le="8.589934592"} 1
chanpool_hold_seconds_bucket{le="17.179869184"} 1
chanpool_hold_seconds_bucket{le="34.359738368"} 1
chanpool_hold_seconds_bucket{le="68.719476736"} 1
chanpool_hold_seconds_bucket{le="+Inf"} 1
chanpool_hold_seconds_sum 0.005
chanpool_hold_seconds_count 1
# HELP chanpool_hold_recent_seconds Quantile q of recent lease durations over up to 1024 sampled leases; q="1" is their maximum. Absent until the first sample.
# TYPE chanpool_hold_recent_seconds gauge
chanpool_hold_recent_seconds{q="0.5"} 0.005
chanpool_hold_recent_seconds{q="0.9"} 0.005
chanpool_hold_recent_seconds{q="0.99"} 0.005
chanpool_hold_recent_seconds{q="0.999"} 0.005
chanpool_hold_recent_seconds{q="1"} 0.005
# HELP chanpool_dial_seconds Durations of successful dials since the pool was made. Buckets are the powers of two from 1.024µs to 68.7s.
# TYPE chanpool_dial_seconds histogram
chanpool_dial_seconds_bucket{le="1.024e-06"} 0
chanpool_dial_seconds_bucket{le="2.048e-06"} 0
chanpool_dial_seconds_bucket{le="4.096e-06"} 0
chanpool_dial_seconds_bucket{le="8.192e-06"} 0
chanpool_dial_seconds_bucket{le="1.6384e-05"} 0
chanpool_dial_seconds_bucket{le="3.2768e-05"} 0
chanpool_dial_seconds_bucket{le="6.5536e-05"} 0
chanpool_dial_seconds_bucket{le="0.000131072"} 0
chanpool_dial_seconds_bucket{le="0.000262144"} 0
chanpool_dial_seconds_bucket{le="0.000524288"} 0
chanpool_dial_seconds_bucket{le="0.001048576"} 0
chanpool_dial_seconds_bucket{le="0.002097152"} 0
chanpool_dial_seconds_bucket{le="0.004194304"} 0
chanpool_dial_seconds_bucket{le="0.008388608"} 0
chanpool_dial_seconds_bucket{le="0.016777216"} 1
chanpool_dial_seconds_bucket{le="0.033554432"} 1
chanpool_dial_seconds_bucket{le="0.067108864"} 1
chanpool_dial_seconds_bucket{le="0.134217728"} 1
chanpool_dial_seconds_bucket{le="0.268435456"} 1
chanpool_dial_seconds_bucket{le="0.536870912"} 1
chanpool_dial_seconds_bucket{le="1.073741824"} 1
chanpool_dial_seconds_bucket{le="2.147483648"} 1
chanpool_dial_seconds_bucket{le="4.294967296"} 1
chanpool_dial_seconds_bucket{le="8.589934592"} 1
chanpool_dial_seconds_bucket{le="17.179869184"} 1
chanpool_dial_seconds_bucket{le="34.359738368"} 1
chanpool_dial_seconds_bucket{le="68.719476736"} 1
chanpool_dial_seconds_bucket{le="+Inf"} 1
chanpool_dial_seconds_sum 0.01
chanpool_dial_seconds_count 1
# HELP chanpool_dial_recent_seconds Quantile q of the duration of recent successful dials, over up to 1024 of them; q="1" is their maximum. Absent until the first dial.
# TYPE chanpool_dial_recent_seconds gauge
chanpool_dial_recent_seconds{q="0.5"} 0.01
chanpool_dial_recent_seconds{q="0.9"} 0.01
chanpool_dial_recent_seconds{q="0.99"} 0.01
chanpool_dial_recent_seconds{q="0.999"} 0.01
chanpool_dial_recent_seconds{q="1"} 0.01
`
		c := chanpoolprom.NewCollector(p)
		assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
			"chanpool_acquires_total", "chanpool_releases_total", "chanpool_destroyed_busy_total",
			"chanpool_connections_created_total", "chanpool_acquire_waits_total",
			"chanpool_acquire_timeouts_total", "chanpool_misuse_total",
			"chanpool_connections", "chanpool_max_connections",
			"chanpool_acquire_wait_seconds", "chanpool_acquire_wait_recent_seconds",
			"chanpool_hold_seconds", "chanpool_hold_recent_seconds",
			"chanpool_dial_seconds", "chanpool_dial_recent_seconds"))

		// Closing the pool counts as closes, and the Collector keeps
		// reporting the closed pool.
		require.NoError(t, p.Close(context.Background()))
		want = `
# HELP chanpool_connections_closed_total Connections closed, by reason: idle (surplus for IdleTimeout), lifetime (past MaxLifetime), health (HealthCheck failed), reset (Reset failed), destroy (Conn.Destroy), pool_closed (the pool closed), leaked (the handle was lost without Release or Destroy), resize (surplus to a lowered MaxConns), pool_reset (retired by Pool.Reset), keepalive (failed a keepalive ping), group_cap (closed to make room for another key under a Group's cap), detached (taken out of the pool by Conn.Detach, not closed).
# TYPE chanpool_connections_closed_total counter
chanpool_connections_closed_total{reason="destroy"} 1
chanpool_connections_closed_total{reason="detached"} 0
chanpool_connections_closed_total{reason="group_cap"} 0
chanpool_connections_closed_total{reason="health"} 0
chanpool_connections_closed_total{reason="idle"} 0
chanpool_connections_closed_total{reason="keepalive"} 0
chanpool_connections_closed_total{reason="leaked"} 0
chanpool_connections_closed_total{reason="lifetime"} 0
chanpool_connections_closed_total{reason="pool_closed"} 0
chanpool_connections_closed_total{reason="pool_reset"} 0
chanpool_connections_closed_total{reason="reset"} 0
chanpool_connections_closed_total{reason="resize"} 0
`
		assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "chanpool_connections_closed_total"))
	})
}

// Scrapes run concurrently with acquires and with each other (run with
// -race); once the load stops, the counters add up.
func TestConcurrentScrapes(t *testing.T) {
	const workers, rounds = 4, 200
	p := newPool(t, chanpool.Config[*conn]{MaxConns: 2})
	reg := prometheus.NewRegistry()
	reg.MustRegister(chanpoolprom.NewCollector(p))

	var load, scrapers sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		scrapers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := reg.Gather(); err != nil {
					t.Errorf("Gather: %v", err)
					return
				}
			}
		})
	}
	for range workers {
		load.Go(func() {
			for range rounds {
				c, err := p.Acquire(context.Background())
				if err != nil {
					t.Errorf("Acquire: %v", err)
					return
				}
				if err := c.Release(); err != nil {
					t.Errorf("Release: %v", err)
					return
				}
			}
		})
	}
	load.Wait()
	close(done)
	scrapers.Wait()

	want := `
# HELP chanpool_acquires_total Leases granted by Acquire and TryAcquire.
# TYPE chanpool_acquires_total counter
chanpool_acquires_total 800
# HELP chanpool_releases_total Leases ended by Conn.Release.
# TYPE chanpool_releases_total counter
chanpool_releases_total 800
# HELP chanpool_busy_connections Connections leased to callers.
# TYPE chanpool_busy_connections gauge
chanpool_busy_connections 0
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"chanpool_acquires_total", "chanpool_releases_total", "chanpool_busy_connections"))
}

// Two pools on one registry, told apart by a constant label.
func TestTwoPoolsOneRegistry(t *testing.T) {
	db, cache := newPool(t, chanpool.Config[*conn]{}), newPool(t, chanpool.Config[*conn]{})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(chanpoolprom.NewCollector(db,
		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "db"}))))
	require.NoError(t, reg.Register(chanpoolprom.NewCollector(cache,
		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "cache"}))))

	for range 3 {
		c, err := db.Acquire(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Release())
	}
	want := `
# HELP chanpool_acquires_total Leases granted by Acquire and TryAcquire.
# TYPE chanpool_acquires_total counter
chanpool_acquires_total{pool="cache"} 0
chanpool_acquires_total{pool="db"} 3
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "chanpool_acquires_total"))

	// The same pool label again is a conflict, reported by Register.
	err := reg.Register(chanpoolprom.NewCollector(cache,
		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "cache"})))
	var already prometheus.AlreadyRegisteredError
	assert.True(t, errors.As(err, &already), "second collector with pool=cache: got %v, want AlreadyRegisteredError", err)
}

func TestNamespaceAndSubsystem(t *testing.T) {
	all := testutil.CollectAndCount(chanpoolprom.NewCollector(&fakeSource{stats: fixedStats}))
	for _, tc := range []struct {
		opts []chanpoolprom.Option
		name string
	}{
		{nil, "chanpool_max_connections"},
		{[]chanpoolprom.Option{chanpoolprom.WithSubsystem("db")}, "chanpool_db_max_connections"},
		{[]chanpoolprom.Option{chanpoolprom.WithNamespace("myapp"), chanpoolprom.WithSubsystem("db")}, "myapp_db_max_connections"},
		{[]chanpoolprom.Option{chanpoolprom.WithNamespace("")}, "max_connections"},
	} {
		c := chanpoolprom.NewCollector(&fakeSource{stats: fixedStats}, tc.opts...)
		assert.Equal(t, 1, testutil.CollectAndCount(c, tc.name), "series named %s", tc.name)
		assert.Equal(t, all, testutil.CollectAndCount(c), "all series, with %s", tc.name)
	}
}

// WithConstLabels copies its map: changing it afterwards changes nothing.
func TestConstLabelsCopied(t *testing.T) {
	labels := prometheus.Labels{"pool": "db"}
	c := chanpoolprom.NewCollector(&fakeSource{stats: fixedStats}, chanpoolprom.WithConstLabels(labels))
	labels["pool"] = "changed"
	want := `
# HELP chanpool_max_connections Config.MaxConns in force: the most connections, open plus dialing, the pool allows.
# TYPE chanpool_max_connections gauge
chanpool_max_connections{pool="db"} 10
`
	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "chanpool_max_connections"))
}

// Bad names and labels fail Register with an error, not a panic.
func TestInvalidNamesFailRegister(t *testing.T) {
	for name, opt := range map[string]chanpoolprom.Option{
		"reserved label":  chanpoolprom.WithConstLabels(prometheus.Labels{"__name__": "x"}),
		"label not UTF-8": chanpoolprom.WithConstLabels(prometheus.Labels{"\xff": "x"}),
		"name not UTF-8":  chanpoolprom.WithNamespace("\xff"),
		"label clash":     chanpoolprom.WithConstLabels(prometheus.Labels{"q": "x"}),
		"bucket clash":    chanpoolprom.WithConstLabels(prometheus.Labels{"le": "x"}),
	} {
		t.Run(name, func(t *testing.T) {
			c := chanpoolprom.NewCollector(&fakeSource{stats: fixedStats}, opt)
			assert.Error(t, prometheus.NewRegistry().Register(c))
		})
	}
}

func TestNilSourcePanics(t *testing.T) {
	assert.PanicsWithValue(t, "chanpoolprom: NewCollector with a nil StatsSource", func() {
		chanpoolprom.NewCollector(nil)
	})
}
