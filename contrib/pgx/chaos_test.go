package pgxpool_test

// Faults under load against a real server: every backend terminated at
// once, and a server restart. 32 clients share 8 connections; each request
// acquires, runs SELECT 1 and releases, and the load records what each
// request saw.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

const (
	loadClients = 32
	loadConns   = 8
)

// load drives a pool with loadClients clients until stop is called.
type load struct {
	p        *pgxpool.Pool
	start    time.Time
	dead     sync.Map // *pgx.Conn a request failed on -> struct{}
	reused   atomic.Int64
	ok, fail atomic.Int64
	// lastFail and maxAcquire are in nanoseconds since start and
	// nanoseconds; lastOK[i] is client i's last success since start.
	lastFail, maxAcquire atomic.Int64
	lastOK               [loadClients]atomic.Int64
	cancel               context.CancelFunc
	wg                   sync.WaitGroup
}

func startLoad(p *pgxpool.Pool) *load {
	l := &load{p: p, start: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for i := range loadClients {
		l.wg.Go(func() {
			for ctx.Err() == nil {
				if !l.request(ctx, i) {
					time.Sleep(time.Millisecond) // a failed client's think time, not a wait for an event
				}
			}
		})
	}
	return l
}

func (l *load) since() int64 { return int64(time.Since(l.start)) }

// request runs one request for client i and reports whether it succeeded.
func (l *load) request(ctx context.Context, i int) bool {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := l.p.Acquire(actx)
	if d := int64(time.Since(t0)); d > l.maxAcquire.Load() {
		l.maxAcquire.Store(d) // racy max: close enough, and only grows
	}
	if err != nil {
		if ctx.Err() == nil {
			l.failed()
		}
		return false
	}
	pc := c.Conn()
	if _, bad := l.dead.Load(pc); bad {
		l.reused.Add(1)
	}
	var n int
	err = pc.QueryRow(actx, "SELECT 1").Scan(&n)
	c.Release()
	if err != nil {
		if ctx.Err() == nil {
			l.dead.Store(pc, struct{}{})
			l.failed()
		}
		return false
	}
	l.ok.Add(1)
	l.lastOK[i].Store(l.since())
	return true
}

func (l *load) failed() {
	l.fail.Add(1)
	l.lastFail.Store(l.since())
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// allServedSince reports whether every client succeeded after at (since
// start).
func (l *load) allServedSince(at int64) bool {
	for i := range l.lastOK {
		if l.lastOK[i].Load() <= at {
			return false
		}
	}
	return true
}

// waitUntil polls cond every 10 ms for at most d.
func waitUntil(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// clientBackends counts the client backends other than the observer's own.
func clientBackends(t *testing.T, obs *pgx.Conn) int {
	t.Helper()
	var n int
	require.NoError(t, obs.QueryRow(ctxT(t),
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").Scan(&n))
	return n
}

func observer(t *testing.T, s *server) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctxT(t), s.connString(""))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// Every backend terminated at once under load: each connection fails at
// most one request (the one that meets the terminated backend), none is
// handed out again after that, and every client is served again within 1 s.
func TestTerminateAllBackendsUnderLoad(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=8&pool_min_conns=8", nil)
	obs := observer(t, s)
	l := startLoad(p)
	defer l.stop()
	require.True(t, waitUntil(5*time.Second, func() bool { return l.allServedSince(0) && clientBackends(t, obs) == loadConns }),
		"the load never reached every client on %d connections", loadConns)

	var killed int
	require.NoError(t, obs.QueryRow(ctxT(t), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "+
		"WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").Scan(&killed))
	at := l.since()
	assert.Equal(t, loadConns, killed)
	recovered := waitUntil(3*time.Second, func() bool { return l.allServedSince(max(at, l.lastFail.Load())) })
	time.Sleep(200 * time.Millisecond) // more load after the recovery: no late failure
	l.stop()

	took := time.Duration(l.lastFail.Load() - at)
	t.Logf("terminated %d backends: %d requests failed, the last %v after; %d succeeded in all; stats %+v",
		killed, l.fail.Load(), took, l.ok.Load(), p.Stat().Chanpool().Closed)
	assert.True(t, recovered, "not every client was served again")
	assert.Zero(t, l.reused.Load(), "a connection was handed out again after a request failed on it")
	assert.LessOrEqual(t, l.fail.Load(), int64(loadConns), "more failures than connections: a dead connection failed twice")
	assert.Less(t, took, time.Second, "service not back within 1 s")
	assert.LessOrEqual(t, clientBackends(t, obs), loadConns)
}

// A server restart under load (fast shutdown, started again on the same
// port): every acquire ends within its AcquireTimeout, every client is
// served again soon after the server is back, no more than MaxConns
// connections are open then, and Close leaves none.
func TestServerRestartUnderLoad(t *testing.T) {
	const acquireTimeout = 500 * time.Millisecond
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=8&pool_acquire_timeout=500ms", nil)
	l := startLoad(p)
	defer l.stop()
	require.True(t, waitUntil(5*time.Second, func() bool { return l.allServedSince(0) }), "the load never reached every client")

	require.NoError(t, s.stopFast())
	down := l.since()
	time.Sleep(500 * time.Millisecond) // the outage
	require.NoError(t, s.start())
	up := l.since()
	recovered := waitUntil(10*time.Second, func() bool { return l.allServedSince(max(up, l.lastFail.Load())) })
	back := time.Duration(l.since() - up)
	time.Sleep(200 * time.Millisecond)
	l.stop()

	st := p.Stat().Chanpool()
	t.Logf("outage %v: %d requests failed, %d succeeded; every client served %v after the restart; slowest acquire %v; stats: dial errors %d, breaker trips %d, timeouts %d, closed %+v",
		time.Duration(up-down), l.fail.Load(), l.ok.Load(), back, time.Duration(l.maxAcquire.Load()),
		st.DialErrors, st.BreakerTrips, st.Timeouts, st.Closed)
	assert.True(t, recovered, "not every client was served again within 10 s of the restart")
	assert.Zero(t, l.reused.Load(), "a connection was handed out again after a request failed on it")
	assert.Less(t, time.Duration(l.maxAcquire.Load()), acquireTimeout+500*time.Millisecond, "an acquire outlived its timeout")
	assert.Positive(t, l.fail.Load(), "the outage went unnoticed: did the server stop?")

	obs := observer(t, s)
	assert.LessOrEqual(t, clientBackends(t, obs), loadConns, "more than MaxConns connections open")
	p.Close()
	assert.True(t, waitUntil(5*time.Second, func() bool { return clientBackends(t, obs) == 0 }),
		"connections left open on the server after Close")
	assert.Zero(t, p.Stat().TotalConns())
}
