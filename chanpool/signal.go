package chanpool

// The wake-up signal. When the pool closes or the breaker opens, every
// waiting caller must give up at once. Rather than have each waiter watch a
// second channel (a select locks and queues on every channel it watches,
// which dominated a contended acquire's profile: DESIGN.md, "Wake-ups
// travel through the free list"), the news travels through the idle list itself as a nil token: raise puts
// it there, and whoever receives it calls signaled, which passes it on for
// as long as the news holds. Waiters so leave one after another, each
// waking the next; once nobody waits, the signal stays in the list until a
// caller or Close takes it. A signal whose news no longer holds (the
// breaker closed again) is dropped by its next receiver.
//
// At most one signal exists: raise sets Pool.signal before sending it and
// signaled clears it on receipt. The idle channel has room for MaxConns
// connections and the signal, so sending it never blocks.

// raise puts the wake-up signal in the idle list, unless it is out already.
func (p *Pool[T]) raise() {
	if p.signal.CompareAndSwap(false, true) {
		select {
		case p.idle <- nil:
		default:
			panic(errOverflow)
		}
	}
}

// signaled is called by whoever received the wake-up signal. It returns the
// error a waiting caller should give up with — ErrClosed, or the breaker's
// error — after passing the signal on to the next receiver, or nil, dropping
// the signal, if its news no longer holds.
func (p *Pool[T]) signaled() error {
	p.signal.Store(false)
	var err error
	switch {
	case p.closed.Load():
		err = ErrClosed
	case p.breakerOpen.Load():
		err = p.breakerErr()
	default:
		return nil
	}
	p.raise()
	return err
}
