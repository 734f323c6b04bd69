package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chanpool/chanpool/chanpool"
	"github.com/chanpool/chanpool/internal/clock"
)

// FuzzGroup drives a group of three keys under a cap smaller than their
// sum, on a fake clock, with a sequence of operations decoded from the
// fuzzer's bytes, and after every step checks it at rest: the cap and each
// key's MaxConns hold, waiters are served in order within their key, no
// caller waits while its key and the group both have room (no lost
// wake-up), no key with callers waiting holds nothing while another key
// holds idle connections (no starvation), and every count adds up.
func FuzzGroup(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 0, 0, 0, 1, 0, 1, 0, 2, 2, 0, 2, 0},       // fill the cap, a waiter on another key, releases
		{0, 0, 0, 1, 0, 2, 0, 2, 0, 0, 2, 1, 3, 0, 4, 0}, // waiters on two keys, destroy, cancel
		{0, 0, 0, 1, 2, 0, 2, 0, 5, 250, 5, 250, 5, 250}, // idle keys removed
		{0, 0, 0, 0, 0, 1, 0, 1, 6, 0, 2, 0, 6, 4, 0, 2}, // shrink and raise the cap
		{0, 0, 0, 1, 0, 1, 7, 1, 0, 1, 8, 0, 2, 0},       // remove a key with a waiter, reset another
		{0, 2, 0, 2, 0, 2, 0, 1, 0, 1, 0, 0, 5, 120},     // waiters time out
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 300 {
			ops = ops[:300]
		}
		synctest.Test(t, func(t *testing.T) {
			m := newGroupModel(t)
			trace := os.Getenv("CHANPOOL_FUZZ_TRACE") != ""
			for i := 0; i+1 < len(ops); i += 2 {
				if trace {
					gs := m.g.Stats()
					t.Logf("step %d: op %d arg %d | open %d/%d queued %d holders %d", i/2, ops[i]%groupOps, ops[i+1], gs.Open, gs.MaxConns, gs.Queued, len(m.holders))
					for k, s := range gs.Keys {
						t.Logf("   %s: total %d idle %d busy %d dialing %d waiting %d closing %d", k, s.Total, s.Idle, s.Busy, s.Dialing, s.Waiting, s.Closing)
					}
				}
				m.step(ops[i]%groupOps, ops[i+1])
				synctest.Wait()
				m.check()
			}
			m.finish()
		})
	})
}

const (
	groupOps     = 9
	groupKeys    = 3
	groupCap     = 3
	groupKeyMax  = 2
	groupWaiting = 3
	groupTimeout = 10 * time.Second
)

type groupWaiter struct {
	ch       <-chan outcome
	cancel   context.CancelFunc
	deadline time.Time
}

type groupHolder struct {
	key string
	c   chanpool.Conn[*res]
}

type groupModel struct {
	t       *testing.T
	k       *keyed
	g       *chanpool.Group[string, *res]
	clk     *clock.Fake
	holders []groupHolder
	waiters map[string][]groupWaiter // per key, in arrival order
	max     int                      // the cap in force
	bound   int                      // what Open may not exceed: the cap, or what a shrink has drained to
}

func newGroupModel(t *testing.T) *groupModel {
	k := newKeyed(groupKeyMax)
	clk := clock.NewFake()
	g, err := chanpool.NewGroupWithClock(chanpool.GroupConfig[string, *res]{
		Config: func(key string) (chanpool.Config[*res], error) {
			cfg, err := k.config(key)
			cfg.MaxWaiting = groupWaiting
			cfg.AcquireTimeout = groupTimeout
			cfg.IdleTimeout = 30 * time.Second
			cfg.EvictionInterval = 10 * time.Second
			cfg.MaxLifetime = 2 * time.Minute
			return cfg, err
		},
		MaxConns:       groupCap,
		MaxConnsLimit:  5,
		KeyIdleTimeout: time.Minute,
	}, clk)
	if err != nil {
		t.Fatal(err)
	}
	return &groupModel{t: t, k: k, g: g, clk: clk, waiters: map[string][]groupWaiter{}, max: groupCap, bound: groupCap}
}

func groupKey(arg byte) string { return fmt.Sprintf("k%d", arg%groupKeys) }

func (m *groupModel) step(op, arg byte) {
	t := m.t
	key := groupKey(arg)
	switch op {
	case 0: // Acquire on a key
		ctx, cancel := context.WithCancel(context.Background())
		ch := startGroupAcquire(ctx, m.g, key)
		synctest.Wait()
		m.waiters[key] = append(m.waiters[key], groupWaiter{ch: ch, cancel: cancel, deadline: m.clk.Now().Add(groupTimeout)})
	case 1: // TryAcquire
		c, err := m.g.TryAcquire(context.Background(), key)
		switch {
		case err == nil:
			m.holders = append(m.holders, groupHolder{key, c})
		case !errors.Is(err, chanpool.ErrNoIdle):
			t.Fatalf("TryAcquire(%s): %v", key, err)
		}
	case 2, 3: // Release or Destroy
		if len(m.holders) == 0 {
			return
		}
		i := int(arg) % len(m.holders)
		h := m.holders[i]
		m.holders = append(m.holders[:i], m.holders[i+1:]...)
		var err error
		if op == 2 {
			err = h.c.Release()
		} else {
			err = h.c.Destroy()
		}
		if err != nil {
			t.Fatalf("op %d on %s: %v", op, h.key, err)
		}
	case 4: // cancel the oldest waiter of a key
		ws := m.waiters[key]
		if len(ws) == 0 {
			return
		}
		ws[0].cancel()
		o := <-ws[0].ch
		m.waiters[key] = ws[1:]
		if o.err == nil {
			m.holders = append(m.holders, groupHolder{key, o.c}) // served before the cancel
		} else if !errors.Is(o.err, context.Canceled) {
			t.Fatalf("canceled waiter of %s: %v", key, o.err)
		}
	case 5: // advance the clock
		m.clk.Advance(time.Duration(arg) * 100 * time.Millisecond)
	case 6: // SetMaxConns
		n := 1 + int(arg)%5
		if err := m.g.SetMaxConns(n); err != nil {
			t.Fatalf("SetMaxConns(%d): %v", n, err)
		}
		m.max = n
		m.bound = max(m.bound, n)
	case 7: // Remove, forced
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = m.g.Remove(ctx, key)
		synctest.Wait()
		for _, w := range m.waiters[key] {
			if o := <-w.ch; o.err == nil {
				m.holders = append(m.holders, groupHolder{key, o.c})
			} else if !errors.Is(o.err, chanpool.ErrClosed) && !errors.Is(o.err, chanpool.ErrAcquireTimeout) {
				t.Fatalf("waiter of removed %s: %v", key, o.err)
			}
		}
		m.waiters[key] = nil
		var kept []groupHolder
		for _, h := range m.holders {
			if h.key != key {
				kept = append(kept, h)
				continue
			}
			if !h.c.Value().closed.Load() {
				t.Fatalf("forced Remove of %s left held connection %d open", key, h.c.ID())
			}
			if err := h.c.Release(); !errors.Is(err, chanpool.ErrClosed) {
				t.Fatalf("Release after Remove: %v, want ErrClosed", err)
			}
		}
		m.holders = kept
	case 8: // Reset a key
		m.g.Reset(key)
	}
}

// collect takes the waiters that returned: served in order within their
// key, or timed out at their deadline.
func (m *groupModel) collect() {
	t := m.t
	now := m.clk.Now()
	for key, ws := range m.waiters {
		var left []groupWaiter
		for i, w := range ws {
			select {
			case o := <-w.ch:
				w.cancel()
				switch {
				case o.err == nil:
					if len(left) > 0 {
						t.Fatalf("waiter %d of %s was served while an older one still waits", i, key)
					}
					m.holders = append(m.holders, groupHolder{key, o.c})
				case errors.Is(o.err, chanpool.ErrAcquireTimeout):
					if now.Before(w.deadline) {
						t.Fatalf("waiter %d of %s timed out before its deadline", i, key)
					}
				case errors.Is(o.err, chanpool.ErrExhausted):
					// More than MaxWaiting of this key waited.
				default:
					t.Fatalf("waiter %d of %s: %v", i, key, o.err)
				}
			default:
				if !now.Before(w.deadline) {
					t.Fatalf("waiter %d of %s still waits past its deadline", i, key)
				}
				left = append(left, w)
			}
		}
		m.waiters[key] = left
	}
}

func (m *groupModel) check() {
	t := m.t
	m.collect()
	gs := m.g.Stats()
	if gs.Open > m.bound {
		t.Fatalf("%d connections open across keys, more than %d (cap %d)", gs.Open, m.bound, m.max)
	}
	m.bound = max(m.max, gs.Open) // a draining surplus only shrinks
	if gs.MaxConns != m.max {
		t.Fatalf("MaxConns %d, want %d", gs.MaxConns, m.max)
	}
	total, busy := 0, 0
	for key, s := range gs.Keys {
		if s.Total > groupKeyMax {
			t.Fatalf("key %s: Total %d over its MaxConns", key, s.Total)
		}
		if s.Total != s.Idle+s.Busy+s.Dialing+s.Checking+s.Closing {
			t.Fatalf("key %s: Total does not add up: %+v", key, s)
		}
		if s.Acquired != s.Released+s.DestroyedBusy+uint64(s.Busy) {
			t.Fatalf("key %s: Acquired does not add up: %+v", key, s)
		}
		if s.Waiting != len(m.waiters[key]) {
			t.Fatalf("key %s: Waiting %d, but %d waiters", key, s.Waiting, len(m.waiters[key]))
		}
		total += s.Total
		busy += s.Busy
	}
	if total != gs.Open {
		t.Fatalf("keys' Total %d, group's Open %d", total, gs.Open)
	}
	if busy != len(m.holders) {
		t.Fatalf("Busy %d, but %d holders", busy, len(m.holders))
	}
	if open := int(m.k.open.Load()); open != total {
		t.Fatalf("backends have %d connections open, the group %d", open, total)
	}
	for key, ws := range m.waiters {
		if len(ws) == 0 {
			continue
		}
		s := gs.Keys[key]
		if s.Total < groupKeyMax && gs.Open < m.max {
			t.Fatalf("key %s has %d waiting with room of its own (%d open) and in the group (%d of %d): a lost wake-up",
				key, len(ws), s.Total, gs.Open, m.max)
		}
		if s.Total == 0 {
			for other, o := range gs.Keys {
				if other != key && o.Idle > 0 {
					t.Fatalf("key %s starves with %d waiting while %s holds %d idle", key, len(ws), other, o.Idle)
				}
			}
		}
	}
	seen := map[*res]bool{}
	for _, h := range m.holders {
		if seen[h.c.Value()] || h.c.Value().closed.Load() {
			t.Fatalf("connection %d of %s held twice or closed under its holder", h.c.ID(), h.key)
		}
		seen[h.c.Value()] = true
	}
}

func (m *groupModel) finish() {
	for _, ws := range m.waiters {
		for _, w := range ws {
			w.cancel()
			if o := <-w.ch; o.err == nil {
				m.holders = append(m.holders, groupHolder{c: o.c})
			}
		}
	}
	for _, h := range m.holders {
		_ = h.c.Release()
	}
	if err := m.g.Close(context.Background()); err != nil {
		m.t.Fatalf("Close: %v", err)
	}
	synctest.Wait()
	if n := m.k.open.Load(); n != 0 {
		m.t.Fatalf("%d connections open after Close", n)
	}
}
