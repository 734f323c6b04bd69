package chanpool

import "fmt"

// Changing a Group's cap, and the two moves on a key's pool that make room
// under it: marking its connections, and closing its oldest idle one.

// setMax changes the cap to n (see Group.SetMaxConns).
func (s *share[T]) setMax(n int) error {
	if n < 1 || n > s.limit {
		return fmt.Errorf("chanpool: Group.SetMaxConns(%d): n must be between 1 and GroupConfig.MaxConnsLimit (%d)", n, s.limit)
	}
	s.mu.Lock()
	delta := int64(n) - s.max
	freed := false
	s.max = int64(n)
	var grants []*Pool[T]
	for ; delta > 0; delta-- {
		if s.owed > 0 {
			s.owed-- // forgiven: that unit was never taken back
		} else if q := s.nextLocked(); q != nil {
			s.open.Add(1)
			grants = append(grants, q)
		} else {
			s.sem.Release(1)
			freed = true
		}
	}
	for ; delta < 0; delta++ {
		if !s.sem.TryAcquire(1) {
			s.owed -= delta // held by connections: they pay as they close
			break
		}
	}
	owed := s.owed > 0
	s.mu.Unlock()
	for _, q := range grants {
		s.grant(q)
	}
	if freed {
		s.offer()
	}
	if owed {
		for q := range s.pools {
			q.markAll(ReasonGroupCap)
			q.sweepIdle()
		}
	}
	return nil
}

// markAll marks every open connection of p to be closed by its next holder
// for reason r, a provisional reason (see doom). Those already marked keep
// their mark.
func (p *Pool[T]) markAll(r CloseReason) {
	for i := range p.conns {
		if c := p.conns[i].Load(); c != nil && !c.doomed.Load() {
			c.doom(r)
		}
	}
}

// closeIdleHead takes the oldest idle connection off the idle list (the
// hot slot's, if the channel is empty) and closes it if mustClose says it
// must go; else it goes back, at the end of the channel.
// One due a health check is left for its check.
func (p *Pool[T]) closeIdleHead() {
	for range 2 { // the wake-up signal may come first
		var t *token[T]
		select {
		case t = <-p.idle:
		default:
			// The idle channel is empty, but the hot slot may hold
			// the most recently released connection (hot.go).
			if t = p.swapHot(); t == nil {
				return
			}
		}
		if t == nil {
			p.signaled()
			continue
		}
		c := t.c
		s := c.state.Load()
		if stOf(s) != stIdle {
			return // a forced Close took it
		}
		if c.doomed.Load() && c.doomReason.Load() != uint32(reasonCheckDue)+1 {
			if r, ok := p.mustClose(c); ok {
				p.kill(c, s, r)
				return
			}
		}
		p.put(t)
		return
	}
}
