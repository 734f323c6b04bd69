package clock_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/internal/clock"
)

func TestFakeBlockUntilReturnsWhenArmed(t *testing.T) {
	f := clock.NewFake()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	armed := make(chan clock.Ticker)
	go func() {
		tm := f.NewTimer(time.Minute)
		tk := f.NewTicker(time.Minute)
		tm.Stop() // back to one armed: BlockUntil(2) must keep waiting
		f.AfterFunc(time.Minute, func() {})
		armed <- tk
	}()

	require.NoError(t, f.BlockUntil(ctx, 2), "BlockUntil")
	assert.GreaterOrEqual(t, f.Waiters(), 2, "Waiters when BlockUntil returned")
	tk := <-armed
	tk.Stop()
	assert.Equal(t, 1, f.Waiters(), "Waiters after the ticker stopped")
}

// TestFakeBlockUntilWakesOnArm runs in a synctest bubble so the timer is
// armed only after BlockUntil is durably blocked: it must be woken by the
// arming itself, not by polling.
func TestFakeBlockUntilWakesOnArm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := clock.NewFake()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- f.BlockUntil(ctx, 1) }()
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("BlockUntil(1) returned %v with nothing armed", err)
		default:
		}

		f.NewTimer(time.Minute)
		synctest.Wait()

		select {
		case err := <-errc:
			assert.NoError(t, err, "BlockUntil")
		default:
			t.Error("BlockUntil(1) still blocked after a timer was armed")
		}
	})
}

func TestFakeBlockUntilContextDone(t *testing.T) {
	f := clock.NewFake()
	tm := f.NewTimer(time.Minute)
	tm.Stop() // stopped timers do not count

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.BlockUntil(ctx, 1) }()
	cancel()

	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled, "BlockUntil after cancel")
	case <-time.After(10 * time.Second):
		t.Fatal("BlockUntil did not return after its context was canceled")
	}
}

func TestFakeBlockUntilAlreadySatisfied(t *testing.T) {
	f := clock.NewFake()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, f.BlockUntil(ctx, 0), "BlockUntil(0) with a done context")
	f.AfterFunc(time.Minute, func() {})
	assert.NoError(t, f.BlockUntil(ctx, 1), "BlockUntil(1) with one armed and a done context")
}

// TestFakeConcurrentUse is a smoke test for the race detector: goroutines
// arm, reset and stop timers while another goroutine advances the clock and
// a third waits in BlockUntil.
func TestFakeConcurrentUse(t *testing.T) {
	const (
		workers = 8
		rounds  = 200
		steps   = 500
	)
	f := clock.NewFake()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	blocked := make(chan error, 1)
	go func() { blocked <- f.BlockUntil(ctx, 1<<30) }() // never satisfied

	var fired atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for range steps {
			f.Advance(ms)
		}
	})
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				d := time.Duration(1+(w+i)%5) * ms
				tm := f.NewTimer(d)
				af := f.AfterFunc(d, func() { fired.Add(1) })
				tk := f.NewTicker(d)
				_ = f.Now()
				_ = f.Waiters()
				recv(tm.C())
				recv(tk.C())
				tm.Reset(d)
				tk.Reset(2 * d)
				tm.Stop()
				af.Stop()
				tk.Stop()
			}
		})
	}
	wg.Wait()
	cancel()

	assert.ErrorIs(t, <-blocked, context.Canceled, "BlockUntil")
	assert.Equal(t, at(steps*ms), f.Now(), "Now after all Advances")
	assert.Zero(t, f.Waiters(), "every timer was stopped")
	t.Logf("%d funcs fired", fired.Load())
}
