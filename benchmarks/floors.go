package benchmarks

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// The floors: the least a pool can do. They ignore ctx — a waiting caller
// cannot give up — and keep no count of anything, which is why no real pool
// can beat them.

// chanFloor is a bare buffered channel: acquire receives, release sends.
type chanFloor struct{ ch chan *FakeConn }

func newChanFloor(size int) *chanFloor {
	f := &chanFloor{ch: make(chan *FakeConn, size)}
	for range size {
		c, _ := dial(context.Background())
		f.ch <- c
	}
	return f
}

func (f *chanFloor) acquire(context.Context) (*FakeConn, error) { return <-f.ch, nil }
func (f *chanFloor) release(c *FakeConn) error                  { f.ch <- c; return nil }
func (f *chanFloor) value(c *FakeConn) *FakeConn                { return c }
func (f *chanFloor) close() error                               { return nil }

// mutexFloor is a mutex-guarded slice used as a stack; callers that find it
// empty wait on a sync.Cond (no FIFO order among them).
type mutexFloor struct {
	mu   sync.Mutex
	cond sync.Cond
	free []*FakeConn // guarded by mu
}

func newMutexFloor(size int) *mutexFloor {
	f := &mutexFloor{free: make([]*FakeConn, 0, size)}
	f.cond.L = &f.mu
	for range size {
		c, _ := dial(context.Background())
		f.free = append(f.free, c)
	}
	return f
}

func (f *mutexFloor) acquire(context.Context) (*FakeConn, error) {
	f.mu.Lock()
	for len(f.free) == 0 {
		f.cond.Wait()
	}
	c := f.free[len(f.free)-1]
	f.free = f.free[:len(f.free)-1]
	f.mu.Unlock()
	return c, nil
}

func (f *mutexFloor) release(c *FakeConn) error {
	f.mu.Lock()
	f.free = append(f.free, c)
	f.mu.Unlock()
	f.cond.Signal()
	return nil
}

func (f *mutexFloor) value(c *FakeConn) *FakeConn { return c }
func (f *mutexFloor) close() error                { return nil }

// casFloor is chanFloor plus the least that a pool does which knows, for
// each connection, whether it is leased, and catches a double or stale
// release: a compare-and-swap on a word of the connection at acquire (idle
// to leased) and at release (back, to the next lease), so that a handle is
// good for one release only. On two processors that word's cache line moves
// with the connection from core to core, which the bare channel never pays
// for: the distance from chan to chancas is the price of safe handles and
// per-connection state, the distance from chancas to chanpool is chanpool's
// own. (A pool that keeps no busy state could do with the release's CAS
// alone.)
type casFloor struct{ ch chan *casConn }

type casConn struct {
	lease atomic.Uint64 // odd while leased
	c     *FakeConn
}

// casHandle is a lease on a casConn: the connection and its lease word.
type casHandle struct {
	e     *casConn
	lease uint64
}

var errCasMisuse = errors.New("chancas: release through a stale handle")

func newCasFloor(size int) *casFloor {
	f := &casFloor{ch: make(chan *casConn, size)}
	for range size {
		c, _ := dial(context.Background())
		f.ch <- &casConn{c: c}
	}
	return f
}

func (f *casFloor) acquire(context.Context) (casHandle, error) {
	e := <-f.ch
	n := e.lease.Load()
	if !e.lease.CompareAndSwap(n, n+1) {
		return casHandle{}, errCasMisuse
	}
	return casHandle{e, n + 1}, nil
}

func (f *casFloor) release(h casHandle) error {
	if !h.e.lease.CompareAndSwap(h.lease, h.lease+1) {
		return errCasMisuse
	}
	f.ch <- h.e
	return nil
}

func (f *casFloor) value(h casHandle) *FakeConn { return h.e.c }
func (f *casFloor) close() error                { return nil }
