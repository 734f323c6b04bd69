package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// Chaos on real TCP, continued: a server that hangs (accepts, then never
// answers) and a Config.Close that is slow. As in chaos_test.go the tests
// run on real time and real loopback sockets, wait on channels or with
// poll, and keep every bound generous: they must hold on a loaded two-core
// machine under -race, and still fail when the pool makes a caller wait for
// a check, a dial or a close it should not wait for. A bound on a duration
// also allows for the time the whole process was stalled meanwhile, as
// measured by stallMonitor: other test processes on the same machine can
// stall it for hundreds of milliseconds.
//
// The helpers live here rather than in helpers_test.go: only these tests
// use them.

// hungServer is an echo server (frameSize-byte requests, each answered with
// the same bytes) with a freeze switch. While frozen it answers nothing: a
// handler that has read a request holds the reply, one waiting for a
// request reads no more, and connections accepted meanwhile are never
// served. The TCP handshake is the kernel's, so dials still succeed. Thawing
// serves everything held, in order.
type hungServer struct {
	t    testing.TB
	addr string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	frozen bool
	thawed chan struct{} // closed by thaw; replaced by freeze
	killed bool
	quit   chan struct{} // closed by kill
	wg     sync.WaitGroup
}

// newHungServer starts a hungServer on 127.0.0.1:0, not frozen, and kills it
// when the test ends.
func newHungServer(t testing.TB) *hungServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &hungServer{
		t:      t,
		addr:   ln.Addr().String(),
		ln:     ln,
		conns:  make(map[net.Conn]struct{}),
		thawed: make(chan struct{}),
		quit:   make(chan struct{}),
	}
	close(s.thawed)
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.kill)
	return s
}

func (s *hungServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed by kill
		}
		s.mu.Lock()
		if s.killed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1) // under mu, while the accept loop holds its own unit
		s.mu.Unlock()
		go s.handle(c)
	}
}

func (s *hungServer) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	var buf [frameSize]byte
	for {
		if !s.serving() {
			return
		}
		if _, err := io.ReadFull(c, buf[:]); err != nil {
			return
		}
		if !s.serving() {
			return
		}
		if _, err := c.Write(buf[:]); err != nil {
			return
		}
	}
}

// serving returns once the server is not frozen (true) or has been killed
// (false).
func (s *hungServer) serving() bool {
	s.mu.Lock()
	frozen, thawed := s.frozen, s.thawed
	s.mu.Unlock()
	if !frozen {
		return true
	}
	select {
	case <-thawed:
		return true
	case <-s.quit:
		return false
	}
}

// freeze stops the server answering, at once, on every connection.
func (s *hungServer) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.frozen = true
		s.thawed = make(chan struct{})
	}
}

// thaw lets the server answer again, starting with what it held.
func (s *hungServer) thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.frozen = false
		close(s.thawed)
	}
}

// kill closes the listener and every connection, so that a client blocked
// on a read gets EOF, and waits for every goroutine of the server.
func (s *hungServer) kill() {
	s.mu.Lock()
	if !s.killed {
		s.killed = true
		close(s.quit)
		s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// open returns how many server-side connections are open.
func (s *hungServer) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// roundTripBy is roundTrip with a deadline of the caller's choosing; the
// zero time means none.
func roundTripBy(c net.Conn, n uint64, deadline time.Time) error {
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	return exchange(c, n)
}

// checkFrame marks the requests sent by health checks, so that they never
// equal a client's.
const checkFrame = 1 << 63

// checkGuard watches, per connection, that a health check never overlaps a
// close or a lease of its connection: the check owns the connection until
// it returns. Each connection's flags are under its own mutex.
type checkGuard struct {
	t testing.TB

	mu sync.Mutex
	st map[net.Conn]*guardState

	checks     atomic.Int64 // checks started
	running    atomic.Int64 // checks running now
	noDeadline atomic.Int64 // checks whose ctx had no Deadline
	violations atomic.Int64
}

type guardState struct {
	mu       sync.Mutex
	checking bool
	closed   bool
}

func newCheckGuard(t testing.TB) *checkGuard {
	return &checkGuard{t: t, st: make(map[net.Conn]*guardState)}
}

func (g *checkGuard) state(c net.Conn) *guardState {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.st[c]
	if st == nil {
		st = &guardState{}
		g.st[c] = st
	}
	return st
}

func (g *checkGuard) fail(format string, args ...any) {
	g.violations.Add(1)
	g.t.Errorf(format, args...)
}

// begin marks c as under a check. It fails the test if c is closed or
// already under one.
func (g *checkGuard) begin(c net.Conn) {
	st := g.state(c)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.checking {
		g.fail("two health checks at once on %v", c.LocalAddr())
	}
	if st.closed {
		g.fail("health check on %v, already closed", c.LocalAddr())
	}
	st.checking = true
	g.checks.Add(1)
	g.running.Add(1)
}

// end marks c's check as returned.
func (g *checkGuard) end(c net.Conn) {
	st := g.state(c)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.checking = false
	g.running.Add(-1)
}

// closing is called by Config.Close: c must not be under a check.
func (g *checkGuard) closing(c net.Conn) {
	st := g.state(c)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.checking {
		g.fail("Close of %v while its health check still runs", c.LocalAddr())
	}
	st.closed = true
}

// leased is called by a client that was just handed c: c must not be under
// a check.
func (g *checkGuard) leased(client int, c net.Conn) {
	st := g.state(c)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.checking {
		g.fail("client %d was handed %v while its health check still runs", client, c.LocalAddr())
	}
}

// roundTripCheck is a HealthCheck that does a round trip and honors its
// context: the I/O deadline is ctx's deadline, and if ctx has none (the
// pool's check context ends on a timer of the pool's clock and need not
// report one) the check interrupts its I/O when ctx ends.
func (g *checkGuard) roundTripCheck(ctx context.Context, c net.Conn) error {
	g.begin(c)
	defer g.end(c)
	deadline, ok := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil { // zero: clears the last user's
		return err
	}
	if !ok {
		g.noDeadline.Add(1)
		stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
		defer stop()
	}
	return exchange(c, checkFrame|uint64(g.checks.Load()))
}

// ignoringCheck is a HealthCheck that does a round trip and ignores its
// context: it blocks on the read, with no deadline, until the server
// answers or the connection is closed.
func (g *checkGuard) ignoringCheck(_ context.Context, c net.Conn) error {
	g.begin(c)
	defer g.end(c)
	return roundTripBy(c, checkFrame|uint64(g.checks.Load()), time.Time{})
}

// guardedConfig is tr's config with g watching its checks and closes.
func guardedConfig(tr *netTracker, g *checkGuard, addr string, ignoreCtx bool) chanpool.Config[net.Conn] {
	cfg := tr.config(addr)
	closeConn := cfg.Close
	cfg.Close = func(c net.Conn) error {
		g.closing(c)
		return closeConn(c)
	}
	cfg.HealthCheck = g.roundTripCheck
	if ignoreCtx {
		cfg.HealthCheck = g.ignoringCheck
	}
	return cfg
}

// stallMonitor measures how long the test process could not run a
// goroutine: a goroutine of its own wakes every stallTick and records each
// wake-up that came late. Machines that run several test processes at once
// stall every goroutine of a process for hundreds of milliseconds at times;
// a bound on a duration then allows for the stall measured during it, and
// still catches the pool making a caller wait for a check, a dial or a
// close, for that wait is no stall: the monitor runs on meanwhile.
type stallMonitor struct {
	mu   sync.Mutex
	gaps [][2]time.Time // late wake-ups: from the one before to the late one
	stop chan struct{}
	done chan struct{}
}

const stallTick = 5 * time.Millisecond

// newStallMonitor starts a monitor that runs until the test ends.
func newStallMonitor(t testing.TB) *stallMonitor {
	m := &stallMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	t.Cleanup(func() {
		close(m.stop)
		<-m.done
	})
	return m
}

func (m *stallMonitor) run() {
	defer close(m.done)
	tick := time.NewTicker(stallTick)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		if now.Sub(last) > 2*stallTick {
			m.mu.Lock()
			m.gaps = append(m.gaps, [2]time.Time{last, now})
			m.mu.Unlock()
		}
		last = now
	}
}

// during returns the time lost to late wake-ups overlapping [from, to].
func (m *stallMonitor) during(from, to time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var lost time.Duration
	for _, g := range m.gaps {
		if g[0].Before(to) && g[1].After(from) {
			lost += g[1].Sub(g[0]) - stallTick
		}
	}
	return lost
}

// total returns the time lost to every late wake-up so far.
func (m *stallMonitor) total() time.Duration {
	return m.during(time.Time{}, time.Now().Add(time.Hour))
}

// longest returns the longest late wake-up so far.
func (m *stallMonitor) longest() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var most time.Duration
	for _, g := range m.gaps {
		most = max(most, g[1].Sub(g[0])-stallTick)
	}
	return most
}

// hungSample is one request of a hungLoad client.
type hungSample struct {
	client   int
	start    time.Duration
	bound    time.Duration // when Acquire had to return by: the caller's deadline or AcquireTimeout
	returned time.Duration // when it did
	end      time.Duration
	err      error // from Acquire
	ioErr    error // from the round trip
}

func (s hungSample) ok() bool { return s.err == nil && s.ioErr == nil }

// hungLoad runs clients that each acquire with a context of their own (a
// short one on even clients, a long one on odd clients, which
// AcquireTimeout then bounds), do one round trip with a short I/O deadline,
// and Release, or Destroy on an I/O error.
type hungLoad struct {
	tr   *netTracker
	g    *checkGuard
	p    *chanpool.Pool[net.Conn]
	ctxs [2]time.Duration // by client parity
	acqT time.Duration    // AcquireTimeout
	ioT  time.Duration    // I/O deadline of a round trip

	stop    chan struct{}
	wg      sync.WaitGroup
	ok      []atomic.Int64
	failed  []atomic.Int64
	samples [][]hungSample // read after wg.Wait
}

// maxRequests bounds each client's loop, whatever happens to stop.
const maxRequests = 100_000

func (l *hungLoad) start(clients int, every time.Duration) {
	l.stop = make(chan struct{})
	l.ok = make([]atomic.Int64, clients)
	l.failed = make([]atomic.Int64, clients)
	l.samples = make([][]hungSample, clients)
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for n := range uint64(maxRequests) {
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
		}()
	}
}

func (l *hungLoad) request(i int, n uint64) hungSample {
	tr := l.tr
	ctx, cancel := context.WithTimeout(context.Background(), l.ctxs[i%2])
	defer cancel()
	s := hungSample{client: i, start: tr.now()}
	deadline, _ := ctx.Deadline()
	s.bound = min(deadline.Sub(tr.start), s.start+l.acqT)
	h, err := l.p.Acquire(ctx)
	s.returned = tr.now()
	if err != nil {
		s.err, s.end = err, s.returned
		return s
	}
	l.g.leased(i, h.Value())
	owned := tr.own(i, h)
	s.ioErr = roundTripBy(h.Value(), n, time.Now().Add(l.ioT))
	s.end = tr.now()
	if owned {
		tr.disown(i, h)
	}
	if s.ioErr != nil {
		err = h.Destroy()
	} else {
		err = h.Release()
	}
	if err != nil {
		tr.t.Errorf("client %d: ending the lease on %d: %v", i, h.ID(), err)
	}
	return s
}

// waitAll polls until cond holds for every client, or fails the test after
// within.
func (l *hungLoad) waitAll(t *testing.T, what string, within time.Duration, cond func(client int) bool) {
	t.Helper()
	if !poll(within, func() bool {
		for i := range l.ok {
			if !cond(i) {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("%s: not reached within %v", what, within)
	}
}

func (l *hungLoad) finish() []hungSample {
	close(l.stop)
	l.wg.Wait()
	var all []hungSample
	for _, s := range l.samples {
		all = append(all, s...)
	}
	slices.SortFunc(all, func(a, b hungSample) int { return int(a.start - b.start) })
	return all
}

// allowedAcquireErr reports whether err is one an Acquire may fail with
// while the server hangs.
func allowedAcquireErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, chanpool.ErrAcquireTimeout) ||
		errors.Is(err, chanpool.ErrDial) || errors.Is(err, chanpool.ErrBreakerOpen)
}

// TestChaosHungServerKeepsDeadlines freezes the server under load (8
// clients on 4 connections, a round-trip HealthCheck on every acquire):
// it accepts connections but answers nothing, on old connections or new.
// Every Acquire must still return by its caller's deadline or by
// AcquireTimeout, whichever comes first, give or take scheduling slack,
// with a deadline, timeout, dial or breaker error; no connection may go to
// two holders, be handed out or closed while its check runs; once the
// server thaws the pool must serve every client again within a bound; and
// Close must end within its context, counting any check still running.
//
// With check=honors-ctx the check's round trip ends at CheckTimeout; with
// check=ignores-ctx it blocks until the server answers or the connection
// is closed, keeping its connection and slot all along, so the callers can
// only time out.
func TestChaosHungServerKeepsDeadlines(t *testing.T) {
	t.Run("check=honors-ctx", func(t *testing.T) { chaosHung(t, false) })
	t.Run("check=ignores-ctx", func(t *testing.T) { chaosHung(t, true) })
}

func chaosHung(t *testing.T, ignoreCtx bool) {
	const (
		clients        = 8
		maxConns       = 4
		every          = 2 * time.Millisecond // per client
		checkTimeout   = 300 * time.Millisecond
		acquireTimeout = 500 * time.Millisecond
		shortCtx       = 400 * time.Millisecond // even clients: their own deadline binds
		longCtx        = 2 * time.Second        // odd clients: AcquireTimeout binds
		ioTimeout      = 300 * time.Millisecond
		frozenFor      = 1500 * time.Millisecond // at least
		// slack covers scheduling on a loaded machine: a caller that
		// waited for a hung check and then for a dial would overrun by
		// CheckTimeout and more.
		slack = 250 * time.Millisecond
		// serveAgain bounds the time from the thaw until every client has
		// been served: a check or round trip in flight at the thaw, then
		// one more request.
		serveAgain = checkTimeout + acquireTimeout + slack
	)
	srv := newHungServer(t)
	stalls := newStallMonitor(t)
	tr := newNetTracker(t)
	g := newCheckGuard(t)
	cfg := guardedConfig(tr, g, srv.addr, ignoreCtx)
	cfg.MaxConns = maxConns
	cfg.MinConns = chanpool.None
	cfg.HealthCheckAfter = chanpool.None // a check on every acquire of an idle connection
	cfg.CheckTimeout = checkTimeout
	cfg.AcquireTimeout = acquireTimeout
	cfg.DialTimeout = time.Second
	cfg.EvictionInterval = chanpool.None
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			srv.kill() // ends any check still blocked on a read
			_ = p.Close(context.Background())
		}
	})

	load := &hungLoad{tr: tr, g: g, p: p, ctxs: [2]time.Duration{shortCtx, longCtx}, acqT: acquireTimeout, ioT: ioTimeout}
	load.start(clients, every)
	stopped := false
	defer func() {
		if !stopped {
			srv.thaw()
			load.finish()
		}
	}()
	load.waitAll(t, "warm-up: 10 requests per client", 5*time.Second, func(i int) bool { return load.ok[i].Load() >= 10 })

	frozeAt := tr.now()
	srv.freeze()
	failedBefore := make([]int64, clients)
	for i := range failedBefore {
		failedBefore[i] = load.failed[i].Load()
	}
	load.waitAll(t, "freeze: 3 failures per client", 10*time.Second, func(i int) bool {
		return load.failed[i].Load()-failedBefore[i] >= 3 && tr.now()-frozeAt >= frozenFor
	})
	thawAt := tr.now()
	srv.thaw()
	okBefore := make([]int64, clients)
	for i := range okBefore {
		okBefore[i] = load.ok[i].Load()
	}
	load.waitAll(t, "thaw: 10 requests per client", 10*time.Second, func(i int) bool {
		return load.ok[i].Load()-okBefore[i] >= 10
	})
	samples := load.finish()
	stopped = true

	var (
		worst            hungSample // the latest return against its bound
		slowest          time.Duration
		frozenErrs, ioEr int
		errKinds         = map[string]int{}
	)
	for _, s := range samples {
		over := s.returned - s.bound
		if over > worst.returned-worst.bound || worst.bound == 0 {
			worst = s
		}
		slowest = max(slowest, s.returned-s.start)
		stalled := stalls.during(tr.start.Add(s.start), tr.start.Add(s.returned))
		assert.LessOrEqual(t, over, slack+stalled,
			"client %d: acquire at %v returned at %v, %v after its bound %v (%v; the process stalled %v meanwhile)",
			s.client, s.start, s.returned, over, s.bound, s.err, stalled)
		if s.err != nil {
			assert.True(t, allowedAcquireErr(s.err), "client %d: acquire at %v: got %v, want a deadline, timeout, dial or breaker error", s.client, s.start, s.err)
			if s.start >= frozeAt && s.start < thawAt {
				frozenErrs++
				errKinds[hungErrKind(s.err)]++
			}
		}
		if s.ioErr != nil {
			ioEr++
			assert.NotContains(t, s.ioErr.Error(), "desync", "client %d: request at %v", s.client, s.start)
		}
	}
	t.Logf("%d requests; slowest acquire %v; latest against its bound: client %d, %v after it (started %v, bound %v after start, %v)",
		len(samples), slowest, worst.client, worst.returned-worst.bound, worst.start, worst.bound-worst.start, worst.err)
	t.Logf("frozen %v: %d acquires failed %v, %d round trips failed in all; %d checks, %d of them with no ctx deadline",
		thawAt-frozeAt, frozenErrs, errKinds, ioEr, g.checks.Load(), g.noDeadline.Load())
	assert.Positive(t, frozenErrs+ioEr, "requests that failed while frozen")

	// Serving again: each client's first request begun after the thaw that
	// succeeds, and every one after it, unless the process stalled.
	served := make([]time.Duration, clients)
	full, relapses := time.Duration(0), 0
	for _, s := range samples {
		switch {
		case s.start < thawAt:
		case served[s.client] == 0:
			if s.ok() {
				served[s.client] = s.end
				full = max(full, s.end-thawAt)
			}
		case !s.ok():
			stalled := stalls.during(tr.start.Add(s.start), tr.start.Add(s.end))
			if stalled < 50*time.Millisecond {
				relapses++
				t.Errorf("client %d: request at %v failed after the client was served again at %v (stall %v): %v / %v",
					s.client, s.start, served[s.client], stalled, s.err, s.ioErr)
			}
		}
	}
	for i, at := range served {
		require.NotZero(t, at, "client %d never succeeded after the thaw", i)
	}
	stalled := stalls.during(tr.start.Add(thawAt), tr.start.Add(thawAt+full))
	t.Logf("serving again: every client %v after the thaw; %d failures after that; the process stalled %v in all (longest %v)",
		full, relapses, stalls.total(), stalls.longest())
	assert.LessOrEqual(t, full, serveAgain+stalled, "time to serve every client again after the thaw (stalled %v)", stalled)

	st := p.Stats()
	t.Logf("stats: created %d, closed %+v, timeouts %d, canceled %d", st.Created, st.Closed, st.Timeouts, st.Canceled)

	// Close while frozen, with checks running on the connections. Checks
	// still in flight from the load would pass once their reply arrives:
	// wait for them to end before freezing.
	require.True(t, poll(5*time.Second, func() bool { return p.Stats().Checking == 0 }), "checks after the load: %+v", p.Stats())
	srv.freeze()
	wantChecks := 1
	if ignoreCtx {
		wantChecks = maxConns // they pile up: every slot ends under a hung check
	}
	if !poll(5*time.Second, func() bool {
		if p.Stats().Checking >= wantChecks {
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if h, err := p.Acquire(ctx); err == nil {
			// Fresh from a dial: back to idle, for the next acquire to
			// check.
			assert.NoError(t, h.Release())
		}
		return p.Stats().Checking >= wantChecks
	}) {
		t.Fatalf("close: %d checks running, want %d", p.Stats().Checking, wantChecks)
	}
	closeCtx := 2 * time.Second // checks end at CheckTimeout: Close waits for them
	if ignoreCtx {
		closeCtx = 200 * time.Millisecond // checks never end: Close gives up
	}
	closeStart := time.Now()
	err = p.Close(ctxTimeout(t, closeCtx))
	closeEnd := time.Now()
	took := closeEnd.Sub(closeStart)
	closed = true
	stalled = stalls.during(closeStart, closeEnd)
	t.Logf("Close with %v context, %d checks running: took %v (stalled %v), %v", closeCtx, wantChecks, took, stalled, err)
	if ignoreCtx {
		assert.LessOrEqual(t, took, closeCtx+slack+stalled, "Close with checks ignoring ctx")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, fmt.Sprintf("%d health checks", maxConns))
		// The test closes the connections, which ends the checks; the pool
		// then closes each connection once its check has returned.
		srv.kill()
	} else {
		assert.NoError(t, err)
		assert.LessOrEqual(t, took, checkTimeout+slack+stalled, "Close with checks honoring ctx")
	}
	require.True(t, poll(5*time.Second, func() bool {
		st := p.Stats()
		return st.Total == 0 && st.Checking == 0 && st.Closing == 0
	}), "after Close: %+v", p.Stats())
	srv.kill()
	tr.checkAllClosed()
	assert.Zero(t, g.running.Load(), "checks still running")
	assert.Zero(t, g.violations.Load(), "checks overlapping a close or a lease")
	assert.Zero(t, srv.open(), "server side after Close")
}

// hungErrKind names what an acquire error wraps, for the log.
func hungErrKind(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "ctx deadline"
	}
	return errKind(err)
}

// slowClose wraps tr's Config.Close so that it takes d before closing the
// socket, as a TLS close_notify to a slow peer or waiting for a process to
// exit would. Sleeping is the point here: it is the work the pool must keep
// off its callers' path. It records how many closes run at once and when
// each returned.
type slowClose struct {
	d time.Duration

	running, most atomic.Int64
	mu            sync.Mutex
	ended         []time.Time
}

func (sc *slowClose) wrap(cfg *chanpool.Config[net.Conn]) {
	closeConn := cfg.Close
	cfg.Close = func(c net.Conn) error {
		n := sc.running.Add(1)
		for m := sc.most.Load(); n > m && !sc.most.CompareAndSwap(m, n); m = sc.most.Load() {
		}
		time.Sleep(sc.d)
		err := closeConn(c)
		sc.running.Add(-1)
		sc.mu.Lock()
		sc.ended = append(sc.ended, time.Now())
		sc.mu.Unlock()
		return err
	}
}

func (sc *slowClose) count() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.ended)
}

func (sc *slowClose) lastEnded() time.Time {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.ended[len(sc.ended)-1]
}

const slowCloseTime = 300 * time.Millisecond

// slowClosePool builds a pool of real TCP connections to srv whose Close
// takes slowCloseTime, checked on every acquire with a round trip.
func slowClosePool(t *testing.T, srv *echoServer, maxConns int) (*chanpool.Pool[net.Conn], *netTracker, *slowClose) {
	t.Helper()
	tr := newNetTracker(t)
	g := newCheckGuard(t)
	cfg := guardedConfig(tr, g, srv.addr, false)
	cfg.MaxConns = maxConns
	cfg.MinConns = chanpool.None
	cfg.HealthCheckAfter = chanpool.None
	cfg.CheckTimeout = 300 * time.Millisecond
	cfg.AcquireTimeout = 2 * time.Second
	cfg.EvictionInterval = chanpool.None
	sc := &slowClose{d: slowCloseTime}
	sc.wrap(&cfg)
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = p.Close(context.Background())
		assert.Zero(t, g.violations.Load(), "checks overlapping a close or a lease")
	})
	return p, tr, sc
}

// waitClosed waits until n closes have returned.
func (sc *slowClose) waitClosed(t *testing.T, n int) {
	t.Helper()
	require.True(t, poll(5*time.Second, func() bool { return sc.count() >= n }), "%d closes returned, want %d", sc.count(), n)
}

// TestChaosSlowCloseNeverBlocksCallers gives real TCP connections a
// Config.Close that takes 300ms. Destroy must return at once, the close
// going on in the background with the connection still holding its slot;
// and an Acquire that meets a connection failing its check must not wait
// for that connection's close: it dials another at once.
func TestChaosSlowCloseNeverBlocksCallers(t *testing.T) {
	const (
		rounds = 5
		// fast is "at once" on a loaded machine: far below the close.
		fast = 50 * time.Millisecond
	)
	t.Run("Destroy", func(t *testing.T) {
		srv := newEchoServer(t, 0)
		stalls := newStallMonitor(t)
		p, _, sc := slowClosePool(t, srv, rounds+1)
		var slowest time.Duration
		var lastReturn time.Time
		for i := range rounds {
			h, err := p.Acquire(ctxTimeout(t, 2*time.Second))
			require.NoError(t, err, "round %d", i)
			require.NoError(t, roundTrip(h.Value(), uint64(i)))
			start := time.Now()
			require.NoError(t, h.Destroy(), "round %d", i)
			lastReturn = time.Now()
			took := lastReturn.Sub(start)
			slowest = max(slowest, took)
			stalled := stalls.during(start, lastReturn)
			assert.LessOrEqual(t, took, fast+stalled, "round %d: Destroy (stalled %v)", i, stalled)
			// The close runs now, and its connection keeps its slot.
			st := p.Stats()
			assert.GreaterOrEqual(t, st.Closing, 1, "round %d: closing: %+v", i, st)
			assert.GreaterOrEqual(t, st.Total, 1, "round %d: Total while closing: %+v", i, st)
		}
		sc.waitClosed(t, rounds)
		closeLag := sc.lastEnded().Sub(lastReturn)
		t.Logf("slowest Destroy %v; the last close returned %v after its Destroy; %d closes ran at once", slowest, closeLag, sc.most.Load())
		assert.GreaterOrEqual(t, closeLag, slowCloseTime-fast, "the close ran after Destroy returned")
		require.True(t, poll(time.Second, func() bool { return p.Stats().Total == 0 }), "slots freed after the closes: %+v", p.Stats())
	})

	t.Run("failed-check", func(t *testing.T) {
		srv := newEchoServer(t, 0)
		stalls := newStallMonitor(t)
		p, tr, sc := slowClosePool(t, srv, rounds+1)
		h, err := p.Acquire(ctxTimeout(t, 2*time.Second))
		require.NoError(t, err)
		require.NoError(t, roundTrip(h.Value(), 0))
		var slowest time.Duration
		for i := range rounds {
			id, c := h.ID(), h.Value()
			require.NoError(t, h.Release())
			// The server closes the idle connection: its next check fails.
			srv.closePeer(c)
			waitCheckFails(t, c)
			start := time.Now()
			h, err = p.Acquire(ctxTimeout(t, 2*time.Second))
			end := time.Now()
			took := end.Sub(start)
			require.NoError(t, err, "round %d", i)
			slowest = max(slowest, took)
			stalled := stalls.during(start, end)
			assert.LessOrEqual(t, took, fast+stalled, "round %d: Acquire after a failed check (stalled %v)", i, stalled)
			assert.NotEqual(t, id, h.ID(), "round %d: handed the connection that failed its check", i)
			require.NoError(t, roundTrip(h.Value(), uint64(i+1)), "round %d", i)
		}
		assert.Equal(t, uint64(rounds), p.Stats().Closed.Health, "connections closed for a failed check")
		require.NoError(t, h.Release())
		sc.waitClosed(t, rounds)
		t.Logf("slowest Acquire after a failed check %v (each close takes %v); %d dials", slowest, slowCloseTime, tr.dialed)
	})
}

// TestChaosSlowClosePoolCloseBounded closes pools whose Config.Close takes
// 300ms. With a 100ms context Close returns at its deadline, its error
// counting the connection still leased and the closes still running; with
// no deadline it waits for them, and the idle connections close
// concurrently, not one after another.
func TestChaosSlowClosePoolCloseBounded(t *testing.T) {
	const slack = 150 * time.Millisecond
	t.Run("ctx=100ms", func(t *testing.T) {
		const (
			n        = 4
			closeCtx = 100 * time.Millisecond
		)
		srv := newEchoServer(t, 0)
		stalls := newStallMonitor(t)
		p, tr, sc := slowClosePool(t, srv, n)
		hs := make([]chanpool.Conn[net.Conn], n)
		for i := range hs {
			h, err := p.Acquire(ctxTimeout(t, 2*time.Second))
			require.NoError(t, err)
			require.NoError(t, roundTrip(h.Value(), uint64(i)))
			hs[i] = h
		}
		for _, h := range hs[1:] {
			require.NoError(t, h.Release())
		}
		start := time.Now()
		err := p.Close(ctxTimeout(t, closeCtx))
		end := time.Now()
		took := end.Sub(start)
		stalled := stalls.during(start, end)
		t.Logf("Close with a %v context: %v (stalled %v), %v", closeCtx, took, stalled, err)
		assert.LessOrEqual(t, took, closeCtx+slack+stalled, "Close")
		assert.GreaterOrEqual(t, took, closeCtx-5*time.Millisecond, "Close returned before its context ended: %v", err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "with 1 connections still in use")
		assert.ErrorContains(t, err, fmt.Sprintf("still running: %d closes, 0 dials, 0 health checks", n-1))
		assert.ErrorIs(t, hs[0].Release(), chanpool.ErrClosed, "Release of a lease Close ended")
		sc.waitClosed(t, n)
		require.True(t, poll(time.Second, func() bool { return p.Stats().Total == 0 }), "after the closes: %+v", p.Stats())
		tr.checkAllClosed()
		require.NoError(t, srv.waitOpen(0, 5*time.Second), "server side after Close")
	})

	t.Run("ctx=none", func(t *testing.T) {
		const n = 6
		srv := newEchoServer(t, 0)
		stalls := newStallMonitor(t)
		p, tr, sc := slowClosePool(t, srv, n)
		hs := make([]chanpool.Conn[net.Conn], n)
		for i := range hs {
			h, err := p.Acquire(ctxTimeout(t, 2*time.Second))
			require.NoError(t, err)
			hs[i] = h
		}
		for _, h := range hs {
			require.NoError(t, h.Release())
		}
		start := time.Now()
		require.NoError(t, p.Close(context.Background()))
		end := time.Now()
		took := end.Sub(start)
		stalled := stalls.during(start, end)
		t.Logf("Close of %d idle connections, %v each: %v (stalled %v; one after another: %v); %d closes ran at once",
			n, slowCloseTime, took, stalled, n*slowCloseTime, sc.most.Load())
		assert.GreaterOrEqual(t, took, slowCloseTime, "Close returned before the closes")
		assert.LessOrEqual(t, took, 2*slowCloseTime+stalled, "Close of %d idle connections", n)
		assert.Equal(t, int64(n), sc.most.Load(), "closes at once")
		assert.Equal(t, n, sc.count(), "closes returned when Close did")
		tr.checkAllClosed()
		require.NoError(t, srv.waitOpen(0, 5*time.Second), "server side after Close")
	})
}

// TestChaosHungServerAcquireTimeoutSpansChecks freezes the server with
// every connection idle, and acquires with no deadline of the caller's:
// AcquireTimeout alone bounds the Acquire, however many idle connections
// it meets whose check hangs.
//
// With check=ignores-ctx the caller waits for its check until CheckTimeout,
// then finds every slot held by a hung check and joins the waiting room:
// AcquireTimeout must count from the start of the Acquire, not restart
// there (before e156052 it did, and ErrAcquireTimeout came at
// CheckTimeout + AcquireTimeout, about 800ms).
func TestChaosHungServerAcquireTimeoutSpansChecks(t *testing.T) {
	t.Run("check=honors-ctx", func(t *testing.T) { chaosHungIdle(t, false) })
	t.Run("check=ignores-ctx", func(t *testing.T) { chaosHungIdle(t, true) })
}

// TestChaosHungCheckCallerMovesOnAtCheckTimeout freezes the server with
// one idle connection and a free slot, and acquires with no deadline of
// the caller's: the check on the idle connection ignores its context and
// hangs, and at CheckTimeout the caller must give up on it and dial,
// getting a fresh connection while the hung check keeps the old one.
func TestChaosHungCheckCallerMovesOnAtCheckTimeout(t *testing.T) {
	const (
		checkTimeout = 300 * time.Millisecond
		slack        = 250 * time.Millisecond
	)
	srv := newHungServer(t)
	stalls := newStallMonitor(t)
	tr := newNetTracker(t)
	g := newCheckGuard(t)
	cfg := guardedConfig(tr, g, srv.addr, true)
	cfg.MaxConns = 2
	cfg.MinConns = chanpool.None
	cfg.HealthCheckAfter = chanpool.None
	cfg.CheckTimeout = checkTimeout
	cfg.AcquireTimeout = 2 * time.Second
	cfg.EvictionInterval = chanpool.None
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.kill()
		_ = p.Close(context.Background())
	})
	old, err := p.Acquire(ctxTimeout(t, 2*time.Second))
	require.NoError(t, err)
	require.NoError(t, roundTrip(old.Value(), 0))
	oldID := old.ID()
	require.NoError(t, old.Release())
	srv.freeze()
	start := time.Now()
	h, err := p.Acquire(context.Background())
	end := time.Now()
	took := end.Sub(start)
	stalled := stalls.during(start, end)
	t.Logf("Acquire past a hung check: %v (stalled %v), %v", took, stalled, err)
	require.NoError(t, err, "the caller dials once its check gives up")
	assert.NotEqual(t, oldID, h.ID(), "handed the connection whose check hangs")
	assert.GreaterOrEqual(t, took, checkTimeout, "Acquire returned before its check gave up")
	assert.LessOrEqual(t, took, checkTimeout+slack+stalled, "Acquire past a hung check")
	assert.Equal(t, 1, p.Stats().Checking, "the hung check still runs, holding its connection")
	assert.NoError(t, h.Destroy())
}

func chaosHungIdle(t *testing.T, ignoreCtx bool) {
	const (
		maxConns       = 4
		checkTimeout   = 300 * time.Millisecond
		acquireTimeout = 500 * time.Millisecond
		slack          = 250 * time.Millisecond
	)
	srv := newHungServer(t)
	stalls := newStallMonitor(t)
	tr := newNetTracker(t)
	g := newCheckGuard(t)
	cfg := guardedConfig(tr, g, srv.addr, ignoreCtx)
	cfg.MaxConns = maxConns
	cfg.MinConns = chanpool.None
	cfg.HealthCheckAfter = chanpool.None
	cfg.CheckTimeout = checkTimeout
	cfg.AcquireTimeout = acquireTimeout
	cfg.EvictionInterval = chanpool.None
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.kill()
		_ = p.Close(context.Background())
	})
	hs := make([]chanpool.Conn[net.Conn], maxConns)
	for i := range hs {
		hs[i], err = p.Acquire(ctxTimeout(t, 2*time.Second))
		require.NoError(t, err)
		require.NoError(t, roundTrip(hs[i].Value(), uint64(i)))
	}
	for _, h := range hs {
		require.NoError(t, h.Release())
	}
	srv.freeze()
	start := time.Now()
	h, err := p.Acquire(context.Background())
	end := time.Now()
	took := end.Sub(start)
	stalled := stalls.during(start, end)
	t.Logf("Acquire with %d idle connections on a frozen server: %v (stalled %v), %v; %d checks", maxConns, took, stalled, err, g.checks.Load())
	if ignoreCtx {
		// Every slot is held by a hung check: nothing to dial with.
		assert.ErrorIs(t, err, chanpool.ErrAcquireTimeout)
		assert.Equal(t, maxConns, p.Stats().Checking, "checks still running, each holding its connection")
	} else if err == nil {
		// The checks gave up at CheckTimeout and the caller dialed: a
		// connection fresh from its own dial is not checked.
		assert.GreaterOrEqual(t, took, checkTimeout, "Acquire returned before its check gave up")
		assert.NoError(t, h.Destroy())
	} else {
		// The caller looked again before the failed connections' slots
		// were free, and queued; the connection dialed for it reached it
		// through the idle list, and its check hung too.
		assert.ErrorIs(t, err, chanpool.ErrAcquireTimeout)
	}
	assert.LessOrEqual(t, took, acquireTimeout+slack+stalled,
		"Acquire bounded by AcquireTimeout only (stalled %v)", stalled)
}
