package chanpool_test

// Helpers shared by the package's tests: an in-memory backend and pools built
// on it, acquire outcomes, Stats identities, log capture, waiting in real
// time, and a loopback echo server with a pool of real TCP connections to it.
//
// Time in the tests. A unit test builds its pool on a clock.Fake (newPool,
// fullPool, the fuzz model): the pool's time moves only when the test calls
// Advance, so a test can stand a nanosecond before a deadline and then on
// it. When the test has to wait for other goroutines (a caller blocked in
// Acquire, a dial in the background, the evictor, a callback run by Advance,
// Close waiting for a lease), it runs inside synctest.Test and calls
// synctest.Wait, which returns once every other goroutine of the bubble is
// durably blocked; the bubble also fails a test that leaves a goroutine
// blocked for good. A test whose every step completes on its own goroutine
// needs no bubble, only the fake clock.
//
// The real clock (chanpool.New) is for what neither can drive:
//   - New's own defaults and validation (TestDefaults runs in a bubble, where
//     the real clock is synctest's);
//   - lost handles, which the garbage collector finds, and whose cleanups run
//     outside any bubble;
//   - real sockets (netcheck, chaos), since a goroutine blocked on the network
//     is not durably blocked; such a test may still take a fake clock for the
//     pool's own time (TestLivenessOnlyAfterHealthCheckAfter);
//   - the stress test, the benchmarks and the examples.
//
// Those wait on channels or with poll, under generous bounds. No test sleeps
// to wait for an event.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

// res is an in-memory connection: it records whether it was closed.
type res struct {
	id     int
	closed atomic.Bool
	// uses counts what a test's own checks and closes do with the
	// connection. It is a plain int on purpose: two of them at once on one
	// connection are a data race, which -race reports.
	uses int
}

// backend dials res values and keeps count. It can be told to fail.
type backend struct {
	mu      sync.Mutex
	dialed  []*res
	fail    error         // returned by Dial while set
	gate    chan struct{} // if set, Dial blocks until it is closed or ctx ends
	closes  atomic.Int64
	closeFn func(*res) error

	inDial, maxInDial atomic.Int64 // concurrent dials now, and the most seen
}

func (b *backend) dial(ctx context.Context) (*res, error) {
	n := b.inDial.Add(1)
	defer b.inDial.Add(-1)
	for m := b.maxInDial.Load(); n > m && !b.maxInDial.CompareAndSwap(m, n); m = b.maxInDial.Load() {
	}
	b.mu.Lock()
	gate, fail := b.gate, b.fail
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &res{id: len(b.dialed) + 1}
	b.dialed = append(b.dialed, r)
	return r, nil
}

func (b *backend) close(r *res) error {
	if r.closed.Swap(true) {
		return fmt.Errorf("res %d closed twice", r.id)
	}
	b.closes.Add(1)
	if b.closeFn != nil {
		return b.closeFn(r)
	}
	return nil
}

func (b *backend) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func (b *backend) setGate(g chan struct{}) {
	b.mu.Lock()
	b.gate = g
	b.mu.Unlock()
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dialed)
}

// open returns how many dialed resources are not closed.
func (b *backend) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.dialed {
		if !r.closed.Load() {
			n++
		}
	}
	return n
}

// config returns a Config for b with no background work: no warm
// connections, no evictor, no acquire timeout. Tests turn on what they test.
func (b *backend) config() chanpool.Config[*res] {
	return chanpool.Config[*res]{
		Dial:             b.dial,
		Close:            b.close,
		MaxConns:         4,
		MinConns:         chanpool.None,
		AcquireTimeout:   chanpool.None,
		EvictionInterval: chanpool.None,
	}
}

var errBoom = errors.New("boom")

// switchable is a HealthCheck or Reset that counts its calls and fails
// with errBoom while fail is set.
type switchable struct {
	calls atomic.Int64
	fail  atomic.Bool
}

func (s *switchable) run(context.Context, *res) error {
	s.calls.Add(1)
	if s.fail.Load() {
		return errBoom
	}
	return nil
}

// newPool builds a pool on a fake clock and closes it when the test ends.
func newPool(t *testing.T, cfg chanpool.Config[*res]) (*chanpool.Pool[*res], *clock.Fake) {
	t.Helper()
	clk := clock.NewFake()
	p, err := chanpool.NewWithClock(cfg, clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p, clk
}

// fullPool builds a one-connection pool from cfg and leases that
// connection, so that the next Acquire has to wait.
func fullPool(t *testing.T, cfg chanpool.Config[*res]) (*chanpool.Pool[*res], *clock.Fake, chanpool.Conn[*res]) {
	t.Helper()
	cfg.MaxConns = 1
	p, clk := newPool(t, cfg)
	return p, clk, acquireN(t, p, 1)[0]
}

// acquireN leases n connections, failing the test on error.
func acquireN(t *testing.T, p *chanpool.Pool[*res], n int) []chanpool.Conn[*res] {
	t.Helper()
	out := make([]chanpool.Conn[*res], n)
	for i := range out {
		c, err := p.Acquire(context.Background())
		require.NoError(t, err, "acquire %d", i)
		out[i] = c
	}
	return out
}

// breakerConfig is b's config with two connections and a breaker that
// opens after three failed dials in a row.
func breakerConfig(b *backend) chanpool.Config[*res] {
	cfg := b.config()
	cfg.MaxConns = 2
	cfg.BreakerThreshold = 3
	cfg.AcquireTimeout = time.Minute
	return cfg
}

// evictConfig is b's config with the evictor on: IdleTimeout 30s and
// EvictionInterval 10s, the defaults. minConns 0 means none.
func evictConfig(b *backend, maxConns, minConns int) chanpool.Config[*res] {
	cfg := b.config()
	cfg.MaxConns = maxConns
	cfg.MinConns = minConns
	if minConns == 0 {
		cfg.MinConns = chanpool.None
	}
	cfg.IdleTimeout = 30 * time.Second
	cfg.EvictionInterval = 10 * time.Second
	cfg.DialTimeout = chanpool.None
	return cfg
}

// step advances the clock by d in one-second ticks, letting the pool's
// goroutines settle after each. It must run inside synctest.Test.
func step(clk *clock.Fake, d time.Duration, each func()) {
	for ; d > 0; d -= time.Second {
		clk.Advance(time.Second)
		synctest.Wait()
		if each != nil {
			each()
		}
	}
}

// outcome is what an Acquire returned.
type outcome struct {
	c   chanpool.Conn[*res]
	err error
}

// startAcquire runs Acquire in a goroutine and returns a channel with its
// outcome.
func startAcquire(ctx context.Context, p *chanpool.Pool[*res]) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		c, err := p.Acquire(ctx)
		ch <- outcome{c, err}
	}()
	return ch
}

// resolved returns a channel holding o.
func resolved(o outcome) <-chan outcome {
	ch := make(chan outcome, 1)
	ch <- o
	return ch
}

// requireAllEnded checks that every waiter has already returned, with want.
func requireAllEnded(t *testing.T, waiters []<-chan outcome, want error, after string) {
	t.Helper()
	for i, w := range waiters {
		select {
		case o := <-w:
			assert.ErrorIs(t, o.err, want, "waiter %d", i)
		default:
			t.Fatalf("waiter %d still blocked after %s", i, after)
		}
	}
}

// checkStats asserts the identities Stats documents for a pool at rest.
func checkStats(t *testing.T, s chanpool.Stats) {
	t.Helper()
	assert.Equal(t, s.Acquired, s.Released+s.DestroyedBusy+uint64(s.Busy), "Acquired = Released + DestroyedBusy + Busy: %+v", s)
	assert.Equal(t, s.Created, s.Destroyed+uint64(s.Total-s.Dialing-s.Closing), "Created = Destroyed + open: %+v", s)
	assert.Equal(t, s.Destroyed, sumClosed(s.Closed), "closes by reason add up: %+v", s)
	assert.Equal(t, s.Total, s.Idle+s.Busy+s.Dialing+s.Checking+s.Closing, "Total = Idle + Busy + Dialing + Checking + Closing: %+v", s)
	assert.LessOrEqual(t, s.Total, s.MaxConns)
}

// sumClosed is the number of connections closed, for every reason.
func sumClosed(c chanpool.CloseCounts) uint64 {
	var n uint64
	for _, r := range chanpool.CloseReasons() {
		n += c.Of(r)
	}
	return n
}

// captureLogs sets cfg.Logger to a text logger writing to the buffer it
// returns.
func captureLogs[T any](cfg *chanpool.Config[T]) *syncBuffer {
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return logs
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// poll calls cond every millisecond until it holds, or until within has
// passed; it reports whether cond held. It is for tests on real time (real
// sockets, the garbage collector, the stress test): a test on the fake clock
// waits with synctest.Wait instead.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// ctxTimeout returns a context that ends after d, or when the test ends.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// tcpPair returns both ends of a loopback TCP connection, closed when the
// test ends.
func tcpPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s, "accept failed")
	t.Cleanup(func() {
		c.Close()
		s.Close()
	})
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// skipWithoutPeek skips tests that need CheckConn to see the socket.
func skipWithoutPeek(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		t.Skipf("CheckConn checks nothing on %s", runtime.GOOS)
	}
}

// frameSize is the size of a request, and of its reply, on the echo server.
const frameSize = 8

// echoServer is a TCP server on a loopback port that answers every
// frameSize-byte request with the same bytes. It tracks its connections, so
// a test can kill it (listener and every connection), restart it on the same
// port, close one connection's server side, or have it close connections
// that stay idle, as databases and load balancers do.
type echoServer struct {
	t    testing.TB
	addr string
	// idleTimeout, if set, makes the server close a connection on which no
	// request arrived for that long.
	idleTimeout time.Duration

	mu    sync.Mutex
	ln    net.Listener          // nil while down
	conns map[net.Conn]struct{} // server sides still open
	// wg counts the accept loop and the connection handlers. The accept
	// loop adds the handlers while it holds a unit itself, so Add never
	// races with a Wait on a zero counter.
	wg sync.WaitGroup

	changed    chan struct{} // signaled (buffer 1, never blocks) when conns changes
	accepted   atomic.Int64
	idleClosed atomic.Int64 // connections closed for idleness
}

// newEchoServer starts a server on 127.0.0.1:0 and kills it when the test
// ends.
func newEchoServer(t testing.TB, idleTimeout time.Duration) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &echoServer{
		t:           t,
		addr:        ln.Addr().String(),
		idleTimeout: idleTimeout,
		conns:       make(map[net.Conn]struct{}),
		changed:     make(chan struct{}, 1),
	}
	s.serve(ln)
	t.Cleanup(s.kill)
	return s
}

func (s *echoServer) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop(ln)
}

func (s *echoServer) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by kill
		}
		s.mu.Lock()
		if s.ln != ln {
			s.mu.Unlock()
			c.Close() // killed meanwhile
			continue
		}
		s.conns[c] = struct{}{}
		s.accepted.Add(1)
		s.wg.Add(1)
		s.mu.Unlock()
		s.signal()
		go s.handle(c)
	}
}

func (s *echoServer) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.signal()
	}()
	var buf [frameSize]byte
	for {
		if s.idleTimeout > 0 {
			if err := c.SetReadDeadline(time.Now().Add(s.idleTimeout)); err != nil {
				return
			}
		}
		if _, err := io.ReadFull(c, buf[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.idleClosed.Add(1)
			}
			return
		}
		if _, err := c.Write(buf[:]); err != nil {
			return
		}
	}
}

func (s *echoServer) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// kill closes the listener and every connection, and waits until every
// goroutine of the server has ended. Killing a server that is down does
// nothing.
func (s *echoServer) kill() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// restart listens on the server's address again. The port is normally free
// at once (Go sets SO_REUSEADDR on listeners); retrying for a second covers
// the rare case where it is not.
func (s *echoServer) restart() {
	var ln net.Listener
	var err error
	if !poll(time.Second, func() bool {
		ln, err = net.Listen("tcp", s.addr)
		return err == nil
	}) {
		s.t.Fatalf("restart on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// open returns how many server-side connections are open.
func (s *echoServer) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// waitOpen waits until exactly want server-side connections are open.
func (s *echoServer) waitOpen(want int, within time.Duration) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		if s.open() == want {
			return nil
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			return fmt.Errorf("server has %d connections open after %v, want %d", s.open(), within, want)
		}
	}
}

// closePeer closes the server side of the client connection c, waiting for
// the server to have accepted it first.
func (s *echoServer) closePeer(c net.Conn) {
	s.t.Helper()
	want := c.LocalAddr().String()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for sc := range s.conns {
			if sc.RemoteAddr().String() == want {
				sc.Close()
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
		select {
		case <-s.changed:
		case <-deadline.C:
			s.t.Fatalf("the server never accepted %s", want)
		}
	}
}

// roundTrip sends n to the echo server on c and checks the reply.
func roundTrip(c net.Conn, n uint64) error {
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	return exchange(c, n)
}

// exchange sends n to the echo server on c and checks the reply, under
// whatever deadline c has.
func exchange(c net.Conn, n uint64) error {
	var req, resp [frameSize]byte
	binary.BigEndian.PutUint64(req[:], n)
	if _, err := c.Write(req[:]); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, resp[:]); err != nil {
		return err
	}
	if resp != req {
		return fmt.Errorf("reply %x to request %x: protocol desync", resp, req)
	}
	return nil
}

// waitCheckFails polls chanpool.CheckConn on c, which must be idle, until it
// reports an error (the peek reads nothing, so polling is harmless). On
// loopback the first call normally sees the peer's close already; the
// polling only covers a kernel that delivers it late.
func waitCheckFails(t testing.TB, c net.Conn) error {
	t.Helper()
	var err error
	if !poll(5*time.Second, func() bool {
		err = chanpool.CheckConn(context.Background(), c)
		return err != nil
	}) {
		t.Fatalf("CheckConn still reports %v alive after 5s", c.LocalAddr())
	}
	return err
}

// netTracker watches a pool of net.Conns from the outside: what it dialed
// and closed, which connections passed a liveness check and when, which the
// pool destroyed, and who holds what.
type netTracker struct {
	t     testing.TB
	start time.Time // times below are offsets from start

	mu        sync.Mutex
	conns     map[net.Conn]*connRecord
	destroyed map[uint64]chanpool.CloseReason // ids the pool has closed
	holder    map[uint64]int                  // id -> client holding it
	dialed    int
	closed    int
}

type connRecord struct {
	dialStart, dialEnd time.Duration
	checkedOK          atomic.Int64 // offset of the last passed liveness check
	closes             atomic.Int64
}

func newNetTracker(t testing.TB) *netTracker {
	return &netTracker{
		t:         t,
		start:     time.Now(),
		conns:     make(map[net.Conn]*connRecord),
		destroyed: make(map[uint64]chanpool.CloseReason),
		holder:    make(map[uint64]int),
	}
}

func (tr *netTracker) now() time.Duration { return time.Since(tr.start) }

// config returns a pool config of net.Conns to addr, checked with
// chanpool.CheckConn on every acquire, watched by tr.
func (tr *netTracker) config(addr string) chanpool.Config[net.Conn] {
	var d net.Dialer
	return chanpool.Config[net.Conn]{
		Dial: func(ctx context.Context) (net.Conn, error) {
			start := tr.now()
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			tr.mu.Lock()
			tr.conns[c] = &connRecord{dialStart: start, dialEnd: tr.now()}
			tr.dialed++
			tr.mu.Unlock()
			return c, nil
		},
		Close: func(c net.Conn) error {
			tr.record(c).closes.Add(1)
			tr.mu.Lock()
			tr.closed++
			tr.mu.Unlock()
			return c.Close()
		},
		HealthCheck: func(ctx context.Context, c net.Conn) error {
			err := chanpool.CheckConn(ctx, c)
			if err == nil {
				tr.record(c).checkedOK.Store(int64(tr.now()))
			}
			return err
		},
		HealthCheckAfter: chanpool.None,
		Hooks: chanpool.Hooks{
			OnDestroy: func(i chanpool.ConnInfo, r chanpool.CloseReason) {
				tr.mu.Lock()
				tr.destroyed[i.ID] = r
				tr.mu.Unlock()
			},
		},
	}
}

func (tr *netTracker) record(c net.Conn) *connRecord {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	r := tr.conns[c]
	if r == nil {
		tr.t.Errorf("connection %v was not dialed by the pool", c.LocalAddr())
		return &connRecord{}
	}
	return r
}

// own records that client holds h. It fails the test if the pool had
// already closed that connection, or if another client holds it.
func (tr *netTracker) own(client int, h chanpool.Conn[net.Conn]) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	id := h.ID()
	if r, ok := tr.destroyed[id]; ok {
		tr.t.Errorf("client %d was handed connection %d, which the pool had closed (%v)", client, id, r)
		return false
	}
	if other, ok := tr.holder[id]; ok {
		tr.t.Errorf("client %d was handed connection %d, held by client %d", client, id, other)
		return false
	}
	tr.holder[id] = client
	return true
}

// disown records that client is about to end its lease on h.
func (tr *netTracker) disown(client int, h chanpool.Conn[net.Conn]) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if got := tr.holder[h.ID()]; got != client {
		tr.t.Errorf("client %d ends its lease on %d, held by client %d", client, h.ID(), got)
	}
	delete(tr.holder, h.ID())
}

// checkAllClosed checks that every connection the pool dialed was closed
// exactly once.
func (tr *netTracker) checkAllClosed() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	assert.Equal(tr.t, tr.dialed, tr.closed, "connections dialed and closed")
	for c, r := range tr.conns {
		assert.Equal(tr.t, int64(1), r.closes.Load(), "closes of %v", c.LocalAddr())
	}
}
