package benchmarks

import (
	"context"
	"sync/atomic"
)

// FakeConn is the connection every contender pools: a small struct behind a
// pointer, as a real client connection would be. Its methods make it a
// database/sql driver connection too (driver.go), so that database/sql pools
// the very same type.
type FakeConn struct {
	ID  int64
	buf [64]byte
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
