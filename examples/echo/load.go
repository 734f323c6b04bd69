package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// ioTimeout bounds one write+read round trip, so a stuck connection cannot
// hold the demo past its deadline.
const ioTimeout = 2 * time.Second

// client is one load goroutine's result; a client stops at its first error. Each client keeps its own latency
// samples, so measuring costs no shared state; they are merged at the end.
type client struct {
	acquire, release []time.Duration
	err              error // the error that stopped the client, if any
}

// runClients runs n clients against p until ctx is done, each doing echo
// round trips of size bytes, and adds every completed round trip to ops.
func runClients(ctx context.Context, p *chanpool.Pool[net.Conn], n, size int, ops *atomic.Int64) []*client {
	clients := make([]*client, n)
	var wg sync.WaitGroup
	for i := range clients {
		cl := &client{
			acquire: make([]time.Duration, 0, 1<<14),
			release: make([]time.Duration, 0, 1<<14),
		}
		clients[i] = cl
		wg.Go(func() { cl.loop(ctx, p, size, ops) })
	}
	wg.Wait()
	return clients
}

func (cl *client) loop(ctx context.Context, p *chanpool.Pool[net.Conn], size int, ops *atomic.Int64) {
	out := bytes.Repeat([]byte{'x'}, size)
	in := make([]byte, size)
	for ctx.Err() == nil {
		start := time.Now()
		c, err := p.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return // the run is over; not a failure
			}
			cl.err = fmt.Errorf("acquire: %w", err)
			return
		}
		cl.acquire = append(cl.acquire, time.Since(start))

		if err := roundTrip(c.Value(), out, in); err != nil {
			// The connection's state is unknown: never hand it back.
			cl.err = errors.Join(err, c.Destroy())
			return
		}

		start = time.Now()
		err = c.Release()
		cl.release = append(cl.release, time.Since(start))
		if err != nil {
			cl.err = fmt.Errorf("release: %w", err)
			return
		}
		ops.Add(1)
	}
}

// roundTrip writes out and reads the echo back into in.
func roundTrip(conn net.Conn, out, in []byte) error {
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if _, err := conn.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(conn, in); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(in, out) {
		return fmt.Errorf("echo mismatch")
	}
	return nil
}

// progress prints ops so far, the rate since the last line and the pool's
// occupancy about once per second, until ctx is done.
func progress(ctx context.Context, p *chanpool.Pool[net.Conn], ops *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	start, last, lastOps := time.Now(), time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := ops.Load()
			rate := float64(n-lastOps) / now.Sub(last).Seconds()
			st := p.Stats()
			fmt.Printf("[%4.1fs] ops=%-9d ops/s=%-9.0f pool total=%d idle=%d busy=%d waiting=%d\n",
				now.Sub(start).Seconds(), n, rate, st.Total, st.Idle, st.Busy, st.Waiting)
			last, lastOps = now, n
		}
	}
}
