package chanpool

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"
)

// newToken makes the token for a freshly dialed connection and arranges for
// the pool to hear when it becomes unreachable (see token).
func newToken[T any](c *conn[T]) *token[T] {
	t := &token[T]{c: c}
	runtime.AddCleanup(t, c.pool.lost, c)
	return t
}

// lost runs, on the runtime's cleanup goroutine, once c's token is
// unreachable. That is normal for a closed connection; for a leased one it
// means the holder dropped every handle without Release or Destroy: the
// pool takes the connection back, closes it and frees its slot.
func (p *Pool[T]) lost(c *conn[T]) {
	s := c.state.Load()
	if st := s & stateMask; st != stBusy || !c.state.CompareAndSwap(s, s&^stateMask|stDead) {
		return
	}
	p.st.destroyedBusy.Add(1)
	p.log.Warn("chanpool: connection leaked: its handle became unreachable without Release or Destroy; closing it",
		"conn", c.id, "lease", s>>stateBits)
	// Closing may block on user code: not on the runtime's cleanup goroutine.
	if !p.goTracked(func() { p.retire(c, ReasonLeaked) }) {
		p.retire(c, ReasonLeaked)
	}
}

// stampLease records when (and, with leak detection, from where) c is being
// leased. It runs before the compare-and-swap that publishes the lease, so a
// reader that sees the lease sees its stamp.
func (p *Pool[T]) stampLease(c *conn[T]) {
	c.leasedAt.Store(p.leaseStamp())
	if p.set.leakThreshold > 0 {
		pcs := make([]uintptr, 32)
		pcs = pcs[:runtime.Callers(4, pcs)] // skip Callers, stampLease, lease, Acquire
		c.stack.Store(&pcs)
	}
}

// leaseStamp is the value of conn.leasedAt for a lease starting now: the
// monotonic clock (one clock read, where the wall clock costs two), plus one
// so that 0 stays "not stamped" even at the fake clock's origin.
func (p *Pool[T]) leaseStamp() int64 { return int64(p.clock.Mono()) + 1 }

// heldFor is how long ago the lease stamped at was stamped.
func (p *Pool[T]) heldFor(at int64) time.Duration {
	return p.clock.Mono() - time.Duration(at-1)
}

// recordHold adds the hold time of c's ending lease, which was stamped.
func (p *Pool[T]) recordHold(c *conn[T]) {
	if at := c.leasedAt.Load(); at != 0 {
		p.holds.add(p.heldFor(at))
	}
}

// scanLeaks reports, once per lease, every connection held longer than
// Config.LeakThreshold, with the stack that acquired it. Only the
// maintenance goroutine calls it.
func (p *Pool[T]) scanLeaks() {
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		s := c.state.Load()
		gen := s >> stateBits
		if s&stateMask != stBusy || gen == c.reportedGen {
			continue
		}
		at := c.leasedAt.Load()
		stack := c.stack.Load()
		if c.state.Load() != s || at == 0 {
			continue // released meanwhile
		}
		held := p.heldFor(at)
		if held <= p.set.leakThreshold {
			continue
		}
		c.reportedGen = gen
		p.st.heldTooLong.Add(1)
		if p.log.Enabled(context.Background(), slog.LevelWarn) {
			p.log.Warn("chanpool: connection held longer than LeakThreshold",
				"conn", c.id, "held", held, "threshold", p.set.leakThreshold,
				"acquired_at", formatStack(stack))
		}
	}
}

// formatStack renders program counters from runtime.Callers, one
// "function (file:line)" per line.
func formatStack(pcs *[]uintptr) string {
	if pcs == nil || len(*pcs) == 0 {
		return ""
	}
	var b strings.Builder
	frames := runtime.CallersFrames(*pcs)
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "%s (%s:%d)\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return b.String()
}
