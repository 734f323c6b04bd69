package pgxpool

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chanpool/chanpool/chanpool"
)

// Conn is a connection leased from a Pool by Acquire. Hand it back with
// Release, once; after that no other method may be called. It is not safe
// for concurrent use, as a pgx.Conn is not.
type Conn struct {
	h        chanpool.Conn[*conn]
	p        *Pool
	released bool
}

// Release hands the connection back to the pool. A connection that comes
// back closed, busy (a query still being read), inside a transaction or in a
// failed one, or that AfterRelease refuses, is closed instead of reused.
// Calls after the first do nothing.
func (c *Conn) Release() {
	if c.released {
		return
	}
	c.released = true
	if c.p.relT != nil || c.p.pxRelT != nil {
		c.p.traceRelease(c.Conn())
	}
	_ = c.h.Release() // a failing Reset makes chanpool destroy it
}

// Conn returns the underlying pgx connection. It must not be used after
// Release.
func (c *Conn) Conn() *pgx.Conn { return c.h.Value().pc }

// Exec runs sql on the connection.
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.Conn().Exec(ctx, sql, args...)
}

// Query runs sql on the connection; the connection stays leased.
func (c *Conn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.Conn().Query(ctx, sql, args...)
}

// QueryRow runs sql on the connection; the connection stays leased.
func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.Conn().QueryRow(ctx, sql, args...)
}

// SendBatch sends b on the connection.
func (c *Conn) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return c.Conn().SendBatch(ctx, b)
}

// CopyFrom copies rowSrc into tableName on the connection.
func (c *Conn) CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error) {
	return c.Conn().CopyFrom(ctx, tableName, columnNames, rowSrc)
}

// Begin starts a transaction on the connection; the connection stays
// leased after it ends.
func (c *Conn) Begin(ctx context.Context) (pgx.Tx, error) { return c.Conn().Begin(ctx) }

// BeginTx starts a transaction with opts on the connection.
func (c *Conn) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	return c.Conn().BeginTx(ctx, opts)
}

// Ping checks the connection with a round trip.
func (c *Conn) Ping(ctx context.Context) error { return c.Conn().Ping(ctx) }
