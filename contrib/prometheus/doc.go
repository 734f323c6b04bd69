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
//	Latencies (q = "0.5", "0.9", "0.99", "0.999", "1" for the maximum)
//	chanpool_acquire_wait_seconds{q}           wait of the acquires counted in acquire_waits_total        AcquireWait
//	chanpool_acquire_wait_samples_total        waits timed, ever                                          AcquireWait.Count
//	chanpool_hold_seconds{q}                   lease duration, acquire to release (sampled)               HoldTime
//	chanpool_hold_samples_total                leases timed, ever                                         HoldTime.Count
//	chanpool_dial_seconds{q}                   duration of successful dials                               DialTime
//	chanpool_dial_samples_total                dials timed, ever                                          DialTime.Count
//
// The reason label of chanpool_connections_closed_total is one of idle
// (surplus to the load for IdleTimeout), lifetime (past MaxLifetime), health
// (HealthCheck failed), reset (Reset failed), destroy (the holder called
// Conn.Destroy), pool_closed (the pool closed) and leaked (the holder lost
// its handle without ending the lease): the values of chanpool.CloseReason's
// String. Summed over reasons it is Stats.Destroyed, which is therefore not
// exported on its own.
//
// Stats reads each field atomically but not all at one instant, so under
// load the numbers of one scrape may disagree by the operations in flight.
// At rest, acquires_total = releases_total + destroyed_busy_total +
// busy_connections.
//
// # Latencies are quantile gauges, not histograms or summaries
//
// The pool does not keep histogram buckets: for each latency it keeps the
// most recent samples (up to 1024) and reports their p50, p90, p99, p99.9
// and maximum, plus how many samples were ever recorded. Buckets cannot be
// rebuilt from quantiles, so this package exports no Prometheus histogram:
// the latencies cannot be aggregated across pools or instances with
// histogram_quantile, and a quantile of one pool is all they tell.
//
// A Prometheus summary would fit the data but for one part: a summary
// carries the sum of its observations, and the pool does not keep one for
// hold or dial times. For acquire waits the sum could only be rebuilt as
// AvgAcquire × Acquired, which is truncated and can move backwards between
// scrapes — a counter that decreases reads as a reset. Rather than export
// made-up or unreliable sums, each latency is a gauge named _seconds with a
// q label for the quantile (not "quantile", which Prometheus reserves for
// summaries) and a _samples_total counter with the samples' count.
//
// Read them knowing what they cover:
//
//   - The quantiles describe the most recent samples, however old: a pool
//     that has been quiet for an hour still reports the waits of an hour
//     ago. rate(chanpool_acquire_wait_samples_total[5m]) > 0 says whether
//     they are fresh.
//   - The window holds min(_samples_total, 1024) samples, and the
//     quantiles are nearest-rank: p99.9 is the second largest of 1024
//     samples, and the maximum of fewer than 1000.
//   - A latency with no samples yet has no quantile series at all, rather
//     than quantiles of zero.
//   - Only acquires that waited are timed (an acquire served from the idle
//     list is not: timing it would double the cost of the fast path), and
//     only one lease in 64 per connection is timed for hold time (every
//     lease when Config.LeakThreshold is set).
//
// Stats.AvgAcquire, the lifetime average wait over all acquires, is not
// exported: an average since start cannot be rated over a time window, and
// the total it is computed from is not available to rebuild a counter from.
package chanpoolprom
