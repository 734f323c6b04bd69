package mcppool

import (
	"context"
	"os/exec"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Session is one pooled MCP client session. The pool owns it: use it only
// while holding its lease, and never close it yourself (Conn.Destroy does).
type Session struct {
	cs  *mcp.ClientSession
	cmd *exec.Cmd // the server's process, for a stdio session; nil otherwise
	// done is closed when the session's connection has ended (its Wait
	// returned): the subprocess exited, the stream failed, or the session
	// was closed.
	done chan struct{}
	// stateless says that the session has no server-side state: an HTTP
	// session with no session id on a protocol that carries its version in
	// every request. Ping is rejected there (see DefaultProbe).
	stateless bool
	// cancel ends the context the transport factory was given; the pool
	// calls it once the session is closed, or when Pool.Close gives up on
	// the close.
	cancel context.CancelFunc
	owner  owner // the pool it belongs to, among those sharing its registry
}

// ClientSession returns the SDK's session.
func (s *Session) ClientSession() *mcp.ClientSession { return s.cs }

// PID returns the process id of the server of a stdio session, and 0 for
// other transports.
func (s *Session) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Done is closed once the session's connection has ended: its stdio server
// exited, its stream failed for good, or it was closed. A session whose Done
// is closed is never leased again.
func (s *Session) Done() <-chan struct{} { return s.done }

// Stateless reports whether the session keeps no state on the server: an
// HTTP session without a session id, on protocol version 2026-07-28 or
// later, where every request carries the protocol version instead.
func (s *Session) Stateless() bool { return s.stateless }

// alive reports whether the session's connection is still up. It does no
// I/O: it looks whether the SDK has already seen the connection end.
func (s *Session) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// protocolStateless is the first protocol version whose requests each carry
// the protocol version, so that an HTTP server needs no session for them.
const protocolStateless = "2026-07-28"

// DefaultProbe is the health check that Options.Probe defaults to: a ping,
// except on a stateless session, which it does not probe at all. A stateless
// HTTP server rejects ping there (-32602: ping carries no protocol version),
// and a stateless session holds nothing on the server that could be lost: a
// server that went away fails the next call, which IsFatal classifies, and
// the session is destroyed then.
func DefaultProbe(ctx context.Context, s *Session) error {
	if s.stateless {
		return nil
	}
	return s.cs.Ping(ctx, nil)
}
