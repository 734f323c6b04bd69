package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// slowest is a chanpool.Tracer that keeps the slowest acquire of the run,
// with the context it started with: what a tracing backend would get as a
// span. It is the demo's own, in a few lines; contrib/otel exports the same
// events as OpenTelemetry spans.
type slowest struct {
	mu    sync.Mutex
	event chanpool.AcquireEvent
	at    time.Time
}

func (s *slowest) AcquireStart(ctx context.Context) context.Context { return ctx }

func (s *slowest) AcquireEnd(_ context.Context, e chanpool.AcquireEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Wait > s.event.Wait {
		s.event, s.at = e, time.Now()
	}
}

// String describes the slowest acquire as a one-line span.
func (s *slowest) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.event
	if e.Wait == 0 {
		return "slowest acquire: none recorded"
	}
	out := fmt.Sprintf("slowest acquire (traced): %v, waited=%t, conn=%d, ended %s",
		e.Wait, e.Waited, e.Conn.ID, s.at.Format("15:04:05.000"))
	if e.Err != nil {
		out += fmt.Sprintf(", err=%v", e.Err)
	}
	return out
}
