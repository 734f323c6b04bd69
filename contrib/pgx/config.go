package pgxpool

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chanpool/chanpool/chanpool"
)

// ShouldPingParams are the parameters passed to Config.ShouldPing.
type ShouldPingParams struct {
	Conn         *pgx.Conn
	IdleDuration time.Duration // since the connection was last released (or dialed)
}

// Config configures a Pool. Build it with ParseConfig, which fills in the
// defaults described there, then change what you need. A Config not built by
// ParseConfig is accepted too: its zero fields then get chanpool's defaults
// (see chanpool.Config), and ConnConfig is required.
type Config struct {
	ConnConfig *pgx.ConnConfig

	// BeforeConnect is called before each new connection with a copy of
	// ConnConfig, which it may change for that connection only. An error
	// fails the dial.
	BeforeConnect func(context.Context, *pgx.ConnConfig) error
	// AfterConnect is called on each new connection before the pool uses
	// it. An error closes the connection and fails the dial.
	AfterConnect func(context.Context, *pgx.Conn) error
	// BeforeAcquire is called on each acquired connection; false destroys it
	// and Acquire tries another.
	//
	// Deprecated: use PrepareConn, which takes precedence when both are set.
	BeforeAcquire func(context.Context, *pgx.Conn) bool
	// PrepareConn is called on each acquired connection before Acquire
	// returns it. true, nil: Acquire returns it. true, err: the connection
	// goes back to the pool and Acquire fails with err. false, err: the
	// connection is destroyed and Acquire fails with err. false, nil: the
	// connection is destroyed and Acquire tries another.
	PrepareConn func(context.Context, *pgx.Conn) (bool, error)
	// AfterRelease is called when a connection is released, on the releasing
	// goroutine, after the checks that it is open and idle outside a
	// transaction; false destroys it instead of reusing it. It runs inside
	// chanpool's Config.Reset and so within CheckTimeout.
	AfterRelease func(*pgx.Conn) bool
	// BeforeClose is called right before a connection is closed, on a
	// goroutine of the pool's.
	BeforeClose func(*pgx.Conn)
	// ShouldPing, if set, is asked on every acquire of an idle connection
	// (except its first lease after the dial) whether to ping it first; a
	// failed ping destroys the connection and Acquire tries another. Unset,
	// a connection idle for longer than HealthCheckAfter (1 s by default,
	// as pgxpool's) is pinged.
	ShouldPing func(context.Context, ShouldPingParams) bool
	// PingTimeout bounds each ping and each release check (chanpool's
	// CheckTimeout). 0: chanpool's default, 1 s.
	PingTimeout time.Duration

	// MaxConnLifetime closes a connection this long, plus a random part of
	// MaxConnLifetimeJitter, after its dial: idle ones at the next
	// HealthCheckPeriod, busy ones on release. 0: no limit.
	MaxConnLifetime       time.Duration
	MaxConnLifetimeJitter time.Duration
	// MaxConnIdleTime is chanpool's IdleTimeout: connections the load has
	// not needed for this long are closed, down to MinConns. 0: chanpool's
	// default (30 s); chanpool.None: never.
	MaxConnIdleTime time.Duration
	// MaxConns caps open plus dialing connections. MinConns are kept open;
	// MinIdleConns spare idle connections are kept ready.
	MaxConns, MinConns, MinIdleConns int32
	// HealthCheckPeriod is how often idle connections are looked at for
	// their idle time and lifetime (chanpool's EvictionInterval).
	HealthCheckPeriod time.Duration

	// The settings below are chanpool's, with its conventions: 0 selects
	// chanpool's default, chanpool.None switches the feature off, and
	// MaxWaiting may be chanpool.Unlimited. ParseConfig sets MaxWaiting to
	// Unlimited and AcquireTimeout to None, as pgxpool behaves.

	// MaxWaiting caps the callers waiting for a connection; one more gets
	// chanpool.ErrExhausted.
	MaxWaiting int
	// AcquireTimeout bounds every acquire on top of its context; it fails
	// with chanpool.ErrAcquireTimeout.
	AcquireTimeout time.Duration
	// BreakerThreshold is the consecutive failed dials after which acquires
	// fail fast with chanpool.ErrBreakerOpen until a dial succeeds.
	BreakerThreshold int
	// LeakThreshold logs every lease held longer, with the stack that
	// acquired it (chanpool.Config.LeakThreshold).
	LeakThreshold time.Duration
	// MaxDialing caps concurrent dials.
	MaxDialing int
	// HealthCheckAfter is the idle time after which an acquired connection
	// is pinged when ShouldPing is unset.
	HealthCheckAfter time.Duration
}

// Copy returns a copy of c that is safe to change, with its own ConnConfig.
func (c *Config) Copy() *Config {
	n := *c
	if c.ConnConfig != nil {
		n.ConnConfig = c.ConnConfig.Copy()
	}
	return &n
}

// ConnString returns the connection string c was parsed from.
func (c *Config) ConnString() string { return c.ConnConfig.ConnString() }

// Defaults of ParseConfig, as pgxpool's where it has the setting.
const (
	defaultMaxConns          = 4 // or runtime.NumCPU() if higher
	defaultMaxConnLifetime   = time.Hour
	defaultMaxConnIdleTime   = 30 * time.Minute
	defaultHealthCheckPeriod = time.Minute
)

// setting is one pool_* key of the connection string.
type setting struct {
	key   string
	parse func(c *Config, s string) error
}

// settings lists every pool_* key ParseConfig understands, pgxpool's first.
var settings = []setting{
	{"pool_max_conns", intSetting(1, func(c *Config, n int) { c.MaxConns = int32(n) })},
	{"pool_min_conns", intSetting(0, func(c *Config, n int) { c.MinConns = int32(n) })},
	{"pool_min_idle_conns", intSetting(0, func(c *Config, n int) { c.MinIdleConns = int32(n) })},
	{"pool_max_conn_lifetime", durSetting(func(c *Config, d time.Duration) { c.MaxConnLifetime = d })},
	{"pool_max_conn_lifetime_jitter", durSetting(func(c *Config, d time.Duration) { c.MaxConnLifetimeJitter = d })},
	{"pool_max_conn_idle_time", durSetting(func(c *Config, d time.Duration) { c.MaxConnIdleTime = orNone(d) })},
	{"pool_health_check_period", durSetting(func(c *Config, d time.Duration) { c.HealthCheckPeriod = d })},
	{"pool_ping_timeout", durSetting(func(c *Config, d time.Duration) { c.PingTimeout = d })},
	// chanpool's own.
	{"pool_max_waiting", maxWaitingSetting},
	{"pool_acquire_timeout", durSetting(func(c *Config, d time.Duration) { c.AcquireTimeout = orNone(d) })},
	{"pool_breaker_threshold", intSetting(0, func(c *Config, n int) { c.BreakerThreshold = orNone(n) })},
	{"pool_leak_threshold", durSetting(func(c *Config, d time.Duration) { c.LeakThreshold = orNone(d) })},
	{"pool_max_dialing", intSetting(1, func(c *Config, n int) { c.MaxDialing = n })},
	{"pool_health_check_after", durSetting(func(c *Config, d time.Duration) { c.HealthCheckAfter = orNone(d) })},
}

// orNone maps an explicit 0 in the connection string to chanpool.None: there
// 0 means "off", where in chanpool.Config it would mean "the default".
func orNone[N int | time.Duration](n N) N {
	if n == 0 {
		return chanpool.None
	}
	return n
}

func intSetting(least int, set func(*Config, int)) func(*Config, string) error {
	return func(c *Config, s string) error {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return fmt.Errorf("not an integer: %w", err)
		}
		if int(n) < least {
			return fmt.Errorf("%d is less than %d", n, least)
		}
		set(c, int(n))
		return nil
	}
}

func durSetting(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration: %w", err)
		}
		if d < 0 {
			return fmt.Errorf("%v is negative", d)
		}
		set(c, d)
		return nil
	}
}

func maxWaitingSetting(c *Config, s string) error {
	if s == "unlimited" {
		c.MaxWaiting = chanpool.Unlimited
		return nil
	}
	return intSetting(0, func(c *Config, n int) { c.MaxWaiting = orNone(n) })(c, s)
}

// ParseConfig parses connString as pgx.ParseConfig does, less the pool_*
// settings, which configure the pool:
//
//   - pool_max_conns: integer ≥ 1 (default the greater of 4 and runtime.NumCPU())
//   - pool_min_conns, pool_min_idle_conns: integer ≥ 0 (default 0)
//   - pool_max_conn_lifetime: duration (default 1h); pool_max_conn_lifetime_jitter (default 0)
//   - pool_max_conn_idle_time: duration (default 30m; 0 never)
//   - pool_health_check_period: duration (default 1m)
//   - pool_ping_timeout: duration (default 0: chanpool's 1s)
//
// and chanpool's own, in the same style:
//
//   - pool_max_waiting: integer ≥ 0 or "unlimited" (default unlimited, as pgxpool; 0 lets nobody wait)
//   - pool_acquire_timeout: duration (default 0: only the caller's context)
//   - pool_breaker_threshold: integer ≥ 0 (default 5; 0 never opens the breaker)
//   - pool_leak_threshold: duration (default 0: off)
//   - pool_max_dialing: integer ≥ 1 (default 2)
//   - pool_health_check_after: duration (default 1s; 0 pings on every acquire)
//
// An invalid value returns an error naming the setting.
func ParseConfig(connString string) (*Config, error) {
	cc, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("pgxpool: %w", err)
	}
	c := &Config{
		ConnConfig:        cc,
		MaxConns:          int32(max(defaultMaxConns, numCPU())),
		MaxConnLifetime:   defaultMaxConnLifetime,
		MaxConnIdleTime:   defaultMaxConnIdleTime,
		HealthCheckPeriod: defaultHealthCheckPeriod,
		MaxWaiting:        chanpool.Unlimited,
		AcquireTimeout:    chanpool.None,
	}
	for _, s := range settings {
		v, ok := cc.RuntimeParams[s.key]
		if !ok {
			continue
		}
		delete(cc.RuntimeParams, s.key)
		if err := s.parse(c, v); err != nil {
			return nil, fmt.Errorf("pgxpool: invalid %s=%q: %w", s.key, v, err)
		}
	}
	return c, nil
}
