package benchmarks

import (
	"context"
	"sync/atomic"
)

// FakeConn is the connection every contender pools: a small struct behind a
// pointer, as a real client connection would be. Its methods make it a
// smartconnpool.Connection (vitess.go); database/sql pools it through a
// one-field driver connection (driver.go), since the two interfaces disagree
// on Close.
type FakeConn struct {
	ID     int64
	buf    [64]byte
	closed atomic.Bool // set by Close, for smartconnpool's IsClosed
}

var nextID atomic.Int64

// dial is the Dial function of every contender. It never fails and does no
// I/O: the benchmarks measure the pools, not the connections.
func dial(context.Context) (*FakeConn, error) {
	return &FakeConn{ID: nextID.Add(1)}, nil
}

// Touch writes to the connection, so that the race detector sees two holders
// that a broken pool let use one connection at once.
func (c *FakeConn) Touch() { c.buf[0]++ }

// Close marks the connection closed; pools call it when they drop one.
func (c *FakeConn) Close() { c.closed.Store(true) }

// IsClosed reports whether Close was called.
func (c *FakeConn) IsClosed() bool { return c.closed.Load() }
