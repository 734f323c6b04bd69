package mcppool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

// outcome is what Call did with the session after one call: kept
// (released) or destroyed.
func outcome(t *testing.T, p *mcppool.Pool, before chanpool.Stats) string {
	t.Helper()
	st := p.Stats()
	switch {
	case st.Released == before.Released+1 && st.DestroyedBusy == before.DestroyedBusy:
		return "kept"
	case st.DestroyedBusy == before.DestroyedBusy+1 && st.Released == before.Released:
		return "destroyed"
	}
	t.Fatalf("neither kept nor destroyed: before %+v, after %+v", before, st)
	return ""
}

// call runs fn through p.Call and returns its error and what became of the
// session.
func call(t *testing.T, p *mcppool.Pool, ctx context.Context, fn func(context.Context, *mcp.ClientSession) error) (string, error) {
	t.Helper()
	before := p.Stats()
	err := p.Call(ctx, fn)
	return outcome(t, p, before), err
}

// Every branch of IsFatal, each produced by a real server, and what Call does
// with the session after it.
func TestIsFatalStdio(t *testing.T) {
	p, cmds := stdioPool(t, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 1}})
	toolCall := func(params *mcp.CallToolParams, res **mcp.CallToolResult) func(context.Context, *mcp.ClientSession) error {
		return func(ctx context.Context, cs *mcp.ClientSession) error {
			r, err := cs.CallTool(ctx, params)
			if res != nil {
				*res = r
			}
			return err
		}
	}

	t.Run("tool failure is a result, kept", func(t *testing.T) {
		var res *mcp.CallToolResult
		got, err := call(t, p, context.Background(), toolCall(&mcp.CallToolParams{Name: mcpserver.ToolFail}, &res))
		require.NoError(t, err)
		assert.True(t, res.IsError)
		assert.False(t, mcppool.IsFatal(err))
		assert.Equal(t, "kept", got)
	})
	t.Run("JSON-RPC error from the server, kept", func(t *testing.T) {
		got, err := call(t, p, context.Background(), toolCall(&mcp.CallToolParams{Name: "no-such-tool"}, nil))
		var we *jsonrpc.Error
		require.ErrorAs(t, err, &we)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
		assert.False(t, mcppool.IsFatal(err))
		assert.Equal(t, "kept", got)
	})
	t.Run("caller's context ends, kept", func(t *testing.T) {
		pid := serverPID(t, p)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		got, err := call(t, p, ctx, toolCall(sleepArgs(time.Minute), nil))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, mcppool.ErrCallTimeout)
		assert.False(t, mcppool.IsFatal(err))
		assert.Equal(t, "kept", got)
		assert.Equal(t, pid, serverPID(t, p), "the same session serves the next call")
	})
	t.Run("connection closed after the server exited, destroyed", func(t *testing.T) {
		got, err := call(t, p, context.Background(), func(ctx context.Context, cs *mcp.ClientSession) error {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolPID})
			require.NoError(t, err)
			require.NotEmpty(t, res.Content)
			signalSession(t, cs, current(cmds))
			return toolCall(echoArgs("too late"), nil)(ctx, cs)
		})
		require.ErrorIs(t, err, mcp.ErrConnectionClosed)
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("bare EOF mid-call, destroyed", func(t *testing.T) {
		got, err := call(t, p, context.Background(), func(ctx context.Context, cs *mcp.ClientSession) error {
			pid := current(cmds)
			go func() {
				time.Sleep(200 * time.Millisecond) // let the request reach the server
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}()
			return toolCall(sleepArgs(time.Minute), nil)(ctx, cs)
		})
		require.ErrorIs(t, err, io.EOF)
		assert.NotErrorIs(t, err, mcp.ErrConnectionClosed, "the first failure is a bare EOF")
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("call timeout, destroyed", func(t *testing.T) {
		q, _ := stdioPool(t, mcppool.Options{CallTimeout: 100 * time.Millisecond})
		got, err := call(t, q, context.Background(), toolCall(sleepArgs(time.Minute), nil))
		require.ErrorIs(t, err, mcppool.ErrCallTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("unknown error, destroyed", func(t *testing.T) {
		got, err := call(t, p, context.Background(), func(context.Context, *mcp.ClientSession) error {
			return errors.New("something no rule knows")
		})
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("nil, kept", func(t *testing.T) {
		got, err := call(t, p, context.Background(), toolCall(echoArgs("fine"), nil))
		require.NoError(t, err)
		assert.False(t, mcppool.IsFatal(nil))
		assert.Equal(t, "kept", got)
	})
}

// current is the process id of the server started last: with MaxConns 1,
// the one behind the session leased now.
func current(cmds *commands) int {
	pids := cmds.pids()
	return pids[len(pids)-1]
}

// signalSession kills the server pid behind the leased session cs and waits
// until the session has seen its connection end.
func signalSession(t *testing.T, cs *mcp.ClientSession, pid int) {
	t.Helper()
	signal(t, pid, syscall.SIGKILL)
	done := make(chan error, 1)
	go func() { done <- cs.Wait() }()
	select {
	case <-done:
	case <-time.After(eventually):
		t.Fatal("the session did not see its server die")
	}
}

// The HTTP branches: a restarted server's 404 (ErrSessionMissing), a dead
// server's refused connection (-32005 wrapping a network error), and a
// -32005 that wraps an HTTP error status, which is the server answering.
func TestIsFatalStreamable(t *testing.T) {
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 1}})
	echoCall := func(ctx context.Context, cs *mcp.ClientSession) error {
		_, err := cs.CallTool(ctx, echoArgs("hi"))
		return err
	}

	t.Run("session missing after a restart, destroyed", func(t *testing.T) {
		echo(t, p, "before")
		s.restart()
		got, err := call(t, p, context.Background(), echoCall)
		require.ErrorIs(t, err, mcp.ErrSessionMissing)
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("rejected by transport, network error, destroyed", func(t *testing.T) {
		echo(t, p, "before")
		s.kill()
		t.Cleanup(s.start)
		got, err := call(t, p, context.Background(), echoCall)
		require.ErrorIs(t, err, &jsonrpc.Error{Code: -32005})
		assert.True(t, mcppool.IsFatal(err))
		assert.Equal(t, "destroyed", got)
	})
	t.Run("rejected by transport, HTTP status, kept", func(t *testing.T) {
		st := startHTTP(t, "-stateless")
		q := httpPool(t, st, mcppool.Options{})
		got, err := call(t, q, context.Background(), func(ctx context.Context, cs *mcp.ClientSession) error {
			return cs.Ping(ctx, nil) // rejected by a stateless server: no protocol version
		})
		require.ErrorIs(t, err, &jsonrpc.Error{Code: -32005})
		assert.False(t, mcppool.IsFatal(err))
		assert.Equal(t, "kept", got)
	})
}

// A fatal sentinel decides even when the same error also carries a JSON-RPC
// error, as the SDK's HTTP errors do ("%w: %w", the response's error and
// "rejected by transport"): the sentinels are checked first.
func TestIsFatalSentinelsWinOverJSONRPCErrors(t *testing.T) {
	answered := &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal"}
	for _, sentinel := range []error{mcppool.ErrCallTimeout, mcp.ErrConnectionClosed, mcp.ErrSessionMissing, io.EOF, io.ErrUnexpectedEOF} {
		err := fmt.Errorf("calling %q: %w: %w", "tools/call", answered, sentinel)
		assert.True(t, mcppool.IsFatal(err), "IsFatal(%v)", err)
	}
	assert.False(t, mcppool.IsFatal(fmt.Errorf("calling: %w", answered)))
}
