package mcppool

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ErrCallTimeout is the error of a Call or CallTool that ran past
// Options.CallTimeout (wrapped together with the SDK's own error). The
// session it ran on is destroyed: a server that does not answer in time
// may be stuck, and a session is cheaper to replace than to trust.
var ErrCallTimeout = errors.New("mcppool: call timed out")

// codeRejected is the SDK's "rejected by transport" code: the request did not
// reach the server, or the server's HTTP answer was not a JSON-RPC response.
const codeRejected = -32005

// IsFatal reports whether err, returned by a call on a session, means that
// the session is dead and must not be used again. Call and CallTool destroy
// the session when it is true and release it otherwise. A caller that works
// with a lease of its own (Pool.Acquire) should do the same.
//
// Fatal:
//   - ErrCallTimeout: the server did not answer within Options.CallTimeout.
//   - mcp.ErrConnectionClosed: the connection is gone (a stdio server that
//     exited, a session closed by the client).
//   - mcp.ErrSessionMissing: the HTTP server no longer knows the session
//     (HTTP 404: it restarted or expired the session).
//   - io.EOF and io.ErrUnexpectedEOF: the stream ended mid-call (the first
//     call in flight when a stdio server dies gets a bare EOF).
//   - a "rejected by transport" error (code -32005) that wraps a network
//     error: the HTTP request could not reach the server.
//   - any error not listed below, since a session in an unknown state must
//     not reach the next caller; wrongly destroying one costs a redial.
//
// Not fatal:
//   - nil. A tool's own failure is a result with IsError set and a nil
//     error: the server answered.
//   - context.Canceled and context.DeadlineExceeded from the caller's own
//     context: the SDK cancels the request and the session stays usable.
//   - a JSON-RPC error answered by the server (for example -32602, unknown
//     tool or invalid params; -32601, method not found), and a -32005
//     without a network error (an HTTP error status): the server is alive.
func IsFatal(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrCallTimeout),
		errors.Is(err, mcp.ErrConnectionClosed),
		errors.Is(err, mcp.ErrSessionMissing),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Checked before the network errors: a request canceled by its
		// context fails as a network error wrapping the context's.
		return false
	}
	var ne net.Error
	if errors.Is(err, &jsonrpc.Error{Code: codeRejected}) && errors.As(err, &ne) {
		return true
	}
	var we *jsonrpc.Error
	return !errors.As(err, &we)
}
