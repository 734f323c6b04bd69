package pgxpool

import (
	"context"

	"github.com/jackc/pgx/v5"
	px "github.com/jackc/pgx/v5/pgxpool"
)

// AcquireTracer traces Pool.Acquire; a ConnConfig.Tracer that implements it
// is called. It mirrors pgxpool.AcquireTracer with this package's *Pool.
type AcquireTracer interface {
	// TraceAcquireStart is called at the start of Acquire; the context it
	// returns is used for the rest of the call and passed to
	// TraceAcquireEnd.
	TraceAcquireStart(ctx context.Context, pool *Pool, data TraceAcquireStartData) context.Context
	// TraceAcquireEnd is called when Acquire returns.
	TraceAcquireEnd(ctx context.Context, pool *Pool, data TraceAcquireEndData)
}

// ReleaseTracer traces Conn.Release; a ConnConfig.Tracer that implements it
// is called. It mirrors pgxpool.ReleaseTracer with this package's *Pool.
type ReleaseTracer interface {
	// TraceRelease is called at the start of Release.
	TraceRelease(pool *Pool, data TraceReleaseData)
}

// The trace data are pgxpool's own types, so that a tracer written for
// pgxpool needs only its pool parameter changed.
type (
	TraceAcquireStartData = px.TraceAcquireStartData
	TraceAcquireEndData   = px.TraceAcquireEndData
	TraceReleaseData      = px.TraceReleaseData
)

// A tracer written for pgxpool (otelpgx, ...) implements these instead; it
// is called too, with a nil *pgxpool.Pool, for there is none.
type (
	pgxAcquireTracer = px.AcquireTracer
	pgxReleaseTracer = px.ReleaseTracer
)

func (p *Pool) setTracers(t pgx.QueryTracer) {
	p.acqT, _ = t.(AcquireTracer)
	p.relT, _ = t.(ReleaseTracer)
	if p.acqT == nil {
		p.pxAcqT, _ = t.(pgxAcquireTracer)
	}
	if p.relT == nil {
		p.pxRelT, _ = t.(pgxReleaseTracer)
	}
}

func (p *Pool) traceAcquireStart(ctx context.Context) context.Context {
	if p.acqT != nil {
		return p.acqT.TraceAcquireStart(ctx, p, TraceAcquireStartData{})
	}
	return p.pxAcqT.TraceAcquireStart(ctx, nil, TraceAcquireStartData{})
}

func (p *Pool) traceAcquireEnd(ctx context.Context, c *Conn, err error) {
	d := TraceAcquireEndData{Err: err}
	if c != nil {
		d.Conn = c.Conn()
	}
	if p.acqT != nil {
		p.acqT.TraceAcquireEnd(ctx, p, d)
		return
	}
	p.pxAcqT.TraceAcquireEnd(ctx, nil, d)
}

func (p *Pool) traceRelease(pc *pgx.Conn) {
	if p.relT != nil {
		p.relT.TraceRelease(p, TraceReleaseData{Conn: pc})
		return
	}
	p.pxRelT.TraceRelease(nil, TraceReleaseData{Conn: pc})
}
