package chanpool

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.uber.org/atomic"
	"golang.org/x/sync/semaphore"

	"github.com/chanpool/chanpool/internal/clock"
)

// errOverflow is the panic of a send to a full idle list, which the
// invariants rule out (see Pool): it would mean a bug in chanpool.
const errOverflow = "chanpool: idle list overflow: more open connections than MaxConns"

const (
	// latencySamples is how many recent samples each Stats latency covers.
	latencySamples = 1024
	// holdSampling: one lease in holdSampling per connection has its hold
	// time measured. A clock read costs more than a whole acquire+release,
	// so timing every lease would double the cost of the fast path.
	holdSampling = 64
)

// Pool is a pool of connections of type T. Create one with New; the zero
// value is not usable. A Pool is safe for concurrent use.
//
// Invariants, each kept where noted:
//
//   - Total count: every open or dialing connection holds one unit of slots
//     (taken in trySlot, given back in freeSlot), so open ≤ MaxConns.
//   - Ownership: a connection is either in the idle channel, or owned by
//     exactly one goroutine — a holder (state busy, lease gen g), a releaser
//     or the pool in transit (state idle, not in the channel), or whoever
//     moved it to dead. Every move between owners is a channel operation or
//     a compare-and-swap on conn.state (see conn.go).
//   - The idle channel never blocks a send: its capacity is MaxConns+1 and
//     it only ever holds open connections (put) and at most one wake-up
//     signal (raise).
//   - No lost wake-up: a caller that finds the pool full registers in
//     waiting and then tries for a slot again (reading open, then the
//     semaphore); whoever frees a slot lowers open, releases the unit and
//     then reads waiting (refill). The atomics are sequentially consistent
//     and the semaphore orders the unit's release, so at least one side sees
//     the other: either the caller gets the slot and dials, or the freer
//     sees the caller and dials for it. Released connections need no such
//     care: waiters block on the idle channel itself.
//
// The words on the acquire, release and wait paths are chanpool's own
// atomic types, so that they inline in every user's package, and every
// 64-bit word is 64-bit aligned, as 32-bit platforms need (atomics.go).
type Pool[T any] struct {
	// Read on every acquire and release.
	// idle is the free list, FIFO, of capacity MaxConns+1: the open
	// connections nobody holds, and at most one nil, the wake-up signal
	// (see raise).
	idle    chan *token[T]
	closed  atomicBool  // set once, under mu, when Close begins
	idleLow atomicInt64 // lowest idle count seen since the evictor last looked
	// watchIdle says that acquires must lower idleLow: eviction by idle
	// time is on.
	watchIdle bool
	stamp     bool // stamp conn.lastUsed on release (health checks need it)
	// holdMask selects the leases whose hold time is measured: those whose
	// generation has no bit of the mask set (1 in holdSampling per
	// connection), or every lease when leak detection is on (mask 0).
	holdMask uint64
	// leaseMask and releaseMask let the fast paths decide with one test
	// whether a lease can skip lease and releaseSlow: it can if its
	// generation has a bit of the mask set. They are holdMask (all ones in
	// a build without histograms), or 0 when a HealthCheck or hook (lease),
	// or a Reset, release stamp or hook (release) needs the slow path every
	// time.
	leaseMask, releaseMask uint64

	cfg   Config[T]
	set   settings
	clock clock.Clock
	log   *slog.Logger

	slots   *semaphore.Weighted // one unit per open or dialing connection
	open    atomicInt64         // units held in slots, mirrored for reading
	dialing atomicInt64         // dials in flight
	// waiting counts the callers in the waiting room, at most MaxWaiting
	// (enterWaitRoom). A semaphore would do, but its mutex is taken twice
	// per wait by every waiter: under contention that doubled the cost of a
	// handoff (BenchmarkContended, 763 → 320 ns/op).
	waiting  atomicInt64
	checking atomicInt64 // HealthCheck and Reset goroutines running

	// conns is the registry of open connections, indexed by conn.slot. It is
	// written under mu and read without it by Stats, Conns and the evictor.
	conns []atomic.Pointer[conn[T]]

	mu        sync.Mutex
	free      []int       // unused indexes of conns; guarded by mu
	retry     clock.Timer // pending dial retry after a failure; guarded by mu
	dialFails int         // consecutive failed dials; guarded by mu

	dialSem     *semaphore.Weighted // caps concurrent dials at MaxDialing
	breakerOpen atomicBool          // written under mu (breaker.go)
	// signal is set while the wake-up signal, a nil token, is in the idle
	// channel or on its way out of it (raise, signaled).
	signal atomicBool

	closing chan struct{}   // closed when Close begins
	changed chan struct{}   // signaled (non-blocking) when a slot frees during Close
	ctx     context.Context // canceled by Close; parent of every dial
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine the pool starts; Add only under mu while not closed
	nextID  atomicUint64
	timers  sync.Pool // clock.Timer values reused by waiting callers

	lastDialErr atomic.Error
	st          counters
	waits       *recorder // acquires that waited
	holds       *recorder // sampled leases, acquire to release
	dials       *recorder // successful dials
}

// New validates cfg, applies its defaults and returns a running pool. It
// starts dialing MinConns connections in the background and, unless
// EvictionInterval is None, starts the evictor goroutine; Close stops both.
// An invalid cfg returns an error naming the field, and starts nothing.
func New[T any](cfg Config[T]) (*Pool[T], error) {
	return newPool(cfg, clock.Real())
}

func newPool[T any](cfg Config[T], clk clock.Clock) (*Pool[T], error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	p := &Pool[T]{
		idle:     make(chan *token[T], s.maxConns+1),
		stamp:    cfg.HealthCheck != nil,
		cfg:      cfg,
		set:      s,
		clock:    clk,
		log:      cfg.Logger,
		slots:    semaphore.NewWeighted(int64(s.maxConns)),
		dialSem:  semaphore.NewWeighted(int64(s.maxDialing)),
		conns:    make([]atomic.Pointer[conn[T]], s.maxConns),
		free:     make([]int, s.maxConns),
		closing:  make(chan struct{}),
		changed:  make(chan struct{}, 1),
		waits:    newRecorder(),
		holds:    newRecorder(),
		dials:    newRecorder(),
		holdMask: holdSampling - 1,
	}
	if s.leakThreshold > 0 {
		p.holdMask = 0
	}
	sampled := p.holdMask
	if !histograms {
		sampled = ^uint64(0) // no lease is sampled
	}
	if cfg.HealthCheck == nil && cfg.Hooks.OnAcquire == nil {
		p.leaseMask = sampled
	}
	if cfg.Reset == nil && !p.stamp && cfg.Hooks.OnRelease == nil {
		p.releaseMask = sampled
	}
	p.watchIdle = s.idleTimeout > 0 && s.evictionInterval > 0
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for i := range p.free {
		p.free[i] = s.maxConns - 1 - i // pop from the end: slot 0 first
	}
	p.idleLow.Store(int64(s.maxConns))
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if s.evictionInterval > 0 || s.leakThreshold > 0 {
		evictT, leakT := p.tickers()
		p.wg.Add(1)
		go p.maintain(evictT, leakT)
	}
	p.refill()
	return p, nil
}

// Acquire leases a connection: an idle one if there is one, else a newly
// dialed one if the pool is under MaxConns, else the next one released,
// waiting in FIFO order behind earlier callers. It blocks until it has a
// connection or fails with:
//   - ErrClosed if the pool is closed or closes while waiting;
//   - ErrExhausted, at once, if MaxWaiting callers are already waiting;
//   - ErrAcquireTimeout after AcquireTimeout;
//   - ctx.Err() (wrapped) when ctx is done first — also at once if ctx is
//     already done on entry;
//   - an ErrDial error wrapping the dial's own error, if the dial started for
//     this caller fails.
//
// A dial started for a caller that gives up is not wasted: its connection
// goes to the next waiter or to the idle list. On success the caller must
// end the lease with Conn.Release or Conn.Destroy.
func (p *Pool[T]) Acquire(ctx context.Context) (Conn[T], error) {
	// The fast path: one receive from the idle list. Everything else —
	// closed pool, done context, an unusable connection, waiting — is
	// acquireSlow's.
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return Conn[T]{}, p.ctxErr(ctx)
		default:
		}
	}
	if !p.closed.Load() {
		select {
		case t := <-p.idle:
			if t == nil {
				p.signaled()
				break
			}
			if p.watchIdle {
				// len counts the wake-up signal, if it is in the list: at
				// the mark, only then is the exact count needed.
				n, low := int64(len(p.idle)), p.idleLow.Load()
				if n < low || n == low && p.signal.Load() {
					p.noteIdle(p.idleLen())
				}
			}
			c := t.c
			s := c.state.Load()
			next := s + genOne | stBusy
			if (next>>stateBits)&p.leaseMask != 0 && s&stateMask == stIdle && !c.doomed.Load() &&
				c.state.CompareAndSwap(s, next) {
				return Conn[T]{t: t, gen: next >> stateBits}, nil
			}
			if h, ok := p.lease(ctx, t, false); ok {
				return h, nil
			}
		default:
			// Empty: no need to look again before waiting, for the wait
			// takes whatever comes next.
			return p.acquireSlow(ctx, false)
		}
	}
	return p.acquireSlow(ctx, true)
}

// idleLen is the number of connections in the idle list.
func (p *Pool[T]) idleLen() int {
	n := len(p.idle)
	if n > 0 && p.signal.Load() {
		n-- // the signal is not a connection
	}
	return n
}

// alive reports whether ctx is not done yet, cheaply for a context that can
// never be canceled.
func alive(ctx context.Context) bool {
	done := ctx.Done()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// TryAcquire leases an idle connection if one is available and returns
// ErrNoIdle at once otherwise (ErrClosed if the pool is closed). When it
// finds none and the pool is under MaxConns it starts a dial in the
// background, so that a later call can succeed. ctx bounds only the health
// check, if one runs.
func (p *Pool[T]) TryAcquire(ctx context.Context) (Conn[T], error) {
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if h, ok := p.takeIdle(ctx); ok {
		return h, nil
	}
	p.noteIdle(0)
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if p.breakerOpen.Load() {
		return Conn[T]{}, p.breakerErr()
	}
	if p.trySlot() {
		p.startDial(nil)
	}
	return Conn[T]{}, ErrNoIdle
}

// takeIdle leases the first usable connection on the idle list, closing
// unusable ones on the way. It reports false once the list is empty. The
// wake-up signal, if it is in the list, is passed on (to the back of the
// list, if its news still holds) and looked past once.
func (p *Pool[T]) takeIdle(ctx context.Context) (Conn[T], bool) {
	passed := false
	for {
		select {
		case t := <-p.idle:
			if t == nil {
				p.signaled()
				if passed {
					return Conn[T]{}, false // around the list once
				}
				passed = true
				continue
			}
			p.noteIdle(p.idleLen())
			if h, ok := p.lease(ctx, t, false); ok {
				return h, true
			}
		default:
			return Conn[T]{}, false
		}
	}
}

// acquireSlow is Acquire after the fast path gave up. look says whether
// the idle list may still hold a usable connection (the fast path met the
// wake-up signal or an unusable connection, not an empty list).
func (p *Pool[T]) acquireSlow(ctx context.Context, look bool) (Conn[T], error) {
	if p.closed.Load() {
		return Conn[T]{}, ErrClosed
	}
	if !alive(ctx) {
		return Conn[T]{}, p.ctxErr(ctx)
	}
	if look {
		if h, ok := p.takeIdle(ctx); ok {
			return h, nil
		}
	}
	p.noteIdle(0)
	if p.breakerOpen.Load() {
		return Conn[T]{}, p.breakerErr()
	}
	start := p.clock.Mono()
	var req *dialReq[T]
	if p.waiting.Load() == 0 && p.trySlot() {
		// Under MaxConns and nobody queued: dial for this caller, but keep
		// listening to the idle list, so a release that lands first is
		// taken and the dial goes to idle.
		if req = p.newDialReq(); req == nil {
			return Conn[T]{}, ErrClosed
		}
	} else {
		// Queue behind the callers already waiting: whatever comes next,
		// released or dialed, goes to the longest waiter.
		if !p.enterWaitRoom() {
			p.st.exhausted.Add(1)
			return Conn[T]{}, ErrExhausted
		}
		defer p.waiting.Add(-1)
		// Check for a slot again now that we are registered as waiting: a
		// slot freed in between saw no waiter (see the Pool invariants).
		// The dial has no owner, so its connection goes to the longest
		// waiter, not necessarily to this caller.
		if p.trySlot() {
			p.startDial(nil)
		}
	}
	h, err := p.wait(ctx, req)
	if err == nil {
		p.waits.add(p.clock.Mono() - start)
	}
	return h, err
}

// wait blocks until a connection arrives on the idle list or from req's
// dial (req may be nil), or until ctx, AcquireTimeout, Close or the breaker
// end it. The last two reach waiters through the idle list itself, as the
// wake-up signal (raise), so a caller with nothing else to watch waits on a
// plain receive: the cheapest wait there is.
func (p *Pool[T]) wait(ctx context.Context, req *dialReq[T]) (Conn[T], error) {
	if req == nil && p.set.acquireTimeout <= 0 && ctx.Done() == nil {
		for {
			if h, ok, err := p.fromIdle(ctx, <-p.idle); ok || err != nil {
				return h, err
			}
		}
	}
	var dialed <-chan dialResult[T]
	if req != nil {
		dialed = req.ch
	}
	var timeout <-chan time.Time
	if p.set.acquireTimeout > 0 {
		t := p.getTimer(p.set.acquireTimeout)
		defer p.putTimer(t)
		timeout = t.C()
	}
	for {
		select {
		case t := <-p.idle:
			if t != nil && req != nil {
				// A connection came first: the dial goes to the next
				// waiter or to idle.
				p.abandon(req)
				req, dialed = nil, nil
			}
			if h, ok, err := p.fromIdle(ctx, t); ok || err != nil {
				p.abandon(req)
				return h, err
			}
		case r := <-dialed:
			if r.err != nil {
				return Conn[T]{}, r.err
			}
			if h, ok := p.lease(ctx, r.t, true); ok {
				return h, nil
			}
			req, dialed = nil, nil
		case <-ctx.Done():
			p.abandon(req)
			p.st.canceled.Add(1)
			return Conn[T]{}, p.ctxErr(ctx)
		case <-timeout:
			p.abandon(req)
			p.st.timeouts.Add(1)
			if err := p.lastDialErr.Load(); err != nil {
				// Dials are failing: say why the wait was in vain.
				return Conn[T]{}, fmt.Errorf("%w (after %v; last dial error: %w)", ErrAcquireTimeout, p.set.acquireTimeout, err)
			}
			return Conn[T]{}, ErrAcquireTimeout
		}
	}
}

// fromIdle handles what a waiter received from the idle list: a connection,
// which it leases (ok), or the wake-up signal, whose news (Close, the
// breaker) ends the wait with an error. When neither — the connection was
// unusable, the signal stale — the caller waits on.
func (p *Pool[T]) fromIdle(ctx context.Context, t *token[T]) (h Conn[T], ok bool, err error) {
	if t == nil {
		return Conn[T]{}, false, p.signaled()
	}
	h, ok = p.lease(ctx, t, false)
	return h, ok, nil
}

// ctxErr is the error of an Acquire whose context ended.
func (p *Pool[T]) ctxErr(ctx context.Context) error {
	return fmt.Errorf("chanpool: acquire: %w", ended(ctx))
}

// ended is the error of a context that is done: ctx.Err(), and the cause
// too when the context was canceled with one, both for errors.Is.
func ended(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// lease turns a connection taken from the idle list (or fresh from a dial)
// into a Conn. It returns false when the connection was unusable; it has then
// been closed (or was already dead) and the caller should look again.
// fresh says t comes straight from its dial: no health check is needed.
func (p *Pool[T]) lease(ctx context.Context, t *token[T], fresh bool) (Conn[T], bool) {
	c := t.c
	s := c.state.Load()
	if s&stateMask != stIdle {
		return Conn[T]{}, false // closed by a forced Close while idle
	}
	if c.doomed.Load() {
		p.kill(c, s, ReasonLifetime)
		return Conn[T]{}, false
	}
	if p.cfg.HealthCheck != nil && !fresh && !p.healthy(ctx, c) {
		p.kill(c, s, ReasonHealth)
		return Conn[T]{}, false
	}
	next := s + genOne | stBusy
	if histograms && (next>>stateBits)&p.holdMask == 0 {
		p.stampLease(c) // a sampled lease, or leak detection is on
	}
	if !c.state.CompareAndSwap(s, next) {
		return Conn[T]{}, false
	}
	if p.cfg.Hooks.OnAcquire != nil {
		p.cfg.Hooks.OnAcquire(c.info())
	}
	return Conn[T]{t: t, gen: next >> stateBits}, true
}

// noteIdle lowers idleLow to n, the idle count an acquirer just saw. The
// evictor reads the low-water mark to learn how many connections the load
// did not need (evict.go).
func (p *Pool[T]) noteIdle(n int) {
	for {
		low := p.idleLow.Load()
		if int64(n) >= low || p.idleLow.CompareAndSwap(low, int64(n)) {
			return
		}
	}
}

// releaseSlow is Conn.Release with every feature: Reset, stamps, hooks,
// samples, lifetimes.
func (p *Pool[T]) releaseSlow(t *token[T], gen uint64) error {
	c := t.c
	busy := gen<<stateBits | stBusy
	idle := gen << stateBits // | stIdle, which is 0
	if p.cfg.Reset != nil {
		if !c.state.CompareAndSwap(busy, gen<<stateBits|stReleasing) {
			return p.notHeld(c, gen, "Release")
		}
		if histograms && gen&p.holdMask == 0 {
			p.recordHold(c)
		}
		if err := p.check(p.cfg.Reset, context.Background(), c.value); err != nil {
			p.log.Warn("chanpool: reset failed; closing connection", "conn", c.id, "err", err)
			if c.state.CompareAndSwap(gen<<stateBits|stReleasing, gen<<stateBits|stDead) {
				p.retire(c, ReasonReset)
			}
			return nil
		}
		busy = gen<<stateBits | stReleasing
	}
	if !c.state.CompareAndSwap(busy, idle) {
		return p.notHeld(c, gen, "Release")
	}
	// The connection is idle but not yet in the channel: this goroutine
	// still owns it.
	if histograms && gen&p.holdMask == 0 && p.cfg.Reset == nil {
		p.recordHold(c)
	}
	if p.stamp {
		c.lastUsed.Store(p.clock.Now().UnixNano())
	}
	if p.cfg.Hooks.OnRelease != nil {
		p.cfg.Hooks.OnRelease(c.info())
	}
	p.requeue(t, idle)
	return nil
}

// requeue puts a released connection, in state idle, back on the idle list,
// or closes it if it is past its lifetime or the pool is closing.
func (p *Pool[T]) requeue(t *token[T], idle uint64) {
	switch {
	case t.c.doomed.Load():
		p.kill(t.c, idle, ReasonLifetime)
	case p.closed.Load():
		p.kill(t.c, idle, ReasonPoolClosed)
	default:
		p.put(t)
	}
}

// destroyLease implements Conn.Destroy.
func (p *Pool[T]) destroyLease(c *conn[T], gen uint64) error {
	if !c.state.CompareAndSwap(gen<<stateBits|stBusy, gen<<stateBits|stDead) {
		return p.notHeld(c, gen, "Destroy")
	}
	p.st.destroyedBusy.Add(1)
	p.retire(c, ReasonDestroy)
	return nil
}

// notHeld reports a Release or Destroy through a handle that does not hold
// the lease. A lease ended by a forced Close is not misuse: ErrClosed.
func (p *Pool[T]) notHeld(c *conn[T], gen uint64, op string) error {
	s := c.state.Load()
	if s>>stateBits == gen && s&stateMask == stDead && c.diedLeased.Load() {
		return ErrClosed // closed under its holder by a forced Close
	}
	p.st.misuse.Add(1)
	if p.log.Enabled(context.Background(), slog.LevelWarn) {
		p.log.Warn("chanpool: "+op+" through a handle that does not hold the connection; ignored",
			"conn", c.id, "handle_lease", gen, "current_lease", s>>stateBits, "state", State(s&stateMask))
	}
	return ErrNotHeld
}

// put hands an idle connection the caller owns to the longest waiter, or to
// the idle list if nobody waits.
func (p *Pool[T]) put(t *token[T]) {
	select {
	case p.idle <- t:
	default:
		panic(errOverflow)
	}
	// Close sets closed and then drains; a put that raced past the closed
	// check above it drains what it may have added (see Close).
	if p.closed.Load() {
		p.drainIdle()
	}
}

// kill moves a connection the caller owns from state s to dead and retires
// it. If the state moved meanwhile (a forced Close got there first) it does
// nothing.
func (p *Pool[T]) kill(c *conn[T], s uint64, reason CloseReason) {
	if c.state.CompareAndSwap(s, s&^stateMask|stDead) {
		p.retire(c, reason)
	}
}

// retire closes a connection already in state dead, unregisters it and
// frees its slot. Only the goroutine that moved it to dead calls retire.
func (p *Pool[T]) retire(c *conn[T], reason CloseReason) {
	p.mu.Lock()
	p.conns[c.slot].Store(nil)
	p.free = append(p.free, c.slot)
	p.st.deadAcquired.Add(c.state.Load() >> stateBits)
	p.mu.Unlock()
	p.st.destroyed.Add(1)
	p.st.closedBy[reason].Add(1)
	p.closeValue(c.value, c.id, reason)
	if p.cfg.Hooks.OnDestroy != nil {
		p.cfg.Hooks.OnDestroy(c.info(), reason)
	}
	p.freeSlot()
}

// closeValue runs Config.Close, recovering a panic; failures are counted
// and logged, and the connection counts as closed either way.
func (p *Pool[T]) closeValue(v T, id uint64, reason CloseReason) {
	if p.cfg.Close == nil {
		return
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("close panicked: %v", r)
			}
		}()
		return p.cfg.Close(v)
	}()
	if err != nil {
		p.st.closeErrors.Add(1)
		p.log.Warn("chanpool: close failed", "conn", id, "reason", reason.String(), "err", err)
	} else if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug("chanpool: closed connection", "conn", id, "reason", reason.String())
	}
}

// enterWaitRoom admits the caller to the waiting room, counting it in
// waiting, unless MaxWaiting callers are already there.
func (p *Pool[T]) enterWaitRoom() bool {
	for {
		n := p.waiting.Load()
		if n >= int64(p.set.maxWaiting) {
			return false
		}
		if p.waiting.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// trySlot takes a unit of slots if one is free. The atomic pre-check keeps
// callers of a full pool off the semaphore's mutex; open never exceeds the
// units held (it rises after TryAcquire and falls before Release), so it
// turns away only callers the semaphore would turn away too.
func (p *Pool[T]) trySlot() bool {
	if p.open.Load() >= int64(p.set.maxConns) || !p.slots.TryAcquire(1) {
		return false
	}
	p.open.Add(1)
	return true
}

// freeSlot gives a unit back and lets the freed capacity serve whoever needs
// it: a waiting caller, MinConns, or Close waiting for the pool to empty.
func (p *Pool[T]) freeSlot() {
	p.dropSlot()
	p.refill()
}

// dropSlot gives a unit back without dialing again (after a failed dial,
// whose retry is paced by backoff instead).
func (p *Pool[T]) dropSlot() {
	p.open.Add(-1)
	p.slots.Release(1)
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
func (p *Pool[T]) refill() {
	if p.breakerOpen.Load() {
		return // only the probe dials (breaker.go)
	}
	need := int64(p.set.minConns) - p.open.Load()
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

// getTimer returns a timer armed for d, reusing one when it can, so that a
// waiting Acquire does not allocate.
func (p *Pool[T]) getTimer(d time.Duration) clock.Timer {
	if t, ok := p.timers.Get().(clock.Timer); ok {
		t.Reset(d)
		return t
	}
	return p.clock.NewTimer(d)
}

func (p *Pool[T]) putTimer(t clock.Timer) {
	t.Stop()
	p.timers.Put(t)
}

// Healthy reports whether the pool is open and has at least MinConns
// connections open.
func (p *Pool[T]) Healthy() bool {
	return !p.closed.Load() && p.open.Load()-p.dialing.Load() >= int64(p.set.minConns)
}

// Conns returns a snapshot of every open connection, ordered by id, for a
// debug endpoint: state, age, idle time, use count and, for a leased one,
// when and (with Config.LeakThreshold) where it was acquired. It allocates,
// never blocks acquirers, and is not meant for the hot path.
func (p *Pool[T]) Conns() []ConnInfo {
	now := p.clock.Now()
	out := make([]ConnInfo, 0, len(p.conns))
	for i := range p.conns {
		if c := p.conns[i].Load(); c != nil {
			out = append(out, c.view(now))
		}
	}
	slices.SortFunc(out, func(a, b ConnInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Close shuts the pool down. New acquires get ErrClosed at once, every
// waiting caller is rejected with ErrClosed at once, dials in flight are
// canceled, idle connections are closed at once and busy ones as their
// holders hand them back. Close blocks until every connection is closed and
// every goroutine the pool started has ended, or until ctx is done: then it
// closes the connections still out (their holders' next Release returns
// ErrClosed) and returns an error wrapping ctx.Err() that says how many
// were still out. A second Close returns ErrClosed.
func (p *Pool[T]) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed.Store(true)
	close(p.closing)
	p.raise()
	if p.retry != nil && p.retry.Stop() {
		p.wg.Done() // the retry will not run
	}
	p.retry = nil
	p.mu.Unlock()
	p.cancel()

	for {
		p.drainIdle()
		if p.open.Load() == 0 {
			break
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			busy := p.forceClose()
			dialing := p.dialing.Load()
			if dialing == 0 && p.checking.Load() == 0 {
				// Nothing left can block on user code that ignores its
				// context: the rest of the goroutines end promptly.
				p.wg.Wait()
			}
			return fmt.Errorf("chanpool: close: %d connections still in use and %d dials still running when the context ended; closed the connections: %w",
				busy, dialing, ended(ctx))
		}
	}
	return p.waitGoroutines(ctx)
}

// waitGoroutines waits for every goroutine the pool started, or for ctx.
// Only a Dial, HealthCheck or Reset that ignores its canceled context can
// keep one running; the error then says so.
func (p *Pool[T]) waitGoroutines(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chanpool: close: %d dials and %d checks ignoring their canceled context still running when the context ended: %w",
			p.dialing.Load(), p.checking.Load(), ended(ctx))
	}
}

// drainIdle closes every connection in the idle list. Used once closing.
func (p *Pool[T]) drainIdle() {
	for {
		select {
		case t := <-p.idle:
			if t == nil {
				// Passed on at once it would come back to this loop:
				// after it, so that callers still waiting hear it.
				defer p.signaled()
				continue
			}
			if s := t.c.state.Load(); s&stateMask == stIdle {
				p.kill(t.c, s, ReasonPoolClosed)
			}
		default:
			return
		}
	}
}

// forceClose closes every connection still registered, whoever holds it, and
// returns how many were leased.
func (p *Pool[T]) forceClose() int {
	busy := 0
	for i := range p.conns {
		c := p.conns[i].Load()
		if c == nil {
			continue
		}
		for {
			s := c.state.Load()
			if s&stateMask == stDead {
				break
			}
			st := s & stateMask
			leased := st == stBusy || st == stReleasing
			c.diedLeased.Store(leased) // before the CAS that publishes dead
			if c.state.CompareAndSwap(s, s&^stateMask|stDead) {
				if leased {
					busy++
					p.st.destroyedBusy.Add(1)
				}
				p.retire(c, ReasonPoolClosed)
				break
			}
		}
	}
	p.drainIdle()
	return busy
}
