package pgxpool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// DBTX is the interface sqlc generates for pgx/v5 (plus SendBatch, which it
// adds for batch queries): *Pool satisfying it is what makes the switch from
// pgxpool an import change for sqlc users.
type DBTX interface {
	Exec(context.Context, string, ...interface{}) (pgconn.CommandTag, error)
	Query(context.Context, string, ...interface{}) (pgx.Rows, error)
	QueryRow(context.Context, string, ...interface{}) pgx.Row
	CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error)
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}

var (
	_ DBTX   = (*pgxpool.Pool)(nil)
	_ DBTX   = (*pgxpool.Conn)(nil)
	_ pgx.Tx = (*pgxpool.Tx)(nil)
)

// newPool starts a pool on s with the extra connection-string settings,
// closed (bounded) at the end of the test.
func newPool(t *testing.T, s *server, extra string, edit func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(s.connString(extra))
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.CloseContext(ctx); err != nil && !errors.Is(err, chanpool.ErrClosed) {
			t.Errorf("closing the pool: %v", err)
		}
	})
	return p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func backendPID(t *testing.T, c *pgxpool.Conn) int {
	t.Helper()
	var pid int
	require.NoError(t, c.QueryRow(ctxT(t), "SELECT pg_backend_pid()").Scan(&pid))
	return pid
}

func TestParseConfigReadsPoolSettings(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db?pool_max_conns=7&pool_min_conns=2&pool_min_idle_conns=1" +
		"&pool_max_conn_lifetime=1h30m&pool_max_conn_lifetime_jitter=1m&pool_max_conn_idle_time=5m" +
		"&pool_health_check_period=10s&pool_ping_timeout=300ms&pool_max_waiting=12&pool_acquire_timeout=2s" +
		"&pool_breaker_threshold=0&pool_leak_threshold=30s&pool_max_dialing=3&pool_health_check_after=0&application_name=x")
	require.NoError(t, err)
	assert.Equal(t, int32(7), cfg.MaxConns)
	assert.Equal(t, int32(2), cfg.MinConns)
	assert.Equal(t, int32(1), cfg.MinIdleConns)
	assert.Equal(t, 90*time.Minute, cfg.MaxConnLifetime)
	assert.Equal(t, time.Minute, cfg.MaxConnLifetimeJitter)
	assert.Equal(t, 5*time.Minute, cfg.MaxConnIdleTime)
	assert.Equal(t, 10*time.Second, cfg.HealthCheckPeriod)
	assert.Equal(t, 300*time.Millisecond, cfg.PingTimeout)
	assert.Equal(t, 12, cfg.MaxWaiting)
	assert.Equal(t, 2*time.Second, cfg.AcquireTimeout)
	assert.Equal(t, -1, cfg.BreakerThreshold, "0 in the string switches the breaker off (chanpool.None)")
	assert.Equal(t, 30*time.Second, cfg.LeakThreshold)
	assert.Equal(t, 3, cfg.MaxDialing)
	assert.Equal(t, time.Duration(-1), cfg.HealthCheckAfter)
	for k := range cfg.ConnConfig.RuntimeParams {
		assert.False(t, strings.HasPrefix(k, "pool_"), "%s left in the runtime parameters sent to the server", k)
	}
	assert.Equal(t, "x", cfg.ConnConfig.RuntimeParams["application_name"])

	def, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, def.MaxConns, int32(4))
	assert.Equal(t, time.Hour, def.MaxConnLifetime)
	assert.Equal(t, -2, def.MaxWaiting, "pgxpool lets any number wait (chanpool.Unlimited)")
	assert.Equal(t, time.Duration(-1), def.AcquireTimeout, "pgxpool has no acquire timeout (chanpool.None)")

	u, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db?pool_max_waiting=unlimited")
	require.NoError(t, err)
	assert.Equal(t, -2, u.MaxWaiting)
}

func TestParseConfigErrorsNameTheSetting(t *testing.T) {
	for _, kv := range []string{
		"pool_max_conns=0", "pool_max_conns=many", "pool_min_conns=-1", "pool_max_conn_lifetime=soon",
		"pool_max_conn_idle_time=-1s", "pool_max_waiting=lots", "pool_acquire_timeout=1", "pool_max_dialing=0",
		"pool_health_check_period=x", "pool_leak_threshold=x", "pool_breaker_threshold=-2",
	} {
		_, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db?" + kv)
		if assert.Error(t, err, kv) {
			key, _, _ := strings.Cut(kv, "=")
			assert.Contains(t, err.Error(), key, "the error names the setting")
		}
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := pgxpool.NewWithConfig(context.Background(), &pgxpool.Config{})
	assert.ErrorContains(t, err, "ConnConfig")
	cfg, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db?pool_max_conns=2&pool_min_conns=3")
	require.NoError(t, err)
	_, err = pgxpool.NewWithConfig(context.Background(), cfg)
	assert.ErrorContains(t, err, "MinConns")
}
