package pgxpool

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tx is a transaction begun by Pool.Begin or Pool.BeginTx. Commit or
// Rollback ends it and releases its connection; a connection released while
// the transaction is still open is closed, not reused.
type Tx struct {
	t pgx.Tx
	c *Conn
}

// Begin starts a pseudo nested transaction (a savepoint).
func (tx *Tx) Begin(ctx context.Context) (pgx.Tx, error) { return tx.t.Begin(ctx) }

// Commit commits the transaction and releases the connection.
func (tx *Tx) Commit(ctx context.Context) error {
	err := tx.t.Commit(ctx)
	tx.release()
	return err
}

// Rollback rolls the transaction back and releases the connection. Calling
// it after Commit is safe, as in pgx, so that it can be deferred.
func (tx *Tx) Rollback(ctx context.Context) error {
	err := tx.t.Rollback(ctx)
	tx.release()
	return err
}

func (tx *Tx) release() {
	if tx.c != nil {
		tx.c.Release()
		tx.c = nil
	}
}

// CopyFrom, SendBatch, LargeObjects, Prepare, Exec, Query, QueryRow and Conn
// run on the transaction, as pgx.Tx's.

func (tx *Tx) CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error) {
	return tx.t.CopyFrom(ctx, tableName, columnNames, rowSrc)
}

func (tx *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return tx.t.SendBatch(ctx, b)
}

func (tx *Tx) LargeObjects() pgx.LargeObjects { return tx.t.LargeObjects() }

func (tx *Tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return tx.t.Prepare(ctx, name, sql)
}

func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return tx.t.Exec(ctx, sql, args...)
}

func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return tx.t.Query(ctx, sql, args...)
}

func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return tx.t.QueryRow(ctx, sql, args...)
}

func (tx *Tx) Conn() *pgx.Conn { return tx.t.Conn() }
