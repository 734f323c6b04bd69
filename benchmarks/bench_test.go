package benchmarks_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chanpool/chanpool/benchmarks"
)

var (
	sizes   = []int{8, 64}
	clients = []int{1, 8, 64, 1024}
)

// BenchmarkAcquireRelease measures one acquire+release cycle with nothing
// done in between: the pool's own cost, and its handoff cost once clients
// outnumber connections. Beside every contender of Names it runs
// chanpool-checks (benchmarks.Checks), the cost of a realistic Config.
func BenchmarkAcquireRelease(b *testing.B) {
	benchGrid(b, benchmarks.GridNames, sizes, clients, 0)
}

// BenchmarkHold is BenchmarkAcquireRelease with about 1 µs of CPU work while
// each connection is held, so that waiting and handoff dominate.
func BenchmarkHold(b *testing.B) {
	benchGrid(b, benchmarks.GridNames, sizes, clients, benchmarks.HoldIters())
}

// BenchmarkHandoff measures the handoff path: 64 and 1024 clients share 8
// connections, and each yields the processor once (runtime.Gosched) while it
// holds one, so that the other clients run meanwhile, find every connection
// out and wait: nearly every acquire is a wait ended by a release. It is the
// tail harness's saturation scenario without the Spin work and the timing,
// as a benchmark benchstat can compare.
func BenchmarkHandoff(b *testing.B) {
	for _, name := range benchmarks.GridNames {
		for _, n := range handoffClients {
			b.Run(fmt.Sprintf("pool=%s/size=%d/clients=%d", name, handoffSize, n), func(b *testing.B) {
				runClients(b, name, handoffSize, n, 0, true)
			})
		}
	}
}

// The Handoff cells: every acquire waits once clients outnumber the
// connections and each holder yields.
const handoffSize = 8

var handoffClients = []int{64, 1024}

// BenchmarkGrowth follows ns/op as the clients waiting on 8 connections go
// from 8 to 4096.
func BenchmarkGrowth(b *testing.B) {
	benchGrid(b, benchmarks.Names, []int{8}, []int{8, 64, 512, 4096}, 0)
}

func benchGrid(b *testing.B, names []string, sizes, clients []int, hold int) {
	for _, name := range names {
		for _, size := range sizes {
			for _, n := range clients {
				b.Run(fmt.Sprintf("pool=%s/size=%d/clients=%d", name, size, n), func(b *testing.B) {
					runClients(b, name, size, n, hold, false)
				})
			}
		}
	}
}

var sink atomic.Uint64

// runClients splits b.N acquire+release cycles across clients goroutines,
// so that ns/op is the time per cycle of the whole pool; each holder yields
// once if yield is set. The pool is built
// and filled, and the goroutines started and parked on start, before the
// timer starts: neither their creation nor the runtime's first allocations
// for them count.
func runClients(b *testing.B, name string, size, clients, hold int, yield bool) {
	c, err := benchmarks.New(name, size, clients)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			b.Error(err)
		}
	}()
	ctx := context.Background()
	start := make(chan struct{})
	errs := make([]error, clients)
	var wg, ready sync.WaitGroup
	ready.Add(clients)
	for i := range clients {
		ops := b.N / clients
		if i < b.N%clients {
			ops++
		}
		wg.Go(func() {
			ready.Done()
			<-start
			sum, err := c.Run(ctx, ops, hold, yield)
			errs[i] = err
			sink.Add(sum)
		})
	}
	ready.Wait()
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	wg.Wait()
	b.StopTimer()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("client %d: %v", i, err)
		}
	}
}
