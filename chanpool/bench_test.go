package chanpool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// benchPool returns a pool of size connections, all idle, with no
// evictor.
func benchPool(b *testing.B, size, waiting int) *chanpool.Pool[*res] {
	return benchPoolEvict(b, size, waiting, chanpool.None)
}

// benchPoolEvict is benchPool with the given EvictionInterval (0 for the
// default).
func benchPoolEvict(b *testing.B, size, waiting int, evict time.Duration) *chanpool.Pool[*res] {
	b.Helper()
	be := &backend{}
	p, err := chanpool.New(chanpool.Config[*res]{
		Dial:             be.dial,
		MaxConns:         size,
		MinConns:         chanpool.None,
		MaxWaiting:       waiting,
		AcquireTimeout:   chanpool.None,
		EvictionInterval: evict,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(context.Background()) })
	cs := make([]chanpool.Conn[*res], size)
	for i := range cs {
		if cs[i], err = p.Acquire(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range cs {
		c.Release()
	}
	return p
}

// BenchmarkAcquireRelease is one uncontended acquire+release from the idle
// list; BenchmarkChannelFloor is the bare channel receive+send it is built
// on. Compare them from the same run.
func BenchmarkAcquireRelease(b *testing.B) {
	acquireReleaseLoop(b, benchPool(b, 8, 0))
}

func acquireReleaseLoop(b *testing.B, p *chanpool.Pool[*res]) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := p.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c.Release()
	}
}

// BenchmarkAcquireReleaseEvicting is BenchmarkAcquireRelease with idle
// eviction on, as by default: every acquire also keeps the idle list's
// low-water mark (evict.go).
func BenchmarkAcquireReleaseEvicting(b *testing.B) {
	acquireReleaseLoop(b, benchPoolEvict(b, 8, 0, 0))
}

// BenchmarkAcquireReleaseTraced is BenchmarkAcquireRelease with a Tracer
// that does nothing: the cost of the tracing path itself. Its
// LeaseTracer case also times every lease.
func BenchmarkAcquireReleaseTraced(b *testing.B) {
	b.Run("tracer=acquires", func(b *testing.B) { acquireReleaseLoop(b, tracedBenchPool(b, nopTracer{})) })
	b.Run("tracer=leases", func(b *testing.B) { acquireReleaseLoop(b, tracedBenchPool(b, nopLeaseTracer{})) })
}

func tracedBenchPool(b *testing.B, tr chanpool.Tracer) *chanpool.Pool[*res] {
	be := &backend{}
	p, err := chanpool.New(chanpool.Config[*res]{
		Dial: be.dial, MaxConns: 8, MinConns: chanpool.None, MaxWaiting: 0,
		AcquireTimeout: chanpool.None, EvictionInterval: chanpool.None, Tracer: tr,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func BenchmarkChannelFloor(b *testing.B) {
	ch := make(chan *res, 8)
	for range 8 {
		ch <- &res{}
	}
	b.ReportAllocs()
	for b.Loop() {
		r := <-ch
		ch <- r
	}
}

// BenchmarkContended runs clients goroutines against a pool of size: with
// more clients than connections, most acquires wait and are handed a
// connection by a release.
func BenchmarkContended(b *testing.B) {
	for _, size := range []int{4} {
		for _, clients := range []int{2, 16} {
			b.Run(fmt.Sprintf("size=%d/clients=%d", size, clients), func(b *testing.B) {
				p := benchPool(b, size, clients)
				ctx := context.Background()
				b.ReportAllocs()
				b.SetParallelism((clients + 1) / 2) // RunParallel starts GOMAXPROCS*p goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						c, err := p.Acquire(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						c.Release()
					}
				})
			})
		}
	}
}

// BenchmarkHandoff makes every acquire wait: 64 clients share 8
// connections, and each yields the processor while it holds one, so that
// the others find the idle list empty and block until a release hands them
// a connection. BenchmarkHandoffFloor is the same on a bare channel. Their
// difference is the cost of chanpool's waiting path (registration, wait
// timing, the wait itself) beyond the scheduler's.
func BenchmarkHandoff(b *testing.B) {
	p := benchPool(b, 8, 64)
	ctx := context.Background()
	handoffLoop(b, func() {
		c, err := p.Acquire(ctx)
		if err != nil {
			panic(err)
		}
		runtime.Gosched()
		c.Release()
	})
}

func BenchmarkHandoffFloor(b *testing.B) {
	ch := make(chan *res, 8)
	for range 8 {
		ch <- &res{}
	}
	handoffLoop(b, func() {
		r := <-ch
		runtime.Gosched()
		ch <- r
	})
}

// handoffLoop runs b.N cycles of cycle split across 64 goroutines.
func handoffLoop(b *testing.B, cycle func()) {
	const clients = 64
	b.ReportAllocs()
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range clients {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		wg.Go(func() {
			for range n {
				cycle()
			}
		})
	}
	wg.Wait()
}
