package benchmarks

import (
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Spin does n rounds of a xorshift step: a fixed amount of CPU work with no
// memory traffic and no system calls, so that it costs the same on every
// goroutine and in every contender. It returns the final state so that the
// compiler cannot drop the loop; callers add it to a local sum.
func Spin(n int) uint64 {
	x := uint64(n) | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// HoldEnv names the environment variable that fixes HoldIters, so that the
// benchmark process and cmd/report hold connections equally long; run.sh
// sets it from one calibration.
const HoldEnv = "HOLD_ROUNDS"

// HoldIters is how many Spin rounds take about one microsecond on this
// machine: $HOLD_ROUNDS if set, else measured once, on first use, as the
// median of 21 timed runs, so that one run slowed down or sped up by the
// rest of the machine does not set it.
var HoldIters = sync.OnceValue(func() int {
	if n, err := strconv.Atoi(os.Getenv(HoldEnv)); err == nil && n > 0 {
		return n
	}
	const rounds = 1 << 17
	times := make([]time.Duration, 21)
	for i := range times {
		start := time.Now()
		keep(Spin(rounds))
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	n := int(rounds * int64(time.Microsecond) / int64(max(times[len(times)/2], 1)))
	return max(n, 1)
})
