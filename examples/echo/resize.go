package main

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// liveResize shows a resize under load: at a third of the run it lowers
// MaxConns to a quarter, and the surplus closes as the clients hand it
// back, none taken from its holder; at two thirds it raises MaxConns again,
// and the callers queued meanwhile are served at once.
func liveResize(ctx context.Context, p *chanpool.Pool[net.Conn], conns int, d time.Duration, log *slog.Logger) {
	low := max(1, conns/4)
	if low == conns || !pause(ctx, d/3) {
		return
	}
	before := p.Stats()
	if err := p.SetMaxConns(low); err != nil {
		log.Error("live resize", "err", err)
		return
	}
	log.Info("live resize: MaxConns lowered", "from", conns, "to", low, "open", before.Total, "busy", before.Busy)
	if !pause(ctx, d/6) {
		return
	}
	s := p.Stats()
	log.Info("live resize: the surplus closed as it came back", "open", s.Total, "closed_for_resize", s.Closed.Resize, "waiting", s.Waiting)
	if !pause(ctx, d/6) {
		return
	}
	waiting := p.Stats().Waiting
	if err := p.SetMaxConns(conns); err != nil {
		log.Error("live resize", "err", err)
		return
	}
	if !pause(ctx, 20*time.Millisecond) {
		return
	}
	s = p.Stats()
	log.Info("live resize: MaxConns raised; the waiting callers are served at once",
		"to", conns, "waiting_before", waiting, "waiting_after", s.Waiting, "open", s.Total)
}

// pause waits for d, or returns false when ctx ends first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
