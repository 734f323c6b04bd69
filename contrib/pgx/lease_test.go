package pgxpool_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	px "github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// With one connection, every Pool method that leases one must give it back
// as pgxpool does, or the next call would wait for ever (here: its 10 s
// context).
func TestPoolMethodsGiveTheConnectionBack(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=1", nil)
	ctx := ctxT(t)
	idle := func(what string) {
		t.Helper()
		assert.Equal(t, int32(0), p.Stat().AcquiredConns(), "%s: the connection is still leased", what)
	}

	rows, err := p.Query(ctx, "SELECT generate_series(1, 3)")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 3, n)
	idle("Query read to the end")

	rows, err = p.Query(ctx, "SELECT generate_series(1, 1000)")
	require.NoError(t, err)
	require.True(t, rows.Next())
	rows.Close()
	idle("Query closed early")

	_, err = p.Query(ctx, "SELECT nonsense")
	require.Error(t, err)
	idle("Query that failed")

	var one int
	require.NoError(t, p.QueryRow(ctx, "SELECT 1").Scan(&one))
	assert.Equal(t, 1, one)
	idle("QueryRow")
	assert.Error(t, p.QueryRow(ctx, "SELECT 1/0").Scan(&one))
	idle("QueryRow that failed")

	tag, err := p.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	assert.Equal(t, "SELECT 1", tag.String())
	idle("Exec")
	require.NoError(t, p.Ping(ctx))
	idle("Ping")

	tx, err := p.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	assert.ErrorIs(t, tx.Rollback(ctx), pgx.ErrTxClosed, "a deferred Rollback after Commit is harmless")
	idle("Begin, Commit")

	require.NoError(t, p.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return c.Ping(ctx) }))
	idle("AcquireFunc")
	assert.Equal(t, uint64(0), p.Stat().Chanpool().Destroyed, "every connection above was reusable")
}

func TestSendBatch(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=1", nil)
	ctx := ctxT(t)
	b := &pgx.Batch{}
	var got []int
	for i := 1; i <= 3; i++ {
		b.Queue("SELECT $1::int * 10", i).QueryRow(func(r pgx.Row) error {
			var n int
			err := r.Scan(&n)
			got = append(got, n)
			return err
		})
	}
	br := p.SendBatch(ctx, b)
	require.NoError(t, br.Close())
	assert.Equal(t, []int{10, 20, 30}, got)
	assert.Equal(t, int32(0), p.Stat().AcquiredConns(), "BatchResults.Close gives the connection back")

	b = &pgx.Batch{}
	b.Queue("SELECT 1")
	br = p.SendBatch(ctx, b)
	_, err := br.Exec()
	require.NoError(t, err)
	require.NoError(t, br.Close())
	require.NoError(t, br.Close(), "a second Close is harmless")
	assert.Equal(t, int32(0), p.Stat().AcquiredConns())
}

func TestCopyFrom(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=2", nil)
	ctx := ctxT(t)
	_, err := p.Exec(ctx, "CREATE TABLE items (id int, name text)")
	require.NoError(t, err)
	n, err := p.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name"},
		pgx.CopyFromRows([][]any{{1, "a"}, {2, "b"}, {3, "c"}}))
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	var count int
	require.NoError(t, p.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&count))
	assert.Equal(t, 3, count)

	_, err = p.CopyFrom(ctx, pgx.Identifier{"no_such_table"}, []string{"id"}, pgx.CopyFromRows([][]any{{1}}))
	assert.Error(t, err)
	assert.Equal(t, int32(0), p.Stat().AcquiredConns())
}

// A connection handed back inside a transaction, in a failed transaction,
// closed, or with a query still being read is closed, not reused: the next
// lease is a new backend.
func TestUnusableConnectionsAreDestroyed(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=1", nil)
	ctx := ctxT(t)
	for _, tc := range []struct {
		name  string
		spoil func(c *pgxpool.Conn)
	}{
		{"open transaction", func(c *pgxpool.Conn) {
			_, err := c.Exec(ctx, "BEGIN")
			require.NoError(t, err)
		}},
		{"failed transaction", func(c *pgxpool.Conn) {
			_, err := c.Exec(ctx, "BEGIN")
			require.NoError(t, err)
			_, err = c.Exec(ctx, "SELECT 1/0")
			require.Error(t, err)
		}},
		{"closed", func(c *pgxpool.Conn) { require.NoError(t, c.Conn().Close(ctx)) }},
		{"rows not read", func(c *pgxpool.Conn) {
			rows, err := c.Query(ctx, "SELECT generate_series(1, 100000)")
			require.NoError(t, err)
			require.True(t, rows.Next())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := p.Stat().Chanpool().Closed.Reset
			c, err := p.Acquire(ctx)
			require.NoError(t, err)
			pid := backendPID(t, c)
			tc.spoil(c)
			c.Release()
			c.Release() // a second Release does nothing
			assert.Equal(t, before+1, p.Stat().Chanpool().Closed.Reset, "closed on release")
			c, err = p.Acquire(ctx)
			require.NoError(t, err)
			assert.NotEqual(t, pid, backendPID(t, c), "the spoiled connection was reused")
			c.Release()
		})
	}
}

// Reset retires every connection: the next lease is a new backend.
func TestReset(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=2", nil)
	ctx := ctxT(t)
	c, err := p.Acquire(ctx)
	require.NoError(t, err)
	pid := backendPID(t, c)
	c.Release()
	p.Reset()
	c, err = p.Acquire(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, pid, backendPID(t, c))
	c.Release()
	assert.Equal(t, uint64(1), p.Stat().Chanpool().Resets)
}

func TestHooks(t *testing.T) {
	s := startServer(t)
	var before, after, prepared, released, closed, pinged atomic.Int64
	rejectNext := atomic.Bool{}
	errPrep := errors.New("not today")
	failPrep := atomic.Bool{}
	p := newPool(t, s, "pool_max_conns=2&pool_min_conns=0", func(c *pgxpool.Config) {
		c.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			before.Add(1)
			cc.RuntimeParams["application_name"] = "hooked"
			return nil
		}
		c.AfterConnect = func(context.Context, *pgx.Conn) error { after.Add(1); return nil }
		c.PrepareConn = func(context.Context, *pgx.Conn) (bool, error) {
			prepared.Add(1)
			if failPrep.Load() {
				return true, errPrep
			}
			return !rejectNext.Swap(false), nil
		}
		c.AfterRelease = func(*pgx.Conn) bool { released.Add(1); return true }
		c.BeforeClose = func(*pgx.Conn) { closed.Add(1) }
		c.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { pinged.Add(1); return true }
	})
	ctx := ctxT(t)
	var app string
	require.NoError(t, p.QueryRow(ctx, "SHOW application_name").Scan(&app))
	assert.Equal(t, "hooked", app, "BeforeConnect changes the config of its connection")
	assert.Equal(t, int64(1), before.Load())
	assert.Equal(t, int64(1), after.Load())
	assert.Equal(t, int64(1), released.Load())

	rejectNext.Store(true)
	require.NoError(t, p.Ping(ctx))
	assert.Equal(t, int64(3), prepared.Load(), "PrepareConn false, nil: destroyed and retried")
	assert.Equal(t, int64(2), after.Load(), "the rejected connection was replaced")
	assert.GreaterOrEqual(t, pinged.Load(), int64(1), "ShouldPing is asked on acquires of idle connections")

	failPrep.Store(true)
	assert.ErrorIs(t, p.Ping(ctx), errPrep, "PrepareConn true, err: the acquire fails with err")
	failPrep.Store(false)
	assert.Equal(t, int32(0), p.Stat().AcquiredConns(), "and the connection went back")

	p.Close()
	assert.Equal(t, after.Load(), closed.Load(), "BeforeClose ran on every connection closed")
}

// tracer implements pgx's QueryTracer and this package's acquire and
// release tracers.
type tracer struct {
	queries, acquires, ends, releases atomic.Int64
}

func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	tr.queries.Add(1)
	return ctx
}
func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (tr *tracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	tr.acquires.Add(1)
	return ctx
}
func (tr *tracer) TraceAcquireEnd(_ context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	if d.Conn != nil && d.Err == nil {
		tr.ends.Add(1)
	}
}
func (tr *tracer) TraceRelease(_ *pgxpool.Pool, d pgxpool.TraceReleaseData) {
	if d.Conn != nil {
		tr.releases.Add(1)
	}
}

func TestTracers(t *testing.T) {
	s := startServer(t)
	tr := &tracer{}
	p := newPool(t, s, "pool_max_conns=1", func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
	ctx := ctxT(t)
	for range 3 {
		_, err := p.Exec(ctx, "SELECT 1")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3), tr.queries.Load(), "pgx's QueryTracer still runs on pooled connections")
	assert.Equal(t, int64(3), tr.acquires.Load())
	assert.Equal(t, int64(3), tr.ends.Load())
	assert.Equal(t, int64(3), tr.releases.Load())
}

func TestStat(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=3", nil)
	ctx := ctxT(t)
	c, err := p.Acquire(ctx)
	require.NoError(t, err)
	st := p.Stat()
	assert.Equal(t, int32(3), st.MaxConns())
	assert.Equal(t, int32(1), st.AcquiredConns())
	assert.Equal(t, int64(1), st.AcquireCount())
	assert.GreaterOrEqual(t, st.NewConnsCount(), int64(1))
	assert.Equal(t, st.TotalConns(), st.IdleConns()+st.AcquiredConns()+st.ConstructingConns())
	c.Release()
}

// pxTracer implements pgxpool's own tracer interfaces (as otelpgx does):
// they are called too, with a nil *pgxpool.Pool.
type pxTracer struct {
	acquires, releases atomic.Int64
}

func (*pxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (*pxTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (tr *pxTracer) TraceAcquireStart(ctx context.Context, p *px.Pool, _ px.TraceAcquireStartData) context.Context {
	if p == nil {
		tr.acquires.Add(1)
	}
	return ctx
}
func (*pxTracer) TraceAcquireEnd(context.Context, *px.Pool, px.TraceAcquireEndData) {}
func (tr *pxTracer) TraceRelease(p *px.Pool, d px.TraceReleaseData) {
	if p == nil && d.Conn != nil {
		tr.releases.Add(1)
	}
}

func TestPgxpoolTracers(t *testing.T) {
	s := startServer(t)
	tr := &pxTracer{}
	p := newPool(t, s, "pool_max_conns=1", func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
	require.NoError(t, p.Ping(ctxT(t)))
	assert.Equal(t, int64(1), tr.acquires.Load())
	assert.Equal(t, int64(1), tr.releases.Load())
}

// A batch that begins a transaction hands its connection to the Tx, which
// gives it back when it commits.
func TestSendBatchBeginTx(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=1", nil)
	ctx := ctxT(t)
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue("SELECT 1")
	br := p.SendBatch(ctx, b)
	require.NoError(t, br.Close())
	tx := br.Tx()
	require.NotNil(t, tx)
	assert.Equal(t, int32(1), p.Stat().AcquiredConns(), "the Tx holds the connection")
	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, int32(0), p.Stat().AcquiredConns())
	assert.Equal(t, uint64(0), p.Stat().Chanpool().Destroyed)
}

// pool_max_conn_lifetime reaches chanpool: a connection past it is closed
// and counted in MaxLifetimeDestroyCount.
func TestMaxConnLifetime(t *testing.T) {
	s := startServer(t)
	p := newPool(t, s, "pool_max_conns=1&pool_max_conn_lifetime=100ms&pool_health_check_period=20ms", nil)
	ctx := ctxT(t)
	c, err := p.Acquire(ctx)
	require.NoError(t, err)
	pid := backendPID(t, c)
	c.Release()
	require.True(t, waitUntil(5*time.Second, func() bool { return p.Stat().MaxLifetimeDestroyCount() >= 1 }),
		"no connection closed for its lifetime")
	c, err = p.Acquire(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, pid, backendPID(t, c))
	c.Release()
}
