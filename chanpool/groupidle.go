package chanpool

import (
	"context"
	"time"

	"github.com/chanpool/chanpool/internal/clock"
)

// Removing idle keys: the group's janitor goroutine.
//
// A key is unused when its pool has no lease out, no caller waiting and the
// count of leases it granted has not moved. The janitor looks every
// KeyIdleTimeout/idleKeyLooks, and removes a key found unused at that many
// looks in a row, so within KeyIdleTimeout plus one look of its last use.
// It reads each pool's connection words, never a lock an acquirer takes.

// idleKeyLooks is how many looks a key must be found unused at.
const idleKeyLooks = 4

// keyIdleTick is the janitor's period for a KeyIdleTimeout of d.
func keyIdleTick(d time.Duration) time.Duration {
	return max(d/idleKeyLooks, time.Millisecond)
}

// keyUse is the janitor's view of one key's pool.
type keyUse struct {
	leases uint64 // leases granted, at the last look
	quiet  int    // looks in a row at which the pool was unused
	look   uint64 // the last look that found the key in the group
}

// janitor removes idle keys until the group closes.
func (g *Group[K, T]) janitor(t clock.Ticker) {
	defer g.wg.Done()
	defer t.Stop()
	seen := make(map[*Pool[T]]*keyUse)
	for look := uint64(1); ; look++ {
		select {
		case <-g.stop:
			return
		case <-t.C():
		}
		for key, p := range *g.keys.Load() {
			u := seen[p]
			if u == nil {
				seen[p] = &keyUse{leases: p.leases(), look: look}
				continue
			}
			u.look = look
			n := p.leases()
			if n != u.leases || p.inUse() {
				u.leases, u.quiet = n, 0
				continue
			}
			if u.quiet++; u.quiet >= idleKeyLooks {
				g.removeIdle(key, p)
			}
		}
		for p, u := range seen {
			if u.look != look || p.closed.Load() {
				delete(seen, p) // removed, here or by Remove
			}
		}
	}
}

// removeIdle removes key, found unused, and closes its pool in the
// background: a caller that reached the pool before its removal may still
// hold a connection, which then closes when it comes back.
func (g *Group[K, T]) removeIdle(key K, p *Pool[T]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() || (*g.keys.Load())[key] != p {
		return
	}
	p.keyIdle.Store(true)
	g.storeLocked(key, nil)
	g.removed.Add(1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		_ = p.Close(context.Background())
	}()
}

// leases is how many leases the pool has granted, as Stats.Acquired counts
// them, without Stats' allocation.
func (p *Pool[T]) leases() uint64 {
	n := p.st.deadAcquired.Load()
	for i := range p.conns {
		if c := p.conns[i].Load(); c != nil {
			n += genOf(c.state.Load())
		}
	}
	return n
}

// inUse reports whether the pool has a connection out of the idle list
// that is not closing — leased, being dialed or checked — or a caller
// waiting.
func (p *Pool[T]) inUse() bool {
	return p.waiting.Load() > 0 || p.open.Load()-p.closes.Load()-int64(p.idleLen()) > 0
}
