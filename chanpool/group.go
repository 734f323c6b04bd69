package chanpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/atomic"

	"github.com/chanpool/chanpool/internal/clock"
)

// Keyed pools: a Group holds one Pool per key under one cap.

// Defaults for GroupConfig fields left at zero.
const (
	DefaultGroupMaxConns  = 100
	DefaultKeyIdleTimeout = 5 * time.Minute
)

// GroupConfig configures a Group. Only Config is required.
type GroupConfig[K comparable, T any] struct {
	// Config returns the Config of key's pool. Required. It is called once
	// when a key is first acquired, and again if the key was removed and
	// is acquired later; an error fails that Acquire, wrapped, and creates
	// nothing. It runs under the group's lock, so it must not call the
	// Group. Each key's MinConns counts against MaxConns: keys that need no
	// warm connections want MinConns: None.
	Config func(key K) (Config[T], error)

	// MaxConns caps the connections open or being dialed across every key
	// (default DefaultGroupMaxConns; None: no cap but each key's own).
	// When it is reached, a caller whose key has room of its own queues
	// for the next connection that closes anywhere in the group, in FIFO
	// order across keys, and the group closes an idle connection of
	// another key to make room (see Group).
	MaxConns int

	// MaxConnsLimit is the highest value Group.SetMaxConns accepts
	// (default: DefaultMaxConnsLimitFactor × MaxConns, at least
	// DefaultMaxConnsLimitMin).
	MaxConnsLimit int

	// KeyIdleTimeout removes a key whose pool had no lease out, no caller
	// waiting and no acquire for this long: its idle connections close and
	// its goroutines end (default DefaultKeyIdleTimeout; None: never).
	KeyIdleTimeout time.Duration
}

// Group is a set of pools of connections of type T, one per key of type K,
// under one cap on the connections of every key: one pool per backend,
// replica, tenant or credential, where a connection for one key cannot
// serve another. Create one with NewGroup; the zero value is not usable. A
// Group is safe for concurrent use.
//
// Each key's pool is a Pool with its own Config (GroupConfig.Config), made
// on the key's first acquire, and keeps every guarantee of a Pool: the
// handles, FIFO waiters within the key, its own MaxConns, checks and
// eviction. The group adds:
//
//   - The cap. At no instant are more than GroupConfig.MaxConns
//     connections open or being dialed across all keys.
//   - No starvation. A caller that finds the cap reached while its key has
//     room queues for the cap behind earlier callers of any key. The group
//     then closes the oldest idle connection of the key with the most idle
//     ones, and has the other keys close their connections as they go idle
//     (ReasonGroupCap), until the queue is served: a key with callers
//     waiting is never starved by keys that hold idle connections. Keys
//     that all have callers waiting keep what they hold up to an equal
//     share of the cap, so they do not trade connections on every lease.
//   - Lookups without a lock. Acquire on an existing key reads a map that
//     the group replaces, never changes, when a key is added or removed.
//   - Idle keys go. A key unused for KeyIdleTimeout is removed and its
//     pool closed, its goroutines ended; acquiring it again makes a new one.
type Group[K comparable, T any] struct {
	cfg   GroupConfig[K, T]
	clock clock.Clock
	share *share[T] // nil: no cap (MaxConns None)
	// keys maps each key to its pool. The map is never written once
	// stored: adding or removing a key stores a new one, under mu.
	keys atomic.Pointer[map[K]*Pool[T]]

	mu      sync.Mutex // serializes changes to keys, and Close
	closed  atomicBool
	stop    chan struct{}  // closed by Close: stops the janitor
	wg      sync.WaitGroup // the janitor, and the closes of removed keys
	created atomicUint64   // keys made
	removed atomicUint64   // keys removed, idle or by Remove
}

// NewGroup validates cfg and returns a running group with no keys yet. It
// starts the goroutine that removes idle keys unless KeyIdleTimeout is
// None; Close stops it.
func NewGroup[K comparable, T any](cfg GroupConfig[K, T]) (*Group[K, T], error) {
	return newGroup(cfg, clock.Real())
}

func newGroup[K comparable, T any](cfg GroupConfig[K, T], clk clock.Clock) (*Group[K, T], error) {
	if cfg.Config == nil {
		return nil, errors.New("chanpool: GroupConfig.Config is required")
	}
	maxConns, err := defaulted("GroupConfig.MaxConns", cfg.MaxConns, DefaultGroupMaxConns, 1)
	if err != nil {
		return nil, err
	}
	limit := max(DefaultMaxConnsLimitFactor*maxConns, DefaultMaxConnsLimitMin)
	if cfg.MaxConnsLimit != 0 {
		if limit = cfg.MaxConnsLimit; maxConns > 0 && limit < maxConns {
			return nil, fmt.Errorf("chanpool: GroupConfig.MaxConnsLimit (%d) is below GroupConfig.MaxConns (%d)", limit, maxConns)
		}
	}
	switch {
	case cfg.KeyIdleTimeout == 0:
		cfg.KeyIdleTimeout = DefaultKeyIdleTimeout
	case cfg.KeyIdleTimeout < 0 && cfg.KeyIdleTimeout != None:
		return nil, fmt.Errorf("chanpool: GroupConfig.KeyIdleTimeout (%v) must be positive, or None", cfg.KeyIdleTimeout)
	}
	g := &Group[K, T]{cfg: cfg, clock: clk, stop: make(chan struct{})}
	if maxConns > 0 {
		g.share = newShare(maxConns, limit, g.pools)
	}
	g.keys.Store(&map[K]*Pool[T]{})
	if cfg.KeyIdleTimeout > 0 {
		g.wg.Add(1)
		go g.janitor(g.clock.NewTicker(keyIdleTick(cfg.KeyIdleTimeout)))
	}
	return g, nil
}

// defaulted is a count field of a config: def for 0, 0 for None, an error
// naming the field below least.
func defaulted(field string, v, def, least int) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v == None:
		return 0, nil
	case v < least:
		return 0, fmt.Errorf("chanpool: %s (%d) must be at least %d, or None", field, v, least)
	}
	return v, nil
}

// pools yields the group's pools now.
func (g *Group[K, T]) pools(yield func(*Pool[T]) bool) {
	for _, p := range *g.keys.Load() {
		if !yield(p) {
			return
		}
	}
}

// Acquire leases a connection for key from key's pool, made now if the key
// has none, as Pool.Acquire does, with its errors. It also fails with
// ErrClosed if the group is closed, or if key is removed (Remove) while
// the caller waits, and with the error of GroupConfig.Config, wrapped, if
// that fails for a new key.
func (g *Group[K, T]) Acquire(ctx context.Context, key K) (Conn[T], error) {
	return g.acquire(ctx, key, (*Pool[T]).Acquire)
}

// TryAcquire leases an idle connection of key's pool if one is available,
// as Pool.TryAcquire does, making the pool if the key has none.
func (g *Group[K, T]) TryAcquire(ctx context.Context, key K) (Conn[T], error) {
	return g.acquire(ctx, key, (*Pool[T]).TryAcquire)
}

// acquire runs Acquire or TryAcquire on key's pool.
func (g *Group[K, T]) acquire(ctx context.Context, key K, get func(*Pool[T], context.Context) (Conn[T], error)) (Conn[T], error) {
	for {
		p, err := g.pool(key)
		if err != nil {
			return Conn[T]{}, err
		}
		h, err := get(p, ctx)
		if err == ErrClosed && g.again(key, p) {
			continue
		}
		return h, err
	}
}

// pool returns key's pool, making it if there is none.
func (g *Group[K, T]) pool(key K) (*Pool[T], error) {
	if p := (*g.keys.Load())[key]; p != nil {
		return p, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() {
		return nil, ErrClosed
	}
	m := *g.keys.Load()
	if p := m[key]; p != nil {
		return p, nil // made meanwhile
	}
	cfg, err := g.cfg.Config(key)
	if err != nil {
		return nil, fmt.Errorf("chanpool: GroupConfig.Config for key %v: %w", key, err)
	}
	p, err := newPoolIn(cfg, g.clock, g.share)
	if err != nil {
		return nil, fmt.Errorf("chanpool: GroupConfig.Config for key %v: %w", key, err)
	}
	g.storeLocked(key, p)
	g.created.Add(1)
	return p, nil
}

// storeLocked replaces the key map with a copy in which key maps to p, or
// has no pool if p is nil. Caller must hold g.mu.
func (g *Group[K, T]) storeLocked(key K, p *Pool[T]) {
	old := *g.keys.Load()
	m := make(map[K]*Pool[T], len(old)+1)
	for k, q := range old {
		m[k] = q
	}
	if p != nil {
		m[key] = p
	} else {
		delete(m, key)
	}
	g.keys.Store(&m)
}

// again reports whether a caller whose acquire on key's pool p failed with
// ErrClosed should ask for key's pool again: p was removed for being idle
// while the caller was on its way to it. A p closed through Pool.Close is
// removed from the group here, as Remove would have.
func (g *Group[K, T]) again(key K, p *Pool[T]) bool {
	if g.closed.Load() {
		return false
	}
	if p.keyIdle.Load() {
		return true
	}
	g.mu.Lock()
	if (*g.keys.Load())[key] == p && p.closed.Load() {
		g.storeLocked(key, nil)
		g.removed.Add(1)
	}
	g.mu.Unlock()
	return false
}

// Pool returns key's pool, or nil if the key has none now, for its live
// settings (SetMaxConns, SetMinConns, Reset, ...) and its reports (Stats,
// Conns). Closing it removes the key, as Remove does.
func (g *Group[K, T]) Pool(key K) *Pool[T] {
	return (*g.keys.Load())[key]
}

// Keys returns the keys that have a pool now, in no particular order.
func (g *Group[K, T]) Keys() []K {
	m := *g.keys.Load()
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
