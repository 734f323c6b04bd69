package chanpool

import (
	"context"
	"fmt"
)

// Running Config.HealthCheck and Config.Reset on a connection, bounded by
// CheckTimeout.

// healthy runs Config.HealthCheck on c if it has been idle longer than
// HealthCheckAfter.
func (p *Pool[T]) healthy(ctx context.Context, c *conn[T]) bool {
	if idle := p.clock.Now().UnixNano() - c.lastUsed.Load(); idle <= int64(p.set.healthAfter) && p.set.healthAfter > 0 {
		return true
	}
	// The caller's values, not its cancellation: a caller giving up must not
	// get a healthy connection destroyed. CheckTimeout still bounds it.
	if err := p.check(p.cfg.HealthCheck, context.WithoutCancel(ctx), c.value); err != nil {
		p.log.Warn("chanpool: health check failed; closing connection", "conn", c.id, "err", err)
		return false
	}
	return true
}

// check runs a HealthCheck or Reset bounded by CheckTimeout, turning a panic
// into an error. The call runs on a goroutine of the pool's, so that a check
// that ignores its context is abandoned at the timeout instead of hanging
// the caller; Close waits for it (see Close).
func (p *Pool[T]) check(f func(context.Context, T) error, ctx context.Context, v T) error {
	ctx, cancel := p.bounded(ctx, p.set.checkTimeout)
	defer cancel()
	run := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panicked: %v", r)
			}
		}()
		return f(ctx, v)
	}
	if p.set.checkTimeout <= 0 {
		return run()
	}
	done := make(chan error, 1)
	p.checking.Add(1)
	if !p.goTracked(func() { defer p.checking.Add(-1); done <- run() }) {
		p.checking.Add(-1)
		return ErrClosed
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("gave up after %v: %w", p.set.checkTimeout, context.Cause(ctx))
	}
}
