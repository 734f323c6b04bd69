package chanpool

import (
	"context"
	"sync"
	"time"

	"github.com/chanpool/chanpool/internal/clock"
)

// resetCtx is the context Config.Reset runs with: it expires CheckTimeout
// after Reset first calls its Deadline, Done or Err, and costs nothing
// until then. A Reset that only reads the connection's state (is it closed,
// is it inside a transaction?) never calls them, so a release pays no clock
// read, no timer and no allocation for the bound; one that does a round
// trip asks for Done or Deadline before it starts, which reads the clock
// and arms a timer, a cost the round trip dwarfs.
//
// Each connection keeps one resetCtx for as long as its resets leave it
// untouched; one that was looked at is ended when its Reset returns (Done
// closed, Err Canceled, in case the Reset kept it) and replaced. Only the
// goroutine running the connection's Reset starts and ends it, but the
// Reset may hand it to other goroutines meanwhile: mu guards the rest.
type resetCtx struct {
	clock   clock.Clock
	timeout time.Duration

	// used mirrors touched, for end to read without the mutex: a Reset
	// that never looks at its context costs no lock.
	used atomicBool

	mu       sync.Mutex
	touched  bool      // Deadline, Done or Err was called: deadline is set
	deadline time.Time // CheckTimeout after the first touch
	done     chan struct{}
	err      error
	timer    clock.Timer
}

func (p *Pool[T]) newResetCtx() *resetCtx {
	return &resetCtx{clock: p.clock, timeout: p.set.checkTimeout}
}

// touchLocked sets the deadline at the first touch. Caller must hold x.mu.
func (x *resetCtx) touchLocked() {
	if !x.touched {
		x.touched = true
		x.deadline = x.clock.Now().Add(x.timeout)
		x.used.Store(true)
	}
}

// Deadline returns CheckTimeout after the first call of Deadline, Done or
// Err.
func (x *resetCtx) Deadline() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.touchLocked()
	return x.deadline, true
}

// Done returns a channel closed at the deadline or when Reset returns.
func (x *resetCtx) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.touchLocked()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		} else {
			x.timer = x.clock.AfterFunc(x.deadline.Sub(x.clock.Now()), x.expire)
		}
	}
	return x.done
}

// Err returns context.DeadlineExceeded once the deadline has passed,
// context.Canceled once Reset has returned, and nil before.
func (x *resetCtx) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.touchLocked()
	if x.err == nil && !x.clock.Now().Before(x.deadline) {
		x.endLocked(context.DeadlineExceeded)
	}
	return x.err
}

// Value has no values: Release has no caller's context to take them from.
func (x *resetCtx) Value(any) any { return nil }

func (x *resetCtx) expire() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.endLocked(context.DeadlineExceeded)
}

// endLocked sets the context's error, once. Caller must hold x.mu.
func (x *resetCtx) endLocked(err error) {
	if x.err != nil {
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
	if x.timer != nil {
		x.timer.Stop()
	}
}

// end is called when Reset returns. It reports whether Reset touched the
// context, which is then ended and must not be reused.
func (x *resetCtx) end() bool {
	if !x.used.Load() {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.touched {
		return false
	}
	x.endLocked(context.Canceled)
	return true
}

// expired reports whether the deadline passed before Reset returned. Only
// after end.
func (x *resetCtx) expired() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err == context.DeadlineExceeded || !x.clock.Now().Before(x.deadline)
}
