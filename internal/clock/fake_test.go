package clock_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/internal/clock"
)

func TestFakeStartsAtFixedInstant(t *testing.T) {
	assert.Equal(t, start, clock.NewFake().Now(), "NewFake().Now()")

	other := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	assert.Equal(t, other, clock.NewFakeAt(other).Now(), "NewFakeAt(t).Now()")

	f := clock.NewFake()
	f.Advance(90 * time.Second)
	assert.Equal(t, at(90*time.Second), f.Now(), "Now after Advance")
	assert.Equal(t, 90*time.Second, f.Since(start), "Since(start)")
}

func TestFakeAdvanceNegativePanics(t *testing.T) {
	f := clock.NewFake()
	assert.PanicsWithValue(t, "clock: Advance with negative duration", func() { f.Advance(-ms) })
	assert.Equal(t, start, f.Now(), "Now after the panicking Advance")
}

type firing struct {
	name string
	now  time.Time
}

func TestFakeAdvanceFiresInDeadlineOrder(t *testing.T) {
	f := clock.NewFake()
	var got []firing
	record := func(name string) func() {
		return func() { got = append(got, firing{name, f.Now()}) }
	}
	// Armed out of order; b1 and b2 tie and must fire in arming order.
	f.AfterFunc(30*ms, record("c"))
	f.AfterFunc(10*ms, record("a"))
	f.AfterFunc(20*ms, record("b1"))
	f.AfterFunc(20*ms, record("b2"))
	tm := f.NewTimer(15 * ms)
	// Due at the same instant as tm but armed later: tm's value must already
	// be in its channel.
	f.AfterFunc(15*ms, func() {
		v, ok := recv(tm.C())
		assert.True(t, ok, "timer due at 15ms had not fired before a later-armed func due at 15ms")
		assert.Equal(t, at(15*ms), v, "value sent by the timer")
		record("timer-seen")()
	})
	require.Equal(t, 6, f.Waiters(), "armed before Advance")

	f.Advance(time.Second)

	want := []firing{
		{"a", at(10 * ms)},
		{"timer-seen", at(15 * ms)},
		{"b1", at(20 * ms)},
		{"b2", at(20 * ms)},
		{"c", at(30 * ms)},
	}
	assert.Equal(t, want, got, "firings (name, Now inside the callback)")
	assert.Equal(t, at(time.Second), f.Now(), "Now after Advance")
	assert.Zero(t, f.Waiters(), "fired timers must be unregistered")
}

func TestFakeAdvanceStopsAtTarget(t *testing.T) {
	f := clock.NewFake()
	tm := f.NewTimer(10 * ms)

	f.Advance(9 * ms)
	_, ok := recv(tm.C())
	assert.False(t, ok, "timer fired 1ms early")
	assert.Equal(t, 1, f.Waiters(), "Waiters before the deadline")

	f.Advance(ms) // exactly the deadline
	v, ok := recv(tm.C())
	require.True(t, ok, "timer did not fire at its deadline")
	assert.Equal(t, at(10*ms), v, "value sent by the timer")
}

func TestFakeZeroDurationFiresOnNextAdvance(t *testing.T) {
	f := clock.NewFake()
	tm := f.NewTimer(0)
	called := false
	f.AfterFunc(-ms, func() { called = true })

	f.Advance(0)

	v, ok := recv(tm.C())
	require.True(t, ok, "NewTimer(0) did not fire on Advance(0)")
	assert.Equal(t, start, v, "value sent by NewTimer(0)")
	assert.True(t, called, "AfterFunc(-1ms) did not run on Advance(0)")
	assert.Equal(t, start, f.Now(), "Advance(0) moved the clock")
}

func TestFakeAdvanceWaitsForCallbacks(t *testing.T) {
	f := clock.NewFake()
	done := false // no lock: the race detector flags it if Advance does not wait
	f.AfterFunc(ms, func() {
		runtime.Gosched()
		done = true
	})
	f.Advance(ms)
	assert.True(t, done, "Advance returned before the callback finished")
}

func TestFakeCallbackMayUseClock(t *testing.T) {
	f := clock.NewFake()
	var got []firing
	var self clock.Timer
	runs := 0
	self = f.AfterFunc(10*ms, func() {
		runs++
		got = append(got, firing{"self", f.Now()})
		if runs == 1 {
			// All of these take the clock's lock.
			assert.Zero(t, f.Waiters(), "Waiters inside callback: the running timer is unregistered")
			f.NewTimer(time.Hour) // due after this Advance: stays armed
			f.AfterFunc(5*ms, func() { got = append(got, firing{"child", f.Now()}) })
			assert.False(t, self.Reset(20*ms), "Reset of the running timer reported active")
		}
	})

	mustReturn(t, "Advance with re-entrant callbacks", func() { f.Advance(100 * ms) })

	want := []firing{
		{"self", at(10 * ms)},
		{"child", at(15 * ms)}, // armed by a callback, due within the same Advance
		{"self", at(30 * ms)},  // re-armed from its own callback
	}
	assert.Equal(t, want, got, "firings (name, Now inside the callback)")
	assert.Equal(t, 1, f.Waiters(), "only the 1h timer stays armed")
}

func TestFakeUndrainedChannelsDoNotBlock(t *testing.T) {
	f := clock.NewFake()
	tm := f.NewTimer(ms)
	tk := f.NewTicker(ms)

	mustReturn(t, "Advance with undrained channels", func() { f.Advance(time.Second) })

	assert.Equal(t, at(time.Second), f.Now(), "Now after Advance")
	v, ok := recv(tm.C())
	require.True(t, ok, "timer value")
	assert.Equal(t, at(ms), v, "timer value")
	tk.Stop()
}

func TestFakeMono(t *testing.T) {
	f := clock.NewFake()
	assert.Equal(t, time.Duration(0), f.Mono())
	f.Advance(3 * time.Second)
	assert.Equal(t, 3*time.Second, f.Mono(), "Mono moves with Advance")
}
