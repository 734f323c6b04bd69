// Package clock abstracts time so that every timeout, backoff and eviction in
// chanpool can be driven by a fake clock in tests instead of sleeping.
//
// Real returns the wall clock. NewFake returns a manual clock that starts at a
// fixed instant and moves only when the test calls Advance.
package clock

import "time"

// Clock is the source of time and timers used by chanpool. Implementations
// are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t.
	Since(t time.Time) time.Duration
	// Mono returns the time elapsed since a fixed origin of the clock's
	// choosing, for measuring intervals. It reads the clock once, where Now
	// reads both the wall and the monotonic clock.
	Mono() time.Duration
	// NewTimer returns a timer that sends the current time on its channel
	// once, after at least d.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine after at least d (Fake calls it
	// on the goroutine running Advance). The returned Timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTicker returns a ticker that sends the current time on its channel
	// every d. It panics if d <= 0.
	NewTicker(d time.Duration) Ticker
}

// Timer mirrors time.Timer with Go 1.23 semantics: after Stop or Reset
// returns, no value from the previous arming is received from C.
type Timer interface {
	// C returns the channel the timer fires on; nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped the timer: false if it had already been stopped, or had fired
	// and its value was received (or its func started). As in Go 1.23, a
	// value sent but not yet received is discarded and Stop reports true.
	Stop() bool
	// Reset re-arms the timer to fire after d, even if it had fired or been
	// stopped. It reports whether the timer had been active, in the sense
	// of Stop.
	Reset(d time.Duration) bool
}

// Ticker mirrors time.Ticker.
type Ticker interface {
	// C returns the channel the ticks are delivered on (buffer of one; a
	// slow receiver misses ticks rather than blocking the clock).
	C() <-chan time.Time
	// Stop turns the ticker off and unregisters it; no tick is received
	// after Stop returns.
	Stop()
	// Reset changes the period to d and restarts the ticker from now.
	Reset(d time.Duration)
}
