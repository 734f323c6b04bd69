package chanpool

// A connection's state word packs a lease generation with a state:
//
//	state = gen<<stateBits | st
//
// gen counts the leases granted so far (it is the connection's use count),
// and every Conn handle remembers the gen of its own lease. Acquire moves
// idle(g) to busy(g+1) and Release moves busy(g) back to idle(g), both with a
// compare-and-swap, so a handle whose lease has ended — released twice, a
// stale copy, a connection re-leased to someone else since — can never match
// again. This is how the pool keeps "a connection is owned by at most one
// holder" without allocating a handle per lease.
//
// Ownership: a connection is either in the idle channel, or owned by exactly
// one goroutine — a holder (busy, lease gen g), the releaser running Reset
// (releasing), the goroutine running HealthCheck (checking), the pool in
// transit (idle, not in the channel), or whoever moved it to dead. Every
// move between owners is a channel operation or a compare-and-swap on the
// state word, and only the owner moves it. The one exception is a forced
// Close (forceClose), which moves every connection to dead: it closes the
// busy ones under their holders, but leaves a releasing or checking one to
// the goroutine running the user's code on it, which closes it once that
// code returns (see checkEnded). So no connection is ever closed, or handed
// to anyone, while a Reset or HealthCheck still runs on it.
const (
	stIdle      uint64 = iota // in the idle channel, or owned by the pool in transit
	stBusy                    // leased to exactly one holder
	stReleasing               // holder handed it back; Reset is running
	stDead                    // closed or being closed; never leaves this state
	stChecking                // HealthCheck is running on it, on a goroutine of the pool's

	stateBits = 3
	stateMask = 1<<stateBits - 1
	genOne    = 1 << stateBits
)

// The state word's helpers. Each is a shift or a mask and inlines wherever
// it is used. The fast paths of Acquire and Conn.Release write the same
// expressions out: there an inlined call can leave its inline mark, a NOP,
// on the path every lease takes (DESIGN.md, "The state word").

// genOf is the lease generation of state word s: the connection's use count.
func genOf(s uint64) uint64 { return s >> stateBits }

// stOf is the state (stIdle ... stDead) of state word s.
func stOf(s uint64) uint64 { return s & stateMask }

// word is the state word of generation gen in state st.
func word(gen, st uint64) uint64 { return gen<<stateBits | st }

// withSt is state word s moved to state st, its generation kept.
func withSt(s, st uint64) uint64 { return s&^stateMask | st }

// nextLease is the state word of the lease that follows idle word s: the
// next generation, busy.
func nextLease(s uint64) uint64 { return s + genOne | stBusy }

// State is the lifecycle state of a pooled connection.
type State uint8

// States of a pooled connection.
const (
	StateIdle      State = State(stIdle)
	StateBusy      State = State(stBusy)
	StateReleasing State = State(stReleasing)
	StateClosed    State = State(stDead)
	StateChecking  State = State(stChecking)
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateBusy:
		return "busy"
	case StateReleasing:
		return "releasing"
	case StateClosed:
		return "closed"
	case StateChecking:
		return "checking"
	}
	return "unknown"
}
