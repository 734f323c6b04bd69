package benchmarks

import (
	"context"
	"database/sql/driver"
	"errors"
)

// A do-nothing database/sql driver, so that database/sql's own pool can be
// measured: db.Conn(ctx) leases a sqlConn and sql.Conn.Close hands it back.
// Nothing can be prepared or begun; the benchmarks never run a query.

var errNoQueries = errors.New("benchmarks: the fake driver runs no queries")

// sqlConn is a FakeConn as a driver.Conn. It wraps the FakeConn rather than
// being it because driver.Conn's Close returns an error and
// smartconnpool.Connection's returns nothing. It is made once per dial, so
// database/sql's acquire+release handles the same pointer as the others'.
type sqlConn struct{ *FakeConn }

func dialSQL(ctx context.Context) (driver.Conn, error) {
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	return sqlConn{c}, nil
}

// fakeConnector dials FakeConns for sql.OpenDB.
type fakeConnector struct{}

func (fakeConnector) Connect(ctx context.Context) (driver.Conn, error) { return dialSQL(ctx) }
func (fakeConnector) Driver() driver.Driver                            { return fakeDriver{} }

// fakeDriver exists because driver.Connector must name its driver.
type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return dialSQL(context.Background()) }

// Prepare implements driver.Conn; it always fails.
func (sqlConn) Prepare(string) (driver.Stmt, error) { return nil, errNoQueries }

// Close implements driver.Conn; there is nothing to close.
func (sqlConn) Close() error { return nil }

// Begin implements driver.Conn; it always fails.
func (sqlConn) Begin() (driver.Tx, error) { return nil, errNoQueries }
