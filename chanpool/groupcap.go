package chanpool

import (
	"iter"
	"sync"

	"golang.org/x/sync/semaphore"
)

// A Group's cap: one bound on the connections of every key.
//
// Each key's pool keeps its own slots (slots.go) and, to open or dial a
// connection, also takes a unit of the group's semaphore (take); a
// connection's unit goes back when it is closed (release). A caller of key
// A that finds the group full while A itself has room queues an entry for
// A in the group's FIFO queue, one entry per waiting caller, and the group
// makes room for it (makeRoom): it closes an idle connection of another
// key at once, and marks the connections of every other key to be closed
// by their next holder (the provisional mark ReasonGroupCap, which the
// fast paths' doomed test already sends to mustClose). Every unit that
// comes back while entries are queued goes to the oldest entry (grant),
// which dials for its key: the queue, not the order in which keys happen
// to ask again, decides who gets the next connection.
//
// No lost wake-up: take, wait and release all run under share.mu, so a
// unit released while a caller queues is either taken by that caller's
// take or wait, or handed to its entry by release. wait runs after the
// caller gave its own slot back, so that a grant for its key finds room.
//
// No starvation: while an entry is queued, every connection of another
// key that goes idle — released, or found idle by makeRoom — closes
// (claim), unless its key has callers waiting too and holds no more than
// its fair share of the cap (MaxConns over the keys with waiters), so that
// keys that are all saturated converge on equal shares instead of trading
// connections on every lease. A key with waiters and no connection has
// less than any share, so it is always served; when there are more such
// keys than MaxConns the share is zero and they take turns.

// share is the cap that a Group's pools hold in common.
type share[T any] struct {
	limit int                 // GroupConfig.MaxConnsLimit: the size of sem
	sem   *semaphore.Weighted // the group holds the units above max itself
	pools iter.Seq[*Pool[T]]  // the group's pools now, for making room

	mu sync.Mutex // protects the fields below, and orders takes and releases
	// queue holds one entry per caller that found the cap full, oldest
	// first; Pool.queued counts a pool's entries.
	queue []*Pool[T]
	max   int64
	// owed is what a lowered MaxConns still has to take back, and
	// shedding how many connections are closing to free room (claim)
	// whose units have not come back yet.
	owed, shedding int64
	// hungry is how many keys had callers waiting when room was last
	// made: the fair share of each is max/hungry.
	hungry int64

	open   atomicInt64 // units held by the connections of every key, for reading
	queued atomicInt64 // len(queue), for reading
}

func newShare[T any](max, limit int, pools iter.Seq[*Pool[T]]) *share[T] {
	s := &share[T]{limit: limit, sem: semaphore.NewWeighted(int64(limit)), pools: pools, max: int64(max), hungry: 1}
	s.sem.TryAcquire(int64(limit - max)) // held back: always succeeds here
	return s
}

// take takes a unit of the cap for a connection of p, reporting false if
// the cap is full or keys are queued for it.
func (s *share[T]) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeLocked()
}

// takeLocked is take with s.mu held: a unit, if one is free and nobody is
// queued for it.
func (s *share[T]) takeLocked() bool {
	if len(s.queue) == 0 && s.sem.TryAcquire(1) {
		s.open.Add(1)
		return true
	}
	return false
}

// wait is called by trySlot after take failed, once it has given its own
// slot back (a slot it held would keep grant from dialing for p). If a unit
// came back meanwhile, it dials for p with it at once; else, if p has
// callers waiting (more than its entries already queued) and holds less
// than its fair share, one entry for p joins the queue and the group makes
// room for it. A key at its share is left to serve its callers with what
// it holds: queuing it too would have saturated keys trade connections.
func (s *share[T]) wait(p *Pool[T]) {
	s.mu.Lock()
	if s.takeLocked() {
		s.mu.Unlock()
		s.grant(p)
		return
	}
	s.countHungryLocked()
	queued := false
	if p.waiting.Load()-p.dialing.Load() > p.queued && s.belowShareLocked(p) {
		p.queued++
		s.queue = append(s.queue, p)
		s.queued.Store(int64(len(s.queue)))
		queued = true
	}
	s.mu.Unlock()
	if queued {
		s.makeRoom(p)
	}
}

// countHungryLocked counts the keys with callers waiting now, at least
// one. Caller must hold s.mu.
func (s *share[T]) countHungryLocked() {
	n := int64(0)
	for q := range s.pools {
		if q.waiting.Load() > 0 {
			n++
		}
	}
	s.hungry = max(n, 1)
}

// belowShareLocked reports whether q may queue for more of the cap: it
// holds less than its fair share (at least one connection's worth), not
// counting its connections closing to make room, or no other key is
// hungry. Caller must hold s.mu.
func (s *share[T]) belowShareLocked(q *Pool[T]) bool {
	return s.hungry <= 1 || q.open.Load()-q.groupShedding < max(s.max/s.hungry, 1)
}

// release gives back the unit of a connection that closed, or of a dial
// that failed: to a lowered MaxConns that is owed one, else to the oldest
// queued entry whose key still has callers waiting, else to the semaphore.
// shed says the connection closed to make room (claim).
func (s *share[T]) release(p *Pool[T], shed bool) {
	s.mu.Lock()
	if shed {
		s.shedding--
		p.groupShedding--
	}
	s.open.Add(-1)
	if s.owed > 0 {
		s.owed--
		s.mu.Unlock()
		return
	}
	if q := s.nextLocked(); q != nil {
		s.open.Add(1)
		s.mu.Unlock()
		s.grant(q)
		return
	}
	s.sem.Release(1)
	s.mu.Unlock()
	s.offer()
}

// offer lets the keys whose callers wait and that have room of their own
// dial with units just given back to the semaphore, one dial per caller
// not already covered by a dial in flight. Such keys queued nothing: they
// held their fair share when their callers came (take).
func (s *share[T]) offer() {
	for more := true; more; {
		more = false
		for q := range s.pools {
			if q.waiting.Load() > q.dialing.Load() && !q.breakerOpen.Load() && q.trySlot() {
				q.startDial(nil)
				more = true
			}
		}
	}
}

// nextLocked pops the oldest entry whose key still has callers waiting and
// is still below its share, dropping the others, or returns nil. Caller must hold
// s.mu.
func (s *share[T]) nextLocked() *Pool[T] {
	s.compactLocked()
	for len(s.queue) > 0 {
		q := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.queued.Store(int64(len(s.queue)))
		q.queued--
		if q.waiting.Load() > 0 && !q.closed.Load() && s.belowShareLocked(q) {
			return q
		}
	}
	return nil
}

// compactLocked drops the entries whose callers have gone (served by
// their own key's releases, or given up) or are covered by a dial in
// flight, so that they make no room for nobody and no key is granted two
// units for one caller: each pool keeps, oldest first, as many entries as
// it has callers waiting less dials in flight. Caller must hold s.mu.
func (s *share[T]) compactLocked() {
	for _, q := range s.queue {
		q.queued = 0
	}
	kept := s.queue[:0]
	for _, q := range s.queue {
		if !q.closed.Load() && q.queued < q.waiting.Load()-q.dialing.Load() {
			q.queued++
			kept = append(kept, q)
		}
	}
	clear(s.queue[len(kept):])
	s.queue = kept
	s.queued.Store(int64(len(kept)))
}

// grant dials for q's waiting callers with a unit of the cap that the
// caller holds for it, or passes the unit on if q has no room of its own
// left (or its dial breaker is open: only its probe dials).
func (s *share[T]) grant(q *Pool[T]) {
	if !q.breakerOpen.Load() && q.open.Load() < q.maxConns.Load() && q.slots.TryAcquire(1) {
		q.open.Add(1)
		q.startDial(nil) // a closed q gives both units back (dropSlot)
		return
	}
	s.release(q, false)
}

// makeRoom frees room for a caller of p queued for the cap: it marks every
// connection of the other keys to be closed by its next holder while the
// group needs room (claim), and closes the oldest idle connection of the
// key with the most idle ones now.
func (s *share[T]) makeRoom(p *Pool[T]) {
	var most *Pool[T]
	idle := 0
	for q := range s.pools {
		if q == p {
			continue
		}
		q.markAll(ReasonGroupCap)
		if n := q.idleLen(); n > idle {
			most, idle = q, n
		}
	}
	if most != nil {
		most.closeIdleHead()
	}
}

// claim reports whether a connection of q marked ReasonGroupCap must close
// now to make room, and counts it as shedding if so: while the group owes
// a lowered MaxConns units, or has entries queued that the connections
// already closing do not cover — unless q has callers waiting itself and
// holds no more than its fair share, not counting its connections already
// closing to make room. keep says the group still needs room, so the
// connection keeps its mark for its next hand-back even though it stays
// now: lifting it there would leave a queued caller waiting while the
// connection later goes idle.
func (s *share[T]) claim(q *Pool[T]) (close, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compactLocked()
	if int64(len(s.queue))+s.owed-s.shedding <= 0 {
		return false, false
	}
	s.countHungryLocked()
	if s.owed <= s.shedding && q.waiting.Load() > 0 && q.open.Load()-q.groupShedding <= s.max/s.hungry {
		return false, true
	}
	s.shedding++
	q.groupShedding++
	return true, false
}
