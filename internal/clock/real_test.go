package clock_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/internal/clock"
)

// wait is how long the real-clock tests wait for a timer of a few
// milliseconds; it is generous so a loaded CI machine does not flake.
const wait = 10 * time.Second

func TestRealNow(t *testing.T) {
	c := clock.Real()
	before := time.Now()
	now := c.Now()
	assert.False(t, now.Before(before), "Now() = %v, before %v", now, before)
	assert.GreaterOrEqual(t, c.Since(before), time.Duration(0), "Since")
}

func TestRealAllocatesNothing(t *testing.T) {
	var c clock.Clock
	allocs := testing.AllocsPerRun(100, func() { c = clock.Real() })
	assert.Zero(t, allocs, "allocs per Real()")
	_ = c
}

func TestRealTimerFires(t *testing.T) {
	tm := clock.Real().NewTimer(2 * ms)
	select {
	case <-tm.C():
	case <-time.After(wait):
		t.Fatal("real timer did not fire")
	}
	assert.False(t, tm.Stop(), "Stop after the value was received")
	assert.False(t, tm.Reset(2*ms), "Reset after the value was received")
	select {
	case <-tm.C():
	case <-time.After(wait):
		t.Fatal("real timer did not fire after Reset")
	}
}

func TestRealAfterFuncFires(t *testing.T) {
	done := make(chan struct{})
	tm := clock.Real().AfterFunc(2*ms, func() { close(done) })
	assert.Nil(t, tm.C(), "AfterFunc timer's C")
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("real AfterFunc did not run")
	}
	assert.False(t, tm.Stop(), "Stop after the func ran")
}

func TestRealTickerTicks(t *testing.T) {
	tk := clock.Real().NewTicker(2 * ms)
	defer tk.Stop()
	for i := range 2 {
		select {
		case <-tk.C():
		case <-time.After(wait):
			t.Fatalf("tick %d did not arrive", i)
		}
	}
}

// The Stop tests run in a synctest bubble, where time moves only when every
// goroutine is blocked, so "nothing fired" is certain rather than likely.
func TestRealStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := clock.Real()
		tm := c.NewTimer(ms)
		called := false
		af := c.AfterFunc(ms, func() { called = true })
		tk := c.NewTicker(ms)

		require.True(t, tm.Stop(), "Stop of an armed timer")
		require.True(t, af.Stop(), "Stop of an armed func")
		tk.Stop()
		assert.False(t, tm.Stop(), "second Stop")

		<-c.NewTimer(time.Hour).C() // let an hour of bubble time pass
		synctest.Wait()

		_, ok := recv(tm.C())
		assert.False(t, ok, "stopped timer fired")
		assert.False(t, called, "stopped func ran")
		_, ok = recv(tk.C())
		assert.False(t, ok, "stopped ticker ticked")
	})
}

func TestRealMonoIsMonotonic(t *testing.T) {
	c := clock.Real()
	a := c.Mono()
	b := c.Mono()
	assert.GreaterOrEqual(t, b, a)
	assert.Greater(t, a, time.Duration(0), "time has passed since the origin")
}
