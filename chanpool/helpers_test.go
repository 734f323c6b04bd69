package chanpool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

// res is an in-memory connection: it records whether it was closed.
type res struct {
	id     int
	closed atomic.Bool
}

// backend dials res values and keeps count. It can be told to fail.
type backend struct {
	mu      sync.Mutex
	dialed  []*res
	fail    error         // returned by Dial while set
	gate    chan struct{} // if set, Dial blocks until it is closed or ctx ends
	closes  atomic.Int64
	closeFn func(*res) error

	inDial, maxInDial atomic.Int64 // concurrent dials now, and the most seen
}

func (b *backend) dial(ctx context.Context) (*res, error) {
	n := b.inDial.Add(1)
	defer b.inDial.Add(-1)
	for m := b.maxInDial.Load(); n > m && !b.maxInDial.CompareAndSwap(m, n); m = b.maxInDial.Load() {
	}
	b.mu.Lock()
	gate, fail := b.gate, b.fail
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &res{id: len(b.dialed) + 1}
	b.dialed = append(b.dialed, r)
	return r, nil
}

func (b *backend) close(r *res) error {
	if r.closed.Swap(true) {
		return fmt.Errorf("res %d closed twice", r.id)
	}
	b.closes.Add(1)
	if b.closeFn != nil {
		return b.closeFn(r)
	}
	return nil
}

func (b *backend) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func (b *backend) setGate(g chan struct{}) {
	b.mu.Lock()
	b.gate = g
	b.mu.Unlock()
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dialed)
}

// open returns how many dialed resources are not closed.
func (b *backend) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.dialed {
		if !r.closed.Load() {
			n++
		}
	}
	return n
}

// config returns a Config for b with no background work: no warm
// connections, no evictor, no acquire timeout. Tests turn on what they test.
func (b *backend) config() chanpool.Config[*res] {
	return chanpool.Config[*res]{
		Dial:             b.dial,
		Close:            b.close,
		MaxConns:         4,
		MinConns:         chanpool.None,
		AcquireTimeout:   chanpool.None,
		EvictionInterval: chanpool.None,
	}
}

var errBoom = errors.New("boom")

// newPool builds a pool on a fake clock and closes it when the test ends.
func newPool(t *testing.T, cfg chanpool.Config[*res]) (*chanpool.Pool[*res], *clock.Fake) {
	t.Helper()
	clk := clock.NewFake()
	p, err := chanpool.NewWithClock(cfg, clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p, clk
}

// fullPool builds a one-connection pool from cfg and leases that
// connection, so that the next Acquire has to wait.
func fullPool(t *testing.T, cfg chanpool.Config[*res]) (*chanpool.Pool[*res], *clock.Fake, chanpool.Conn[*res]) {
	t.Helper()
	cfg.MaxConns = 1
	p, clk := newPool(t, cfg)
	return p, clk, acquireN(t, p, 1)[0]
}

// acquireN leases n connections, failing the test on error.
func acquireN(t *testing.T, p *chanpool.Pool[*res], n int) []chanpool.Conn[*res] {
	t.Helper()
	out := make([]chanpool.Conn[*res], n)
	for i := range out {
		c, err := p.Acquire(context.Background())
		require.NoError(t, err, "acquire %d", i)
		out[i] = c
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}
