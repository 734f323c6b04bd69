package mcppool

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
)

// sessions is what every pool of this package shares, whatever its
// transport and however its sessions are keyed: how a session is dialed,
// checked, closed and called, and the registry of the open ones, which
// Close needs to kill stdio servers whose close outlives its deadline.
type sessions struct {
	opts Options

	mu   sync.Mutex            // protects open
	open map[*Session]struct{} // dialed and not yet closed
}

func newSessions(o *Options) (*sessions, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &sessions{opts: opts, open: make(map[*Session]struct{})}, nil
}

// transportFunc builds the transport of one new session. ctx lives as long
// as the session: it ends once the session is closed.
type transportFunc func(ctx context.Context) (mcp.Transport, error)

// owner tells apart the sessions of one pool from those of others sharing
// the registry (each key's pool of a Group has its own), so that a removed
// key's sessions can be killed alone. A Pool's sessions have owner
// everyOwner, which kill reads as all of them.
type owner uint64

const everyOwner owner = 0

// dial connects a new session of o over a fresh transport from newTransport.
func (m *sessions) dial(ctx context.Context, newTransport transportFunc, o owner) (*Session, error) {
	sctx, cancel := context.WithCancel(context.Background())
	t, err := newTransport(sctx)
	if err == nil && t == nil {
		err = fmt.Errorf("mcppool: the transport factory returned a nil transport")
	}
	if err != nil {
		cancel()
		return nil, err
	}
	s := &Session{done: make(chan struct{}), cancel: cancel, owner: o}
	_, isHTTP := t.(*mcp.StreamableClientTransport)
	if ct, ok := t.(*mcp.CommandTransport); ok {
		if ct.Command == nil {
			cancel()
			return nil, fmt.Errorf("mcppool: the command factory returned a nil *exec.Cmd")
		}
		if ct.TerminateDuration == 0 {
			ct.TerminateDuration = m.opts.TerminateDuration
		}
		s.cmd = ct.Command
	}
	cs, err := m.opts.Client.Connect(ctx, t, m.opts.SessionOptions)
	if err != nil {
		// Connect has closed what it opened (and waited for the process).
		cancel()
		return nil, err
	}
	s.cs = cs
	s.stateless = isHTTP && cs.ID() == "" && protocolOf(cs) >= protocolStateless
	go func() {
		// Ends when the connection does: at the latest when close closes it.
		_ = cs.Wait()
		close(s.done)
	}()
	m.mu.Lock()
	m.open[s] = struct{}{}
	m.mu.Unlock()
	return s, nil
}

func protocolOf(cs *mcp.ClientSession) string {
	if r := cs.InitializeResult(); r != nil {
		return r.ProtocolVersion
	}
	return ""
}

// close closes s and waits for its connection to end: for a stdio
// session, for its server process to exit and be reaped. It runs on a
// goroutine of the pool's, never on a caller's.
func (m *sessions) close(s *Session) error {
	err := s.cs.Close()
	<-s.done
	s.cancel()
	m.mu.Lock()
	delete(m.open, s)
	m.mu.Unlock()
	return err
}

// check is the pool's HealthCheck: the probe, whose failure counts only if
// it timed out or is fatal. A server that answers with an error is alive.
func (m *sessions) check(ctx context.Context, s *Session) error {
	err := m.opts.Probe(ctx, s)
	if err == nil || (ctx.Err() == nil && !IsFatal(err)) {
		return nil
	}
	return err
}

// config returns the chanpool configuration of a pool whose sessions, of
// owner o, connect over transports from newTransport.
func (m *sessions) config(newTransport transportFunc, o owner) chanpool.Config[*Session] {
	cfg := m.opts.Pool
	cfg.Dial = func(ctx context.Context) (*Session, error) { return m.dial(ctx, newTransport, o) }
	cfg.Close = m.close
	cfg.Alive = (*Session).alive
	cfg.HealthCheck = m.check
	return cfg
}

// closed finishes a close of the sessions of o (everyOwner: all of them)
// that returned err: if ctx ended first (err wraps ctx's error), it kills
// the sessions of o still open, so that a server ignoring its stdin closing
// and SIGTERM does not hold its close for twice TerminateDuration after
// the caller's deadline. It returns err.
func (m *sessions) closed(ctx context.Context, err error, o owner) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		m.kill(o)
	}
	return err
}

// kill ends every session of o (everyOwner: every session) still open at
// once: it kills the server process of each stdio session (closing its
// connection) and cancels the context its transport was built with. For a
// close whose deadline passed, so that the closes still running end now
// and every child process is reaped.
func (m *sessions) kill(o owner) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.open {
		if o != everyOwner && s.owner != o {
			continue
		}
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Kill() // an already finished process says so; nothing to do then
		}
		s.cancel()
	}
}

// run calls fn on the session that lease holds, bounded by CallTimeout, and
// ends the lease: Destroy if the error is fatal, Release otherwise. A panic
// in fn destroys the session and goes on.
func (m *sessions) run(ctx context.Context, lease chanpool.Conn[*Session], fn func(context.Context, *mcp.ClientSession) error) (err error) {
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if m.opts.CallTimeout > 0 {
		cctx, cancel = context.WithTimeoutCause(ctx, m.opts.CallTimeout, ErrCallTimeout)
	}
	ended := false
	defer func() {
		cancel()
		if !ended { // fn panicked
			_ = lease.Destroy()
		}
	}()
	err = fn(cctx, lease.Value().cs)
	// The call timed out if its own deadline passed while the caller's
	// context had not ended: a caller giving up says nothing about the
	// server.
	if err != nil && ctx.Err() == nil && context.Cause(cctx) == ErrCallTimeout {
		err = fmt.Errorf("%w after %v: %w", ErrCallTimeout, m.opts.CallTimeout, err)
	}
	ended = true
	if IsFatal(err) {
		_ = lease.Destroy()
	} else {
		_ = lease.Release()
	}
	return err
}
