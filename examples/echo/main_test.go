package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the whole demo briefly, so `go test -race ./...` checks it for
// races and goleak checks that the pool and server stop every goroutine.
func TestRun(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	err := run(options{duration: 300 * time.Millisecond, clients: 8, conns: 2, size: 128}, log)
	require.NoError(t, err)
}

// TestRunWithLiveResize runs the demo with its live resize: the pool shrinks
// and grows under the clients, and none of them fails.
func TestRunWithLiveResize(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	err := run(options{duration: 600 * time.Millisecond, clients: 16, conns: 8, size: 128, resize: true}, log)
	require.NoError(t, err)
}

// TestRunTraced runs the demo with its tracer, which prints the slowest
// acquire.
func TestRunTraced(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	err := run(options{duration: 300 * time.Millisecond, clients: 8, conns: 2, size: 128, trace: true}, log)
	require.NoError(t, err)
}

func TestRunRejectsBadFlags(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, o := range []options{
		{duration: 0, clients: 1, conns: 1, size: 1},
		{duration: time.Second, clients: 0, conns: 1, size: 1},
		{duration: time.Second, clients: 1, conns: 1, size: maxSize + 1},
	} {
		require.Error(t, run(o, log), "options %+v", o)
	}
}

func TestSlowestKeepsTheSlowestAcquire(t *testing.T) {
	var s slowest
	require.Equal(t, "slowest acquire: none recorded", s.String())
	s.AcquireEnd(context.Background(), chanpool.AcquireEvent{Wait: time.Millisecond, Waited: true, Conn: chanpool.ConnInfo{ID: 1}})
	s.AcquireEnd(context.Background(), chanpool.AcquireEvent{Wait: 5 * time.Millisecond, Waited: true, Conn: chanpool.ConnInfo{ID: 2}})
	s.AcquireEnd(context.Background(), chanpool.AcquireEvent{Wait: 2 * time.Millisecond, Conn: chanpool.ConnInfo{ID: 3}})
	require.Contains(t, s.String(), "slowest acquire (traced): 5ms, waited=true, conn=2")
}
