// Package chanpoolprom exports a chanpool pool's statistics to Prometheus.
//
// It is a module of its own, so that chanpool itself does not depend on
// client_golang. Import it under a name that does not clash with
// client_golang's prometheus package:
//
//	import chanpoolprom "github.com/chanpool/chanpool/contrib/prometheus"
//
// and register one Collector per pool, each with its own constant labels:
//
//	p, err := chanpool.New(cfg)
//	if err != nil {
//		return err
//	}
//	prometheus.MustRegister(chanpoolprom.NewCollector(p,
//		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "db"})))
//	http.Handle("/metrics", promhttp.Handler())
//
// Every scrape calls the pool's Stats once, which reads atomics and never
// blocks or slows the pool. A closed pool keeps reporting its final state
// until its Collector is unregistered.
//
// # Metrics
//
// With the default namespace "chanpool" and the Stats field each one comes
// from:
//
//	Gauges
//	chanpool_max_connections                   Config.MaxConns in force                                   MaxConns
//	chanpool_min_connections                   Config.MinConns in force                                   MinConns
//	chanpool_connections                       open connections plus dials in flight (≤ max)              Total
//	chanpool_idle_connections                  connections in the idle list                               Idle
//	chanpool_busy_connections                  connections leased to callers                              Busy
//	chanpool_dialing_connections               dials in flight                                            Dialing
//	chanpool_waiting_clients                   callers waiting in Acquire for a connection                Waiting
//	chanpool_breaker_open                      1 while the dial breaker is open, else 0                   BreakerOpen
//
//	Counters
//	chanpool_acquires_total                    leases granted (Acquire and TryAcquire)                    Acquired
//	chanpool_releases_total                    leases ended by Conn.Release                               Released
//	chanpool_destroyed_busy_total              leases ended by Conn.Destroy or a forced Close             DestroyedBusy
//	chanpool_connections_created_total         connections dialed successfully                            Created
//	chanpool_connections_closed_total{reason}  connections closed, by reason (below)                      Closed
//	chanpool_acquire_waits_total               acquires that found nothing idle, waited and got one       Waited
//	chanpool_acquire_timeouts_total            Acquire calls that failed with ErrAcquireTimeout           Timeouts
//	chanpool_acquire_canceled_total            Acquire calls ended by their context while waiting         Canceled
//	chanpool_acquire_exhausted_total           Acquire calls rejected with ErrExhausted                   Exhausted
//	chanpool_dial_errors_total                 failed dials                                               DialErrors
//	chanpool_close_errors_total                Config.Close calls that failed or panicked                 CloseErrors
//	chanpool_misuse_total                      Release or Destroy through a handle not holding the lease  Misuse
//	chanpool_breaker_trips_total               times the dial breaker opened                              BreakerTrips
//	chanpool_held_too_long_total               leases reported for outliving Config.LeakThreshold         HeldTooLong
//
//	Latencies: a histogram of every sample, and gauges of recent quantiles
//	chanpool_acquire_wait_seconds              histogram of the waits counted in acquire_waits_total      AcquireWait
//	chanpool_acquire_wait_recent_seconds{q}    quantile q of the most recent waits                        AcquireWait
//	chanpool_hold_seconds                      histogram of lease durations (sampled)                     HoldTime
//	chanpool_hold_recent_seconds{q}            quantile q of the most recent lease durations              HoldTime
//	chanpool_dial_seconds                      histogram of the durations of successful dials             DialTime
//	chanpool_dial_recent_seconds{q}            quantile q of the most recent dials                        DialTime
//
// The reason label of chanpool_connections_closed_total is one of idle
// (surplus to the load for IdleTimeout), lifetime (past MaxLifetime), health
// (HealthCheck failed), reset (Reset failed), destroy (the holder called
// Conn.Destroy), pool_closed (the pool closed), leaked (the holder lost its
// handle without ending the lease), resize (surplus to a lowered MaxConns),
// pool_reset (retired by Pool.Reset), keepalive (failed a keepalive ping)
// and detached (taken out of the pool by Conn.Detach, not closed): the values of chanpool.CloseReason's
// String. Summed over reasons it is Stats.Destroyed, which is therefore not
// exported on its own.
//
// Stats reads each field atomically but not all at one instant, so under
// load the numbers of one scrape may disagree by the operations in flight.
// At rest, acquires_total = releases_total + destroyed_busy_total +
// busy_connections.
//
// # Latencies: histograms, plus recent quantiles as gauges
//
// The pool keeps each latency two ways, and both are exported.
//
// The _seconds histograms are the pool's cumulative buckets (Latency.Buckets,
// Count and Sum), counted since the pool was made. The bucket bounds are the
// powers of two from 2^10 ns to 2^36 ns: le="1.024e-06" (1.024µs),
// "2.048e-06", … "68.719476736" (68.7s); a sample above the last bound counts
// only in +Inf, _count and _sum. They are ordinary Prometheus histograms:
// rate them, and aggregate them across pools and instances with
// histogram_quantile(0.99, sum by (le) (rate(chanpool_acquire_wait_seconds_bucket[5m]))).
// A quantile read from them is only as precise as the buckets: within a
// factor of two.
//
// The _recent_seconds gauges are exact quantiles (nearest-rank) of the most
// recent samples, up to 1024: q is one of "0.5", "0.9", "0.99", "0.999" and
// "1", the maximum. They complement the histograms where buckets are too
// coarse, but they are one pool's quantiles and cannot be aggregated: a sum
// or an average of quantiles is not a quantile. They are gauges, because a
// Prometheus summary carries its quantiles with the count and sum of the
// same observations, and the recent window is not the samples that Count and
// Sum cover. The label is q, not quantile, which Prometheus reserves for
// summaries. Read them knowing what they cover:
//
//   - They describe the most recent samples, however old: a pool that has
//     been quiet for an hour still reports the waits of an hour ago.
//     rate(chanpool_acquire_wait_seconds_count[5m]) > 0 says whether they
//     are fresh.
//   - The window holds min(_count, 1024) samples: p99.9 is the second
//     largest of 1024 samples, and the maximum of fewer than 1000.
//   - A latency with no samples yet has no _recent_seconds series at all,
//     rather than quantiles of zero. Its histogram is there, empty.
//
// Only acquires that waited are timed (an acquire served from the idle list
// is not: its two clock reads would cost more than the acquire itself), and
// only one lease in 64 per connection is timed for hold time (every lease
// when Config.LeakThreshold is set).
//
// Stats.AvgAcquire, the lifetime average wait over all acquires, is not
// exported: rate(chanpool_acquire_wait_seconds_sum[5m]) /
// rate(chanpool_acquires_total[5m]) is the same average over a window.
package chanpoolprom
