package chanpool

// The hot slot: the connection released last, kept for the next caller while
// nobody waits.
//
// The idle channel is FIFO, which is what waiters need, but it makes one
// caller at a time rotate through every idle connection: each request lands
// on the connection that sat idle longest, whose server side (a database
// backend's caches, a socket's buffers) has gone cold. So Release first
// offers the connection to Pool.hot, a single pointer, and an acquirer tries
// it before the channel: a lone caller gets the connection it just gave back.
// The slot is used only while nobody waits; a waiter's connections still go
// through the channel, in the channel's order.
//
// Who is "waiting" here: every caller that blocks receiving from the idle
// channel counts itself before it does, in Pool.waiting (the waiting room)
// or, for one that waits for a dial or a health check of its own, in
// Pool.listening. It stays counted until it returns. Call the sum of the two
// the waiter count.
//
// The protocol, three rules (all atomics sequentially consistent):
//
//	park:  a releaser puts t in the slot only if it reads the waiter count 0
//	       (a swap: a connection it displaces goes to the channel); after
//	       the park it reads the waiter count again, and if it is not 0 (or
//	       the pool is closing) it flushes the slot (parked).
//	take:  an acquirer that takes a connection out of the slot reads the
//	       waiter count afterwards; if it is not 0 it puts the connection on
//	       the idle channel and queues (takeHot, and Acquire's fast path).
//	count: a caller about to block on the channel counts itself, then
//	       flushes the slot (wait).
//
// where to flush is to take whatever the slot holds and put it on the idle
// channel (flushHot), which hands it to the longest blocked receiver.
//
// No lost wake-up. Let W be a caller that counts itself at a, flushes at
// b > a, then blocks; let a releaser park t at s and read the count again at
// r > s. If s > b, then r > s > a and the releaser sees W and flushes. If
// s < b, W's flush finds t, unless an acquirer took it at some τ in (s, b):
// that acquirer reads the count at τ' > τ, and if τ' > a it sees W and puts
// t on the channel; if τ' < a, it took t before W was counted at all, which
// is a plain earlier acquire. So a connection parked while W waits reaches
// the channel, where W (or a waiter older than W) receives it.
//
// No newcomer passes a waiter. An acquirer keeps a connection from the slot
// only if the count it reads after taking it is 0. A waiter that was blocked
// when the acquirer took it is still counted then (it has not returned), so
// the acquirer hands the connection to the channel, where the longest waiter
// takes it, and queues behind. The channel itself never lets a newcomer
// pass: a non-blocking receive finds it empty while anyone is blocked on it.
//
// TestHotSlotNewcomerQueues, TestHotSlotParkRechecks and
// TestHotSlotWaiterFlushes each fail when their rule is removed.
//
// Everything that walks the idle list takes the slot too: a connection in
// it is idle in every count (idleLen, Stats.Idle; Conns and the coarse clock
// read the registry, where it is idle), and the sweeps (Reset, SetMaxConns,
// keepalive), the evictor and Close's drain take it out like any other. The
// low-water mark is unchanged: an acquirer from the slot reports the idle
// count it leaves behind, as one from the channel does. The evictor closes
// the slot's connection last, after the front of the channel: it is the
// most recently used.

// The slot is a word, not a pointer: sync/atomic's pointer swaps and
// compare-and-swaps are calls (they carry the garbage collector's write
// barrier), where those of a uint64 are single instructions. Pool.hot holds
// the slot's connection's registry index plus one (0: empty), and
// Pool.hotToks[index] its token, which keeps the token reachable while it is
// parked. Whoever owns the connection writes the entry before the
// compare-and-swap that parks it, and whoever swaps the index out reads the
// entry and clears it, so that a leased connection's token is again
// reachable only through its holder's handles (leak.go).

// nobodyWaits reports whether the waiter count is 0: no caller blocks, or is
// about to block, on the idle channel.
func (p *Pool[T]) nobodyWaits() bool {
	return p.waiting.Load()|p.listening.Load() == 0
}

// tryPark puts t, idle and owned by the caller, in the hot slot if nobody
// waits, and reports whether it did; the caller then calls parked. A
// connection it displaces from the slot goes to the idle channel.
func (p *Pool[T]) tryPark(t *token[T]) bool {
	if !p.nobodyWaits() {
		return false
	}
	i := t.c.slot
	p.hotToks[i] = t
	if old := p.hot.Swap(uint64(i) + 1); old != 0 {
		p.displaced(old)
	}
	return true
}

// displaced puts the connection of hot slot word old, just swapped out of
// the slot by a park, on the idle channel.
func (p *Pool[T]) displaced(old uint64) {
	p.put(p.unpark(old))
}

// park hands an idle connection the caller owns to the hot slot if nobody
// waits, else to the idle channel (put).
func (p *Pool[T]) park(t *token[T]) {
	if p.tryPark(t) {
		p.parked()
		return
	}
	p.put(t)
}

// parked is the second half of a park (rule park above): a caller that may
// have begun waiting, or a Close that may have drained the slot, between the
// first read and the compare-and-swap gets the connection through the
// channel. Release's fast path writes it out, with the same mustFlush.
func (p *Pool[T]) parked() {
	if p.mustFlush() {
		p.flushHot()
	}
}

// mustFlush is parked's test: someone waits, or the pool is closing.
func (p *Pool[T]) mustFlush() bool {
	return p.waiting.Load()|p.listening.Load() != 0 || p.closed.Load()
}

// unpark is the token of the hot slot's word v (not 0), just swapped out of
// the slot by the caller, who now owns the connection.
func (p *Pool[T]) unpark(v uint64) *token[T] {
	t := p.hotToks[v-1]
	p.hotToks[v-1] = nil
	return t
}

// swapHot empties the hot slot and returns the token it held, or nil.
func (p *Pool[T]) swapHot() *token[T] {
	if v := p.hot.Swap(0); v != 0 {
		return p.unpark(v)
	}
	return nil
}

// flushHot moves the hot slot's connection, if any, to the idle channel.
func (p *Pool[T]) flushHot() {
	if t := p.swapHot(); t != nil {
		p.put(t)
	}
}

// takeHot takes the hot slot's connection for the caller (rule take above),
// or returns nil: the slot was empty, or someone waits, and the connection
// went to the channel for them.
func (p *Pool[T]) takeHot() *token[T] {
	if p.hot.Load() == 0 {
		return nil
	}
	t := p.swapHot()
	if t != nil && !p.nobodyWaits() {
		p.put(t)
		return nil
	}
	return t
}
