package chanpool

import (
	"context"
	"errors"
	"fmt"
)

// A Group's live operations: Reset, Remove, SetMaxConns and Close.

// Reset retires every connection of key's pool, as Pool.Reset does. A key
// with no pool has nothing to reset.
func (g *Group[K, T]) Reset(key K) {
	if p := g.Pool(key); p != nil {
		p.Reset()
	}
}

// Remove removes key from the group and closes its pool, as Pool.Close
// does with ctx: idle connections close now, leased ones as they come back
// or, once ctx is done, at once; callers waiting for key fail with
// ErrClosed. A later Acquire of key makes a new pool. Removing a key with
// no pool does nothing and returns nil.
func (g *Group[K, T]) Remove(ctx context.Context, key K) error {
	g.mu.Lock()
	p := (*g.keys.Load())[key]
	if p != nil {
		g.storeLocked(key, nil)
		g.removed.Add(1)
	}
	g.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Close(ctx)
}

// SetMaxConns changes the group's cap while it runs, to n between 1 and
// GroupConfig.MaxConnsLimit. Raising it dials at once for the callers
// queued for the cap. Lowering it never takes a leased connection from its
// holder: idle connections of every key close at once, and leased ones as
// they come back (ReasonGroupCap), until the group is within n; meanwhile
// no dial starts. A group made with MaxConns None has no cap to change and
// returns an error, as does an invalid n; on a closed group SetMaxConns
// returns ErrClosed.
func (g *Group[K, T]) SetMaxConns(n int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() {
		return ErrClosed
	}
	if g.share == nil {
		return errors.New("chanpool: Group.SetMaxConns: the group has no cap (GroupConfig.MaxConns is None)")
	}
	return g.share.setMax(n)
}

// Close closes every key's pool, concurrently, as Pool.Close does with
// ctx, and stops the group's goroutines. Callers waiting on any key fail
// with ErrClosed, and later calls too. Close blocks until every pool has
// closed or ctx is done, and returns the pools' errors joined; a second
// Close returns ErrClosed.
func (g *Group[K, T]) Close(ctx context.Context) error {
	g.mu.Lock()
	if g.closed.Load() {
		g.mu.Unlock()
		return ErrClosed
	}
	g.closed.Store(true)
	close(g.stop)
	m := *g.keys.Load()
	g.keys.Store(&map[K]*Pool[T]{})
	g.mu.Unlock()

	errs := make(chan error, len(m))
	for _, p := range m {
		go func() { errs <- p.Close(ctx) }()
	}
	var all []error
	for range m {
		all = append(all, <-errs)
	}
	if !waitFor(ctx, &g.wg) {
		all = append(all, fmt.Errorf("chanpool: group close: removed keys still closing: %w", ended(ctx)))
	}
	return errors.Join(all...)
}
