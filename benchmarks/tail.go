package benchmarks

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds for the tail harness: 1 ns to 10 s at two significant
// digits (1 % resolution). Each client records into its own histogram, so
// that recording takes no lock; two digits keep 256 of them small (about
// 30 KB each) and the live heap low while allocating pools run their GCs.
const (
	histMin    = 1
	histMax    = int64(10 * time.Second)
	histDigits = 2
)

// TailCase is one saturation scenario of the tail harness.
type TailCase struct {
	Size, Clients int
	// Hold is how many Spin rounds a client does while it holds a
	// connection; see HoldIters.
	Hold int
	// Warmup runs before recording starts; Duration is recorded.
	Warmup, Duration time.Duration
}

// Tail is what the harness measured for one contender in one case.
type Tail struct {
	Acquire, Release *hdrhistogram.Histogram
	// Ops counts the acquire+release cycles recorded.
	Ops int64
}

// Spread is the fairness spread: the longest acquire wait over the mean one.
// A FIFO pool under steady saturation keeps it small; a pool that lets some
// callers overtake others lets a few wait many times the mean.
func (t Tail) Spread() float64 {
	mean := t.Acquire.Mean()
	if mean == 0 {
		return 0
	}
	return float64(t.Acquire.Max()) / mean
}

// RunTail runs tc.Clients goroutines against c, each looping acquire, hold,
// release, and records every acquire's wait and every release's duration.
func RunTail(c Contender, tc TailCase) (Tail, error) {
	ctx := context.Background()
	var stop, record atomic.Bool
	acqs := make([]*hdrhistogram.Histogram, tc.Clients)
	rels := make([]*hdrhistogram.Histogram, tc.Clients)
	errs := make([]error, tc.Clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range tc.Clients {
		acqs[i] = hdrhistogram.New(histMin, histMax, histDigits)
		rels[i] = hdrhistogram.New(histMin, histMax, histDigits)
		wg.Go(func() {
			<-start
			var sum uint64
			sum, errs[i] = c.RunTimed(ctx, &stop, &record, tc.Hold, acqs[i], rels[i])
			keep(sum)
		})
	}
	// Collect the garbage of the setup (the histograms alone are several
	// MB) and of whatever ran before, so that a collection it owes does not
	// land in this contender's recording window. A pool that allocates
	// still pays for its own collections.
	runtime.GC()
	close(start)
	time.Sleep(tc.Warmup)
	record.Store(true)
	time.Sleep(tc.Duration)
	stop.Store(true)
	wg.Wait()

	t := Tail{
		Acquire: hdrhistogram.New(histMin, histMax, histDigits),
		Release: hdrhistogram.New(histMin, histMax, histDigits),
	}
	for i := range tc.Clients {
		t.Acquire.Merge(acqs[i])
		t.Release.Merge(rels[i])
	}
	t.Ops = t.Acquire.TotalCount()
	return t, errors.Join(errs...)
}

// sink keeps Spin's results alive, so that the compiler cannot drop the work.
var sink atomic.Uint64

func keep(sum uint64) { sink.Add(sum) }
