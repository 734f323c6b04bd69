// Package pgxpool is a drop-in replacement for github.com/jackc/pgx/v5/pgxpool
// built on chanpool: the same constructors (New, NewWithConfig, ParseConfig),
// the same method set (Acquire, AcquireFunc, AcquireAllIdle, Exec, Query,
// QueryRow, SendBatch, CopyFrom, Begin, BeginTx, Ping, Stat, Reset, Close,
// Config; Conn.Hijack) and the same hooks, so that switching is an import
// change:
//
//	import pgxpool "github.com/chanpool/chanpool/contrib/pgx"
//
//	pool, err := pgxpool.New(ctx, "postgres://localhost/db?pool_max_conns=8")
//	if err != nil { return err }
//	defer pool.Close()
//	var n int
//	err = pool.QueryRow(ctx, "SELECT 1").Scan(&n)
//
// The connection string takes pgxpool's pool_* settings and a few of
// chanpool's own (pool_max_waiting, pool_acquire_timeout, ...); see
// ParseConfig. Pool.Stat gives pgxpool's figures and, through
// Stat.Chanpool, every figure of chanpool.Stats.
package pgxpool
