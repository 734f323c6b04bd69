package mcppool_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

// stdioGroup returns a group of stdio sessions to the test server run with
// flags, each server started with its key as its credential; the group is
// closed, and every server checked reaped, at the end of the test.
func stdioGroup(t *testing.T, opts mcppool.GroupOptions, flags ...string) (*mcppool.Group[string], *commands) {
	t.Helper()
	needServer(t)
	c := &commands{flags: flags}
	g, err := mcppool.NewCommandGroup(c.newKeyedCmd, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		closeWithin(t, g.Close)
		waitReaped(t, c.pids()...)
	})
	return g, c
}

// bearer sends its token with every request, as a credential.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// httpGroup returns a group of streamable-HTTP sessions to s whose key is
// the bearer token its sessions send, closed at the end of the test.
func httpGroup(t *testing.T, s *httpServer, opts mcppool.GroupOptions) *mcppool.Group[string] {
	t.Helper()
	rt := &http.Transport{}
	g, err := mcppool.NewGroup(func(_ context.Context, key string) (mcp.Transport, error) {
		return &mcp.StreamableClientTransport{
			Endpoint:   s.endpoint(),
			HTTPClient: &http.Client{Transport: bearer{token: key, next: rt}},
		}, nil
	}, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		closeWithin(t, g.Close)
		rt.CloseIdleConnections()
	})
	return g
}

// groupLoad runs, for each key, goroutines × calls whoami calls through g,
// and returns the failures: a call that failed, a call whose server saw
// another credential than its key, and a session that served two keys.
func groupLoad(g *mcppool.Group[string], keys []string, goroutines, calls int) []error {
	var (
		mu    sync.Mutex
		errs  []error
		keyOf = map[*mcp.ClientSession]string{}
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, key := range keys {
		for range goroutines {
			wg.Go(func() {
				for range calls {
					err := g.Call(context.Background(), key, func(ctx context.Context, cs *mcp.ClientSession) error {
						mu.Lock()
						if k, ok := keyOf[cs]; ok && k != key {
							errs = append(errs, fmt.Errorf("a session of key %q served key %q", k, key))
						}
						keyOf[cs] = key
						mu.Unlock()
						res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolWhoAmI})
						if err != nil {
							return err
						}
						if got := res.Content[0].(*mcp.TextContent).Text; got != key {
							fail(fmt.Errorf("a call for key %q reached the server as %q", key, got))
						}
						return nil
					})
					if err != nil {
						fail(fmt.Errorf("call for key %q: %w", key, err))
					}
				}
			})
		}
	}
	wg.Wait()
	return errs
}

// Two credentials, 4 goroutines each, through one group of stdio sessions:
// every call reaches the server with its own key's credential, no session
// serves both keys, and each key has servers of its own.
func TestGroupKeysNeverShareStdio(t *testing.T) {
	g, cmds := stdioGroup(t, mcppool.GroupOptions{
		PerKey: mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}},
	})
	keys := []string{"alice", "bob"}
	assert.Empty(t, groupLoad(g, keys, 4, 50))
	st := g.Stats()
	for _, k := range keys {
		assert.Equal(t, uint64(4*50), st.Keys[k].Released, "key %s", k)
	}
	alice := cmds.pidsOf(func(k string) bool { return k == "alice" })
	bob := cmds.pidsOf(func(k string) bool { return k == "bob" })
	require.NotEmpty(t, alice)
	require.NotEmpty(t, bob)
	assert.Equal(t, int(st.Sum.Created), len(alice)+len(bob), "one server per session")
}

// The same over streamable HTTP, with the key sent as a bearer token: the
// server sees each call with its own key's token, and no session serves
// both keys.
func TestGroupKeysNeverShareStreamable(t *testing.T) {
	s := startHTTP(t)
	g := httpGroup(t, s, mcppool.GroupOptions{
		PerKey: mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}},
	})
	keys := []string{"alice", "bob"}
	assert.Empty(t, groupLoad(g, keys, 4, 50))
	st := g.Stats()
	assert.Len(t, st.Keys, 2)
	for _, k := range keys {
		assert.Equal(t, uint64(4*50), st.Keys[k].Released, "key %s", k)
		assert.NotZero(t, st.Keys[k].Created, "key %s", k)
	}
}

// Three keys, 8 goroutines each, under a group cap of 4 sessions while each
// key alone could open 4: every call is served, and at no sample do more
// than 4 server processes run.
func TestGroupCapAcrossKeys(t *testing.T) {
	const limit = 4
	g, cmds := stdioGroup(t, mcppool.GroupOptions{
		MaxConns: limit,
		PerKey: mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{
			MaxConns:       limit,
			MaxWaiting:     chanpool.Unlimited,
			AcquireTimeout: time.Minute,
		}},
	})
	var (
		most, mostOpen atomic.Int64
		stop           = make(chan struct{})
		sampled        = make(chan struct{})
	)
	go func() {
		defer close(sampled)
		for {
			most.Store(max(most.Load(), int64(liveChildren(t))))
			mostOpen.Store(max(mostOpen.Load(), int64(g.Stats().Open)))
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	keys := []string{"a", "b", "c"}
	errs := groupLoad(g, keys, 8, 40)
	close(stop)
	<-sampled
	assert.Empty(t, errs)
	assert.LessOrEqual(t, most.Load(), int64(limit), "server processes running at once")
	assert.LessOrEqual(t, mostOpen.Load(), int64(limit), "GroupStats.Open")
	// Not a vacuous bound: the load did fill the cap, across keys.
	assert.Greater(t, most.Load(), int64(1), "server processes running at once")
	st := g.Stats()
	for _, k := range keys {
		assert.Equal(t, uint64(8*40), st.Keys[k].Released, "key %s", k)
	}
	assert.Equal(t, cmds.started(), int(st.Sum.Created), "server processes started vs sessions dialed")
	t.Logf("at most %d server processes at once; %d dialed for %d calls; closed to make room: %d",
		most.Load(), st.Sum.Created, st.Sum.Released, st.Sum.Closed.GroupCap)
}

// Remove closes the key's sessions and reaps their servers before it
// returns, and leaves the other keys' sessions alone; a later call for the
// key starts a new server.
func TestGroupRemove(t *testing.T) {
	g, cmds := stdioGroup(t, mcppool.GroupOptions{})
	a := warmKey(t, g, "a", 2)
	b := warmKey(t, g, "b", 2)
	require.NoError(t, g.Remove(context.Background(), "a"))
	for _, pid := range a {
		assert.Empty(t, procState(pid), "process %d of the removed key", pid)
	}
	for _, pid := range b {
		assert.NotEmpty(t, procState(pid), "process %d of the key kept", pid)
	}
	assert.NotContains(t, g.Stats().Keys, "a")
	assert.Contains(t, b, keyPID(t, g, "b"), "key b is served by its old servers")
	again := keyPID(t, g, "a")
	assert.NotContains(t, a, again)
	assert.Len(t, cmds.pids(), 5)
	assert.NoError(t, g.Remove(context.Background(), "no such key"))
}

// Remove of a key whose servers ignore their stdin closing and SIGTERM
// returns by its deadline and kills them at once, and only them: the other
// key's servers, as stubborn, keep serving.
func TestGroupRemoveStubbornServers(t *testing.T) {
	const terminate = 3 * time.Second
	g, _ := stdioGroup(t, mcppool.GroupOptions{
		PerKey: mcppool.Options{TerminateDuration: terminate},
	}, "-ignore-stdin", "-ignore-sigterm")
	a := warmKey(t, g, "a", 2)
	b := warmKey(t, g, "b", 2)

	closeKills(t, "Remove", func(ctx context.Context) error { return g.Remove(ctx, "a") }, terminate, a...)
	for _, pid := range b {
		assert.NotEmpty(t, procState(pid), "process %d of the key kept", pid)
	}
	assert.Contains(t, b, keyPID(t, g, "b"))
	closeKills(t, "Close", g.Close, terminate, b...) // as stubborn
}

// Close with stubborn servers on three keys returns by its deadline, and
// every server of every key is reaped at once, not after the two
// TerminateDurations a close would wait.
func TestGroupCloseStubbornServers(t *testing.T) {
	const terminate = 3 * time.Second
	g, cmds := stdioGroup(t, mcppool.GroupOptions{
		PerKey: mcppool.Options{TerminateDuration: terminate},
	}, "-ignore-stdin", "-ignore-sigterm")
	var pids []int
	for _, k := range []string{"a", "b", "c"} {
		pids = append(pids, warmKey(t, g, k, 2)...)
	}
	require.Equal(t, 6, liveChildren(t))

	closeKills(t, "Close", g.Close, terminate, pids...)
	assert.Zero(t, liveChildren(t))
	assert.ElementsMatch(t, pids, cmds.pids(), "one server per session")
	assert.ErrorIs(t, g.Close(context.Background()), chanpool.ErrClosed)
	_, err := g.CallTool(context.Background(), "a", echoArgs("closed"))
	assert.ErrorIs(t, err, chanpool.ErrClosed)
}

// A bad configuration fails NewGroup with an error naming the field, before
// any call.
func TestNewGroupRejectsBadOptions(t *testing.T) {
	noTransport := func(context.Context, string) (mcp.Transport, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		opts mcppool.GroupOptions
		want string
	}{
		{"group cap", mcppool.GroupOptions{MaxConns: -3}, "MaxConns"},
		{"key idle timeout", mcppool.GroupOptions{KeyIdleTimeout: -time.Second}, "KeyIdleTimeout"},
		{"per-key pool", mcppool.GroupOptions{PerKey: mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: -3}}}, "PerKey: chanpool: Config.MaxConns"},
		{"per-key dial", mcppool.GroupOptions{PerKey: mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{
			Dial: func(context.Context) (*mcppool.Session, error) { return nil, nil },
		}}}, "Options.Pool.Dial"},
		{"per-key call timeout", mcppool.GroupOptions{PerKey: mcppool.Options{CallTimeout: -time.Second}}, "Options.CallTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := mcppool.NewGroup(noTransport, tc.opts)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := mcppool.NewGroup[string](nil, mcppool.GroupOptions{})
	assert.ErrorContains(t, err, "newTransport")
	_, err = mcppool.NewCommandGroup[string](nil, mcppool.GroupOptions{})
	assert.ErrorContains(t, err, "newCmd")
}

// warmKey makes g dial n sessions for key and returns their servers'
// process ids.
func warmKey(t *testing.T, g *mcppool.Group[string], key string, n int) []int {
	t.Helper()
	return warm(t, func(ctx context.Context) (chanpool.Conn[*mcppool.Session], error) {
		return g.Acquire(ctx, key)
	}, n)
}

// keyPID asks the server that serves a call for key for its process id.
func keyPID(t *testing.T, g *mcppool.Group[string], key string) int {
	t.Helper()
	return toolPID(t, func(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error) {
		return g.CallTool(ctx, key, params)
	})
}

// A key unused for KeyIdleTimeout is removed, its sessions closed and their
// servers reaped; a later call for it starts a new server.
func TestGroupKeyIdleTimeout(t *testing.T) {
	g, _ := stdioGroup(t, mcppool.GroupOptions{KeyIdleTimeout: 200 * time.Millisecond})
	old := keyPID(t, g, "a")
	deadline := time.Now().Add(eventually)
	for slices.Contains(g.Chanpool().Keys(), "a") {
		require.False(t, time.Now().After(deadline), "key a still in the group after %v", eventually)
		time.Sleep(tick)
	}
	waitReaped(t, old)
	assert.Equal(t, uint64(1), g.Stats().KeysRemoved)
	assert.NotEqual(t, old, keyPID(t, g, "a"))
}
