package pgxpool_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// backendPIDs is the set of client backends connected to the server now.
func backendPIDs(t *testing.T, ctx context.Context, s *server) map[uint32]bool {
	t.Helper()
	c, err := pgx.Connect(ctx, s.connString(""))
	require.NoError(t, err)
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
	require.NoError(t, err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	out := map[uint32]bool{}
	for _, p := range pids {
		out[uint32(p)] = true
	}
	return out
}

// Hijack hands the connection over: the pool forgets it and frees its slot,
// and the server session stays open until the new owner closes it.
func TestHijack(t *testing.T) {
	s := startServer(t)
	closes := atomic.Int64{}
	p := newPool(t, s, "pool_max_conns=1", func(c *pgxpool.Config) {
		c.BeforeClose = func(*pgx.Conn) { closes.Add(1) }
	})
	ctx := ctxT(t)
	c, err := p.Acquire(ctx)
	require.NoError(t, err)
	pc := c.Hijack()
	pid := pc.PgConn().PID()
	assert.Panics(t, func() { c.Hijack() }, "a second Hijack panics, as pgxpool's")
	c.Release() // harmless, as in pgxpool

	var one int
	require.NoError(t, pc.QueryRow(ctx, "SELECT 1").Scan(&one), "the hijacked connection still works")
	st := p.Stat()
	assert.Equal(t, int32(0), st.TotalConns(), "the pool forgot it")
	assert.Equal(t, uint64(1), st.Chanpool().Closed.Detached)
	assert.Zero(t, closes.Load(), "BeforeClose does not run: the pool does not close it")

	// The freed slot serves the next acquire with a new connection, while the
	// hijacked session is still open on the server.
	c2, err := p.Acquire(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, pid, c2.Conn().PgConn().PID())
	pids := backendPIDs(t, ctx, s)
	assert.True(t, pids[pid], "the hijacked session is open")
	assert.True(t, pids[c2.Conn().PgConn().PID()])
	c2.Release()

	require.NoError(t, pc.Close(ctx))
	p.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(backendPIDs(t, ctx, s)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the server ends the sessions on its own time
	}
	assert.Empty(t, backendPIDs(t, ctx, s), "every session closed: the pool's by Close, the hijacked one by its owner")
}

// AcquireAllIdle leases every idle connection at once, never dials, runs
// PrepareConn on each and destroys the ones it rejects.
func TestAcquireAllIdle(t *testing.T) {
	s := startServer(t)
	var reject atomic.Uint32 // the PID PrepareConn rejects, once armed
	p := newPool(t, s, "pool_max_conns=4", func(c *pgxpool.Config) {
		c.PrepareConn = func(_ context.Context, pc *pgx.Conn) (bool, error) {
			return pc.PgConn().PID() != reject.Load(), nil
		}
	})
	ctx := ctxT(t)
	var held []*pgxpool.Conn
	for range 4 {
		c, err := p.Acquire(ctx)
		require.NoError(t, err)
		held = append(held, c)
	}
	pids := map[uint32]bool{}
	for _, c := range held {
		pids[c.Conn().PgConn().PID()] = true
		c.Release()
	}
	require.Len(t, pids, 4)
	created := p.Stat().Chanpool().Created

	all := p.AcquireAllIdle(ctx)
	require.Len(t, all, 4)
	for _, c := range all {
		assert.True(t, pids[c.Conn().PgConn().PID()], "one of the idle connections")
		require.NoError(t, c.Ping(ctx))
	}
	assert.Equal(t, int32(4), p.Stat().AcquiredConns())
	assert.Empty(t, p.AcquireAllIdle(ctx), "nothing idle left, and no dial")
	reject.Store(all[0].Conn().PgConn().PID())
	for _, c := range all {
		c.Release()
	}

	again := p.AcquireAllIdle(ctx)
	assert.Len(t, again, 3, "the one PrepareConn rejects is left out")
	for _, c := range again {
		assert.NotEqual(t, reject.Load(), c.Conn().PgConn().PID())
		c.Release()
	}
	st := p.Stat().Chanpool()
	assert.Equal(t, created, st.Created, "AcquireAllIdle never dials")
	assert.Equal(t, uint64(1), st.Closed.Destroy, "the rejected one is destroyed")
	p.Close()
	assert.Empty(t, p.AcquireAllIdle(ctx), "closed")
}

// A lone client reuses one server backend, as with pgxpool's LIFO stack,
// though 8 connections are idle: chanpool's hot slot hands back the
// connection released last while nobody waits.
func TestLoneClientReusesOneBackend(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=8&pool_min_conns=8", nil)
	ctx := ctxT(t)
	deadline := time.Now().Add(5 * time.Second)
	for p.Stat().IdleConns() < 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the warm-up dials, on the server's time
	}
	require.Equal(t, int32(8), p.Stat().IdleConns())
	pids := map[uint32]int{}
	for range 50 {
		var pid uint32
		require.NoError(t, p.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
		pids[pid]++
	}
	assert.Len(t, pids, 1, "one backend served every query: %v", pids)
}
