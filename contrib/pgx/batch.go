package pgxpool

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// batchResults is a Pool.SendBatch result: Close releases its connection,
// unless the batch began a transaction, whose Tx then owns it.
type batchResults struct {
	br pgx.BatchResults
	c  *Conn
	tx *Tx
}

func (b *batchResults) Exec() (pgconn.CommandTag, error) { return b.br.Exec() }
func (b *batchResults) Query() (pgx.Rows, error)         { return b.br.Query() }
func (b *batchResults) QueryRow() pgx.Row                { return b.br.QueryRow() }

func (b *batchResults) Close() error {
	err := b.br.Close()
	if b.c != nil {
		b.c.Release()
		b.c = nil
	}
	return err
}

func (b *batchResults) Tx() pgx.Tx {
	if b.tx == nil {
		return nil
	}
	return b.tx
}
