package mcppool

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
)

// Group is a set of pools of MCP client sessions, one per key, under one
// cap on the sessions of every key: a key per server and credential, since
// a session carries state on its server and the identity it was opened
// with, so a session of one key must never serve a call of another. Create
// one with NewGroup or NewCommandGroup; the zero value is not usable. It is
// safe for concurrent use.
//
// Each key's pool is made on the key's first call and behaves as a Pool
// (checks, closes off the caller, Call's handling of errors); the group is
// a chanpool.Group, whose cap, fairness across keys and removal of idle
// keys it keeps (see GroupOptions).
type Group[K comparable] struct {
	m     *sessions
	group *chanpool.Group[K, *Session]

	mu sync.Mutex // protects owners; taken under the chanpool group's lock, never the other way
	// owners maps each key that has a pool to the owner of that pool's
	// sessions, for Remove.
	owners map[K]owner
	last   owner // the owner given to the newest pool
}

// NewGroup returns a group whose sessions for key connect over the
// transports that newTransport(ctx, key) returns, one per session: it is
// called for every dial and must return a transport that was never
// connected before, carrying key's identity (an HTTP client that sends
// key's credential, a command run with key's environment). ctx lives as
// long as the session. An error from it fails that dial. An
// mcp.CommandTransport with a zero TerminateDuration gets
// PerKey.TerminateDuration. An invalid opts returns an error naming the
// field; the group holds no key and no session until the first call.
func NewGroup[K comparable](newTransport func(ctx context.Context, key K) (mcp.Transport, error), opts GroupOptions) (*Group[K], error) {
	if newTransport == nil {
		return nil, errors.New("mcppool: NewGroup: newTransport is nil")
	}
	m, err := newSessions(&opts.PerKey)
	if err != nil {
		return nil, err
	}
	if err := validatePool(m); err != nil {
		return nil, err
	}
	g := &Group[K]{m: m, owners: make(map[K]owner)}
	if opts.KeyIdleTimeout == 0 {
		opts.KeyIdleTimeout = DefaultKeyIdleTimeout
	}
	g.group, err = chanpool.NewGroup(chanpool.GroupConfig[K, *Session]{
		Config: func(key K) (chanpool.Config[*Session], error) {
			return m.config(func(ctx context.Context) (mcp.Transport, error) {
				return newTransport(ctx, key)
			}, g.newOwner(key)), nil
		},
		MaxConns:       opts.MaxConns,
		MaxConnsLimit:  opts.MaxConnsLimit,
		KeyIdleTimeout: opts.KeyIdleTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("mcppool: GroupOptions: %w", err)
	}
	return g, nil
}

// NewCommandGroup returns a group of stdio sessions: each session of key
// has a server process of its own, started from the command that
// newCmd(ctx, key) returns, which must be new and unstarted every call
// (see NewCommand for ctx and how a session is closed).
func NewCommandGroup[K comparable](newCmd func(ctx context.Context, key K) *exec.Cmd, opts GroupOptions) (*Group[K], error) {
	if newCmd == nil {
		return nil, errors.New("mcppool: NewCommandGroup: newCmd is nil")
	}
	return NewGroup(func(ctx context.Context, key K) (mcp.Transport, error) {
		return commandTransport(newCmd(ctx, key)), nil
	}, opts)
}

// validatePool checks the chanpool configuration that every key's pool
// will get, so that a bad PerKey.Pool fails NewGroup rather than every
// call: the core checks a Config only in New, so this makes one pool that
// dials nothing and closes it at once.
func validatePool(m *sessions) error {
	cfg := m.config(func(context.Context) (mcp.Transport, error) {
		return nil, errors.New("mcppool: not a pool that dials")
	}, everyOwner)
	cfg.Logger = nil // a warm-up dial (MinConns) fails by design: say nothing
	cfg.Hooks, cfg.Tracer = chanpool.Hooks{}, nil
	p, err := chanpool.New(cfg)
	if err != nil {
		return fmt.Errorf("mcppool: GroupOptions.PerKey: %w", err)
	}
	return p.Close(context.Background())
}

// newOwner gives the pool being made for key an owner of its own. It runs
// under the chanpool group's lock, when a key gets a pool, and drops the
// keys that have none any more (removed idle, or by Remove), so that
// owners holds no more keys than the group does.
func (g *Group[K]) newOwner(key K) owner {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.owners {
		if g.group.Pool(k) == nil {
			delete(g.owners, k)
		}
	}
	g.last++
	g.owners[key] = g.last
	return g.last
}

// Acquire leases a session for key, as chanpool.Group.Acquire does (same
// errors). The caller must end the lease: Destroy if the session failed
// (see IsFatal), Release otherwise. Call and CallTool do that themselves.
func (g *Group[K]) Acquire(ctx context.Context, key K) (chanpool.Conn[*Session], error) {
	return g.group.Acquire(ctx, key)
}

// Call runs fn on a session of key, as Pool.Call does: bounded by
// PerKey.CallTimeout, the session destroyed if IsFatal(err) and released
// otherwise, nothing retried. It blocks while the group is at MaxConns and
// key has no idle session, until one is freed for it or ctx ends.
func (g *Group[K]) Call(ctx context.Context, key K, fn func(ctx context.Context, cs *mcp.ClientSession) error) error {
	lease, err := g.group.Acquire(ctx, key)
	if err != nil {
		return err
	}
	return g.m.run(ctx, lease, fn)
}

// CallTool calls a tool on a session of key (see Call and Pool.CallTool;
// params is not modified).
func (g *Group[K]) CallTool(ctx context.Context, key K, params *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	return callTool(ctx, params, func(ctx context.Context, fn func(context.Context, *mcp.ClientSession) error) error {
		return g.Call(ctx, key, fn)
	})
}

// Stats returns the group's statistics: the cap, and each key's Stats with
// their sum (Open counts the sessions open or being dialed across keys).
func (g *Group[K]) Stats() chanpool.GroupStats[K] { return g.group.Stats() }

// Reset retires every session of key open now (see chanpool.Pool.Reset):
// after its server was upgraded or its credential changed.
func (g *Group[K]) Reset(key K) { g.group.Reset(key) }

// Remove removes key and closes its sessions, as chanpool.Group.Remove
// does: idle ones at once, leased ones as their calls end or, once ctx is
// done, at once; callers waiting for key fail with chanpool.ErrClosed. If
// ctx ends first, Remove returns at once, with an error wrapping ctx's,
// after killing the server process of each of key's stdio sessions still
// open (see Close). A later call for key dials new sessions, which this
// Remove does not touch. Removing a key with no pool returns nil.
func (g *Group[K]) Remove(ctx context.Context, key K) error {
	g.mu.Lock()
	o, ok := g.owners[key]
	g.mu.Unlock()
	err := g.group.Remove(ctx, key)
	if !ok {
		return err
	}
	// o is the owner of the pool that Remove removed, unless that pool was
	// removed idle meanwhile and the key got another, which Remove then
	// closed: that one's stuck sessions are not killed, only closed in the
	// background, and those of o, idle-removed, are killed.
	return g.m.closed(ctx, err, o)
}

// Chanpool returns the underlying group, for what this type does not
// forward (SetMaxConns, Keys, Pool(key) and its live settings).
func (g *Group[K]) Chanpool() *chanpool.Group[K, *Session] { return g.group }

// Close closes every key's sessions as chanpool.Group.Close does and
// blocks until they are closed, or until ctx is done. Then it returns at
// once, with an error wrapping ctx's, after killing the server process of
// every stdio session still open, of any key (see Pool.Close). A second
// Close returns chanpool.ErrClosed.
func (g *Group[K]) Close(ctx context.Context) error {
	return g.m.closed(ctx, g.group.Close(ctx), everyOwner)
}
