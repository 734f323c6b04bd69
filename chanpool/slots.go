package chanpool

// Slot accounting: the MaxConns bound.
//
// Every open or dialing connection holds one unit of Pool.slots, taken in
// trySlot and given back in dropSlot (by freeSlotOf, once it is closed), so
// at most MaxConns connections are ever open or dialing. Pool.open mirrors
// the units held, for reading without the semaphore's mutex.
//
// No lost wake-up: a caller that finds the pool full registers in
// Pool.waiting and then tries for a slot again (acquireSlow); whoever frees
// a slot lowers open, releases the unit and then reads waiting (refill).
// The atomics are sequentially consistent and the semaphore orders the
// unit's release, so at least one side sees the other: either the caller
// gets the slot and dials, or the freer sees the caller and dials for it.
// Released connections need no such care: waiters block on the idle channel
// itself.

// trySlot takes a unit of slots if one is free. The atomic pre-check keeps
// callers of a full pool off the semaphore's mutex; open never exceeds the
// units held (it rises after TryAcquire and falls before Release), so it
// turns away only callers the semaphore would turn away too.
//
// A pool of a Group also needs a unit of the group's cap (share.take); one
// that fails there gives its own unit back and then queues for the cap, or
// dials with a unit that came back meanwhile (share.wait).
func (p *Pool[T]) trySlot() bool {
	if p.open.Load() >= p.maxConns.Load() || !p.slots.TryAcquire(1) {
		return false
	}
	if p.share != nil && !p.share.take() {
		p.slots.Release(1)
		p.share.wait(p)
		return false
	}
	p.open.Add(1)
	return true
}

// freeSlotOf gives back the unit of a connection that retire has closed
// and lets the freed capacity serve whoever needs it: a waiting caller,
// MinConns, or Close waiting for the pool to empty. One that closed to make
// room under a Group's cap hands its group unit on as such (share.release).
func (p *Pool[T]) freeSlotOf(c *conn[T]) {
	p.dropUnit(c.groupShed.Load())
	p.refill()
}

// dropSlot gives a unit back without dialing again (after a failed dial,
// whose retry is paced by backoff instead): to the pool, if a shrink of
// MaxConns is owed units (resize.go), else to the semaphore.
func (p *Pool[T]) dropSlot() { p.dropUnit(false) }

// dropUnit is dropSlot; shed says the connection closed to make room under
// a Group's cap.
func (p *Pool[T]) dropUnit(shed bool) {
	p.open.Add(-1)
	if p.owed.Load() == 0 || !p.payOwed() {
		p.slots.Release(1)
	}
	if p.share != nil {
		p.share.release(p, shed)
	}
	if p.closed.Load() {
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
}

// refill starts dials, without an owner, while the pool needs connections —
// a caller is waiting, or fewer than MinConns are open — and has free slots.
// A waiter is served one dial per call: each freed slot calls refill once.
//
// Closes run concurrently and each calls refill, so refill holds refillMu
// while it counts and dials: two of them reading the same count would each
// dial for the same missing connection.
func (p *Pool[T]) refill() {
	if p.breakerOpen.Load() {
		return // only the probe dials (see probe)
	}
	p.refillMu.Lock()
	defer p.refillMu.Unlock()
	need := p.minConns.Load() - p.open.Load()
	if minIdle := p.minIdle.Load(); minIdle > 0 {
		// Spare connections ahead of demand, while under MaxConns.
		need = max(need, minIdle-int64(p.idleLen())-p.dialing.Load())
	}
	if need < 1 && p.waiting.Load() > 0 {
		need = 1
	}
	for ; need > 0; need-- {
		if p.closed.Load() || !p.trySlot() {
			return
		}
		p.startDial(nil)
	}
}
