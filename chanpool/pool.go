package chanpool

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.uber.org/atomic"
	"golang.org/x/sync/semaphore"

	"github.com/chanpool/chanpool/internal/clock"
)

// errOverflow is the panic of a send to a full idle list, which the
// invariants rule out (see put): it would mean a bug in chanpool.
const errOverflow = "chanpool: idle list overflow: more open connections than MaxConns"

// Pool is a pool of connections of type T. Create one with New; the zero
// value is not usable. A Pool is safe for concurrent use by any number of
// goroutines. Users may rely on:
//
//   - Exclusive ownership. Acquire leases a connection to one caller, who
//     holds it alone until Conn.Release or Conn.Destroy: the pool hands it
//     to nobody else, checks nothing on it and does not close it meanwhile.
//     The one exception is Close whose context ends first, which closes the
//     connections still out (their holders' Release then returns ErrClosed).
//     A handle whose lease has ended, or a copy of one, cannot touch the
//     connection again: its calls return ErrNotHeld.
//   - The MaxConns bound. At no instant are more than Config.MaxConns
//     connections open or being dialed.
//   - FIFO waiters. Callers that find no idle connection and the pool full
//     wait in the order they arrived, and every connection that comes back
//     goes to the longest waiter; a later caller never takes it first.
//   - Broken connections stay out. A connection handed back with Destroy,
//     or that fails Config.HealthCheck or Config.Reset, is closed and never
//     leased again.
//
// New starts the pool's background work (dials up to MinConns, the
// evictor); Close stops it and waits for it.
type Pool[T any] struct {
	// Read on every acquire and release.
	// idle is the free list, FIFO, of capacity MaxConns+1: the open
	// connections nobody holds, and at most one nil, the wake-up signal
	// (see raise).
	idle chan *token[T]
	// hot is the connection released last, kept out of the channel for the
	// next acquirer while nobody waits (hot.go): its index in conns plus
	// one, or 0 when empty; hotToks[index] is its token.
	hot     atomicUint64
	hotToks []*token[T]
	closed  atomicBool // set once, under mu, when Close begins
	offFast atomicBool // keeps Acquire off its fast path: set by Close, or by a Tracer
	// idleMark is the idle count below which an acquire reports what it
	// saw (noteIdle): the low-water mark, idleLow, or MinIdle if higher.
	idleMark atomicInt64
	// watchIdle says that acquires must watch the idle count: eviction by
	// idle time is on, or MinIdle is set.
	watchIdle bool
	traced    bool // Config.Tracer is set (tracer.go)
	// holdMask selects the leases whose hold time is measured: those whose
	// generation has no bit of the mask set (1 in holdSampling per
	// connection), or every lease when leak detection is on (mask 0).
	holdMask uint64
	// leaseMask and releaseMask let the fast paths decide with one test
	// whether a lease can skip lease and releaseSlow: it can if its
	// generation has a bit of the mask set. They are holdMask, or 0 when an
	// Alive, a HealthCheck on every acquire or a hook (lease), or a Reset, a
	// hook or a LeaseTracer (release) needs the slow path every time. A
	// HealthCheck after HealthCheckAfter needs nothing of the fast path: the
	// coarse clock marks the connections due one (now.go).
	leaseMask, releaseMask uint64

	cfg   Config[T]
	set   settings
	clock clock.Clock
	log   *slog.Logger

	// slots holds one unit per open or dialing connection, out of
	// MaxConnsLimit; the pool itself holds the units above MaxConns
	// (resize.go).
	slots *semaphore.Weighted
	open  atomicInt64 // units held by connections, mirrored for reading
	limit int         // Config.MaxConnsLimit: the size of slots, conns and idle
	// The limits that may change while the pool runs (resize.go), each
	// written under resizeMu.
	maxConns, minConns, maxWaiting, minIdle atomicInt64
	// owed is how many units a shrink still has to take back: the surplus
	// connections that were busy when MaxConns fell hold them, and give
	// them to the pool instead of the semaphore as they close.
	owed     atomicInt64
	shedding atomicInt64  // surplus connections closing to pay what is owed
	epoch    atomicUint64 // Reset calls so far: a dial that began before one is retired
	resizeMu sync.Mutex
	refillMu sync.Mutex  // serializes refill
	dialing  atomicInt64 // dials in flight
	idleLow  atomicInt64 // lowest idle count seen since the evictor last looked
	// waiting counts the callers in the waiting room, at most MaxWaiting
	// (enterWaitRoom). A semaphore would do, but every waiter would take
	// its mutex twice per wait, and under contention that mutex is what a
	// handoff waits on (DESIGN.md, "The semaphore off the hot path").
	waiting atomicInt64
	// listening counts the callers outside the waiting room that block on
	// the idle channel: those waiting for a dial or a health check of their
	// own, which take a released connection if it comes first (hot.go).
	listening atomicInt64
	checking  atomicInt64 // HealthCheck goroutines running, keepalives included
	pinging   atomicInt64 // keepalive goroutines running
	closes    atomicInt64 // Config.Close calls running (retire)

	// now is the coarse clock (now.go): the wall time, in Unix
	// nanoseconds, as of its last tick, every tick. A connection idle at
	// checkTicks ticks in a row is due a health check (0: never by ticks).
	now        atomicInt64
	tick       time.Duration
	checkTicks int64

	// conns is the registry of open connections, indexed by conn.slot. It is
	// written under mu and read without it by Stats, Conns and the evictor.
	conns []atomic.Pointer[conn[T]]

	mu        sync.Mutex
	free      []int       // unused indexes of conns; guarded by mu
	retry     clock.Timer // pending dial retry after a failure; guarded by mu
	ticker    clock.Timer // the coarse clock's next tick; guarded by mu
	dialFails int         // consecutive failed dials; guarded by mu

	dialSem     *semaphore.Weighted // caps concurrent dials at MaxDialing
	breakerOpen atomicBool          // written under mu (breaker.go)
	lastProbe   atomicInt64         // clock.Mono of the last probe started by demand
	// signal is set while the wake-up signal, a nil token, is in the idle
	// channel or on its way out of it (raise, signaled).
	signal atomicBool

	closing chan struct{}   // closed when Close begins
	changed chan struct{}   // signaled (non-blocking) when a slot frees during Close
	ctx     context.Context // canceled by Close; parent of every dial
	cancel  context.CancelFunc
	// wg counts every goroutine the pool starts. Add only under mu while
	// not closed (goTracked), or while the caller holds a slot that Close
	// waits for (retire).
	wg     sync.WaitGroup
	nextID atomicUint64
	timers sync.Pool // clock.Timer values reused by waiting callers

	// share is the cap of the Group the pool belongs to (groupcap.go), nil
	// for a pool of its own; queued counts its entries in the group's
	// queue, guarded by share.mu.
	share  *share[T]
	queued int64
	// groupShedding counts its connections closing to make room under
	// the cap (share.claim) whose units are not back yet; guarded by
	// share.mu.
	groupShedding int64
	// keyIdle is set when the pool's Group removed it for being unused: a
	// caller that meets it closed asks the group for the key's pool again.
	keyIdle atomicBool

	lastDialErr atomic.Error
	st          counters
	waits       *recorder // acquires that waited
	holds       *recorder // sampled leases, acquire to release
	dials       *recorder // successful dials

	// leaseTracer is Config.Tracer if it is a LeaseTracer: every lease is
	// then timed (tracer.go). Read off the fast paths only, so it is last,
	// where it moves none of the fields they read.
	leaseTracer LeaseTracer
}

// New validates cfg, applies its defaults and returns a running pool. It
// starts dialing MinConns connections in the background and, unless
// EvictionInterval is None, starts the evictor goroutine; Close stops both.
// An invalid cfg returns an error naming the field, and starts nothing.
func New[T any](cfg Config[T]) (*Pool[T], error) {
	return newPool(cfg, clock.Real())
}

func newPool[T any](cfg Config[T], clk clock.Clock) (*Pool[T], error) {
	return newPoolIn(cfg, clk, nil)
}

// newPoolIn is newPool for a pool under a Group's cap sh (nil: none).
func newPoolIn[T any](cfg Config[T], clk clock.Clock, sh *share[T]) (*Pool[T], error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	p := &Pool[T]{
		idle:     make(chan *token[T], s.limit+1),
		limit:    s.limit,
		cfg:      cfg,
		set:      s,
		clock:    clk,
		log:      cfg.Logger,
		slots:    semaphore.NewWeighted(int64(s.limit)),
		dialSem:  semaphore.NewWeighted(int64(s.maxDialing)),
		conns:    make([]atomic.Pointer[conn[T]], s.limit),
		hotToks:  make([]*token[T], s.limit),
		free:     make([]int, s.limit),
		closing:  make(chan struct{}),
		changed:  make(chan struct{}, 1),
		waits:    newRecorder(),
		holds:    newRecorder(),
		dials:    newRecorder(),
		holdMask: holdSampling - 1,
		share:    sh,
	}
	p.traced = cfg.Tracer != nil
	p.leaseTracer, _ = cfg.Tracer.(LeaseTracer)
	p.offFast.Store(p.traced)
	if s.leakThreshold > 0 {
		p.holdMask = 0 // every lease is stamped
	}
	p.tick = coarseTick(&cfg, s)
	if cfg.HealthCheck != nil && s.healthAfter > 0 {
		p.checkTicks = int64((s.healthAfter + p.tick - 1) / p.tick)
	}
	everyAcquire := cfg.HealthCheck != nil && s.healthAfter <= 0
	if !everyAcquire && cfg.Alive == nil && cfg.Hooks.OnAcquire == nil {
		p.leaseMask = p.holdMask
	}
	if cfg.Reset == nil && cfg.Hooks.OnRelease == nil && p.leaseTracer == nil {
		p.releaseMask = p.holdMask
	}
	p.watchIdle = s.idleTimeout > 0 && s.evictionInterval > 0 || s.minIdle > 0
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for i := range p.free {
		p.free[i] = s.limit - 1 - i // pop from the end: slot 0 first
	}
	p.maxConns.Store(int64(s.maxConns))
	p.minConns.Store(int64(s.minConns))
	p.maxWaiting.Store(int64(s.maxWaiting))
	p.minIdle.Store(int64(s.minIdle))
	p.slots.TryAcquire(int64(s.limit - s.maxConns)) // held back: always succeeds here
	p.idleLow.Store(int64(s.limit))
	p.idleMark.Store(int64(s.limit))
	p.lastProbe.Store(-int64(probeFloor))
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.startTicking()
	if s.evictionInterval > 0 || s.leakThreshold > 0 || s.keepalive > 0 {
		p.wg.Add(1)
		go p.maintain(p.tickers())
	}
	p.refill()
	return p, nil
}

// Healthy reports whether the pool is open and has at least MinConns
// connections open.
func (p *Pool[T]) Healthy() bool {
	return !p.closed.Load() && p.open.Load()-p.dialing.Load() >= p.minConns.Load()
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

// goTracked runs f on a new goroutine that Close waits for. It returns
// false, running nothing, once the pool is closed.
func (p *Pool[T]) goTracked(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}
