package chanpool

import "runtime"

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
	p.st.destroyedBusy.Inc()
	p.log.Warn("chanpool: connection leaked: its handle became unreachable without Release or Destroy; closing it",
		"conn", c.id, "lease", s>>stateBits)
	// Closing may block on user code: not on the runtime's cleanup goroutine.
	if !p.goTracked(func() { p.retire(c, ReasonLeaked) }) {
		p.retire(c, ReasonLeaked)
	}
}
