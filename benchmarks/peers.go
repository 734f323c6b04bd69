package benchmarks

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/jackc/puddle/v2"
	commons "github.com/jolestar/go-commons-pool/v2"
)

// The pools under test. Each is configured for a benchmark: size
// connections, callers wait as long as their context allows, and no
// background maintenance runs (but for the coarse clock's tick that
// chanpool-checks' HealthCheck needs).

type chanpoolPool struct{ p *chanpool.Pool[*FakeConn] }

// chanpoolConfig is the Config of the "chanpool" contender: the fast path,
// with no callback but Dial.
func chanpoolConfig(size, clients int) chanpool.Config[*FakeConn] {
	return chanpool.Config[*FakeConn]{
		Dial:             dial,
		MaxConns:         size,
		MinConns:         chanpool.None, // wrap fills the pool synchronously
		MaxWaiting:       clients + size,
		AcquireTimeout:   chanpool.None,
		EvictionInterval: chanpool.None,
	}
}

// withChecks is cfg with the HealthCheck and Reset of the Checks contender.
func withChecks(cfg chanpool.Config[*FakeConn]) chanpool.Config[*FakeConn] {
	cfg.HealthCheck = checkOK
	cfg.Reset = checkOK
	return cfg
}

// checkOK is a health check and a reset that find nothing wrong, at once.
func checkOK(context.Context, *FakeConn) error { return nil }

func newChanpool(cfg chanpool.Config[*FakeConn]) (*chanpoolPool, error) {
	p, err := chanpool.New(cfg)
	if err != nil {
		return nil, err
	}
	return &chanpoolPool{p}, nil
}

func (c *chanpoolPool) acquire(ctx context.Context) (chanpool.Conn[*FakeConn], error) {
	return c.p.Acquire(ctx)
}
func (c *chanpoolPool) release(h chanpool.Conn[*FakeConn]) error   { return h.Release() }
func (c *chanpoolPool) value(h chanpool.Conn[*FakeConn]) *FakeConn { return h.Value() }
func (c *chanpoolPool) close() error                               { return c.p.Close(context.Background()) }

type puddlePool struct{ p *puddle.Pool[*FakeConn] }

func newPuddle(size int) (*puddlePool, error) {
	p, err := puddle.NewPool(&puddle.Config[*FakeConn]{
		Constructor: dial,
		Destructor:  func(*FakeConn) {},
		MaxSize:     int32(size),
	})
	if err != nil {
		return nil, err
	}
	return &puddlePool{p}, nil
}

func (p *puddlePool) acquire(ctx context.Context) (*puddle.Resource[*FakeConn], error) {
	return p.p.Acquire(ctx)
}
func (p *puddlePool) release(r *puddle.Resource[*FakeConn]) error   { r.Release(); return nil }
func (p *puddlePool) value(r *puddle.Resource[*FakeConn]) *FakeConn { return r.Value() }
func (p *puddlePool) close() error                                  { p.p.Close(); return nil }

// commonsPool is go-commons-pool with its defaults (LIFO idle list, no
// evictor, blocking borrows with no timeout) at size connections.
type commonsPool struct{ p *commons.ObjectPool }

func newCommons(size int) (*commonsPool, error) {
	cfg := commons.NewDefaultPoolConfig()
	cfg.MaxTotal = size
	cfg.MaxIdle = size
	cfg.BlockWhenExhausted = true
	factory := commons.NewPooledObjectFactorySimple(func(ctx context.Context) (interface{}, error) {
		return dial(ctx)
	})
	return &commonsPool{commons.NewObjectPool(context.Background(), factory, cfg)}, nil
}

func (p *commonsPool) acquire(ctx context.Context) (*FakeConn, error) {
	obj, err := p.p.BorrowObject(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := obj.(*FakeConn)
	if !ok {
		return nil, fmt.Errorf("borrowed a %T", obj)
	}
	return c, nil
}
func (p *commonsPool) release(c *FakeConn) error {
	return p.p.ReturnObject(context.Background(), c)
}
func (p *commonsPool) value(c *FakeConn) *FakeConn { return c }
func (p *commonsPool) close() error                { p.p.Close(context.Background()); return nil }

// sqlPool is database/sql's pool over the fake driver, leased with db.Conn.
type sqlPool struct{ db *sql.DB }

func newSQL(size int) (*sqlPool, error) {
	db := sql.OpenDB(fakeConnector{})
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	return &sqlPool{db}, nil
}

func (p *sqlPool) acquire(ctx context.Context) (*sql.Conn, error) { return p.db.Conn(ctx) }
func (p *sqlPool) release(c *sql.Conn) error                      { return c.Close() }
func (p *sqlPool) close() error                                   { return p.db.Close() }

func (p *sqlPool) value(c *sql.Conn) *FakeConn {
	var fc *FakeConn
	_ = c.Raw(func(dc any) error {
		if sc, ok := dc.(sqlConn); ok {
			fc = sc.FakeConn
		}
		return nil
	})
	return fc
}
