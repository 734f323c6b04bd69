package chanpool_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// These tests run a real TCP server on a loopback port, in the test process,
// and pool real net.Conns to it (echoServer and netTracker, in
// helpers_test.go): they use real time, kept short with small timeouts, and
// wait for events on channels or by bounded polling, never by sleeping. Bounds on durations are generous: they must hold on a loaded
// two-core machine under -race.

// sample is one request of a chaos client: an acquire and, if it
// succeeded, a round trip.
type sample struct {
	client     int
	start, end time.Duration
	acquired   time.Duration // when Acquire returned
	err        error         // from Acquire
	ioErr      error         // from the round trip
	id         uint64
	dialStart  time.Duration // of the connection
	dialEnd    time.Duration
	checkedOK  time.Duration // the connection's last passed liveness check
}

func (s sample) ok() bool { return s.err == nil && s.ioErr == nil }

// chaosLoad runs clients goroutines, each doing one request per tick until
// stop is closed.
type chaosLoad struct {
	tr      *netTracker
	p       *chanpool.Pool[net.Conn]
	stop    chan struct{}
	wg      sync.WaitGroup
	ok      []atomic.Int64 // per client
	failed  []atomic.Int64 // per client
	samples [][]sample     // per client; read after wg.Wait
}

func startLoad(tr *netTracker, p *chanpool.Pool[net.Conn], clients int, every time.Duration) *chaosLoad {
	l := &chaosLoad{
		tr:      tr,
		p:       p,
		stop:    make(chan struct{}),
		ok:      make([]atomic.Int64, clients),
		failed:  make([]atomic.Int64, clients),
		samples: make([][]sample, clients),
	}
	for i := range clients {
		l.wg.Add(1)
		go l.client(i, every)
	}
	return l
}

func (l *chaosLoad) client(i int, every time.Duration) {
	defer l.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := uint64(0); ; n++ {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		s := l.request(i, n)
		l.samples[i] = append(l.samples[i], s)
		if s.ok() {
			l.ok[i].Add(1)
		} else {
			l.failed[i].Add(1)
		}
	}
}

func (l *chaosLoad) request(i int, n uint64) sample {
	tr := l.tr
	s := sample{client: i, start: tr.now()}
	h, err := l.p.Acquire(context.Background())
	s.acquired = tr.now()
	if err != nil {
		s.err, s.end = err, s.acquired
		return s
	}
	r := tr.record(h.Value())
	s.id, s.dialStart, s.dialEnd = h.ID(), r.dialStart, r.dialEnd
	s.checkedOK = time.Duration(r.checkedOK.Load())
	owned := tr.own(i, h)
	s.ioErr = roundTrip(h.Value(), n)
	s.end = tr.now()
	if owned {
		tr.disown(i, h)
	}
	if s.ioErr != nil {
		// A client that saw an I/O error must never hand the connection
		// back for reuse.
		err = h.Destroy()
	} else {
		err = h.Release()
	}
	if err != nil {
		tr.t.Errorf("client %d: ending the lease on %d: %v", i, s.id, err)
	}
	return s
}

// waitAll polls until cond holds for every client, or fails the test after
// within.
func (l *chaosLoad) waitAll(t *testing.T, what string, within time.Duration, cond func(client int) bool) {
	t.Helper()
	all := func() bool {
		for i := range l.ok {
			if !cond(i) {
				return false
			}
		}
		return true
	}
	if !poll(within, all) {
		t.Fatalf("%s: not reached within %v", what, within)
	}
}

func (l *chaosLoad) finish() []sample {
	close(l.stop)
	l.wg.Wait()
	var all []sample
	for _, s := range l.samples {
		all = append(all, s...)
	}
	slices.SortFunc(all, func(a, b sample) int { return int(a.start - b.start) })
	return all
}

// TestChaosServerRestart kills the server under load, keeps it down, restarts
// it on the same port, and checks what the clients saw: no connection known
// dead handed out, fast clear errors during the outage, recovery within one
// eviction interval, no connection owned twice, nothing left open.
//
// With the dial breaker on (the default), callers fail fast during the
// outage with ErrBreakerOpen; the breaker probes with backoff, and every
// eviction run probes too, so the restart is found within one
// EvictionInterval. With the breaker off, callers queue behind each other
// during the outage and wait out AcquireTimeout (the error carries the last
// dial error); recovery then takes at most one AcquireTimeout.
func TestChaosServerRestart(t *testing.T) {
	t.Run("breaker=on", func(t *testing.T) { chaosRestart(t, chanpool.DefaultBreakerThreshold, 500*time.Millisecond, false) })
	t.Run("breaker=off", func(t *testing.T) { chaosRestart(t, chanpool.None, 500*time.Millisecond, false) })
	// An operator resets the pool in the middle of the outage, as after a
	// failover: the breaker keeps its count, and every connection handed out
	// after the restart was dialed after the Reset.
	t.Run("breaker=on/reset-mid-outage", func(t *testing.T) { chaosRestart(t, chanpool.DefaultBreakerThreshold, 500*time.Millisecond, true) })
}

func chaosRestart(t *testing.T, breakerThreshold int, evictionInterval time.Duration, resetMidOutage bool) {
	skipWithoutPeek(t)
	const (
		clients        = 6
		maxConns       = 4
		every          = 2 * time.Millisecond // per client
		acquireTimeout = 200 * time.Millisecond
		outage         = 300 * time.Millisecond // at least
		// slack covers scheduling delays on a loaded machine: a hang
		// would be DialTimeout (2s) or forever.
		slack = 750 * time.Millisecond
		// recoverySlack covers the dial and scheduling after the pool
		// decides to dial again.
		recoverySlack = 250 * time.Millisecond
	)
	srv := newEchoServer(t, 0)
	tr := newNetTracker(t)
	cfg := tr.config(srv.addr)
	cfg.MaxConns = maxConns
	cfg.MinConns = 2
	cfg.AcquireTimeout = acquireTimeout
	cfg.DialTimeout = 2 * time.Second
	cfg.CheckTimeout = 100 * time.Millisecond
	cfg.EvictionInterval = evictionInterval
	cfg.BreakerThreshold = breakerThreshold
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = p.Close(context.Background())
		}
	})

	load := startLoad(tr, p, clients, every)
	stopped := false
	defer func() {
		if !stopped {
			load.finish()
		}
	}()
	load.waitAll(t, "warm-up: 20 requests per client", 5*time.Second, func(i int) bool { return load.ok[i].Load() >= 20 })

	// Outage: kill the server and keep it down until every client has seen
	// it fail several times, and for at least outage.
	killStart := tr.now()
	srv.kill()
	killDone := tr.now()
	failedBefore := make([]int64, clients)
	for i := range failedBefore {
		failedBefore[i] = load.failed[i].Load()
	}
	load.waitAll(t, "outage: 5 failures per client", 5*time.Second, func(i int) bool {
		return load.failed[i].Load()-failedBefore[i] >= 5 && tr.now()-killDone >= outage
	})
	resetAt := time.Duration(-1)
	if resetMidOutage {
		open := p.Stats().BreakerOpen
		resetAt = tr.now()
		p.Reset()
		assert.Equal(t, open, p.Stats().BreakerOpen, "Reset leaves the breaker as it was")
	}
	restartStart := tr.now()
	srv.restart()
	restartDone := tr.now()
	okBefore := make([]int64, clients)
	for i := range okBefore {
		okBefore[i] = load.ok[i].Load()
	}
	load.waitAll(t, "recovery: 30 requests per client after the restart", 5*time.Second, func(i int) bool {
		return load.ok[i].Load()-okBefore[i] >= 30
	})
	samples := load.finish()
	stopped = true
	t.Logf("kill at %v (took %v), down for %v, %d requests", killStart, killDone-killStart, restartStart-killDone, len(samples))

	var (
		outageErrs, stale, ioErrs int
		lastFail                  = restartDone
		errKinds                  = map[string]int{}
	)
	for _, s := range samples {
		// No hang: every acquire ends within its timeout.
		assert.LessOrEqual(t, s.acquired-s.start, acquireTimeout+slack,
			"acquire at %v took %v", s.start, s.acquired-s.start)
		if s.ioErr != nil {
			ioErrs++
		}
		if resetMidOutage && s.err == nil && s.start >= restartStart {
			assert.GreaterOrEqual(t, s.dialStart, resetAt, "request at %v got connection %d, dialed before the Reset", s.start, s.id)
		}
		// Handed out after the outage began: a new connection, or one
		// that passed the liveness check during this acquire.
		if s.err == nil && s.start >= killDone {
			fresh := s.dialStart >= killDone
			checked := s.checkedOK >= s.start
			assert.True(t, fresh || checked,
				"request at %v got connection %d dialed at %v, last checked at %v", s.start, s.id, s.dialStart, s.checkedOK)
			if fresh {
				assert.GreaterOrEqual(t, s.dialEnd, restartStart, "connection %d dialed during the outage", s.id)
			}
		}
		// During the outage every acquire fails fast with a clear error.
		if s.start >= killDone && s.end <= restartStart {
			if s.err == nil {
				// Only possible if the check ran before the kernel
				// delivered the server's close: the request itself fails.
				stale++
				assert.Error(t, s.ioErr, "request at %v succeeded during the outage", s.start)
				assert.Less(t, s.dialStart, killStart, "request at %v", s.start)
				continue
			}
			outageErrs++
			assert.True(t, errors.Is(s.err, chanpool.ErrDial) || errors.Is(s.err, chanpool.ErrAcquireTimeout),
				"outage acquire at %v: got %v, want ErrDial or ErrAcquireTimeout", s.start, s.err)
			assert.Contains(t, s.err.Error(), "connection refused", "outage acquire at %v", s.start)
			errKinds[errKind(s.err)]++
		}
		if s.end >= restartDone && !s.ok() {
			lastFail = max(lastFail, s.end)
		}
	}
	assert.Greater(t, outageErrs, 0, "acquires during the outage")
	assert.LessOrEqual(t, stale, maxConns, "requests handed a connection whose close was still in flight")
	t.Logf("outage: %d acquires failed %v; %d requests failed on I/O in all, %d stale conns during the outage", outageErrs, errKinds, ioErrs, stale)

	// Recovery: from the restart until every client has succeeded after the
	// last failure.
	recovered := make([]time.Duration, clients)
	for _, s := range samples {
		if s.ok() && s.start >= lastFail && recovered[s.client] == 0 {
			recovered[s.client] = s.end
		}
	}
	full := time.Duration(0)
	for i, at := range recovered {
		require.NotZero(t, at, "client %d never succeeded after the restart", i)
		full = max(full, at-restartDone)
	}
	t.Logf("recovery: full service %v after the restart (last failure %v after it); EvictionInterval %v",
		full, lastFail-restartDone, evictionInterval)
	if breakerThreshold > 0 {
		// Callers turned away by the open breaker probe on demand, so
		// recovery waits for neither the evictor nor the backoff: the dials
		// and the scheduling after the restart are all it takes.
		assert.LessOrEqual(t, full, recoverySlack, "recovery time")
	} else {
		// Without a breaker, callers queued before the restart wait for a
		// retry of the failed dials, paced by backoff.
		assert.LessOrEqual(t, full, evictionInterval+recoverySlack, "recovery time")
	}

	s := p.Stats()
	if resetMidOutage {
		assert.Equal(t, uint64(1), s.Resets)
	}
	t.Logf("stats: created %d, closed %+v, dial errors %d, breaker trips %d, timeouts %d",
		s.Created, s.Closed, s.DialErrors, s.BreakerTrips, s.Timeouts)

	// Nothing leaks: every connection closed, on both sides.
	require.NoError(t, p.Close(ctxTimeout(t, 5*time.Second)))
	closed = true
	s = p.Stats()
	assert.Zero(t, s.Total, "open after Close")
	tr.checkAllClosed()
	require.NoError(t, srv.waitOpen(0, 5*time.Second), "server side after Close")
}

// errKind names the sentinel an acquire error wraps, for the log.
func errKind(err error) string {
	for _, e := range []error{chanpool.ErrBreakerOpen, chanpool.ErrAcquireTimeout, chanpool.ErrDial} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "chanpool: ")
		}
	}
	return "other"
}

// TestChaosServerClosesIdleConns has the server close connections that sat
// idle, as databases and load balancers do: the next users must not see it,
// because the liveness check catches those connections before hand-out.
func TestChaosServerClosesIdleConns(t *testing.T) {
	const (
		clients     = 4
		requests    = 25 // per client per burst
		bursts      = 3
		idleTimeout = 300 * time.Millisecond
	)
	skipWithoutPeek(t)
	srv := newEchoServer(t, idleTimeout)
	tr := newNetTracker(t)
	cfg := tr.config(srv.addr)
	cfg.MaxConns = clients
	cfg.MinConns = chanpool.None
	cfg.AcquireTimeout = 2 * time.Second
	// Well below the server's idle timeout: a connection the server may
	// have closed is always checked; one in steady use never is.
	cfg.HealthCheckAfter = 50 * time.Millisecond
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	caught := 0 // connections the server closed before the last burst
	for burst := range bursts {
		// Every connection the server closed while idle is caught by the
		// first acquire that meets it (and a burst touches them all).
		closedBefore := srv.idleClosed.Load()
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range uint64(requests) {
					h, err := p.Acquire(context.Background())
					if !assert.NoError(t, err, "burst %d client %d request %d", burst, i, n) {
						return
					}
					if err := roundTrip(h.Value(), n); err != nil {
						t.Errorf("burst %d client %d request %d on connection %d: %v", burst, i, n, h.ID(), err)
						assert.NoError(t, h.Destroy())
						return
					}
					assert.NoError(t, h.Release())
				}
			}()
		}
		wg.Wait()
		// Checks run on the pool's goroutines, and an acquire also starts
		// them on the other idle connections it meets: let those end (and
		// their closes, counted when they start) before counting.
		require.True(t, poll(5*time.Second, func() bool {
			st := p.Stats()
			return st.Checking == 0 && st.Closing == 0
		}), "burst %d: checks and closes still running: %+v", burst, p.Stats())
		// Normally equal to closedBefore; a connection the server closed
		// during the burst (a stall of idleTimeout on a loaded machine)
		// may be caught too.
		health := int64(p.Stats().Closed.Health)
		assert.GreaterOrEqual(t, health, closedBefore, "burst %d: connections caught closed by the liveness check", burst)
		assert.LessOrEqual(t, health, srv.idleClosed.Load(), "burst %d: connections caught closed by the liveness check", burst)

		// Idle: wait for the server to close every connection, and for
		// the client side to see it.
		require.NoError(t, srv.waitOpen(0, 5*time.Second))
		tr.mu.Lock()
		var idle []net.Conn
		for c, r := range tr.conns {
			if r.closes.Load() == 0 {
				idle = append(idle, c)
			}
		}
		tr.mu.Unlock()
		for _, c := range idle {
			waitCheckFails(t, c)
		}
		t.Logf("burst %d: %d connections open after it, all closed by the server while idle", burst, len(idle))
		if burst < bursts-1 {
			caught += len(idle)
		}
	}
	s := p.Stats()
	assert.Equal(t, uint64(bursts*clients*requests), s.Acquired)
	assert.GreaterOrEqual(t, s.Closed.Health, uint64(caught), "connections caught closed by the liveness check")
	assert.Positive(t, caught)
}
