package chanpool

import "time"

// GroupStats is a snapshot of a Group: the cap, and each key's Stats with
// their sum. Like Stats, each figure is read atomically but not all at one
// instant.
type GroupStats[K comparable] struct {
	// MaxConns is the group's cap in force (0: none), and Open the
	// connections open or being dialed across every key (≤ MaxConns).
	MaxConns, Open int
	// Queued is how many callers wait for the cap: their keys have room,
	// the group has none.
	Queued int
	// KeysCreated and KeysRemoved count the keys made and removed (idle,
	// by Remove, or closed through their Pool) since the group was made.
	KeysCreated, KeysRemoved uint64
	// Keys holds each key's Stats, and Sum their sum: counts and counters
	// add up; of the latencies, Count, Sum and Buckets add up, and the
	// quantiles, which do not, are left zero (see each key's).
	Keys map[K]Stats
	Sum  Stats
}

// Stats returns a snapshot of the group. It reads atomics and the group's
// own small lock, never a lock an acquirer of an existing key takes, and
// allocates.
func (g *Group[K, T]) Stats() GroupStats[K] {
	m := *g.keys.Load()
	gs := GroupStats[K]{
		KeysCreated: g.created.Load(),
		KeysRemoved: g.removed.Load(),
		Keys:        make(map[K]Stats, len(m)),
	}
	if g.share != nil {
		g.share.mu.Lock()
		gs.MaxConns, gs.Queued = int(g.share.max), len(g.share.queue)
		g.share.mu.Unlock()
		gs.Open = int(g.share.open.Load())
	}
	for k, p := range m {
		s := p.Stats()
		gs.Keys[k] = s
		gs.Sum.Add(&s)
	}
	if g.share == nil {
		gs.Open = gs.Sum.Total
	}
	return gs
}

// Add adds o's figures to s, as GroupStats.Sum adds up the keys': counts,
// gauges and counters add (BreakerOpen: either is open); of the latencies,
// Count, Sum and Buckets add, and the quantiles are left as s had them.
// AvgAcquire is recomputed from the sums.
func (s *Stats) Add(o *Stats) {
	s.MaxConns += o.MaxConns
	s.MinConns += o.MinConns
	s.Total += o.Total
	s.Idle += o.Idle
	s.Busy += o.Busy
	s.Dialing += o.Dialing
	s.Waiting += o.Waiting
	s.Checking += o.Checking
	s.Closing += o.Closing
	s.Acquired += o.Acquired
	s.Released += o.Released
	s.DestroyedBusy += o.DestroyedBusy
	s.Created += o.Created
	s.Destroyed += o.Destroyed
	s.Closed.add(&o.Closed)
	s.Timeouts += o.Timeouts
	s.Canceled += o.Canceled
	s.Exhausted += o.Exhausted
	s.DialErrors += o.DialErrors
	s.CloseErrors += o.CloseErrors
	s.Misuse += o.Misuse
	s.BreakerOpen = s.BreakerOpen || o.BreakerOpen
	s.BreakerTrips += o.BreakerTrips
	s.HeldTooLong += o.HeldTooLong
	s.Resets += o.Resets
	s.Waited += o.Waited
	s.AcquireWait.add(&o.AcquireWait)
	s.HoldTime.add(&o.HoldTime)
	s.DialTime.add(&o.DialTime)
	if s.Acquired > 0 {
		s.AvgAcquire = s.AcquireWait.Sum / time.Duration(s.Acquired)
	}
}

func (c *CloseCounts) add(o *CloseCounts) {
	c.Idle += o.Idle
	c.Lifetime += o.Lifetime
	c.Health += o.Health
	c.Reset += o.Reset
	c.Destroy += o.Destroy
	c.PoolClosed += o.PoolClosed
	c.Leaked += o.Leaked
	c.Resize += o.Resize
	c.PoolReset += o.PoolReset
	c.Keepalive += o.Keepalive
	c.GroupCap += o.GroupCap
	c.Detached += o.Detached
}

// add adds o's cumulative figures to l: Count, Sum and Buckets.
func (l *Latency) add(o *Latency) {
	l.Count += o.Count
	l.Sum += o.Sum
	if l.Buckets == nil {
		l.Buckets = make([]Bucket, len(o.Buckets))
		copy(l.Buckets, o.Buckets)
		return
	}
	for i := range min(len(l.Buckets), len(o.Buckets)) {
		l.Buckets[i].Count += o.Buckets[i].Count
	}
}
