package benchmarks

import (
	"context"
	"sync"
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
