package pgxpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chanpool/chanpool/chanpool"
)

// closeTimeout bounds the close of one connection, as pgxpool's destructor.
const closeTimeout = 15 * time.Second

// defaultConnectTimeout bounds a dial whose ConnConfig sets none, as pgxpool
// does: a dial outlives the caller that started it.
const defaultConnectTimeout = 2 * time.Minute

var numCPU = runtime.NumCPU

// errNotReusable is chanpool's Config.Reset failing: the connection came back
// closed, busy, in a transaction (or a failed one), or AfterRelease said no.
var errNotReusable = errors.New("pgxpool: connection not reusable")

// conn is what chanpool pools: the pgx connection and when it was last
// handed back, for ShouldPing's IdleDuration.
type conn struct {
	pc       *pgx.Conn
	released atomic.Int64 // Unix nanoseconds
}

// Pool is a pool of pgx connections on chanpool. Create one with New or
// NewWithConfig; the zero value is not usable. It is safe for concurrent use.
type Pool struct {
	p       *chanpool.Pool[*conn]
	config  *Config
	prepare func(context.Context, *pgx.Conn) (bool, error)
	acqT    AcquireTracer
	relT    ReleaseTracer
	// The pgxpool tracers, called with a nil *pgxpool.Pool (see tracer.go).
	pxAcqT pgxAcquireTracer
	pxRelT pgxReleaseTracer
}

// New parses connString with ParseConfig and returns NewWithConfig's pool.
func New(ctx context.Context, connString string) (*Pool, error) {
	c, err := ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(ctx, c)
}

// NewWithConfig returns a running pool for config, which it copies. Like
// pgxpool's, it does not connect before returning: MinConns connections are
// dialed in the background, and a dial error surfaces on Acquire. An invalid
// config returns an error naming the setting.
func NewWithConfig(ctx context.Context, config *Config) (*Pool, error) {
	if config == nil || config.ConnConfig == nil {
		return nil, errors.New("pgxpool: config.ConnConfig is required (build the config with ParseConfig)")
	}
	config = config.Copy()
	p := &Pool{config: config, prepare: config.PrepareConn}
	if p.prepare == nil && config.BeforeAcquire != nil {
		before := config.BeforeAcquire
		p.prepare = func(ctx context.Context, c *pgx.Conn) (bool, error) { return before(ctx, c), nil }
	}
	p.setTracers(config.ConnConfig.Tracer)
	cp, err := chanpool.New(p.chanpoolConfig(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, fmt.Errorf("pgxpool: %w", err)
	}
	p.p = cp
	return p, nil
}

// chanpoolConfig maps config onto chanpool's. Dials use base's values.
func (p *Pool) chanpoolConfig(base context.Context) chanpool.Config[*conn] {
	c := p.config
	cfg := chanpool.Config[*conn]{
		Dial:             func(ctx context.Context) (*conn, error) { return p.dial(base, ctx) },
		Close:            p.closeConn,
		Alive:            func(c *conn) bool { return !c.pc.IsClosed() },
		Reset:            p.reset,
		HealthCheck:      func(ctx context.Context, c *conn) error { return c.pc.Ping(ctx) },
		HealthCheckAfter: c.HealthCheckAfter,
		CheckTimeout:     c.PingTimeout,
		MaxConns:         int(c.MaxConns),
		MinConns:         orNone(int(c.MinConns)),
		MinIdle:          int(c.MinIdleConns),
		MaxWaiting:       c.MaxWaiting,
		AcquireTimeout:   c.AcquireTimeout,
		IdleTimeout:      c.MaxConnIdleTime,
		EvictionInterval: c.HealthCheckPeriod,
		BreakerThreshold: c.BreakerThreshold,
		LeakThreshold:    c.LeakThreshold,
		MaxDialing:       c.MaxDialing,
		// pgx bounds the dial with ConnConfig.ConnectTimeout.
		DialTimeout: chanpool.None,
	}
	if c.MaxConnLifetime > 0 {
		// pgxpool adds the jitter, chanpool subtracts it: the same range.
		cfg.MaxLifetime = c.MaxConnLifetime + c.MaxConnLifetimeJitter
		cfg.MaxLifetimeJitter = c.MaxConnLifetimeJitter
	}
	if should := c.ShouldPing; should != nil {
		cfg.HealthCheckAfter = chanpool.None
		cfg.HealthCheck = func(ctx context.Context, c *conn) error {
			idle := time.Since(time.Unix(0, c.released.Load()))
			if !should(ctx, ShouldPingParams{Conn: c.pc, IdleDuration: idle}) {
				return nil
			}
			return c.pc.Ping(ctx)
		}
	}
	return cfg
}

// dial opens one connection: BeforeConnect on a copy of ConnConfig, the
// connect, AfterConnect. ctx is chanpool's (canceled by Close); base carries
// the values of NewWithConfig's context.
func (p *Pool) dial(base, ctx context.Context) (*conn, error) {
	ctx, stop := mergeCancel(base, ctx)
	defer stop()
	cc := p.config.ConnConfig.Copy()
	if cc.ConnectTimeout <= 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	if p.config.BeforeConnect != nil {
		if err := p.config.BeforeConnect(ctx, cc); err != nil {
			return nil, fmt.Errorf("pgxpool: BeforeConnect: %w", err)
		}
	}
	pc, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, err
	}
	if p.config.AfterConnect != nil {
		if err := p.config.AfterConnect(ctx, pc); err != nil {
			_ = pc.Close(ctx)
			return nil, fmt.Errorf("pgxpool: AfterConnect: %w", err)
		}
	}
	c := &conn{pc: pc}
	c.released.Store(time.Now().UnixNano())
	return c, nil
}

// mergeCancel returns a context with the values of vals that is canceled
// with ctx.
func mergeCancel(vals, ctx context.Context) (context.Context, context.CancelFunc) {
	m, cancel := context.WithCancel(vals)
	stop := context.AfterFunc(ctx, cancel)
	if dl, ok := ctx.Deadline(); ok {
		var cancelDl context.CancelFunc
		m, cancelDl = context.WithDeadline(m, dl)
		return m, func() { stop(); cancelDl(); cancel() }
	}
	return m, func() { stop(); cancel() }
}

// closeConn is chanpool's Config.Close: BeforeClose, then a close bounded by
// closeTimeout that waits for pgconn's cleanup.
func (p *Pool) closeConn(c *conn) error {
	if p.config.BeforeClose != nil {
		p.config.BeforeClose(c.pc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := c.pc.Close(ctx)
	select {
	case <-c.pc.PgConn().CleanupDone():
	case <-ctx.Done():
	}
	return err
}

// reset is chanpool's Config.Reset, run on every release: a connection that
// is closed, busy or not idle outside a transaction ('I') is not reused,
// nor one AfterRelease refuses.
func (p *Pool) reset(_ context.Context, c *conn) error {
	pg := c.pc.PgConn()
	if c.pc.IsClosed() || pg.IsBusy() || pg.TxStatus() != 'I' {
		return errNotReusable
	}
	if p.config.AfterRelease != nil && !p.config.AfterRelease(c.pc) {
		return errNotReusable
	}
	c.released.Store(time.Now().UnixNano())
	return nil
}

// Acquire leases a connection, which the caller must hand back with
// Conn.Release. It blocks until it has one, ctx is done (the error wraps
// ctx.Err()), AcquireTimeout passes (chanpool.ErrAcquireTimeout), or it
// fails with one of chanpool's errors (ErrClosed, ErrExhausted, ErrDial
// wrapping the connect error, ErrBreakerOpen). PrepareConn (or
// BeforeAcquire) runs on the connection first, as documented on Config.
func (p *Pool) Acquire(ctx context.Context) (c *Conn, err error) {
	if p.acqT != nil || p.pxAcqT != nil {
		ctx = p.traceAcquireStart(ctx)
		defer func() { p.traceAcquireEnd(ctx, c, err) }()
	}
	for {
		h, err := p.p.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		pc := h.Value().pc
		if p.prepare == nil {
			return &Conn{h: h, p: p}, nil
		}
		ok, err := p.prepare(ctx, pc)
		switch {
		case ok && err == nil:
			return &Conn{h: h, p: p}, nil
		case ok:
			_ = h.Release()
			return nil, fmt.Errorf("pgxpool: PrepareConn: %w", err)
		case err != nil:
			_ = h.Destroy()
			return nil, fmt.Errorf("pgxpool: PrepareConn: %w", err)
		}
		_ = h.Destroy() // rejected without an error: try another
	}
}

// AcquireFunc acquires a connection, calls f with it and releases it,
// returning f's error or Acquire's.
func (p *Pool) AcquireFunc(ctx context.Context, f func(*Conn) error) error {
	c, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return f(c)
}

// Reset closes every connection now idle and every busy one when it comes
// back, and dials anew (chanpool.Pool.Reset). It does not block.
func (p *Pool) Reset() { p.p.Reset() }

// Close rejects new acquires, closes the idle connections and waits for
// every busy one to be released and closed, as pgxpool's Close. Use
// CloseContext to bound the wait.
func (p *Pool) Close() { _ = p.p.Close(context.Background()) }

// CloseContext is Close bounded by ctx: when ctx ends first it closes the
// connections still out and returns an error wrapping ctx.Err() (see
// chanpool.Pool.Close). A second call returns chanpool.ErrClosed.
func (p *Pool) CloseContext(ctx context.Context) error { return p.p.Close(ctx) }

// Config returns a copy of the pool's configuration.
func (p *Pool) Config() *Config { return p.config.Copy() }

// Exec acquires a connection, runs sql on it and releases it.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

// Query acquires a connection and runs sql on it. The connection goes back
// to the pool when the Rows is closed or fully read (Next returns false), or
// when Scan fails; on an error from the query itself, at once.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errRows{err: err}, err
	}
	r, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return errRows{err: err}, err
	}
	return &rows{r: r, c: c}, nil
}

// QueryRow acquires a connection and runs sql on it; the connection goes
// back to the pool when Scan returns.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errRow{err: err}
	}
	return &row{r: c.QueryRow(ctx, sql, args...), c: c}
}

// SendBatch acquires a connection and sends b on it; the connection goes
// back to the pool when the BatchResults is closed, or, if the batch begins
// a transaction (pgx.Batch.BeginTx), when the transaction returned by
// BatchResults.Tx commits or rolls back.
func (p *Pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c, err := p.Acquire(ctx)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	br := c.SendBatch(ctx, b)
	if t := br.Tx(); t != nil {
		return &batchResults{br: br, tx: &Tx{t: t, c: c}}
	}
	return &batchResults{br: br, c: c}
}

// Begin is BeginTx with default options.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx acquires a connection and begins a transaction on it; the
// connection goes back to the pool when the transaction commits or rolls
// back.
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	t, err := c.BeginTx(ctx, opts)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &Tx{t: t, c: c}, nil
}

// CopyFrom acquires a connection, copies rowSrc into tableName with it and
// releases it.
func (p *Pool) CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	return c.CopyFrom(ctx, tableName, columnNames, rowSrc)
}

// Ping acquires a connection, pings the server with it and releases it.
func (p *Pool) Ping(ctx context.Context) error {
	c, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.Ping(ctx)
}
