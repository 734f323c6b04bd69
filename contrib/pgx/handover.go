package pgxpool

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Hijack takes the connection out of the pool for good and returns it: the
// pool frees its slot (a waiting caller, or MinConns, gets a new dial) but
// does not close the connection, and neither BeforeClose nor the release
// tracers run. The caller owns it and must close it. Hijack panics if the
// connection was already released or hijacked, as pgxpool's does; no other
// method may be called on c afterwards. A connection that a CloseContext
// whose context ended closed under its holder is returned all the same,
// closed.
func (c *Conn) Hijack() *pgx.Conn {
	if c.released {
		panic("pgxpool: cannot hijack an already released or hijacked connection")
	}
	c.released = true
	pc := c.h.Value().pc
	_, _ = c.h.Detach() // ErrClosed only after a forced close: pc is closed then
	return pc
}

// AcquireAllIdle leases every connection idle now, without dialing or
// waiting (chanpool.Pool.AcquireAllIdle), for a health check or keepalive
// pass of the caller's own. PrepareConn (or BeforeAcquire) runs on each, as
// on Acquire; one it rejects, with or without an error, is destroyed and
// left out. Hand each back with Release. Unlike pgxpool's, these leases
// count in Stat (AcquireCount, AcquiredConns): chanpool counts every lease.
// The acquire tracers are not called, as in pgxpool. On a closed pool, or
// with ctx done, it returns none.
func (p *Pool) AcquireAllIdle(ctx context.Context) []*Conn {
	hs := p.p.AcquireAllIdle(ctx)
	out := make([]*Conn, 0, len(hs))
	for _, h := range hs {
		if p.prepare != nil {
			if ok, err := p.prepare(ctx, h.Value().pc); !ok || err != nil {
				_ = h.Destroy()
				continue
			}
		}
		out = append(out, &Conn{h: h, p: p})
	}
	return out
}
