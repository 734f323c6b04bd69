package pgxpool

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// rows is a Pool.Query result: it releases its connection when closed, fully
// read or failing to scan, once.
type rows struct {
	r pgx.Rows
	c *Conn
}

func (r *rows) Close() {
	r.r.Close()
	if r.c != nil {
		r.c.Release()
		r.c = nil
	}
}

func (r *rows) Err() error                                   { return r.r.Err() }
func (r *rows) CommandTag() pgconn.CommandTag                { return r.r.CommandTag() }
func (r *rows) FieldDescriptions() []pgconn.FieldDescription { return r.r.FieldDescriptions() }
func (r *rows) RawValues() [][]byte                          { return r.r.RawValues() }
func (r *rows) Conn() *pgx.Conn                              { return r.r.Conn() }
func (r *rows) TypeMap() *pgtype.Map                         { return r.r.TypeMap() }

func (r *rows) Next() bool {
	n := r.r.Next()
	if !n {
		r.Close()
	}
	return n
}

func (r *rows) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *rows) Values() ([]any, error) {
	v, err := r.r.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// row is a Pool.QueryRow result: Scan releases the connection.
type row struct {
	r pgx.Row
	c *Conn
}

func (r *row) Scan(dest ...any) error {
	err := r.r.Scan(dest...) // closes the underlying rows
	r.c.Release()
	return err
}

// errRows and errRow carry an Acquire or Query error.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (e errRows) Err() error                                 { return e.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                          { return e.err }
func (e errRows) Values() ([]any, error)                     { return nil, e.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }
