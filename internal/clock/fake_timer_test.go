package clock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/internal/clock"
)

func TestFakeTimerStop(t *testing.T) {
	t.Run("state=armed", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		assert.True(t, tm.Stop(), "Stop of an armed timer")
		assert.Zero(t, f.Waiters(), "Waiters after Stop")
		assert.False(t, tm.Stop(), "second Stop")
		f.Advance(time.Hour)
		_, ok := recv(tm.C())
		assert.False(t, ok, "stopped timer fired")
	})
	t.Run("state=received", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		f.Advance(10 * ms)
		_, ok := recv(tm.C())
		require.True(t, ok, "timer fired")
		assert.False(t, tm.Stop(), "Stop after the value was received")
	})
	t.Run("state=pending", func(t *testing.T) {
		// Go 1.23: a value sent but not received is discarded, and Stop
		// reports that it stopped the timer.
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		f.Advance(10 * ms)
		assert.Zero(t, f.Waiters(), "a fired timer is unregistered")
		assert.True(t, tm.Stop(), "Stop with an undelivered value")
		_, ok := recv(tm.C())
		assert.False(t, ok, "stale value received after Stop")
	})
	t.Run("state=func", func(t *testing.T) {
		f := clock.NewFake()
		calls := 0
		tm := f.AfterFunc(10*ms, func() { calls++ })
		assert.Nil(t, tm.C(), "AfterFunc timer's C")
		assert.True(t, tm.Stop(), "Stop of an armed func")
		f.Advance(time.Hour)
		assert.Zero(t, calls, "stopped func was called")

		tm = f.AfterFunc(10*ms, func() { calls++ })
		f.Advance(10 * ms)
		require.Equal(t, 1, calls, "func calls")
		assert.False(t, tm.Stop(), "Stop after the func ran")
	})
}

func TestFakeTimerReset(t *testing.T) {
	t.Run("state=armed", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		assert.True(t, tm.Reset(20*ms), "Reset of an armed timer")
		assert.Equal(t, 1, f.Waiters(), "Waiters after Reset")
		f.Advance(10 * ms)
		_, ok := recv(tm.C())
		assert.False(t, ok, "timer fired at its old deadline")
		f.Advance(10 * ms)
		v, ok := recv(tm.C())
		require.True(t, ok, "timer did not fire at its new deadline")
		assert.Equal(t, at(20*ms), v, "value")
	})
	t.Run("state=received", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		f.Advance(10 * ms)
		_, ok := recv(tm.C())
		require.True(t, ok, "first firing")
		assert.False(t, tm.Reset(5*ms), "Reset after the value was received")
		assert.Equal(t, 1, f.Waiters(), "Reset re-arms a fired timer")
		f.Advance(5 * ms)
		v, ok := recv(tm.C())
		require.True(t, ok, "second firing")
		assert.Equal(t, at(15*ms), v, "value")
	})
	t.Run("state=pending", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		f.Advance(10 * ms)
		assert.True(t, tm.Reset(5*ms), "Reset with an undelivered value")
		_, ok := recv(tm.C())
		assert.False(t, ok, "stale value received after Reset")
		f.Advance(5 * ms)
		v, ok := recv(tm.C())
		require.True(t, ok, "firing after Reset")
		assert.Equal(t, at(15*ms), v, "value is from the new arming")
	})
	t.Run("state=stopped", func(t *testing.T) {
		f := clock.NewFake()
		tm := f.NewTimer(10 * ms)
		require.True(t, tm.Stop(), "Stop")
		assert.False(t, tm.Reset(10*ms), "Reset of a stopped timer")
		f.Advance(10 * ms)
		_, ok := recv(tm.C())
		assert.True(t, ok, "Reset did not re-arm a stopped timer")
	})
	t.Run("state=func", func(t *testing.T) {
		f := clock.NewFake()
		var calls []time.Time
		tm := f.AfterFunc(10*ms, func() { calls = append(calls, f.Now()) })
		f.Advance(10 * ms)
		assert.False(t, tm.Reset(10*ms), "Reset after the func ran")
		f.Advance(10 * ms)
		assert.Equal(t, []time.Time{at(10 * ms), at(20 * ms)}, calls, "func calls")
	})
}

func TestFakeTickerFiresEveryPeriod(t *testing.T) {
	f := clock.NewFake()
	tk := f.NewTicker(10 * ms)
	defer tk.Stop()
	// Funcs between ticks drain the channel, so no tick is dropped.
	var got []time.Time
	for _, d := range []time.Duration{15 * ms, 25 * ms, 35 * ms} {
		f.AfterFunc(d, func() {
			if v, ok := recv(tk.C()); ok {
				got = append(got, v)
			}
		})
	}

	f.Advance(40 * ms)

	assert.Equal(t, []time.Time{at(10 * ms), at(20 * ms), at(30 * ms)}, got, "ticks seen between ticks")
	v, ok := recv(tk.C())
	require.True(t, ok, "tick at 40ms")
	assert.Equal(t, at(40*ms), v, "last tick")
	assert.Equal(t, 1, f.Waiters(), "a ticker stays armed")
}

func TestFakeTickerDropsTicksWhenUndrained(t *testing.T) {
	f := clock.NewFake()
	tk := f.NewTicker(10 * ms)
	defer tk.Stop()

	mustReturn(t, "Advance with an undrained ticker", func() { f.Advance(100 * ms) })

	v, ok := recv(tk.C())
	require.True(t, ok, "first tick")
	assert.Equal(t, at(10*ms), v, "the buffer keeps the first tick; later ones are dropped")
	_, ok = recv(tk.C())
	assert.False(t, ok, "more than one buffered tick")

	f.Advance(10 * ms) // the schedule stays on the 10ms grid
	v, ok = recv(tk.C())
	require.True(t, ok, "tick after draining")
	assert.Equal(t, at(110*ms), v, "next tick")
}

func TestFakeTickerStop(t *testing.T) {
	f := clock.NewFake()
	tk := f.NewTicker(10 * ms)
	f.Advance(10 * ms) // leaves a tick in the buffer
	require.Equal(t, 1, f.Waiters(), "Waiters before Stop")

	tk.Stop()

	assert.Zero(t, f.Waiters(), "Stop must unregister the ticker")
	_, ok := recv(tk.C())
	assert.False(t, ok, "stale tick received after Stop")
	f.Advance(time.Hour)
	_, ok = recv(tk.C())
	assert.False(t, ok, "tick after Stop")
}

func TestFakeTickerReset(t *testing.T) {
	f := clock.NewFake()
	tk := f.NewTicker(10 * ms)
	f.Advance(5 * ms)

	tk.Reset(20 * ms) // next ticks at 25ms, 45ms
	f.Advance(15 * ms)
	_, ok := recv(tk.C())
	assert.False(t, ok, "tick on the old schedule")
	f.Advance(5 * ms)
	v, ok := recv(tk.C())
	require.True(t, ok, "tick on the new schedule")
	assert.Equal(t, at(25*ms), v, "first tick after Reset")
	f.Advance(10 * ms)
	_, ok = recv(tk.C())
	assert.False(t, ok, "tick at 35ms: Reset did not change the period")
	f.Advance(10 * ms)
	v, ok = recv(tk.C())
	require.True(t, ok, "second tick after Reset")
	assert.Equal(t, at(45*ms), v, "second tick after Reset")

	tk.Stop()
	tk.Reset(5 * ms)
	assert.Equal(t, 1, f.Waiters(), "Reset re-arms a stopped ticker")
	f.Advance(5 * ms)
	_, ok = recv(tk.C())
	assert.True(t, ok, "tick after Reset of a stopped ticker")
	tk.Stop()
}

func TestFakeTickerNonPositivePanics(t *testing.T) {
	f := clock.NewFake()
	assert.PanicsWithValue(t, "clock: non-positive interval for NewTicker", func() { f.NewTicker(0) })
	tk := f.NewTicker(ms)
	assert.PanicsWithValue(t, "clock: non-positive interval for Ticker.Reset", func() { tk.Reset(-ms) })
	assert.Equal(t, 1, f.Waiters(), "a panicking Reset leaves the ticker armed")
	tk.Stop()
}
