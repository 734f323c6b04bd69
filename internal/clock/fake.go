package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// fakeStart is where NewFake starts: a fixed instant, so test output and
// failure messages are the same on every run.
var fakeStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Fake is a Clock whose time moves only when Advance is called. Nothing in
// Fake sleeps for real. Fake is safe for concurrent use. The zero value is
// usable and stands at the zero time.Time; NewFake is the usual start.
//
// Timers and tickers follow Go 1.23 semantics: channels have a buffer of one
// and are sent to without blocking, and after Stop or Reset returns no value
// from the previous arming is received.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	origin time.Time // Mono's zero: the start time
	seq    uint64    // arming counter: breaks deadline ties in arming order
	armed  timerHeap // armed timers and tickers, earliest deadline first
	// changed is closed and cleared whenever len(armed) changes. It is nil
	// until a BlockUntil call needs to wait.
	changed chan struct{}
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake that starts at 2024-01-01 00:00:00 UTC.
func NewFake() *Fake { return NewFakeAt(fakeStart) }

// NewFakeAt returns a Fake that starts at t.
func NewFakeAt(t time.Time) *Fake { return &Fake{now: t, origin: t} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns f.Now().Sub(t).
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// Mono returns the fake time elapsed since the Fake was made.
func (f *Fake) Mono() time.Duration { return f.Now().Sub(f.origin) }

// NewTimer returns a timer due at Now()+d. A timer with d <= 0 is due at
// once and fires on the next Advance, including Advance(0).
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	f.arm(t, d)
	f.mu.Unlock()
	return t
}

// AfterFunc returns a timer that calls fn when Advance reaches Now()+d.
// Unlike the real clock, fn runs on the goroutine that called Advance, which
// waits for fn to return. The returned Timer's C is nil.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{f: f, fn: fn}
	f.mu.Lock()
	f.arm(t, d)
	f.mu.Unlock()
	return t
}

// NewTicker returns a ticker that fires every d of fake time. It panics if
// d <= 0.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &fakeTimer{f: f, c: make(chan time.Time, 1), period: d}
	f.mu.Lock()
	f.arm(t, d)
	f.mu.Unlock()
	return fakeTicker{t}
}

// Advance moves the clock forward by d. It fires every timer and ticker due
// at or before the new time in deadline order (ties in arming order), with
// Now set to each deadline as it fires; then Now is the old time plus d.
//
// Channel timers and tickers send without blocking: if the one-slot buffer
// is full the value is dropped. A ticker due several times fires once per
// period. AfterFunc callbacks run on the calling goroutine with the clock
// unlocked, so they may use the clock; Advance waits for each to return
// before firing the next timer, and a timer armed by a callback that is due
// within this Advance fires in it too. If a callback panics, the panic
// propagates and Now stays at that callback's deadline.
//
// Advance panics if d < 0: time never moves backwards.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance with negative duration")
	}
	f.mu.Lock()
	target := f.now.Add(d)
	for len(f.armed) > 0 && !f.armed[0].when.After(target) {
		t := f.armed[0]
		if t.when.After(f.now) {
			f.now = t.when
		}
		if t.period > 0 {
			t.when = t.when.Add(t.period)
			f.seq++
			t.seq = f.seq
			heap.Fix(&f.armed, 0)
		} else {
			heap.Pop(&f.armed)
			f.notify()
		}
		if t.fn != nil {
			f.mu.Unlock()
			t.fn()
			f.mu.Lock()
			continue
		}
		select {
		case t.c <- f.now:
		default: // the receiver is behind; drop the value like time.Ticker
		}
	}
	if target.After(f.now) {
		f.now = target
	}
	f.mu.Unlock()
}

// Waiters returns the number of armed timers and tickers: created or reset
// and not yet fired or stopped. A ticker stays armed until stopped.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// BlockUntil blocks until at least n timers and tickers are armed (see
// Waiters) or ctx is done. It returns nil once the count is reached, even if
// ctx is done by then; otherwise it returns ctx.Err(). It does not poll: it
// wakes only when the count changes.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.armed) >= n {
			f.mu.Unlock()
			return nil
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		changed := f.changed
		f.mu.Unlock()

		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// arm schedules t at f.now+d. The caller must hold f.mu and t must not be
// armed.
func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	t.when = f.now.Add(d)
	f.seq++
	t.seq = f.seq
	heap.Push(&f.armed, t)
	f.notify()
}

// disarm unschedules t and reports whether it was armed. The caller must
// hold f.mu.
func (f *Fake) disarm(t *fakeTimer) bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&f.armed, t.index)
	f.notify()
	return true
}

// notify wakes BlockUntil callers. The caller must hold f.mu.
func (f *Fake) notify() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}
