package clock

import "time"

// fakeTimer is a timer or ticker of a Fake. Only Fake.Advance sends on c,
// and it does so holding f.mu, so Stop and Reset can drain a stale value
// without racing a send.
type fakeTimer struct {
	f  *Fake
	c  chan time.Time // buffer of one; nil for AfterFunc timers
	fn func()         // AfterFunc callback; nil for channel timers

	// Guarded by f.mu.
	period time.Duration // ticker period; 0 for one-shot timers
	when   time.Time     // next deadline, meaningful while armed
	seq    uint64        // arming order, breaks ties between equal deadlines
	index  int           // position in f.armed; -1 when not armed
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

// Stop disarms t and drains a value it sent but nobody received. Like
// time.Timer since Go 1.23, it reports true if it stopped an armed timer or
// drained an undelivered value, and false if the timer had already been
// stopped, or had fired and its value was received (or its func called).
func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	armed := t.f.disarm(t)
	return t.drain() || armed
}

// Reset re-arms t to fire at Now()+d, whether or not it had fired or been
// stopped, after discarding any undelivered value. It reports what Stop
// would have reported.
func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	armed := t.f.disarm(t)
	active := t.drain() || armed
	t.f.arm(t, d)
	return active
}

// drain discards a buffered value and reports whether there was one. The
// caller must hold t.f.mu.
func (t *fakeTimer) drain() bool {
	select {
	case <-t.c: // never ready when c is nil
		return true
	default:
		return false
	}
}

// fakeTicker adapts fakeTimer to the Ticker interface.
type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.c }

// Stop unregisters the ticker and discards an undelivered tick.
func (k fakeTicker) Stop() { k.t.Stop() }

// Reset sets the period to d and re-arms the ticker (even a stopped one) to
// fire first at Now()+d, discarding an undelivered tick. It panics if d <= 0.
func (k fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	k.t.f.mu.Lock()
	defer k.t.f.mu.Unlock()
	k.t.f.disarm(k.t)
	k.t.drain()
	k.t.period = d
	k.t.f.arm(k.t, d)
}

// timerHeap orders armed timers by deadline, then arming order. It
// implements heap.Interface; its methods keep fakeTimer.index current.
type timerHeap []*fakeTimer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
