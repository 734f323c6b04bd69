package clock

import "time"

// Real returns the Clock backed by package time. The value is zero-size, so
// calling Real is free and all results are interchangeable.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                  { return time.Now() }
func (realClock) Since(t time.Time) time.Duration { return time.Since(t) }
func (realClock) Mono() time.Duration             { return time.Since(origin) }

// origin is Mono's fixed point; time.Since of a time with a monotonic
// reading costs one clock read.
var origin = time.Now()

func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

func (realClock) NewTicker(d time.Duration) Ticker {
	return realTicker{time.NewTicker(d)}
}

// realTimer and realTicker hold a single pointer, so they are stored in an
// interface value directly: wrapping allocates nothing beyond what package
// time allocates.
type (
	realTimer  struct{ t *time.Timer }
	realTicker struct{ t *time.Ticker }
)

// C returns the timer's channel; nil for a timer made by AfterFunc.
func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Stop()                 { r.t.Stop() }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }
