package chanpool

import (
	"context"
	"log/slog"
	"math"
	"time"
)

// None, assigned to a count or duration field of Config, switches that
// feature off explicitly: MinConns: None keeps no warm connections,
// MaxWaiting: None lets no caller wait, AcquireTimeout: None leaves the
// caller's context as the only bound, IdleTimeout: None never closes a
// connection for being idle, and so on. The zero value of a field means "use
// the default" instead. Every other negative value is rejected by New.
const None = -1

// Unlimited, assigned to Config.MaxWaiting, lets any number of callers wait
// for a connection: none is turned away with ErrExhausted, and each waits
// until its context, AcquireTimeout or Close ends the wait.
const Unlimited = -2

// unlimitedWaiting is settings.maxWaiting for Unlimited.
const unlimitedWaiting = math.MaxInt

// Defaults used for Config fields left at zero.
const (
	DefaultMaxConns         = 10
	DefaultMinConns         = 2
	DefaultMaxWaiting       = 50
	DefaultAcquireTimeout   = 5 * time.Second
	DefaultDialTimeout      = 5 * time.Second
	DefaultIdleTimeout      = 30 * time.Second
	DefaultEvictionInterval = 10 * time.Second
	DefaultHealthCheckAfter = time.Second
	DefaultCheckTimeout     = time.Second
	DefaultMaxDialing       = 2
	DefaultBreakerThreshold = 5
	// The default Config.MaxConnsLimit is DefaultMaxConnsLimitFactor times
	// MaxConns, and at least DefaultMaxConnsLimitMin.
	DefaultMaxConnsLimitFactor = 8
	DefaultMaxConnsLimitMin    = 64
)

// Config configures a Pool. Only Dial is required; every other field has a
// default (see the constants above) that a zero value selects, and None turns
// a feature off.
type Config[T any] struct {
	// Dial opens a new connection. Required. Its context is canceled when
	// the pool closes and, unless DialTimeout is None, after DialTimeout; it
	// is deliberately not the acquiring caller's context, so that a dial
	// outlives a caller that gives up and its connection serves the next
	// one. A panic in Dial is recovered and reported as an ErrDial error.
	Dial func(ctx context.Context) (T, error)

	// Close closes a connection. Optional. Errors and panics are logged and
	// counted in Stats.CloseErrors; the connection is gone either way.
	Close func(conn T) error

	// Alive, if set, runs on every acquire of an idle connection, on the
	// acquiring goroutine, before any health check. False (or a panic)
	// closes the connection and Acquire moves on to another. It must be
	// cheap and must not block: a look at what the connection already
	// knows (has its session ended, has its process exited?), not a round
	// trip, which is HealthCheck's job.
	Alive func(conn T) bool

	// HealthCheck, if set, checks a connection that sat idle longer than
	// HealthCheckAfter before it is leased. It runs on a goroutine of the
	// pool's, which owns the connection until it returns: the caller that
	// found the connection waits for the result, or for anything else that
	// comes first, within its own deadline. ctx carries the caller's values
	// and expires after CheckTimeout. An error, a panic or returning after
	// CheckTimeout closes the connection (once the check has returned,
	// however late), and the caller looks for another; a check that
	// ignores its context keeps its connection, and its slot, until it
	// returns.
	HealthCheck func(ctx context.Context, conn T) error

	// Reset, if set, runs on Release before the connection goes back to
	// idle, to clear per-session state, on the releasing goroutine. An
	// error, a panic or returning after its context expired closes the
	// connection instead of reusing it, so one user's session state never
	// reaches the next user. ctx expires CheckTimeout after Reset first
	// calls its Deadline, Done or Err method; a Reset that only reads the
	// connection's state never calls them and costs no timer.
	Reset func(ctx context.Context, conn T) error

	// MaxConns caps the number of open plus dialing connections.
	// Default 10; must be at least 1.
	MaxConns int
	// MinConns is the number of connections the pool dials at start and
	// keeps open: eviction never goes below it and destroyed connections
	// are replaced up to it. Default 2 (capped at MaxConns); None for 0.
	MinConns int
	// MaxWaiting caps how many callers may wait for a connection when the
	// pool is at MaxConns; one more gets ErrExhausted. Default 50; None lets
	// no caller wait; Unlimited lets any number wait.
	MaxWaiting int
	// MaxConnsLimit is the most that Pool.SetMaxConns may raise MaxConns to
	// while the pool runs. The pool sets aside room for it at New: about 24
	// bytes per unit on 64-bit platforms (its slot in the idle channel, in
	// the registry of connections and in the registry's free list). Default
	// 8 × MaxConns, at least 64; must not be below MaxConns.
	MaxConnsLimit int
	// MinIdle is how many idle connections the pool keeps ready, dialing
	// ahead of demand while it is under MaxConns, apart from MinConns: a
	// busy pool then still has spare connections for a burst. Eviction
	// never takes the pool below MinConns, nor below the busy connections
	// plus MinIdle. Default 0; must not exceed MaxConns.
	MinIdle int

	// MaxDialing caps how many dials run at once, so that a backend coming
	// back after an outage is not hit by every missing connection at once.
	// Default 2 (capped at MaxConns).
	MaxDialing int
	// BreakerThreshold is how many consecutive failed dials open the dial
	// breaker (see ErrBreakerOpen). Default 5; None never opens it: callers
	// then wait out AcquireTimeout while dials fail.
	BreakerThreshold int

	// AcquireTimeout bounds how long Acquire waits, on top of the caller's
	// context. Default 5s; None for no bound beyond the context.
	AcquireTimeout time.Duration
	// DialTimeout bounds each Dial. Default 5s; None for no bound beyond
	// Close.
	DialTimeout time.Duration
	// IdleTimeout is how long connections may be surplus to the load before
	// eviction closes them (see EvictionInterval). Default 30s; None never
	// closes connections for being idle.
	IdleTimeout time.Duration
	// EvictionInterval is how often the background evictor runs. It closes
	// connections that the load has not needed for IdleTimeout and those
	// past MaxLifetime, never going below MinConns, and dials back up to
	// MinConns. Default 10s; None runs no evictor goroutine (then
	// MaxLifetime must be zero).
	EvictionInterval time.Duration
	// MaxLifetime closes a connection this long after it was dialed (minus
	// a random jitter drawn once per connection, up to MaxLifetimeJitter),
	// at the first eviction run after that instant if idle, or on release if
	// busy. Default 0: no limit.
	MaxLifetime time.Duration
	// MaxLifetimeJitter spreads the lifetimes so that connections dialed
	// together do not all expire together. Must be less than MaxLifetime.
	MaxLifetimeJitter time.Duration

	// HealthCheckAfter is the idle time after which an acquired connection
	// is checked with HealthCheck. Default 1s; None checks on every
	// acquire, except the first of a connection since its dial.
	// Ignored without HealthCheck.
	HealthCheckAfter time.Duration
	// KeepaliveInterval, if set, pings an idle connection that nobody has
	// used (nor pinged) for this long, less a jitter of up to a quarter of
	// it drawn once per connection, so that connections released together
	// are not pinged together. The ping runs on a goroutine of the pool's
	// that owns the connection meanwhile, bounded by CheckTimeout; a waiting
	// caller gets another connection, or this one as soon as the ping
	// passes. A pass puts the connection back, and counts as neither a
	// lease nor a use; a failure closes it (ReasonKeepalive) and dials a
	// replacement. It keeps connections alive through NAT and firewall idle
	// timeouts and servers that close idle clients. Default 0: off (or
	// None). Needs Keepalive or HealthCheck.
	KeepaliveInterval time.Duration
	// Keepalive is the ping; nil uses HealthCheck.
	Keepalive func(ctx context.Context, conn T) error

	// CheckTimeout bounds each HealthCheck and Reset call through its
	// context (see HealthCheck and Reset). Default 1s; None for no bound.
	CheckTimeout time.Duration

	// LeakThreshold, if set, reports every lease held longer than this:
	// logged once (slog, warn) with the stack of the goroutine that
	// acquired it, and counted in Stats.HeldTooLong. Checked every
	// LeakThreshold/2. It costs each acquire a clock read, a stack capture
	// and an allocation, so it is off by default (0 or None).
	LeakThreshold time.Duration

	// Logger receives the pool's logs (dial failures, closes, misuse). Nil
	// discards them. Nothing is logged on the acquire/release fast path.
	Logger *slog.Logger

	// Hooks are called on connection events; see Hooks.
	Hooks Hooks

	// Tracer, if set, observes every acquire, with the caller's context,
	// and, if it is a LeaseTracer, every lease's end, with its hold time;
	// see Tracer. Nil costs Acquire one comparison.
	Tracer Tracer
}

// Hooks are optional callbacks for connection events. They run synchronously
// on the goroutine that caused the event (OnAcquire and OnRelease on the
// caller's hot path), so they must be fast and must not call back into the
// pool's blocking methods. A nil hook costs one comparison.
type Hooks struct {
	// OnCreate is called after a new connection was dialed.
	OnCreate func(ConnInfo)
	// OnAcquire is called after a connection was leased to a caller.
	OnAcquire func(ConnInfo)
	// OnRelease is called after a connection was handed back with Release.
	OnRelease func(ConnInfo)
	// OnDestroy is called after a connection was closed, with the reason,
	// on the goroutine of the pool's that closed it; and, with
	// ReasonDetached, on Conn.Detach's caller's goroutine.
	OnDestroy func(ConnInfo, CloseReason)
}
