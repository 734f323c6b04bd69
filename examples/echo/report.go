package main

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// Latency targets at p99 for a pool in a latency-sensitive service.
const (
	acquireTarget = 5 * time.Millisecond
	releaseTarget = 1 * time.Millisecond
)

// percentiles summarizes latency samples.
type percentiles struct {
	n                       int
	p50, p99, p999, maxTime time.Duration
}

// summarize merges per-client samples, sorts them and reads the percentiles
// (nearest rank).
func summarize(perClient [][]time.Duration) percentiles {
	all := slices.Sorted(slices.Values(slices.Concat(perClient...)))
	if len(all) == 0 {
		return percentiles{}
	}
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(all)))) - 1
		return all[min(max(i, 0), len(all)-1)]
	}
	return percentiles{len(all), rank(0.50), rank(0.99), rank(0.999), all[len(all)-1]}
}

// verdict judges p99 against target: a single outlier (max) on a shared
// machine is reported but does not decide the result.
func (p percentiles) verdict(target time.Duration) string {
	if p.n == 0 {
		return "FAIL (no samples)"
	}
	if p.p99 < target {
		return fmt.Sprintf("PASS (p99 < %v)", target)
	}
	return fmt.Sprintf("FAIL (p99 >= %v)", target)
}

func (p percentiles) String() string {
	return fmt.Sprintf("n=%-8d p50=%-10v p99=%-10v p99.9=%-10v max=%-10v",
		p.n, p.p50, p.p99, p.p999, p.maxTime)
}

// printReport prints the pool's final stats and the client-side latencies
// next to the targets. It reports whether both targets were met.
func printReport(st chanpool.Stats, ops int64, elapsed time.Duration, acq, rel percentiles) bool {
	fmt.Printf("\n%d round trips in %v (%.0f ops/s)\n\n", ops, elapsed.Round(time.Millisecond),
		float64(ops)/elapsed.Seconds())

	fmt.Println("pool stats:")
	fmt.Printf("  max=%d min=%d total=%d idle=%d busy=%d dialing=%d waiting=%d\n",
		st.MaxConns, st.MinConns, st.Total, st.Idle, st.Busy, st.Dialing, st.Waiting)
	fmt.Printf("  acquired=%d released=%d destroyed-busy=%d created=%d destroyed=%d\n",
		st.Acquired, st.Released, st.DestroyedBusy, st.Created, st.Destroyed)
	c := st.Closed
	fmt.Printf("  closed by reason: idle=%d lifetime=%d health=%d reset=%d destroy=%d pool-closed=%d leaked=%d resize=%d pool-reset=%d keepalive=%d\n",
		c.Idle, c.Lifetime, c.Health, c.Reset, c.Destroy, c.PoolClosed, c.Leaked, c.Resize, c.PoolReset, c.Keepalive)
	fmt.Printf("  timeouts=%d canceled=%d exhausted=%d dial-errors=%d close-errors=%d misuse=%d held-too-long=%d\n",
		st.Timeouts, st.Canceled, st.Exhausted, st.DialErrors, st.CloseErrors, st.Misuse, st.HeldTooLong)
	fmt.Printf("  waited=%d of %d acquires, avg-acquire=%v\n\n", st.Waited, st.Acquired, st.AvgAcquire)

	fmt.Println("pool histograms (most recent samples):")
	printLatency("acquire wait", st.AcquireWait)
	printLatency("hold time", st.HoldTime)
	printLatency("dial time", st.DialTime)
	fmt.Println()

	fmt.Println("client-measured latency (time.Now around each call; acquire includes queueing for a free connection):")
	fmt.Printf("  acquire  %v  target < %-5v %s\n", acq, acquireTarget, acq.verdict(acquireTarget))
	fmt.Printf("  release  %v  target < %-5v %s\n", rel, releaseTarget, rel.verdict(releaseTarget))
	return acq.n > 0 && rel.n > 0 && acq.p99 < acquireTarget && rel.p99 < releaseTarget
}

// printLatency prints one of the pool's latency summaries.
func printLatency(name string, l chanpool.Latency) {
	fmt.Printf("  %-12s count=%-8d window=%-5d p50=%-10v p90=%-10v p99=%-10v p99.9=%-10v max=%v\n",
		name, l.Count, l.Samples, l.P50, l.P90, l.P99, l.P999, l.Max)
}
