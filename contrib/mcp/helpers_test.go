package mcppool_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

// needServer skips the test when the test server could not be built,
// except under CI=true, where that is a failure.
func needServer(t *testing.T) {
	t.Helper()
	if serverBin != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and no test MCP server: %v", buildErr)
	}
	t.Skipf("no test MCP server (needs the go command): %v", buildErr)
}

// Bounds on the real-time waits of these tests: generous, as the machine
// may be loaded; a passing run waits far less.
const (
	eventually = 10 * time.Second // for something that must happen
	tick       = 10 * time.Millisecond
)

// commands records every server process that a stdio pool or group
// started, with the key it was started for ("" for a pool).
type commands struct {
	flags []string
	mu    sync.Mutex
	cmds  []*exec.Cmd
	keys  []string
}

func (c *commands) newCmd(ctx context.Context) *exec.Cmd {
	return c.newKeyedCmd(ctx, "")
}

// newKeyedCmd is the command of a server whose credential is key (the
// whoami tool reports it).
func (c *commands) newKeyedCmd(ctx context.Context, key string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, serverBin, c.flags...)
	if key != "" {
		cmd.Env = append(os.Environ(), mcpserver.CredentialEnv+"="+key)
	}
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.keys = append(c.keys, key)
	c.mu.Unlock()
	return cmd
}

// pids returns the process ids of the servers started so far.
func (c *commands) pids() []int {
	return c.pidsOf(func(string) bool { return true })
}

// pidsOf returns the process ids of the servers started so far for the
// keys that want accepts.
func (c *commands) pidsOf(want func(key string) bool) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for i, cmd := range c.cmds {
		if cmd.Process != nil && want(c.keys[i]) {
			out = append(out, cmd.Process.Pid)
		}
	}
	return out
}

func (c *commands) started() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cmds)
}

// stdioPool returns a pool of stdio sessions to the test server run with
// flags, closed (and every server checked reaped) at the end of the test.
func stdioPool(t *testing.T, opts mcppool.Options, flags ...string) (*mcppool.Pool, *commands) {
	t.Helper()
	needServer(t)
	c := &commands{flags: flags}
	p, err := mcppool.NewCommand(c.newCmd, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		closePool(t, p)
		waitReaped(t, c.pids()...)
	})
	return p, c
}

// closePool closes p unless the test did, within a bounded time.
func closePool(t *testing.T, p *mcppool.Pool) {
	t.Helper()
	closeWithin(t, p.Close)
}

// closeWithin runs the Close of a pool or group unless the test did,
// within a bounded time.
func closeWithin(t *testing.T, close func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	if err := close(ctx); err != nil && err != chanpool.ErrClosed {
		t.Errorf("Close: %v", err)
	}
}

// procState returns the state letter of process pid from the process table
// (R, S, T for stopped, Z for a zombie: exited, not reaped), and "" if there
// is no such process: it was reaped.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	// pid (comm) state ...: comm may hold spaces, so cut at the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// waitState waits until process pid is in state want.
func waitState(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for procState(pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("process %d: state %q after %v, want %q", pid, procState(pid), eventually, want)
		}
		time.Sleep(tick)
	}
}

// waitReaped waits until none of pids is in the process table, not even as
// a zombie.
func waitReaped(t *testing.T, pids ...int) {
	t.Helper()
	waitReapedWithin(t, eventually, pids...)
}

func waitReapedWithin(t *testing.T, within time.Duration, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, pid := range pids {
		for procState(pid) != "" {
			if time.Now().After(deadline) {
				t.Errorf("process %d: still in the process table (state %q) after %v", pid, procState(pid), within)
				return
			}
			time.Sleep(tick)
		}
	}
}

// liveChildren counts this process's children that run the test server and
// have not exited.
func liveChildren(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	me := strconv.Itoa(os.Getpid())
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		var name, state, ppid string
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch k {
			case "Name":
				name = strings.TrimSpace(v)
			case "State":
				state = strings.TrimSpace(v)
			case "PPid":
				ppid = strings.TrimSpace(v)
			}
		}
		if ppid == me && name == "mcptestserver" && !strings.HasPrefix(state, "Z") {
			n++
		}
	}
	return n
}

// signal sends sig to pid.
func signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, syscall.Kill(pid, sig), "kill -%d %d", sig, pid)
}

// echoArgs are the arguments of an echo call.
func echoArgs(text string) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: mcpserver.ToolEcho, Arguments: map[string]any{"text": text}}
}

func sleepArgs(d time.Duration) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: mcpserver.ToolSleep, Arguments: map[string]any{"ms": d.Milliseconds()}}
}

// resultText is the text of a tool result's single text content.
func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	require.NotNil(t, res)
	require.Len(t, res.Content, 1)
	tc, ok := res.Content[0].(*mcp.TextContent)
	require.True(t, ok, "content is %T, want *mcp.TextContent", res.Content[0])
	return tc.Text
}

// echo calls the echo tool through p and checks the answer.
func echo(t *testing.T, p *mcppool.Pool, text string) {
	t.Helper()
	res, err := p.CallTool(context.Background(), echoArgs(text))
	require.NoError(t, err)
	assert.False(t, res.IsError)
	assert.Equal(t, text, resultText(t, res))
}

// serverPID asks the server behind the session that serves the call for
// its process id.
func serverPID(t *testing.T, p *mcppool.Pool) int {
	t.Helper()
	return toolPID(t, p.CallTool)
}

// toolPID calls the pid tool through callTool and returns the answer.
func toolPID(t *testing.T, callTool func(context.Context, *mcp.CallToolParams) (*mcp.CallToolResult, error)) int {
	t.Helper()
	res, err := callTool(context.Background(), &mcp.CallToolParams{Name: mcpserver.ToolPID})
	require.NoError(t, err)
	pid, err := strconv.Atoi(resultText(t, res))
	require.NoError(t, err)
	return pid
}

// warm makes a pool (acquire is its Acquire) dial n sessions, by holding n
// leases at once, and returns their servers' process ids.
func warm(t *testing.T, acquire func(context.Context) (chanpool.Conn[*mcppool.Session], error), n int) []int {
	t.Helper()
	leases := make([]chanpool.Conn[*mcppool.Session], n)
	pids := make([]int, n)
	for i := range leases {
		l, err := acquire(context.Background())
		require.NoError(t, err)
		leases[i] = l
		pids[i] = l.Value().PID()
	}
	for _, l := range leases {
		require.NoError(t, l.Release())
	}
	return pids
}

// waitStats waits until cond holds for p's stats.
func waitStats(t *testing.T, p *mcppool.Pool, what string, cond func(chanpool.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for !cond(p.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s: %+v", eventually, what, p.Stats())
		}
		time.Sleep(tick)
	}
}

// httpServer is the test server serving streamable HTTP on 127.0.0.1, in a
// process of its own.
type httpServer struct {
	t     *testing.T
	flags []string
	addr  string // host:port, kept across restarts
	cmd   *exec.Cmd
}

// startHTTP starts the test server on a free port of 127.0.0.1, killed and
// reaped at the end of the test.
func startHTTP(t *testing.T, flags ...string) *httpServer {
	t.Helper()
	needServer(t)
	s := &httpServer{t: t, flags: flags, addr: "127.0.0.1:0"}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *httpServer) endpoint() string { return "http://" + s.addr }

func (s *httpServer) start() {
	s.t.Helper()
	cmd := exec.Command(serverBin, append([]string{"-http", s.addr}, s.flags...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(s.t, err)
	require.NoError(s.t, cmd.Start())
	s.cmd = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(s.t, err, "reading the server's address")
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), mcpserver.ListeningPrefix)
	require.True(s.t, ok, "server said %q", line)
	s.addr = addr
}

// kill SIGKILLs the server and reaps it; a no-op if it is not running.
func (s *httpServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a stopped server dies all the same, but be sure
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// restart kills the server and starts it again on the same port.
func (s *httpServer) restart() {
	s.t.Helper()
	s.kill()
	s.start()
}

func (s *httpServer) pid() int { return s.cmd.Process.Pid }

func (s *httpServer) String() string { return fmt.Sprintf("test server on %s", s.addr) }

// httpPool returns a pool of streamable-HTTP sessions to s, closed at the
// end of the test.
func httpPool(t *testing.T, s *httpServer, opts mcppool.Options) *mcppool.Pool {
	t.Helper()
	p, err := mcppool.NewStreamable(s.endpoint(), nil, opts)
	require.NoError(t, err)
	t.Cleanup(func() { closePool(t, p) })
	return p
}

// killMidCall starts a long call through p, runs kill once the call is in
// the server, and returns the call's error, which must be fatal and must
// have destroyed the session.
func killMidCall(t *testing.T, p *mcppool.Pool, kill func()) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := p.CallTool(context.Background(), sleepArgs(time.Minute))
		errc <- err
	}()
	waitStats(t, p, "one session busy", func(s chanpool.Stats) bool { return s.Busy == 1 })
	// The request must be in the server before the kill for the call to see
	// the stream end under it; a kill before it reached the server would
	// fail the call too, on the write, as ErrConnectionClosed.
	time.Sleep(200 * time.Millisecond)
	kill()
	var err error
	select {
	case err = <-errc:
	case <-time.After(eventually):
		t.Fatal("the call in flight did not fail after its server was killed")
	}
	require.Error(t, err)
	assert.True(t, mcppool.IsFatal(err), "IsFatal(%v)", err)
	assert.Equal(t, uint64(1), p.Stats().DestroyedBusy)
	return err
}

// closeKills runs close (a Close or Remove, named what) with a deadline
// far below terminate, the TerminateDuration of stubborn servers pids: it
// must return by its deadline, with the deadline's error, and have killed
// them, so that each is reaped within terminate, not the two terminates
// that closing them otherwise takes.
func closeKills(t *testing.T, what string, close func(context.Context) error, terminate time.Duration, pids ...int) {
	t.Helper()
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := close(ctx)
	took := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded, what)
	assert.Less(t, took, deadline+2*time.Second, "%s overran its deadline", what)
	waitReapedWithin(t, terminate, pids...)
}
