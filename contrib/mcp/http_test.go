package mcppool_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
)

// 16 goroutines share 4 streamable-HTTP sessions for 200 calls each, and
// none fails.
func TestStreamableLoad(t *testing.T) {
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 4}})
	assert.Empty(t, load(p, 16, 200))
	st := p.Stats()
	assert.Equal(t, uint64(16*200), st.Released)
	assert.LessOrEqual(t, st.Created, uint64(4))
	assert.Zero(t, st.Destroyed)
}

// A restarted server no longer knows the old sessions: each is destroyed at
// its first failure (mcp.ErrSessionMissing), and calls succeed again at once,
// on new sessions, with no failure beyond one per old session.
func TestStreamableRestart(t *testing.T) {
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}})
	warm(t, p.Acquire, 2)
	s.restart()
	failures := 0
	for i := range 10 {
		_, err := p.CallTool(context.Background(), echoArgs("after restart"))
		if err != nil {
			failures++
			assert.ErrorIs(t, err, mcp.ErrSessionMissing, "call %d", i)
			assert.True(t, mcppool.IsFatal(err))
			assert.Less(t, i, 2, "call %d failed: only the two old sessions may", i)
		}
	}
	assert.LessOrEqual(t, failures, 2)
	st := p.Stats()
	assert.Equal(t, uint64(failures), st.DestroyedBusy, "every failure destroyed its session")
	assert.Equal(t, uint64(3), st.Created, "the two old sessions, then one for the sequential calls")
}

// With a probe before every reuse (HealthCheckAfter: None), a server killed
// and restarted while the sessions sat idle costs no call at all: the ping
// finds each old session gone and the pool dials a new one.
func TestStreamableKilledWhileIdle(t *testing.T) {
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{
		MaxConns:         2,
		HealthCheckAfter: chanpool.None,
	}})
	warm(t, p.Acquire, 2)
	warm(t, p.Acquire, 2) // every session used once: from now on each acquire probes
	s.kill()
	s.start()
	for range 10 {
		echo(t, p, "probed")
	}
	st := p.Stats()
	assert.Zero(t, st.DestroyedBusy, "no call got a dead session")
	assert.Equal(t, uint64(2), st.Closed.Of(chanpool.ReasonHealth), "old sessions closed by the probe")
}

// A server killed while a call is in flight fails that call with a fatal
// error; once it is back, the next call succeeds on a new session.
func TestStreamableKilledMidCall(t *testing.T) {
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 1}})
	echo(t, p, "first")
	killMidCall(t, p, s.kill)
	s.start()
	echo(t, p, "back")
	assert.Equal(t, uint64(2), p.Stats().Created)
}

// A stopped server makes the call fail at CallTimeout and its session is
// destroyed; the close runs in the background while the server is still
// stopped, and once the server resumes calls succeed.
func TestStreamableStoppedServer(t *testing.T) {
	const callTimeout = 300 * time.Millisecond
	s := startHTTP(t)
	p := httpPool(t, s, mcppool.Options{
		CallTimeout: callTimeout,
		Pool:        chanpool.Config[*mcppool.Session]{MaxConns: 2},
	})
	echo(t, p, "first")
	signal(t, s.pid(), syscall.SIGSTOP)
	waitState(t, s.pid(), "T")
	// The caller's own bound is far above CallTimeout: the call must fail
	// on the pool's timeout, not on this one.
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout+5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := p.CallTool(ctx, echoArgs("stopped"))
	took := time.Since(start)
	require.ErrorIs(t, err, mcppool.ErrCallTimeout)
	assert.Less(t, took, callTimeout+3*time.Second, "the call outlived its timeout by far")
	assert.Equal(t, uint64(1), p.Stats().DestroyedBusy)
	signal(t, s.pid(), syscall.SIGCONT)
	echo(t, p, "resumed")
}

// A stateless server (protocol 2026-07-28, no session id) keeps no session,
// so a restart does not break the pooled one; the default probe does not
// ping it, since the server rejects ping there.
func TestStreamableStateless(t *testing.T) {
	s := startHTTP(t, "-stateless")
	p := httpPool(t, s, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{
		MaxConns:         1,
		HealthCheckAfter: chanpool.None,
	}})
	lease, err := p.Acquire(context.Background())
	require.NoError(t, err)
	sess := lease.Value()
	assert.True(t, sess.Stateless())
	assert.NoError(t, mcppool.DefaultProbe(context.Background(), sess))
	err = sess.ClientSession().Ping(context.Background(), nil)
	assert.Error(t, err, "ping on a stateless session")
	assert.False(t, mcppool.IsFatal(err), "IsFatal(%v)", err)
	require.NoError(t, lease.Release())

	for range 3 {
		echo(t, p, "stateless")
	}
	s.restart()
	for range 3 {
		echo(t, p, "stateless, restarted")
	}
	st := p.Stats()
	assert.Equal(t, uint64(1), st.Created, "one session throughout")
	assert.Zero(t, st.Destroyed)
}

// CallTool leaves its params alone: one params value serves a stdio session
// on protocol 2026-07-28 (where the SDK adds that version to the params'
// _meta) and then a stateful HTTP server, which would reject it.
func TestCallToolLeavesParams(t *testing.T) {
	s := startHTTP(t)
	web := httpPool(t, s, mcppool.Options{})
	stdio, _ := stdioPool(t, mcppool.Options{})
	params := echoArgs("shared")
	for _, p := range []*mcppool.Pool{stdio, web, stdio} {
		res, err := p.CallTool(context.Background(), params)
		require.NoError(t, err)
		assert.Equal(t, "shared", resultText(t, res))
	}
	assert.Nil(t, params.Meta)
}
