package benchmarks

import (
	"context"
	"database/sql/driver"
	"errors"
)

// A do-nothing database/sql driver, so that database/sql's own pool can be
// measured: db.Conn(ctx) leases a *FakeConn and sql.Conn.Close hands it back.
// Nothing can be prepared or begun; the benchmarks never run a query.

var errNoQueries = errors.New("benchmarks: the fake driver runs no queries")

// fakeConnector dials FakeConns for sql.OpenDB.
type fakeConnector struct{}

func (fakeConnector) Connect(ctx context.Context) (driver.Conn, error) { return dial(ctx) }
func (fakeConnector) Driver() driver.Driver                            { return fakeDriver{} }

// fakeDriver exists because driver.Connector must name its driver.
type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return dial(context.Background()) }

// Prepare implements driver.Conn; it always fails.
func (*FakeConn) Prepare(string) (driver.Stmt, error) { return nil, errNoQueries }

// Close implements driver.Conn; there is nothing to close.
func (*FakeConn) Close() error { return nil }

// Begin implements driver.Conn; it always fails.
func (*FakeConn) Begin() (driver.Tx, error) { return nil, errNoQueries }
