package pgxpool

import (
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

// Stat is a snapshot of a pool's figures, with pgxpool's methods, computed
// from chanpool's Stats (Chanpool returns them all).
type Stat struct {
	s chanpool.Stats
}

// Stat returns a snapshot of the pool's figures. It never blocks.
func (p *Pool) Stat() *Stat { return &Stat{s: p.p.Stats()} }

// Chanpool returns every figure chanpool keeps: closes by reason, timeouts,
// the breaker, wait and hold time percentiles.
func (s *Stat) Chanpool() chanpool.Stats { return s.s }

// AcquireCount is the number of connections leased.
func (s *Stat) AcquireCount() int64 { return int64(s.s.Acquired) }

// AcquireDuration is the total time acquires waited. Acquires served from
// the idle list do not wait and count as zero.
func (s *Stat) AcquireDuration() time.Duration { return s.s.AcquireWait.Sum }

// AcquiredConns is the number of connections leased now.
func (s *Stat) AcquiredConns() int32 { return int32(s.s.Busy) }

// CanceledAcquireCount is the number of acquires ended by their context
// while waiting.
func (s *Stat) CanceledAcquireCount() int64 { return int64(s.s.Canceled) }

// ConstructingConns is the number of dials in flight.
func (s *Stat) ConstructingConns() int32 { return int32(s.s.Dialing) }

// EmptyAcquireCount is the number of acquires that found no idle connection
// and waited for one.
func (s *Stat) EmptyAcquireCount() int64 { return int64(s.s.Waited) }

// EmptyAcquireWaitTime is the total time those acquires waited.
func (s *Stat) EmptyAcquireWaitTime() time.Duration { return s.s.AcquireWait.Sum }

// IdleConns is the number of idle connections now.
func (s *Stat) IdleConns() int32 { return int32(s.s.Idle) }

// MaxConns is the pool's MaxConns in force.
func (s *Stat) MaxConns() int32 { return int32(s.s.MaxConns) }

// TotalConns is the number of open connections plus dials in flight.
func (s *Stat) TotalConns() int32 { return int32(s.s.Total) }

// NewConnsCount is the number of dials attempted, successful or not.
func (s *Stat) NewConnsCount() int64 { return int64(s.s.Created + s.s.DialErrors) }

// MaxLifetimeDestroyCount is the number of connections closed at their
// MaxConnLifetime.
func (s *Stat) MaxLifetimeDestroyCount() int64 { return int64(s.s.Closed.Lifetime) }

// MaxIdleDestroyCount is the number of connections closed for idleness.
func (s *Stat) MaxIdleDestroyCount() int64 { return int64(s.s.Closed.Idle) }
