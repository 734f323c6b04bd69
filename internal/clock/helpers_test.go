package clock_test

import (
	"testing"
	"time"
)

const ms = time.Millisecond

// start is where clock.NewFake starts.
var start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns start+d.
func at(d time.Duration) time.Time { return start.Add(d) }

// recv receives from c without blocking.
func recv(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

// mustReturn runs fn and fails the test if it has not returned within a
// generous real-time limit, so a deadlock fails instead of hanging.
func mustReturn(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: did not return within 10s (deadlock?)", what)
	}
}
