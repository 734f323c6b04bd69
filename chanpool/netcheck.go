package chanpool

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

var (
	// ErrConnClosedByPeer is returned, wrapped, by CheckConn when the peer
	// has closed the connection (a read would return EOF) or reset it (the
	// error then also wraps syscall.ECONNRESET).
	ErrConnClosedByPeer = errors.New("chanpool: connection closed by peer")

	// ErrUnreadData is returned, wrapped, by CheckConn when bytes are
	// waiting to be read on a connection that was handed back as idle. In a
	// request/response protocol that means the previous user left a reply
	// unread, or the server sent something unasked (often an error message
	// just before it closes): either way the next user would read bytes
	// that are not the answer to its request.
	ErrUnreadData = errors.New("chanpool: unread data on idle connection")
)

// CheckConn reports whether an idle stream connection is still usable,
// without reading from it and without blocking. It is meant to be used as
// Config[net.Conn].HealthCheck (the pool runs it on acquire, on connections
// idle longer than Config.HealthCheckAfter):
//
//	cfg.HealthCheck = chanpool.CheckConn
//
// It peeks at the socket: nothing waiting means alive and returns nil;
// end-of-file (the peer closed the connection, or shut down its sending
// side and will never answer) or a reset returns an error wrapping
// ErrConnClosedByPeer; waiting bytes return an error wrapping ErrUnreadData
// and stay unread. A connection closed locally returns an error wrapping
// net.ErrClosed.
//
// The check sees a peer's close only once the kernel has received it: a
// connection the server closes a moment after the check still reaches the
// caller, whose first read then fails. So clients must still Destroy a
// connection on an I/O error, and HealthCheckAfter should sit well below
// the server's own idle timeout, so that every connection the server may
// have closed for idleness is checked.
//
// The check needs the socket itself, so it returns nil, checking nothing,
// for a connection that does not implement syscall.Conn (net.Pipe, most
// wrappers), for packet connections (*net.UDPConn, *net.IPConn), on
// platforms other than Linux, macOS and the BSDs, and for a *tls.Conn: a
// TLS 1.3 server may send session tickets or key updates at any time, so
// bytes waiting under TLS are no sign of trouble, and the record layer may
// have buffered data the socket no longer shows. A wrapper that embeds a
// *net.TCPConn is peeked through, which is wrong if the wrapper buffers
// reads: give such a wrapper its own check.
//
// CheckConn clears c's read deadline first, leaving none. A deadline left
// by the previous user has usually passed by the time the connection is
// reused, and the runtime refuses any read on a socket whose deadline has
// passed, the peek included: without clearing it, every connection idle
// longer than its last deadline would be reported dead (and the next user's
// reads would fail the same way).
//
// The peek does not block, so ctx is not consulted: a caller giving up must
// not get a healthy connection destroyed. Nor does the check need a time
// bound: with CheckConn as the only check (no Config.Reset),
// Config.CheckTimeout can be None, which saves the pool a goroutine per
// check. It must not run while another goroutine reads c, which an idle
// pooled connection never has.
func CheckConn(ctx context.Context, c net.Conn) error {
	switch c.(type) {
	case *tls.Conn, *net.UDPConn, *net.IPConn:
		return nil
	}
	sc, ok := c.(syscall.Conn)
	if !ok || !canPeek {
		return nil
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("chanpool: check connection: %w", err)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("chanpool: check connection: %w", err)
	}
	switch r, err := peek(rc); {
	case err != nil && r == peekEOF:
		return fmt.Errorf("%w (remote %v): %w", ErrConnClosedByPeer, c.RemoteAddr(), err)
	case err != nil:
		return fmt.Errorf("chanpool: check connection (remote %v): %w", c.RemoteAddr(), err)
	case r == peekEOF:
		return fmt.Errorf("%w (remote %v)", ErrConnClosedByPeer, c.RemoteAddr())
	case r == peekData:
		return fmt.Errorf("%w (remote %v)", ErrUnreadData, c.RemoteAddr())
	}
	return nil
}

// peekResult is what a non-blocking peek at a socket found.
type peekResult uint8

const (
	peekEmpty peekResult = iota // nothing to read: the connection is alive
	peekData                    // bytes are waiting
	peekEOF                     // the peer closed or reset the connection
)
