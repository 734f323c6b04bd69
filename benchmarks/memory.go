package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// MeasureWaiters returns the heap bytes that one caller blocked waiting for
// a connection costs, beyond a goroutine blocked on a bare channel receive
// (what the caller would cost without any pool): n callers wait on the named
// contender, whose size connections are all held. It measures three times
// and returns the median, as a few hundred bytes of runtime noise would
// otherwise swamp the small counts.
func MeasureWaiters(name string, size, n int) (float64, error) {
	var got []float64
	for range 3 {
		b, err := measureWaitersOnce(name, size, n)
		if err != nil {
			return 0, err
		}
		got = append(got, b)
	}
	slices.Sort(got)
	return got[1], nil
}

func measureWaitersOnce(name string, size, n int) (float64, error) {
	// The first batch of bare goroutines leaves n dead goroutines for the
	// runtime to reuse, so that neither measured batch pays for new ones.
	var baseHeap int64
	for range 2 {
		block := make(chan struct{})
		heap, err := measureParked(n, "benchmarks.parkBare", func() {
			parkBare(block)
		}, func() { close(block) })
		if err != nil {
			return 0, err
		}
		baseHeap = heap
	}

	ctx := context.Background()
	c, err := New(name, size, n)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	release, err := c.HoldAll(ctx, size)
	if err != nil {
		return 0, err
	}
	errs := make(chan error, n+1)
	heap, err := measureParked(n, "benchmarks.parkInPool", func() {
		errs <- parkInPool(ctx, c)
	}, func() {
		if err := release(); err != nil {
			errs <- err
		}
	})
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	if err != nil {
		return 0, err
	}
	return float64(heap-baseHeap) / float64(n), nil
}

// parkBare and parkInPool are the functions the waiting goroutines block
// in; measureParked finds them by name in the goroutine dump.

//go:noinline
func parkBare(block chan struct{}) { <-block }

//go:noinline
func parkInPool(ctx context.Context, c Contender) error {
	_, err := c.Run(ctx, 1, 0, false)
	return err
}

// measureParked starts n goroutines running park, waits until all of them
// are blocked inside the function named fn, and returns how much the live
// heap and the stacks in use grew. Then it calls unblock and waits for the
// goroutines to end.
func measureParked(n int, fn string, park, unblock func()) (heap int64, err error) {
	before := settled()
	var wg sync.WaitGroup
	for range n {
		wg.Go(park)
	}
	err = waitParked(n, fn)
	after := settled()
	unblock()
	wg.Wait()
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), err
}

// waitParked polls the goroutine dump until n goroutines are blocked (not
// running or runnable) with fn on their stack, for up to ten seconds.
func waitParked(n int, fn string) error {
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		for {
			k := runtime.Stack(buf, true)
			if k < len(buf) {
				got = countParked(buf[:k], fn)
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		if got == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("benchmarks: %d of %d callers parked in %s", got, n, fn)
		}
		time.Sleep(time.Millisecond)
	}
}

// countParked counts the goroutines in a runtime.Stack dump that are
// blocked with fn on their stack.
func countParked(dump []byte, fn string) int {
	count := 0
	for g := range bytes.SplitSeq(dump, []byte("\n\n")) {
		header, _, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(header, []byte("[running]")) || bytes.Contains(header, []byte("[runnable]")) {
			continue
		}
		if bytes.Contains(g, []byte(fn+"(")) {
			count++
		}
	}
	return count
}

// settled collects garbage until the heap is stable and returns the stats.
func settled() runtime.MemStats {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m
}

// ConnOverhead returns the heap bytes the named contender spends per pooled
// connection beyond the connection itself, measured on a pool of size idle
// connections: the pool's whole heap divided by size, less one FakeConn.
func ConnOverhead(name string, size int) (float64, error) {
	conns := make([]*FakeConn, size)
	before := settled()
	for i := range conns {
		conns[i], _ = dial(context.Background())
	}
	after := settled()
	perConn := float64(after.HeapAlloc-before.HeapAlloc) / float64(size)
	runtime.KeepAlive(conns)
	conns = nil

	before = settled()
	c, err := New(name, size, 1)
	if err != nil {
		return 0, err
	}
	after = settled()
	runtime.KeepAlive(c)
	grown := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(size)
	return grown - perConn, c.Close()
}
