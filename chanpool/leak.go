package chanpool

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
)

// Leaks: reclaiming a leased connection whose every handle was dropped, and
// reporting leases held past Config.LeakThreshold.

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
	if stOf(s) != stBusy || !c.state.CompareAndSwap(s, withSt(s, stDead)) {
		return
	}
	p.st.destroyedBusy.Add(1)
	p.log.Warn("chanpool: connection leaked: its handle became unreachable without Release or Destroy; closing it",
		"conn", c.id, "lease", genOf(s))
	p.retire(c, ReasonLeaked) // closes on a goroutine of its own
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
		gen := genOf(s)
		if stOf(s) != stBusy || gen == c.reportedGen {
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
