package chanpool

import "fmt"

// Live limits: SetMaxConns, SetMinConns, SetMaxWaiting, Limits.
//
// The semaphore is sized to Config.MaxConnsLimit at New, and the pool holds
// the units above MaxConns itself. Raising MaxConns releases held units and
// dials for the callers already waiting; lowering it takes back the units
// no connection holds and owes the rest (Pool.owed): each connection that
// closes while something is owed pays one unit to the pool instead of the
// semaphore (dropSlot). So the connections open never exceed the old bound
// while the surplus drains and never exceed the new one after, and a dial
// started after the call already respects the new one (trySlot reads
// maxConns). The surplus is closed idle ones first, at once, then the busy
// ones as their holders hand them back: SetMaxConns dooms every connection
// (doom, ReasonResize), which sends each one through mustClose at its next
// hand-back or lease, and mustClose lifts the mark once nothing is owed.
// The fast paths already test doomed, so a resize costs them nothing.

// Limits is a snapshot of the pool's limits in force.
type Limits struct {
	MaxConns, MaxConnsLimit, MinConns, MinIdle int
	// MaxWaiting is the cap on waiting callers; Unlimited if there is none.
	MaxWaiting int
}

// Limits returns the limits in force, as the Set methods last left them.
func (p *Pool[T]) Limits() Limits {
	w := int(p.maxWaiting.Load())
	if w == unlimitedWaiting {
		w = Unlimited
	}
	return Limits{
		MaxConns:      int(p.maxConns.Load()),
		MaxConnsLimit: p.limit,
		MinConns:      int(p.minConns.Load()),
		MinIdle:       int(p.minIdle.Load()),
		MaxWaiting:    w,
	}
}

// SetMaxConns changes MaxConns while the pool runs, to n between 1 and
// Config.MaxConnsLimit, and not below MinConns or MinIdle. Raising it
// dials at once for the callers already waiting, within MaxDialing.
// Lowering it never takes a leased connection from its holder: the idle
// surplus closes at once, the busy surplus as it comes back (reason
// ReasonResize), and dials started after the call respect the new bound.
// The open connections never exceed the old bound meanwhile, nor the new
// one once the surplus has closed. An invalid n returns an error naming it
// and changes nothing; on a closed pool SetMaxConns returns ErrClosed.
func (p *Pool[T]) SetMaxConns(n int) error {
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	if p.closed.Load() {
		return ErrClosed
	}
	switch {
	case n < 1 || n > p.limit:
		return fmt.Errorf("chanpool: SetMaxConns(%d): n must be between 1 and Config.MaxConnsLimit (%d)", n, p.limit)
	case int64(n) < p.minConns.Load():
		return fmt.Errorf("chanpool: SetMaxConns(%d): n is below MinConns (%d)", n, p.minConns.Load())
	case int64(n) < p.minIdle.Load():
		return fmt.Errorf("chanpool: SetMaxConns(%d): n is below MinIdle (%d)", n, p.minIdle.Load())
	}
	old := p.maxConns.Load()
	delta := int64(n) - old
	if delta > 0 {
		// Forgive what is still owed first: those units were never taken.
		for delta > 0 && p.payOwed() {
			delta--
		}
		p.slots.Release(delta)
		p.maxConns.Store(int64(n))
		p.dialForWaiters()
		return nil
	}
	p.maxConns.Store(int64(n))
	for shrink := -delta; shrink > 0; shrink-- {
		if !p.slots.TryAcquire(1) {
			p.owed.Add(shrink) // held by connections: they pay as they close
			break
		}
	}
	if p.owed.Load() > 0 {
		for i := range p.conns {
			if c := p.conns[i].Load(); c != nil {
				c.doom(ReasonResize)
			}
		}
		p.sweepIdle()
	}
	return nil
}

// sweepIdle takes every connection off the idle list, closes those that
// mustClose says must go, and puts the others back, in their order.
func (p *Pool[T]) sweepIdle() {
	p.sweep(func(t *token[T], s uint64) bool {
		if t.c.doomed.Load() {
			if r, ok := p.mustClose(t.c); ok {
				p.kill(t.c, s, r)
				return false
			}
		}
		return true
	})
}

// payOwed takes one unit off what a shrink is owed, reporting false if
// nothing was.
func (p *Pool[T]) payOwed() bool {
	for o := p.owed.Load(); o > 0; o = p.owed.Load() {
		if p.owed.CompareAndSwap(o, o-1) {
			return true
		}
	}
	return false
}

// dialForWaiters starts a dial for each waiting caller that the pool has a
// free slot for (the dials queue on MaxDialing).
func (p *Pool[T]) dialForWaiters() {
	for n := p.waiting.Load(); n > 0 && !p.closed.Load() && !p.breakerOpen.Load() && p.trySlot(); n-- {
		p.startDial(nil)
	}
	p.refill()
}

// SetMinConns changes MinConns while the pool runs, to n between 0 and
// MaxConns, and dials up to it at once. Eviction never goes below it. An
// invalid n returns an error naming it and changes nothing.
func (p *Pool[T]) SetMinConns(n int) error {
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	if p.closed.Load() {
		return ErrClosed
	}
	if n < 0 || int64(n) > p.maxConns.Load() {
		return fmt.Errorf("chanpool: SetMinConns(%d): n must be between 0 and MaxConns (%d)", n, p.maxConns.Load())
	}
	p.minConns.Store(int64(n))
	p.refill()
	return nil
}

// SetMaxWaiting changes MaxWaiting while the pool runs: n ≥ 0 callers may
// wait (0: none), or Unlimited. Callers already waiting beyond a lowered cap
// keep waiting; only newcomers are turned away. An invalid n returns an
// error naming it and changes nothing.
func (p *Pool[T]) SetMaxWaiting(n int) error {
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	switch {
	case n == Unlimited:
		p.maxWaiting.Store(unlimitedWaiting)
	case n < 0:
		return fmt.Errorf("chanpool: SetMaxWaiting(%d): n must be at least 0, or Unlimited", n)
	default:
		p.maxWaiting.Store(int64(n))
	}
	return nil
}
