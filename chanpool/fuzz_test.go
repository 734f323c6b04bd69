package chanpool_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

// FuzzPool drives a pool on a fake clock with a sequence of operations
// decoded from the fuzzer's bytes, and after every step checks the pool
// against a model of what it must have done: who holds what, who waits in
// which order, what each call returned, and that the counters add up.
//
// Every step ends with synctest.Wait, so the pool is at rest when it is
// checked and the model can predict each outcome exactly.
func FuzzPool(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 0, 0, 0, 0, 2, 0, 2, 1},                                                    // acquire, release
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 3, 0},                                  // waiters, FIFO
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 5, 200, 5, 200},                        // exhausted, cancel, timeout
		{6, 1, 0, 0, 0, 0, 6, 0, 5, 50, 0, 0},                                             // failing dials
		{0, 0, 0, 0, 3, 0, 3, 0, 5, 255, 5, 255, 5, 255, 1, 0},                            // destroy, eviction
		{0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0, 2, 0},                                  // stale release, close
		{0, 0, 2, 0, 5, 255, 5, 255, 5, 255, 5, 255, 5, 255, 0, 0},                        // lifetime
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 3, 1, 3, 2, 3, 3},                      // destroy to waiters
		{0, 0, 0, 0, 0, 0, 0, 0, 6, 1, 3, 0, 3, 0, 5, 20, 5, 20, 0, 0, 6, 0, 5, 50, 0, 0}, // breaker
		{0, 0, 0, 0, 0, 0, 0, 0, 9, 3, 9, 0, 2, 0, 2, 0, 2, 0, 9, 2},                      // grow for waiters, shrink, drain
		{0, 0, 0, 0, 2, 0, 10, 0, 2, 0, 0, 0, 5, 255, 5, 255},                             // reset: idle now, busy on return
		{0, 0, 2, 0, 5, 200, 5, 200, 6, 1, 5, 200, 6, 0, 5, 200, 0, 0},                    // keepalive, failing pings
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		synctest.Test(t, func(t *testing.T) {
			m := newModel(t)
			trace := os.Getenv("CHANPOOL_FUZZ_TRACE") != ""
			for i := 0; i+1 < len(ops); i += 2 {
				if trace {
					s := m.p.Stats()
					t.Logf("step %d: op %d arg %d | total %d idle %d busy %d dialing %d waiting %d holders %d waiters %d breaker %v",
						i/2, ops[i]%numOps, ops[i+1], s.Total, s.Idle, s.Busy, s.Dialing, s.Waiting, len(m.holders), len(m.waiters), s.BreakerOpen)
				}
				m.step(ops[i]%numOps, ops[i+1])
				m.check()
			}
			m.finish()
		})
	})
}

const (
	numOps      = 11
	fuzzLimit   = 5 // MaxConnsLimit: SetMaxConns takes 1 to 5
	fuzzMax     = 3
	fuzzMin     = 1
	fuzzWaiting = 3
	fuzzTimeout = 10 * time.Second
)

type waiter struct {
	ch       <-chan outcome
	cancel   context.CancelFunc
	deadline time.Time
}

type model struct {
	t       *testing.T
	b       *backend
	p       *chanpool.Pool[*res]
	clk     *clock.Fake
	holders []chanpool.Conn[*res]
	stale   []chanpool.Conn[*res] // handles whose lease has ended
	waiters []waiter              // in arrival order
	closed  bool
	max     int // MaxConns in force
	// bound is what Total may not exceed: MaxConns, or while the surplus
	// of a shrink drains, the Total it has drained to.
	bound   int
	retired map[*res]bool // held when Reset was called: closed when handed back
	// hot is the connection the last step released with nobody waiting,
	// still open: the next step's Acquire or TryAcquire must lease it (the
	// hot slot). nil when the last step was anything else.
	hot *res

	// What the counters must say.
	acquired, released, destroyedBusy, misuse, exhausted, timeouts uint64
}

func newModel(t *testing.T) *model {
	b := &backend{}
	clk := clock.NewFake()
	p, err := chanpool.NewWithClock(chanpool.Config[*res]{
		Dial:              b.dial,
		Close:             b.close,
		MaxConns:          fuzzMax,
		MinConns:          fuzzMin,
		MaxWaiting:        fuzzWaiting,
		AcquireTimeout:    fuzzTimeout,
		DialTimeout:       chanpool.None,
		IdleTimeout:       30 * time.Second,
		EvictionInterval:  10 * time.Second,
		MaxLifetime:       2 * time.Minute,
		MaxLifetimeJitter: 30 * time.Second,
		BreakerThreshold:  3,
		MaxConnsLimit:     fuzzLimit,
		KeepaliveInterval: 20 * time.Second,
		// Pings fail while dials do: the backend is down.
		Keepalive: func(context.Context, *res) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.fail
		},
	}, clk)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	return &model{t: t, b: b, p: p, clk: clk, max: fuzzMax, bound: fuzzMax, retired: map[*res]bool{}}
}

func (m *model) step(op, arg byte) {
	t := m.t
	before := m.p.Stats()
	hot := m.hot
	m.hot = nil
	switch op {
	case 0: // Acquire
		m.acquire(before, hot)
	case 1: // TryAcquire
		c, err := m.p.TryAcquire(context.Background())
		switch {
		case m.closed:
			m.wantErr("TryAcquire", err, chanpool.ErrClosed)
		case before.Idle > 0:
			m.hold("TryAcquire", c, err)
			m.wantHot("TryAcquire", c, hot)
		case before.BreakerOpen:
			m.wantErr("TryAcquire with the breaker open", err, chanpool.ErrBreakerOpen)
		default:
			m.wantErr("TryAcquire", err, chanpool.ErrNoIdle)
		}
		synctest.Wait()
	case 2, 3: // Release or Destroy
		if len(m.holders) == 0 {
			return
		}
		k := int(arg) % len(m.holders)
		c := m.holders[k]
		m.holders = append(m.holders[:k], m.holders[k+1:]...)
		m.stale = append(m.stale, c)
		nobodyWaits := len(m.waiters) == 0
		var err error
		if op == 2 {
			err = c.Release()
		} else {
			err = c.Destroy()
		}
		switch {
		case m.closed:
			m.wantErr("Release", err, chanpool.ErrClosed)
			m.destroyedBusy += 0
		case err != nil:
			t.Fatalf("op %d: %v", op, err)
		case op == 2:
			m.released++
		default:
			m.destroyedBusy++
		}
		synctest.Wait() // closes, dials and checks run on
		if op == 3 && !m.closed && !c.Value().closed.Load() {
			t.Fatalf("Destroy left connection %d open", c.ID())
		}
		if m.retired[c.Value()] && !m.closed && !c.Value().closed.Load() {
			t.Fatalf("connection %d, held at Reset, was not closed when handed back", c.ID())
		}
		surplus := before.Total > m.max // a shrink is draining: the connection closes, nobody is served
		expiredAndDialFails := c.Value().closed.Load() && m.b.fail != nil
		if op == 2 && !m.closed && len(m.waiters) > 0 && !expiredAndDialFails && !surplus {
			// A released connection goes to the longest waiter, and only
			// to it (or, if it expired, its slot is dialed for it; when
			// that dial fails, settle below checks what the waiters got).
			m.wantServed(1)
			if got := m.holders[len(m.holders)-1]; got.ID() != c.ID() && !c.Value().closed.Load() {
				t.Fatalf("released %d but the longest waiter got %d", c.ID(), got.ID())
			}
		}
		if op == 2 && !m.closed && nobodyWaits && !c.Value().closed.Load() {
			m.hot = c.Value()
		}
		m.settle()
	case 4: // cancel a waiter
		if len(m.waiters) == 0 {
			return
		}
		k := int(arg) % len(m.waiters)
		w := m.waiters[k]
		m.waiters = append(m.waiters[:k], m.waiters[k+1:]...)
		w.cancel()
		o := <-w.ch
		m.wantErr("canceled Acquire", o.err, context.Canceled)
		synctest.Wait()
	case 5: // advance the clock
		d := time.Duration(arg) * 100 * time.Millisecond
		m.clk.Advance(d)
		synctest.Wait()
		m.settle()
	case 6: // dials fail (arg odd) or succeed
		if arg%2 == 1 {
			m.b.setFail(errBoom)
		} else {
			m.b.setFail(nil)
		}
	case 7: // release through a stale handle
		if len(m.stale) == 0 {
			return
		}
		c := m.stale[int(arg)%len(m.stale)]
		err := c.Release()
		if m.closed && errors.Is(err, chanpool.ErrClosed) {
			return
		}
		m.wantErr("stale Release", err, chanpool.ErrNotHeld)
		m.misuse++
		after := m.p.Stats()
		if after.Idle != before.Idle || after.Total != before.Total {
			t.Fatalf("stale Release changed the pool: before %+v after %+v", before, after)
		}
	case 9: // SetMaxConns
		n := 1 + int(arg)%fuzzLimit
		err := m.p.SetMaxConns(n)
		if m.closed {
			m.wantErr("SetMaxConns on a closed pool", err, chanpool.ErrClosed)
			return
		}
		if err != nil {
			t.Fatalf("SetMaxConns(%d): %v", n, err)
		}
		old := m.max
		m.max = n
		m.bound = max(m.bound, n)
		synctest.Wait()
		if n > old && m.b.fail == nil && !before.BreakerOpen {
			// Raised: the waiters get a dial each, as far as the room goes.
			m.wantServed(min(len(m.waiters), max(0, n-before.Total)))
		}
		if s := m.p.Stats(); s.MaxConns != n || m.p.Limits().MaxConns != n {
			t.Fatalf("SetMaxConns(%d): Stats say %d, Limits %d", n, s.MaxConns, m.p.Limits().MaxConns)
		}
	case 10: // Reset
		m.p.Reset()
		synctest.Wait()
		if m.closed {
			return
		}
		for _, c := range m.holders {
			if c.Value().closed.Load() {
				t.Fatalf("Reset closed connection %d under its holder", c.ID())
			}
			m.retired[c.Value()] = true
		}
		if s := m.p.Stats(); s.Closed.PoolReset < uint64(before.Idle) {
			t.Fatalf("Reset closed %d connections, but %d were idle", s.Closed.PoolReset, before.Idle)
		}
	case 8: // Close, with a context that is already done: forced
		if m.closed {
			m.wantErr("second Close", m.p.Close(context.Background()), chanpool.ErrClosed)
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := m.p.Close(ctx)
		if len(m.holders) > 0 || before.Dialing > 0 {
			m.wantErr("forced Close", err, context.Canceled)
		} else if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Close: %v", err)
		}
		m.closed = true
		for _, w := range m.waiters {
			m.wantErr("waiter at Close", (<-w.ch).err, chanpool.ErrClosed)
		}
		m.waiters = nil
		synctest.Wait() // the closes Close started run on
		for _, c := range m.holders {
			if !c.Value().closed.Load() {
				t.Fatalf("forced Close left held connection %d open", c.ID())
			}
			m.destroyedBusy++
		}
	}
}

func (m *model) acquire(before chanpool.Stats, hot *res) {
	t := m.t
	ctx, cancel := context.WithCancel(context.Background())
	ch := startAcquire(ctx, m.p)
	synctest.Wait()
	var o outcome
	done := false
	select {
	case o = <-ch:
		done = true
	default:
	}
	failing := m.b.fail != nil
	switch {
	case m.closed:
		m.wantErr("Acquire on closed pool", o.err, chanpool.ErrClosed)
	case before.Idle > 0:
		if !done {
			t.Fatalf("Acquire waited with %d idle", before.Idle)
		}
		m.hold("Acquire from idle", o.c, o.err)
		m.wantHot("Acquire", o.c, hot)
	case before.BreakerOpen:
		m.wantErr("Acquire with the breaker open", o.err, chanpool.ErrBreakerOpen)
	case before.Total < m.max && len(m.waiters) == 0:
		if !done {
			t.Fatalf("Acquire waited with the pool under MaxConns: %+v", before)
		}
		if failing {
			m.wantErr("Acquire with failing dial", o.err, chanpool.ErrDial)
		} else {
			m.hold("Acquire with dial", o.c, o.err)
		}
	case len(m.waiters) < fuzzWaiting:
		// Queues behind the waiters; a dial it starts serves the longest.
		if done {
			m.waiters = append(m.waiters, waiter{ch: resolved(o), cancel: cancel, deadline: m.clk.Now().Add(fuzzTimeout)})
		} else {
			m.waiters = append(m.waiters, waiter{ch: ch, cancel: cancel, deadline: m.clk.Now().Add(fuzzTimeout)})
		}
		m.settle()
		return
	default:
		m.wantErr("Acquire with full waiting room", o.err, chanpool.ErrExhausted)
		m.exhausted++
	}
	cancel()
}

// settle collects waiters served or timed out by the last step: only the
// longest waiters may have been served, and only the expired ones may have
// timed out.
func (m *model) settle() {
	t := m.t
	now := m.clk.Now()
	var left []waiter
	servedAll := true
	for i, w := range m.waiters {
		select {
		case o := <-w.ch:
			w.cancel()
			if o.err == nil {
				if !servedAll {
					t.Fatalf("waiter %d was served while an older one still waits", i)
				}
				m.hold("waiter", o.c, nil)
				continue
			}
			if errors.Is(o.err, chanpool.ErrBreakerOpen) {
				if m.p.Stats().BreakerTrips == 0 {
					t.Fatalf("waiter %d got %v, but the breaker never opened", i, o.err)
				}
				continue
			}
			if !errors.Is(o.err, chanpool.ErrAcquireTimeout) {
				t.Fatalf("waiter %d: got %v, want a connection, ErrAcquireTimeout or ErrBreakerOpen", i, o.err)
			}
			if now.Before(w.deadline) {
				t.Fatalf("waiter %d timed out at %v, before its deadline %v", i, now, w.deadline)
			}
			m.timeouts++
		default:
			if !now.Before(w.deadline) {
				t.Fatalf("waiter %d still waits past its deadline", i)
			}
			servedAll = false
			left = append(left, w)
		}
	}
	m.waiters = left
}

// wantServed checks that exactly the n longest waiters were served.
func (m *model) wantServed(n int) {
	for i, w := range m.waiters {
		select {
		case o := <-w.ch:
			w.cancel()
			if i >= n {
				m.t.Fatalf("waiter %d of %d was served out of order (err %v)", i, len(m.waiters), o.err)
			}
			m.hold("served waiter", o.c, o.err)
		default:
			if i < n {
				m.t.Fatalf("longest waiter %d was not served", i)
			}
		}
	}
	m.waiters = m.waiters[n:]
}

// wantHot checks that c, leased from idle, is hot, the connection released
// by the step before with nobody waiting, if that is still open.
func (m *model) wantHot(what string, c chanpool.Conn[*res], hot *res) {
	if hot != nil && !hot.closed.Load() && c.Value() != hot {
		m.t.Fatalf("%s leased connection %d, not %d, released last with nobody waiting", what, c.ID(), hot.id)
	}
}

func (m *model) hold(what string, c chanpool.Conn[*res], err error) {
	if err != nil {
		m.t.Fatalf("%s: %v", what, err)
	}
	m.acquired++
	m.holders = append(m.holders, c)
}

func (m *model) wantErr(what string, err, want error) {
	if !errors.Is(err, want) {
		m.t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// check verifies the invariants on a pool at rest.
func (m *model) check() {
	t := m.t
	m.settle() // any step may have served, timed out or released waiters
	s := m.p.Stats()
	if s.Total > m.bound {
		t.Fatalf("Total %d > %d (MaxConns %d)", s.Total, m.bound, m.max)
	}
	m.bound = max(m.max, s.Total) // a draining surplus only shrinks
	if s.Total != s.Idle+s.Busy+s.Dialing {
		t.Fatalf("Total %d != Idle %d + Busy %d + Dialing %d", s.Total, s.Idle, s.Busy, s.Dialing)
	}
	if s.Created-s.Destroyed != uint64(s.Total-s.Dialing) {
		t.Fatalf("Created %d - Destroyed %d != open %d", s.Created, s.Destroyed, s.Total-s.Dialing)
	}
	if sumClosed(s.Closed) != s.Destroyed {
		t.Fatalf("closes by reason %+v do not add up to %d", s.Closed, s.Destroyed)
	}
	if !m.closed && s.Busy != len(m.holders) {
		t.Fatalf("Busy %d, but %d holders", s.Busy, len(m.holders))
	}
	if s.Waiting != len(m.waiters) {
		t.Fatalf("Waiting %d, but %d waiters", s.Waiting, len(m.waiters))
	}
	if s.Acquired != m.acquired || s.Released != m.released || s.DestroyedBusy != m.destroyedBusy {
		t.Fatalf("Acquired/Released/DestroyedBusy %d/%d/%d, want %d/%d/%d",
			s.Acquired, s.Released, s.DestroyedBusy, m.acquired, m.released, m.destroyedBusy)
	}
	if s.Acquired-s.Released-s.DestroyedBusy != uint64(s.Busy) {
		t.Fatalf("Acquired - Released - DestroyedBusy != Busy: %+v", s)
	}
	if s.Misuse != m.misuse || s.Exhausted != m.exhausted || s.Timeouts != m.timeouts {
		t.Fatalf("Misuse/Exhausted/Timeouts %d/%d/%d, want %d/%d/%d",
			s.Misuse, s.Exhausted, s.Timeouts, m.misuse, m.exhausted, m.timeouts)
	}
	seen := map[*res]bool{}
	for _, h := range m.holders {
		r := h.Value()
		if seen[r] {
			t.Fatalf("connection %d is held twice", h.ID())
		}
		seen[r] = true
		if !m.closed && r.closed.Load() {
			t.Fatalf("held connection %d is closed", h.ID())
		}
	}
	if open := m.b.open(); !m.closed && open != s.Total-s.Dialing {
		t.Fatalf("backend has %d open connections, pool says %d", open, s.Total-s.Dialing)
	}
}

// finish hands everything back, closes the pool and checks nothing is left.
func (m *model) finish() {
	for _, w := range m.waiters {
		w.cancel()
		if o := <-w.ch; o.err == nil {
			m.holders = append(m.holders, o.c)
		}
	}
	for _, c := range m.holders {
		c.Release()
	}
	m.b.setFail(nil)
	if err := m.p.Close(context.Background()); err != nil && !errors.Is(err, chanpool.ErrClosed) {
		m.t.Fatalf("Close: %v", err)
	}
	synctest.Wait()
	if n := m.b.open(); n != 0 {
		m.t.Fatalf("%d connections left open after Close", n)
	}
	if s := m.p.Stats(); s.Total != 0 {
		m.t.Fatalf("Total %d after Close", s.Total)
	}
}
