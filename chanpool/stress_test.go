package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// stressDuration is how long TestStress runs: CHANPOOL_STRESS (a
// time.ParseDuration string, e.g. 30s) or 2s.
func stressDuration(t *testing.T) time.Duration {
	v := os.Getenv("CHANPOOL_STRESS")
	if v == "" {
		return 2 * time.Second
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "CHANPOOL_STRESS")
	return d
}

// stressTally is what the workers did, to hold the pool's counters against.
type stressTally struct {
	ops, acquired, released, destroyed, stale atomic.Int64
	healthFails, resetFails, resets           atomic.Int64
	created, destroyedHook, acquiredHook      atomic.Int64 // hook calls
}

// The stress test's pool is small, so that callers contend.
const (
	stressConns   = 4
	stressWaiting = 8
)

// TestStress runs many goroutines mixing every operation against a small
// pool on the real clock, with dial failures toggled in the background,
// lifetimes, eviction, failing health checks and resets all active. It
// checks ownership on every acquire and, once everything has stopped, that
// the pool's counters match what the workers did, and that Close, under
// load, leaves nothing open.
func TestStress(t *testing.T) {
	const workers = 32
	d := stressDuration(t)
	b := &backend{}
	var tally stressTally
	cfg := chanpool.Config[*res]{
		Dial:  b.dial,
		Close: b.close,
		HealthCheck: func(context.Context, *res) error {
			if rand.N(32) == 0 {
				tally.healthFails.Add(1)
				return errBoom
			}
			return nil
		},
		Reset: func(context.Context, *res) error {
			if rand.N(32) == 0 {
				tally.resetFails.Add(1)
				return errBoom
			}
			return nil
		},
		MaxConns:          stressConns,
		MinConns:          1,
		MaxWaiting:        stressWaiting,
		AcquireTimeout:    20 * time.Millisecond,
		DialTimeout:       50 * time.Millisecond,
		IdleTimeout:       20 * time.Millisecond,
		EvictionInterval:  5 * time.Millisecond,
		MaxLifetime:       200 * time.Millisecond,
		MaxLifetimeJitter: 50 * time.Millisecond,
		HealthCheckAfter:  time.Millisecond,
		CheckTimeout:      time.Second,
		BreakerThreshold:  3,
		Hooks: chanpool.Hooks{
			OnCreate:  func(chanpool.ConnInfo) { tally.created.Add(1) },
			OnAcquire: func(chanpool.ConnInfo) { tally.acquiredHook.Add(1) },
			OnDestroy: func(chanpool.ConnInfo, chanpool.CloseReason) { tally.destroyedHook.Add(1) },
		},
	}
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = p.Close(context.Background())
		}
	})

	own := newOwnership(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup

	// Dial failures come and go: the breaker opens, probes and closes.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer b.setFail(nil)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if rand.N(10) == 0 {
				b.setFail(errBoom)
			} else {
				b.setFail(nil)
			}
		}
	}()

	// Operators resize the pool and reset it under the load.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(7 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			switch rand.N(8) {
			case 0:
				p.Reset()
				tally.resets.Add(1)
			case 1, 2, 3:
				assert.NoError(t, p.SetMaxConns(1+rand.N(stressConns)))
			}
		}
	}()

	failures := newErrTally()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stressWorker(t, w, p, own, &tally, failures, stop)
		}()
	}
	timer := time.NewTimer(d)
	select {
	case <-timer.C:
	case <-own.failed:
	}
	close(stop)
	wg.Wait()
	b.setFail(nil)
	if t.Failed() {
		return
	}

	// At rest: no holder, no waiter. The evictor still closes and dials in
	// the background (lifetimes, MinConns), so look for a snapshot taken
	// between two of its moves, in which everything adds up.
	var s chanpool.Stats
	ok := poll(5*time.Second, func() bool {
		s = p.Stats()
		return s.Busy == 0 && s.Waiting == 0 && s.Dialing == 0 && s.Closing == 0 && s.Checking == 0 &&
			s.Created == s.Destroyed+uint64(s.Total-s.Dialing) &&
			s.Created == uint64(b.count()) &&
			b.open() == s.Total &&
			sumClosed(s.Closed) == s.Destroyed &&
			uint64(tally.created.Load()) == s.Created &&
			uint64(tally.destroyedHook.Load()) == s.Destroyed
	})
	assert.True(t, ok, "no consistent snapshot at rest: %+v; backend dialed %d, open %d; hooks created %d destroyed %d",
		s, b.count(), b.open(), tally.created.Load(), tally.destroyedHook.Load())
	assert.Equal(t, s.Acquired, s.Released+s.DestroyedBusy+uint64(s.Busy), "Acquired = Released + DestroyedBusy + Busy")
	assert.Equal(t, uint64(tally.acquired.Load()), s.Acquired, "Acquired")
	assert.Equal(t, uint64(tally.acquiredHook.Load()), s.Acquired, "OnAcquire calls")
	assert.Equal(t, uint64(tally.released.Load()), s.Released, "Released")
	assert.Equal(t, uint64(tally.destroyed.Load()), s.DestroyedBusy, "DestroyedBusy")
	assert.Equal(t, uint64(tally.destroyed.Load()), s.Closed.Destroy, "Closed.Destroy")
	assert.Equal(t, uint64(tally.stale.Load()), s.Misuse, "Misuse: one per stale Release or Destroy")
	assert.GreaterOrEqual(t, s.Closed.Health, uint64(tally.healthFails.Load()), "Closed.Health")
	assert.GreaterOrEqual(t, s.Closed.Reset, uint64(tally.resetFails.Load()), "Closed.Reset")
	assert.Equal(t, uint64(failures.count(chanpool.ErrExhausted)), s.Exhausted, "Exhausted")
	assert.Equal(t, uint64(failures.count(chanpool.ErrAcquireTimeout)), s.Timeouts, "Timeouts")
	assert.Zero(t, s.CloseErrors, "CloseErrors: a connection closed twice")
	assert.Equal(t, uint64(tally.resets.Load()), s.Resets, "Resets")
	assert.LessOrEqual(t, s.Total, stressConns)
	t.Logf("%d operations by %d goroutines in %v (%.0f/s): %d acquired, %d released, %d destroyed, %d stale; acquire errors %v",
		tally.ops.Load(), workers, d, float64(tally.ops.Load())/d.Seconds(),
		tally.acquired.Load(), tally.released.Load(), tally.destroyed.Load(), tally.stale.Load(), failures)
	t.Logf("pool: created %d, closed %+v, dial errors %d, breaker trips %d, timeouts %d, exhausted %d, canceled %d",
		s.Created, s.Closed, s.DialErrors, s.BreakerTrips, s.Timeouts, s.Exhausted, s.Canceled)

	// Close under load: every caller gets a connection or an error, every
	// holder's Release succeeds, and Close waits for all of them.
	var leases atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				h, err := p.Acquire(context.Background())
				if errors.Is(err, chanpool.ErrClosed) {
					return
				}
				if err != nil {
					failures.add(t, err)
					runtime.Gosched()
					continue
				}
				if !own.take(w, h) {
					return
				}
				leases.Add(1)
				runtime.Gosched()
				own.drop(w, h)
				assert.NoError(t, h.Release())
			}
		}()
	}
	require.True(t, poll(5*time.Second, func() bool { return leases.Load() >= 100 }), "no load before Close")
	require.NoError(t, p.Close(ctxTimeout(t, 10*time.Second)))
	closed = true
	wg.Wait()
	s = p.Stats()
	assert.Zero(t, s.Total, "open after Close")
	assert.Zero(t, b.open(), "backend connections left open")
	assert.Equal(t, int64(b.count()), b.closes.Load(), "every dialed connection closed once")
	assert.Zero(t, s.CloseErrors)
}

// stressWorker mixes operations at random until stop is closed. It holds at
// most two connections and keeps a few stale copies of handles it has
// released, to use again.
func stressWorker(t *testing.T, w int, p *chanpool.Pool[*res], own *ownership, tally *stressTally, failures *errTally, stop <-chan struct{}) {
	var held, stale []chanpool.Conn[*res]
	defer func() {
		for _, h := range held {
			own.drop(w, h)
			assert.NoError(t, h.Release())
			tally.released.Add(1)
		}
	}()
	// keep takes a leased connection into held, or counts the failure. It
	// reports false if the connection was already held elsewhere (the
	// ownership check has failed the test).
	keep := func(h chanpool.Conn[*res], err error) bool {
		if err != nil {
			failures.add(t, err)
			runtime.Gosched()
			return true
		}
		if !own.take(w, h) {
			return false
		}
		tally.acquired.Add(1)
		held = append(held, h)
		return true
	}
	for {
		select {
		case <-stop:
			return
		case <-own.failed:
			return
		default:
		}
		tally.ops.Add(1)
		op := rand.N(100)
		switch {
		case op < 50 && len(held) == 2, op >= 50 && op < 85 && len(held) == 0:
			op = 10 + 40*min(len(held), 1) + rand.N(35) // acquire if empty-handed, else release
		}
		switch {
		case op < 40: // Acquire, with or without a short deadline
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			switch {
			case len(held) > 0:
				// Waiting while holding starves the others: briefly.
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.N(500))*time.Microsecond)
			case rand.N(2) == 0:
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.N(3000))*time.Microsecond)
			}
			h, err := p.Acquire(ctx)
			cancel()
			if !keep(h, err) {
				return
			}
		case op < 50: // TryAcquire
			if !keep(p.TryAcquire(context.Background())) {
				return
			}
		case op < 85: // Release (mostly) or Destroy
			k := rand.N(len(held))
			h := held[k]
			held = append(held[:k], held[k+1:]...)
			own.drop(w, h)
			if rand.N(8) == 0 {
				assert.NoError(t, h.Destroy())
				tally.destroyed.Add(1)
			} else {
				assert.NoError(t, h.Release())
				tally.released.Add(1)
			}
			if len(stale) < 4 {
				stale = append(stale, h)
			} else {
				stale[rand.N(len(stale))] = h
			}
		case op < 88: // Release or Destroy through a stale copy
			if len(stale) == 0 {
				continue
			}
			h := stale[rand.N(len(stale))]
			var err error
			if rand.N(2) == 0 {
				err = h.Release()
			} else {
				err = h.Destroy()
			}
			if assert.ErrorIs(t, err, chanpool.ErrNotHeld, "stale handle of %d", h.ID()) {
				tally.stale.Add(1)
			}
		case op < 91: // Stats: under load the fields may disagree, not overflow
			s := p.Stats()
			if s.Total > stressConns || s.Busy > stressConns || s.Idle > stressConns || s.Waiting > stressWaiting {
				t.Errorf("Stats out of bounds under load: %+v", s)
				own.fail()
			}
		case op < 94: // Conns
			ids := map[uint64]bool{}
			for _, c := range p.Conns() {
				if ids[c.ID] {
					t.Errorf("Conns lists %d twice", c.ID)
					own.fail()
				}
				ids[c.ID] = true
			}
			if len(ids) > stressConns {
				t.Errorf("Conns lists %d connections, MaxConns %d", len(ids), stressConns)
				own.fail()
			}
		default: // use what we hold
			for _, h := range held {
				if h.Value().closed.Load() {
					t.Errorf("worker %d holds connection %d, which is closed", w, h.ID())
					own.fail()
				}
			}
		}
	}
}

// ownership tracks which worker holds which connection, and fails the test
// the moment two hold the same one.
type ownership struct {
	t       *testing.T
	mu      sync.Mutex
	holder  map[uint64]int
	failed  chan struct{} // closed on the first violation: everyone stops
	failing sync.Once
}

func newOwnership(t *testing.T) *ownership {
	return &ownership{t: t, holder: make(map[uint64]int), failed: make(chan struct{})}
}

func (o *ownership) fail() { o.failing.Do(func() { close(o.failed) }) }

// take records that w holds h. It fails the test and returns false if
// someone holds it already, or if the connection handed out is closed.
func (o *ownership) take(w int, h chanpool.Conn[*res]) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := h.ID()
	if other, ok := o.holder[id]; ok {
		o.t.Errorf("worker %d was handed connection %d, held by worker %d", w, id, other)
		o.fail()
		return false
	}
	if h.Value().closed.Load() {
		o.t.Errorf("worker %d was handed connection %d, which is closed", w, id)
		o.fail()
		return false
	}
	o.holder[id] = w
	return true
}

// drop records that w is about to end its lease on h.
func (o *ownership) drop(w int, h chanpool.Conn[*res]) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if got, ok := o.holder[h.ID()]; !ok || got != w {
		o.t.Errorf("worker %d ends its lease on %d, held by worker %d (%t)", w, h.ID(), got, ok)
		o.fail()
	}
	delete(o.holder, h.ID())
}

// errTally counts acquire errors by kind, and fails the test on one that
// no operation of the stress test can cause.
type errTally struct {
	mu sync.Mutex
	n  map[string]int
}

func newErrTally() *errTally { return &errTally{n: map[string]int{}} }

func (e *errTally) add(t *testing.T, err error) {
	kind := ""
	for _, want := range []error{
		chanpool.ErrNoIdle, chanpool.ErrBreakerOpen, chanpool.ErrAcquireTimeout, chanpool.ErrExhausted,
		chanpool.ErrDial, context.DeadlineExceeded,
	} {
		if errors.Is(err, want) {
			kind = want.Error()
			break
		}
	}
	if kind == "" {
		t.Errorf("unexpected acquire error: %v", err)
		return
	}
	e.mu.Lock()
	e.n[kind]++
	e.mu.Unlock()
}

func (e *errTally) count(kind error) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[kind.Error()]
}

func (e *errTally) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprint(e.n)
}
