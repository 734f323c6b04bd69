package mcppool

import (
	"context"
	"errors"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
)

// Defaults for Options fields left at zero.
const (
	// DefaultCallTimeout bounds each Call and CallTool.
	DefaultCallTimeout = 30 * time.Second
	// DefaultTerminateDuration is how long closing a stdio session waits
	// for the server to exit after closing its stdin, and again after
	// SIGTERM, before SIGKILL. The SDK's own default is 5s.
	DefaultTerminateDuration = time.Second
	// DefaultKeyIdleTimeout is how long a Group keeps a key that no call
	// used. A key per credential comes and goes with its users; by then
	// the key's sessions have sat idle past the core's IdleTimeout, so
	// removing the key closes nothing the pool would have kept.
	DefaultKeyIdleTimeout = time.Minute
)

// Options configures a Pool. Every field is optional.
type Options struct {
	// Client is the MCP client that connects the sessions. Default: a client
	// named "chanpool-mcppool" with the SDK's default options.
	Client *mcp.Client
	// SessionOptions are passed to Client.Connect for every session.
	SessionOptions *mcp.ClientSessionOptions

	// CallTimeout bounds each Call and CallTool, on top of the caller's
	// context. A call that runs past it fails with ErrCallTimeout and its
	// session is destroyed, so set it above the longest call a healthy
	// server takes. Default DefaultCallTimeout; chanpool.None for no bound
	// (a stuck server then holds its caller until the caller's context
	// ends).
	CallTimeout time.Duration
	// TerminateDuration sets mcp.CommandTransport.TerminateDuration of each
	// stdio session whose transport leaves it zero. Default
	// DefaultTerminateDuration.
	TerminateDuration time.Duration

	// Probe checks a session that sat idle for Pool.HealthCheckAfter before
	// it is leased, on a goroutine of the pool's, bounded by
	// Pool.CheckTimeout. The session is closed if the probe times out or
	// fails with an error IsFatal calls fatal; an error answered by the
	// server (a JSON-RPC error) keeps it. Default DefaultProbe.
	Probe func(ctx context.Context, s *Session) error

	// Pool configures the underlying chanpool pool: limits, timeouts,
	// Logger, Hooks, Tracer. Its Dial, Close, Alive and HealthCheck must be
	// nil: the package sets them. MinConns defaults to none (not the core's
	// 2): each warm session is a subprocess or a server-side session. Every
	// other field keeps the core's default. Keep MaxConns above 1 when a
	// server may hang: a session being closed holds its place under
	// MaxConns until its close returns, up to twice TerminateDuration for a
	// stuck stdio server.
	Pool chanpool.Config[*Session]
}

func (o *Options) withDefaults() (Options, error) {
	opts := *o
	switch {
	case opts.Pool.Dial != nil:
		return opts, errors.New("mcppool: Options.Pool.Dial must be nil: the pool dials sessions itself")
	case opts.Pool.Close != nil:
		return opts, errors.New("mcppool: Options.Pool.Close must be nil: the pool closes sessions itself")
	case opts.Pool.Alive != nil:
		return opts, errors.New("mcppool: Options.Pool.Alive must be nil: the pool checks sessions itself")
	case opts.Pool.HealthCheck != nil:
		return opts, errors.New("mcppool: Options.Pool.HealthCheck must be nil: set Options.Probe instead")
	case opts.CallTimeout < 0 && opts.CallTimeout != chanpool.None:
		return opts, errors.New("mcppool: Options.CallTimeout must not be negative (chanpool.None for no bound)")
	case opts.TerminateDuration < 0:
		return opts, errors.New("mcppool: Options.TerminateDuration must not be negative")
	}
	if opts.Client == nil {
		opts.Client = mcp.NewClient(&mcp.Implementation{Name: "chanpool-mcppool", Version: "v0.1.0"}, nil)
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.TerminateDuration == 0 {
		opts.TerminateDuration = DefaultTerminateDuration
	}
	if opts.Probe == nil {
		opts.Probe = DefaultProbe
	}
	if opts.Pool.MinConns == 0 {
		opts.Pool.MinConns = chanpool.None
	}
	return opts, nil
}

// GroupOptions configures a Group. Every field is optional.
type GroupOptions struct {
	// PerKey configures the pool of each key as Options configure a Pool,
	// with the same defaults: MinConns none, so a key holds no session
	// until a call needs one. PerKey.Pool.MaxConns bounds each key's
	// sessions; MaxConns below bounds them all together.
	PerKey Options

	// MaxConns caps the sessions open or being dialed across every key
	// (for stdio, the server processes running). Default
	// chanpool.DefaultGroupMaxConns; chanpool.None: each key's own bound
	// only. A call whose key has room while the group is full waits, in
	// FIFO order across keys, while the group closes an idle session of
	// another key to make room (see chanpool.Group).
	MaxConns int
	// MaxConnsLimit is the most that Chanpool().SetMaxConns may raise
	// MaxConns to (chanpool's default otherwise).
	MaxConnsLimit int
	// KeyIdleTimeout removes a key unused this long, closing its idle
	// sessions; a later call for it dials anew. Default
	// DefaultKeyIdleTimeout; chanpool.None: never.
	KeyIdleTimeout time.Duration
}
