package chanpool

import "errors"

var (
	// ErrClosed is returned by Acquire and TryAcquire once Close has been
	// called, including to callers that were waiting when Close began, and by
	// a second call to Close.
	ErrClosed = errors.New("chanpool: pool closed")

	// ErrExhausted is returned by Acquire when no connection is idle, the pool
	// is at Config.MaxConns and Config.MaxWaiting callers are already waiting.
	ErrExhausted = errors.New("chanpool: pool exhausted: too many waiting clients")

	// ErrAcquireTimeout is returned by Acquire when Config.AcquireTimeout
	// elapses before a connection becomes available. A caller whose own
	// context ends first gets that context's error instead.
	ErrAcquireTimeout = errors.New("chanpool: acquire timed out")

	// ErrDial wraps every error returned by Config.Dial (and a panic in it),
	// together with the dial's own error: both errors.Is(err, ErrDial) and
	// errors.Is(err, dialErr) hold.
	ErrDial = errors.New("chanpool: dial failed")

	// ErrBreakerOpen is returned by Acquire and TryAcquire, instead of
	// waiting, when Config.BreakerThreshold consecutive dials have failed
	// and no idle connection is available; waiting callers get it at once
	// when the breaker opens. It wraps the last dial error, so
	// errors.Is(err, ErrDial) holds too. The first successful dial (the pool
	// probes with backoff) closes the breaker.
	ErrBreakerOpen = errors.New("chanpool: dial breaker open")

	// ErrNoIdle is returned by TryAcquire when no idle connection is
	// available right now.
	ErrNoIdle = errors.New("chanpool: no idle connection")

	// ErrNotHeld is returned by Conn.Release and Conn.Destroy when the handle
	// does not hold a lease: the zero Conn, a handle already released or
	// destroyed, or a copy of one. The pool is left unchanged and the misuse
	// is counted in Stats.Misuse.
	ErrNotHeld = errors.New("chanpool: connection not held by this handle")
)
