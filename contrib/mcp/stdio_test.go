package mcppool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
)

// load runs goroutines × calls echo calls through p and returns the
// failures.
func load(p *mcppool.Pool, goroutines, calls int) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				text := fmt.Sprintf("g%d-%d", g, i)
				res, err := p.CallTool(context.Background(), echoArgs(text))
				if err == nil && (res.IsError || len(res.Content) != 1) {
					err = fmt.Errorf("call %s: unexpected result %+v", text, res)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// 16 goroutines share 4 stdio sessions for 200 calls each: none fails, and
// exactly one server process runs per session dialed.
func TestStdioLoad(t *testing.T) {
	p, cmds := stdioPool(t, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 4}})
	errs := load(p, 16, 200)
	assert.Empty(t, errs)
	st := p.Stats()
	assert.Equal(t, uint64(16*200), st.Acquired)
	assert.Equal(t, uint64(16*200), st.Released)
	assert.LessOrEqual(t, st.Created, uint64(4))
	assert.Equal(t, int(st.Created), cmds.started(), "server processes started vs sessions dialed")
	assert.Equal(t, st.Total, liveChildren(t), "server processes running vs sessions open")
	pids := cmds.pids()
	require.NoError(t, p.Close(context.Background()))
	waitReaped(t, pids...)
	assert.Zero(t, liveChildren(t))
}

// A server killed while its session is idle is noticed on the next acquire,
// without I/O (the session's connection has ended), and no call gets it.
func TestStdioKilledWhileIdle(t *testing.T) {
	p, _ := stdioPool(t, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}})
	dead := warm(t, p.Acquire, 2)
	for _, pid := range dead {
		signal(t, pid, syscall.SIGKILL)
	}
	// The SDK reaps a server as soon as it reads the end of its stdout;
	// the sessions are still idle in the pool, as nobody acquired them.
	waitReaped(t, dead...)
	require.Equal(t, 2, p.Stats().Idle)
	for i := range 10 {
		got := serverPID(t, p)
		assert.NotContains(t, dead, got, "call %d went to a killed server", i)
	}
	st := p.Stats()
	assert.Equal(t, uint64(2), st.Closed.Of(chanpool.ReasonHealth), "sessions closed by the acquire-time check")
	assert.Zero(t, st.DestroyedBusy, "no call failed on a dead session")
}

// A server killed while a call is in flight fails that call only, with a
// fatal error (a bare io.EOF); the session is destroyed and the next calls go
// to a new server.
func TestStdioKilledMidCall(t *testing.T) {
	p, _ := stdioPool(t, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}})
	dead := serverPID(t, p)
	err := killMidCall(t, p, func() { signal(t, dead, syscall.SIGKILL) })
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed), "err = %v", err)
	for range 5 {
		assert.NotEqual(t, dead, serverPID(t, p))
	}
	waitReaped(t, dead)
}

// A stopped server makes the call fail at CallTimeout; the session is
// destroyed, and its close (which waits for the server, then signals it)
// runs in the background: the next call is served by a new session while
// the stopped server is still there.
func TestStdioStoppedServer(t *testing.T) {
	const callTimeout = 300 * time.Millisecond
	p, _ := stdioPool(t, mcppool.Options{
		CallTimeout:       callTimeout,
		TerminateDuration: 2 * time.Second,
		Pool:              chanpool.Config[*mcppool.Session]{MaxConns: 2},
	})
	stopped := serverPID(t, p)
	signal(t, stopped, syscall.SIGSTOP)
	waitState(t, stopped, "T")
	// The caller's own bound is far above CallTimeout: the call must fail
	// on the pool's timeout, not on this one.
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout+5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := p.CallTool(ctx, echoArgs("hello"))
	took := time.Since(start)
	require.ErrorIs(t, err, mcppool.ErrCallTimeout)
	assert.True(t, mcppool.IsFatal(err))
	assert.GreaterOrEqual(t, took, callTimeout)
	assert.Less(t, took, callTimeout+3*time.Second, "the call outlived its timeout by far")
	assert.Equal(t, uint64(1), p.Stats().DestroyedBusy)

	assert.NotEqual(t, stopped, serverPID(t, p))
	// The stopped server is still there, its close still running: the call
	// above did not wait for it.
	assert.Equal(t, "T", procState(stopped), "state of the stopped server")
	assert.Equal(t, 1, p.Stats().Closing)
	waitReaped(t, stopped) // SIGTERM stays pending while stopped; SIGKILL ends it
}

// Close with servers that ignore both their stdin closing and SIGTERM
// returns by its deadline, and kills them: every one is reaped at once, not
// after the two TerminateDurations the SDK's close would wait.
func TestStdioCloseStubbornServers(t *testing.T) {
	const terminate = 3 * time.Second
	p, cmds := stdioPool(t, mcppool.Options{
		TerminateDuration: terminate,
		Pool:              chanpool.Config[*mcppool.Session]{MaxConns: 3},
	}, "-ignore-stdin", "-ignore-sigterm")
	pids := warm(t, p.Acquire, 3)
	require.Equal(t, 3, liveChildren(t))

	closeKills(t, "Close", p.Close, terminate, pids...)
	assert.Zero(t, liveChildren(t))
	assert.ElementsMatch(t, pids, cmds.pids(), "one server per session")
}
