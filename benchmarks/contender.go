package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Names lists the contenders in report order: chanpool, its peers, then the
// three floors. The peer smartconnpool (vitess's) is there only in a build
// with -tags smartconnpool, as its dependencies take minutes to compile.
var Names = names()

func names() []string {
	peers := []string{"puddle", "commons", "sql"}
	if withSmartconnpool {
		peers = slices.Insert(peers, 1, Smartconnpool)
	}
	return slices.Concat([]string{"chanpool"}, peers, Floors)
}

// Floors are the contenders that are no pool: they ignore ctx and keep no
// count (floors.go). The bars compare chanpool with them, and its tail
// latency with that of the other pools.
var Floors = []string{"chan", "chancas", "mutex"}

// Smartconnpool names vitess's pool, in builds with -tags smartconnpool.
const Smartconnpool = "smartconnpool"

// Checks is chanpool as its users configure it: "chanpool" plus a
// Config.HealthCheck and a Config.Reset that return nil at once, every
// other field as in "chanpool". What it adds to chanpool's ns/op is the
// pool's cost of having the two callbacks, not theirs. The health check
// never runs in a benchmark, for no connection stays idle for
// HealthCheckAfter (1s), but its bookkeeping does; Reset runs on every
// release.
const Checks = "chanpool-checks"

// GridNames are the contenders of BenchmarkAcquireRelease and BenchmarkHold:
// Names with Checks right after chanpool, so that the two run back to back
// in each pass and their ratio compares runs made seconds apart. The other
// harnesses run Names only.
var GridNames = slices.Insert(slices.Clone(Names), 1, Checks)

// Contender is one pool under test, already holding Size idle connections.
// Its methods run whole loops, so that the per-operation calls inside stay
// statically typed: a chanpool.Conn is a 16-byte value, and boxing it in an
// interface on every acquire would allocate.
type Contender interface {
	Name() string
	Size() int
	// Run does ops acquire+release cycles on the calling goroutine, with
	// hold rounds of Spin between acquire and release, then, if yield is
	// set, one runtime.Gosched before the release. It stops at the first
	// error. The sum it returns is Spin's, to be kept.
	Run(ctx context.Context, ops, hold int, yield bool) (uint64, error)
	// RunTimed is Run until stop is set, recording each acquire's wait in
	// acq and each release's duration in rel while record is set. While it
	// holds a connection it also yields the processor once, as a caller
	// waiting for a reply would: with fewer processors than connections,
	// CPU work alone would rarely leave the pool empty, and callers would
	// queue for a processor instead of for a connection.
	RunTimed(ctx context.Context, stop, record *atomic.Bool, hold int, acq, rel *hdrhistogram.Histogram) (uint64, error)
	// HoldAll acquires n connections and returns a function that releases
	// them; it is how the memory harness makes callers wait.
	HoldAll(ctx context.Context, n int) (release func() error, err error)
	// Close closes the pool; every connection must have been released.
	Close() error
}

// pool is the per-operation surface each adapter implements, generic over
// its handle type H.
type pool[H any] interface {
	acquire(ctx context.Context) (H, error)
	release(h H) error
	value(h H) *FakeConn
	close() error
}

// New returns the named contender with size connections dialed and idle,
// configured so that clients concurrent callers never get an error for
// waiting: no wait limit below clients, no timeout, no background evictor.
func New(name string, size, clients int) (Contender, error) {
	var c Contender
	var err error
	switch name {
	case "chanpool":
		p, perr := newChanpool(chanpoolConfig(size, clients))
		c, err = wrap(name, size, p, perr)
	case Checks:
		p, perr := newChanpool(withChecks(chanpoolConfig(size, clients)))
		c, err = wrap(name, size, p, perr)
	case "puddle":
		p, perr := newPuddle(size)
		c, err = wrap(name, size, p, perr)
	case Smartconnpool:
		c, err = newSmartconnpool(name, size)
	case "commons":
		p, perr := newCommons(size)
		c, err = wrap(name, size, p, perr)
	case "sql":
		p, perr := newSQL(size)
		c, err = wrap(name, size, p, perr)
	case "chan":
		c, err = wrap(name, size, newChanFloor(size), nil)
	case "chancas":
		c, err = wrap(name, size, newCasFloor(size), nil)
	case "mutex":
		c, err = wrap(name, size, newMutexFloor(size), nil)
	default:
		return nil, fmt.Errorf("benchmarks: unknown contender %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("benchmarks: %s: %w", name, err)
	}
	return c, nil
}

// adapter turns a pool[H] into a Contender.
type adapter[H any, P pool[H]] struct {
	name string
	size int
	p    P
}

// wrap fills p to size connections (acquire them all, then release them
// all) and wraps it. On error it closes p.
func wrap[H any, P pool[H]](name string, size int, p P, err error) (Contender, error) {
	if err != nil {
		return nil, err
	}
	a := &adapter[H, P]{name: name, size: size, p: p}
	release, err := a.HoldAll(context.Background(), size)
	if err == nil {
		err = release()
	}
	if err != nil {
		_ = p.close()
		return nil, fmt.Errorf("filling to %d: %w", size, err)
	}
	return a, nil
}

func (a *adapter[H, P]) Name() string { return a.name }
func (a *adapter[H, P]) Size() int    { return a.size }
func (a *adapter[H, P]) Close() error { return a.p.close() }

func (a *adapter[H, P]) Run(ctx context.Context, ops, hold int, yield bool) (uint64, error) {
	var sum uint64
	for range ops {
		h, err := a.p.acquire(ctx)
		if err != nil {
			return sum, err
		}
		if hold > 0 {
			sum += Spin(hold)
		}
		if yield {
			runtime.Gosched()
		}
		if err := a.p.release(h); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func (a *adapter[H, P]) RunTimed(ctx context.Context, stop, record *atomic.Bool, hold int, acq, rel *hdrhistogram.Histogram) (uint64, error) {
	var sum uint64
	for !stop.Load() {
		t0 := time.Now()
		h, err := a.p.acquire(ctx)
		if err != nil {
			return sum, err
		}
		t1 := time.Now()
		sum += Spin(hold)
		runtime.Gosched()
		t2 := time.Now()
		if err := a.p.release(h); err != nil {
			return sum, err
		}
		t3 := time.Now()
		if record.Load() {
			// Values past the histogram's range are clamped to it, so that
			// an outlier shows as the maximum instead of vanishing.
			_ = acq.RecordValue(min(t1.Sub(t0).Nanoseconds(), acq.HighestTrackableValue()))
			_ = rel.RecordValue(min(t3.Sub(t2).Nanoseconds(), rel.HighestTrackableValue()))
		}
	}
	return sum, nil
}

func (a *adapter[H, P]) HoldAll(ctx context.Context, n int) (func() error, error) {
	held := make([]H, 0, n)
	releaseAll := func() error {
		var first error
		for _, h := range held {
			if err := a.p.release(h); err != nil && first == nil {
				first = err
			}
		}
		held = nil
		return first
	}
	for range n {
		h, err := a.p.acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("acquire %d of %d: %w (release: %v)", len(held)+1, n, err, releaseAll())
		}
		held = append(held, h)
	}
	return releaseAll, nil
}

// Value acquires a connection, runs f on it and releases it. Tests use it to
// check that every contender hands out FakeConns exclusively.
func Value(ctx context.Context, c Contender, f func(*FakeConn)) error {
	v, ok := c.(interface {
		with(ctx context.Context, f func(*FakeConn)) error
	})
	if !ok {
		return fmt.Errorf("benchmarks: %s cannot show its values", c.Name())
	}
	return v.with(ctx, f)
}

func (a *adapter[H, P]) with(ctx context.Context, f func(*FakeConn)) error {
	h, err := a.p.acquire(ctx)
	if err != nil {
		return err
	}
	f(a.p.value(h))
	return a.p.release(h)
}
