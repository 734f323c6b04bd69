package mcppool

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
)

// Pool is a pool of MCP client sessions to one server, as one identity.
// Create one with New, NewCommand or NewStreamable; the zero value is not
// usable. It is safe for concurrent use.
//
// Sessions are checked at two stages. On every acquire, at no cost, a
// session whose connection has ended (the stdio server exited, the stream
// failed) is closed and another is taken. A session that sat idle longer
// than Options.Pool.HealthCheckAfter is probed first (Options.Probe, a ping
// by default) on a goroutine of the pool's, within the acquiring caller's
// deadline. Sessions are closed on goroutines of the pool's, never on a
// caller's: a stuck server's close does not delay a call.
type Pool struct {
	m    *sessions
	pool *chanpool.Pool[*Session]
}

// New returns a pool whose sessions connect over the transports that
// newTransport returns, one per session: it is called for every dial and
// must return a transport that was never connected before. A transport
// must never serve two sessions (an mcp.CommandTransport's exec.Cmd can be
// started once). An mcp.CommandTransport with a zero TerminateDuration gets
// Options.TerminateDuration. An invalid opts returns an error naming the
// field, and starts nothing.
func New(newTransport func() mcp.Transport, opts Options) (*Pool, error) {
	if newTransport == nil {
		return nil, errors.New("mcppool: New: newTransport is nil")
	}
	return newPool(func(context.Context) (mcp.Transport, error) { return newTransport(), nil }, &opts)
}

// NewCommand returns a pool of stdio sessions, each with a server process
// of its own, started from the command that newCmd returns. newCmd is called
// for every dial and must return a new, unstarted exec.Cmd; its context
// lives as long as the session (exec.CommandContext may use it: it ends
// once the session is closed, or when Close gives up waiting). Closing a
// session closes the server's stdin, waits TerminateDuration, sends
// SIGTERM, waits again, then kills it, and always reaps it.
func NewCommand(newCmd func(ctx context.Context) *exec.Cmd, opts Options) (*Pool, error) {
	if newCmd == nil {
		return nil, errors.New("mcppool: NewCommand: newCmd is nil")
	}
	return newPool(func(ctx context.Context) (mcp.Transport, error) {
		return commandTransport(newCmd(ctx)), nil
	}, &opts)
}

// NewStreamable returns a pool of streamable-HTTP sessions to endpoint
// (an absolute http or https URL), each over its own
// mcp.StreamableClientTransport. client makes the requests; nil uses
// http.DefaultClient. A client whose Timeout is set bounds the standalone
// event stream too, so prefer Options.CallTimeout for bounding calls.
func NewStreamable(endpoint string, client *http.Client, opts Options) (*Pool, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("mcppool: NewStreamable: endpoint must be an absolute http or https URL, got " + strconv.Quote(endpoint))
	}
	return newPool(func(context.Context) (mcp.Transport, error) {
		return &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: client}, nil
	}, &opts)
}

func newPool(newTransport transportFunc, opts *Options) (*Pool, error) {
	m, err := newSessions(opts)
	if err != nil {
		return nil, err
	}
	p, err := chanpool.New(m.config(newTransport, everyOwner))
	if err != nil {
		return nil, err
	}
	return &Pool{m: m, pool: p}, nil
}

// Acquire leases a session, as chanpool.Pool.Acquire does (same errors). The
// caller must end the lease: Destroy if the session failed (see IsFatal),
// Release otherwise. Call and CallTool do that themselves.
func (p *Pool) Acquire(ctx context.Context) (chanpool.Conn[*Session], error) {
	return p.pool.Acquire(ctx)
}

// Call acquires a session, runs fn on it with a context bounded by
// Options.CallTimeout, and ends the lease according to fn's error: the
// session is destroyed if IsFatal(err), released otherwise. It returns the
// acquire's error, or fn's (wrapped with ErrCallTimeout if the call timed
// out). fn must not keep the session past its return. Nothing is retried.
func (p *Pool) Call(ctx context.Context, fn func(ctx context.Context, cs *mcp.ClientSession) error) error {
	lease, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	return p.m.run(ctx, lease, fn)
}

// CallTool calls a tool on a pooled session (see Call). A tool's own
// failure is a result with IsError set and a nil error; the session is kept.
// params is not modified (the SDK's CallTool adds the protocol's _meta fields
// to the params it is given on a 2026-07-28 session, which would then travel
// with the same params to a server that rejects them), so one params value
// may serve any number of calls, to any pool.
func (p *Pool) CallTool(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	return callTool(ctx, params, p.Call)
}

func callTool(ctx context.Context, params *mcp.CallToolParams, call func(context.Context, func(context.Context, *mcp.ClientSession) error) error) (*mcp.CallToolResult, error) {
	var res *mcp.CallToolResult
	if params != nil {
		own := *params
		own.Meta = maps.Clone(params.Meta)
		params = &own
	}
	err := call(ctx, func(ctx context.Context, cs *mcp.ClientSession) error {
		var err error
		res, err = cs.CallTool(ctx, params)
		return err
	})
	return res, err
}

// Stats returns the underlying pool's statistics: a session is a
// connection (Created counts sessions dialed, and so server processes
// started for stdio).
func (p *Pool) Stats() chanpool.Stats { return p.pool.Stats() }

// Reset retires every session open now (see chanpool.Pool.Reset): after a
// server upgrade or a credential change.
func (p *Pool) Reset() { p.pool.Reset() }

// Chanpool returns the underlying pool, for what this type does not
// forward (SetMaxConns, Conns, exporters that take a chanpool pool).
func (p *Pool) Chanpool() *chanpool.Pool[*Session] { return p.pool }

// Close shuts the pool down as chanpool.Pool.Close does and blocks until
// every session is closed, or until ctx is done. Then it returns at once,
// with chanpool's error, after killing the server process of every stdio
// session still open (a server that ignores its stdin closing and SIGTERM
// would otherwise hold its close for twice TerminateDuration): they exit,
// and are reaped by the closes still running, in the background, at once.
// A second Close returns chanpool.ErrClosed.
func (p *Pool) Close(ctx context.Context) error {
	return p.m.closed(ctx, p.pool.Close(ctx), everyOwner)
}

// commandTransport is the transport of a stdio session whose server runs
// cmd. A nil cmd fails the dial (see sessions.dial).
func commandTransport(cmd *exec.Cmd) mcp.Transport {
	return &mcp.CommandTransport{Command: cmd}
}
