package chanpool

// Pool.Reset: retiring every connection at once, after a failover.

// Reset retires every connection dialed before the call, as after a
// database failover, a DNS change or a credential rotation, when every open
// connection may point at the wrong place. Idle ones close at once; leased
// ones close when their holders hand them back, and are never handed out
// again; dials in flight when Reset is called are retired as they finish.
// The closes run in the background (reason ReasonPoolReset, counted in
// Stats.Resets and Stats.Closed.PoolReset), and the pool dials back up to
// MinConns and for its waiters as they free their slots. Reset leaves the
// dial breaker as it is: during an outage it stays open until a dial
// succeeds. Reset does not block; on a closed pool it does nothing.
func (p *Pool[T]) Reset() {
	if p.closed.Load() {
		return
	}
	p.st.resets.Add(1)
	p.epoch.Add(1) // before the marks: a dial that registers after sees it
	for i := range p.conns {
		if c := p.conns[i].Load(); c != nil {
			c.doom(ReasonPoolReset)
		}
	}
	p.sweepIdle()
}
