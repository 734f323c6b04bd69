package chanpool_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

func TestCheckConnAlive(t *testing.T) {
	client, server := tcpPair(t)
	assert.NoError(t, chanpool.CheckConn(context.Background(), client), "fresh connection")

	// After a full exchange, with nothing left to read.
	_, err := server.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	assert.NoError(t, chanpool.CheckConn(context.Background(), client), "after an exchange")

	// The peek never blocks, so a done context does not matter: a caller
	// giving up must not get a healthy connection destroyed.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, chanpool.CheckConn(ctx, client), "a done context does not fail a live connection")
}

func TestCheckConnPeerClosed(t *testing.T) {
	skipWithoutPeek(t)
	client, server := tcpPair(t)
	require.NoError(t, server.Close())
	err := waitCheckFails(t, client)
	assert.ErrorIs(t, err, chanpool.ErrConnClosedByPeer)
	assert.NotErrorIs(t, err, chanpool.ErrUnreadData)
	assert.ErrorIs(t, chanpool.CheckConn(context.Background(), client), chanpool.ErrConnClosedByPeer, "and it stays so")
}

func TestCheckConnPeerHalfClosed(t *testing.T) {
	skipWithoutPeek(t)
	client, server := tcpPair(t)
	// The server will send nothing more: a request would never be
	// answered, so the connection is as good as closed.
	require.NoError(t, server.CloseWrite())
	assert.ErrorIs(t, waitCheckFails(t, client), chanpool.ErrConnClosedByPeer)
}

func TestCheckConnUnreadDataIsNotConsumed(t *testing.T) {
	skipWithoutPeek(t)
	client, server := tcpPair(t)
	_, err := server.Write([]byte("hello"))
	require.NoError(t, err)

	err = waitCheckFails(t, client)
	assert.ErrorIs(t, err, chanpool.ErrUnreadData)
	assert.NotErrorIs(t, err, chanpool.ErrConnClosedByPeer)
	assert.ErrorIs(t, chanpool.CheckConn(context.Background(), client), chanpool.ErrUnreadData, "a second check sees the same byte")

	buf := make([]byte, 5)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err, "the check consumed nothing")
	assert.Equal(t, "hello", string(buf), "the check consumed nothing")
	assert.NoError(t, chanpool.CheckConn(context.Background(), client), "once read, the connection is clean again")
}

// A read deadline left by the previous user, long past, must not make a
// live connection look dead, nor linger to fail the next user's read.
func TestCheckConnClearsStaleReadDeadline(t *testing.T) {
	skipWithoutPeek(t)
	client, server := tcpPair(t)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(-time.Second)))
	require.NoError(t, chanpool.CheckConn(context.Background(), client))

	_, err := server.Write([]byte("x"))
	require.NoError(t, err)
	buf := make([]byte, 1)
	_, err = client.Read(buf)
	assert.NoError(t, err, "the stale deadline was cleared")
}

func TestCheckConnClosedLocally(t *testing.T) {
	skipWithoutPeek(t)
	client, _ := tcpPair(t)
	require.NoError(t, client.Close())
	assert.ErrorIs(t, chanpool.CheckConn(context.Background(), client), net.ErrClosed)
}

func TestCheckConnSkipsTLS(t *testing.T) {
	skipWithoutPeek(t)
	client, server := tcpPair(t)
	require.NoError(t, server.Close())
	waitCheckFails(t, client) // the socket underneath is closed...
	tc := tls.Client(client, &tls.Config{ServerName: "example.invalid"})
	assert.NoError(t, chanpool.CheckConn(context.Background(), tc), "...but TLS connections are not checked")
}

func TestCheckConnSkipsConnWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	require.NoError(t, b.Close())
	assert.NoError(t, chanpool.CheckConn(context.Background(), a), "net.Pipe has no socket to peek at")
}

func TestCheckConnSkipsPacketConn(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = pc.WriteTo([]byte("datagram"), c.LocalAddr())
	require.NoError(t, err)
	assert.NoError(t, chanpool.CheckConn(context.Background(), c), "UDP is not a stream: nothing to check")
}

// A pooled connection whose server side was closed while it sat idle is
// destroyed on acquire, never handed out, and the caller gets a live one.
func TestLivenessPoolSkipsConnClosedWhileIdle(t *testing.T) {
	skipWithoutPeek(t)
	srv := newEchoServer(t, 0)
	tr := newNetTracker(t)
	cfg := tr.config(srv.addr) // HealthCheckAfter None: checked on every acquire
	cfg.MinConns = chanpool.None
	cfg.EvictionInterval = chanpool.None
	p, err := chanpool.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	h, err := p.Acquire(context.Background())
	require.NoError(t, err)
	dead := h.Value()
	deadID := h.ID()
	require.NoError(t, roundTrip(dead, 1))
	require.NoError(t, h.Release())

	srv.closePeer(dead)
	waitCheckFails(t, dead)

	h, err = p.Acquire(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, deadID, h.ID(), "the dead connection was handed out")
	assert.NoError(t, roundTrip(h.Value(), 2))
	require.NoError(t, h.Release())
	s := p.Stats()
	assert.Equal(t, uint64(1), s.Closed.Health)
	assert.Equal(t, uint64(2), s.Created)
}

// The check runs only on connections idle longer than HealthCheckAfter: a
// connection reused sooner is trusted, which is why HealthCheckAfter should
// sit well below the server's own idle timeout.
func TestLivenessOnlyAfterHealthCheckAfter(t *testing.T) {
	skipWithoutPeek(t)
	srv := newEchoServer(t, 0)
	tr := newNetTracker(t)
	cfg := tr.config(srv.addr)
	cfg.HealthCheckAfter = time.Second
	cfg.MinConns = chanpool.None
	cfg.EvictionInterval = chanpool.None
	clk := clock.NewFake()
	p, err := chanpool.NewWithClock(cfg, clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	h, err := p.Acquire(context.Background())
	require.NoError(t, err)
	dead, deadID := h.Value(), h.ID()
	require.NoError(t, h.Release())
	srv.closePeer(dead)
	waitCheckFails(t, dead)

	// Idle for less than HealthCheckAfter minus a tick of the coarse clock
	// (HealthCheckAfter/8): not checked.
	clk.Advance(time.Second * 3 / 4)
	h, err = p.Acquire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, deadID, h.ID(), "a connection idle less than HealthCheckAfter is not checked")
	require.NoError(t, h.Release())
	assert.Zero(t, p.Stats().Closed.Health)

	clk.Advance(time.Second + time.Nanosecond)
	h, err = p.Acquire(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, deadID, h.ID(), "idle past HealthCheckAfter: checked and replaced")
	assert.NoError(t, roundTrip(h.Value(), 1))
	require.NoError(t, h.Release())
	assert.Equal(t, uint64(1), p.Stats().Closed.Health)
}

// BenchmarkCheckConn is one check of a live loopback connection.
func BenchmarkCheckConn(b *testing.B) {
	client, _ := tcpPair(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := chanpool.CheckConn(ctx, client); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckConnAcquireRelease is an uncontended acquire+release of a
// pooled loopback net.Conn: with no check, with CheckConn on every acquire
// run inline (CheckTimeout None: CheckConn never blocks, so it needs no
// bound), and with the default CheckTimeout, which runs every check on a
// goroutine of the pool's.
func BenchmarkCheckConnAcquireRelease(b *testing.B) {
	for _, bc := range []struct {
		name  string
		check func(context.Context, net.Conn) error
		bound time.Duration
	}{
		{"check=off", nil, 0},
		{"check=inline", chanpool.CheckConn, chanpool.None},
		{"check=bounded", chanpool.CheckConn, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := newEchoServer(b, 0)
			tr := newNetTracker(b)
			cfg := tr.config(srv.addr)
			cfg.HealthCheck = bc.check
			cfg.CheckTimeout = bc.bound
			cfg.MaxConns = 1
			cfg.MinConns = chanpool.None
			cfg.EvictionInterval = chanpool.None
			p, err := chanpool.New(cfg)
			require.NoError(b, err)
			b.Cleanup(func() { _ = p.Close(context.Background()) })
			ctx := context.Background()
			h, err := p.Acquire(ctx)
			require.NoError(b, err)
			require.NoError(b, h.Release())
			b.ReportAllocs()
			for b.Loop() {
				h, err := p.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				h.Release()
			}
		})
	}
}
