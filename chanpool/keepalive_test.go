package chanpool_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// pinger is a Keepalive that counts its pings per connection, fails them
// for the connections in fail, and blocks while gate is set.
type pinger struct {
	mu      sync.Mutex
	pings   map[int]int
	running map[int]int
	most    int
	fail    map[int]bool
	gate    chan struct{}
}

func newPinger() *pinger {
	return &pinger{pings: map[int]int{}, running: map[int]int{}, fail: map[int]bool{}}
}

func (k *pinger) ping(ctx context.Context, r *res) error {
	k.mu.Lock()
	k.pings[r.id]++
	k.running[r.id]++
	k.most = max(k.most, k.running[r.id])
	gate, fail := k.gate, k.fail[r.id]
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.running[r.id]--
		k.mu.Unlock()
	}()
	if gate != nil {
		<-gate
	}
	if fail {
		return errBoom
	}
	return nil
}

func (k *pinger) count(id int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pings[id]
}

func keepaliveConfig(b *backend, k *pinger) chanpool.Config[*res] {
	cfg := b.config()
	cfg.KeepaliveInterval = 10 * time.Second
	cfg.Keepalive = k.ping
	return cfg
}

func TestKeepalivePingsIdleConnectionsWithoutUsingThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		k := newPinger()
		p, clk := newPool(t, keepaliveConfig(b, k))
		for _, c := range acquireN(t, p, 2) {
			require.NoError(t, c.Release())
		}
		step(clk, 7*time.Second, nil)
		assert.Zero(t, k.count(1)+k.count(2), "not due before KeepaliveInterval less its jitter")
		step(clk, 4*time.Second, nil)
		assert.Equal(t, 1, k.count(1), "due once KeepaliveInterval has passed")
		assert.Equal(t, 1, k.count(2))
		step(clk, 11*time.Second, nil)
		assert.Equal(t, 2, k.count(1), "and again an interval after the ping")
		assert.Equal(t, 2, k.count(2))

		for _, i := range p.Conns() {
			assert.Equal(t, uint64(1), i.UseCount, "a ping is not a lease")
		}
		s := p.Stats()
		assert.Equal(t, uint64(2), s.Acquired)
		assert.Equal(t, 2, s.Idle)
		checkStats(t, s)

		// A connection in use is not pinged.
		c := acquireN(t, p, 1)[0]
		id := c.Value().id
		before := k.count(id)
		step(clk, 30*time.Second, func() {})
		assert.Equal(t, before, k.count(id))
		require.NoError(t, c.Release())
	})
}

func TestKeepaliveFailureClosesAndReplaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		k := newPinger()
		k.fail[1] = true
		p, clk := newPool(t, keepaliveConfig(b, k))
		cs := acquireN(t, p, 2)
		first := cs[0].Value()
		for _, c := range cs {
			require.NoError(t, c.Release())
		}
		step(clk, 11*time.Second, nil)
		s := p.Stats()
		assert.True(t, first.closed.Load())
		assert.Equal(t, uint64(1), s.Closed.Keepalive)
		assert.Equal(t, 2, s.Total, "a replacement is dialed")
		assert.Equal(t, 2, s.Idle)
		checkStats(t, s)
	})
}

func TestKeepaliveNeverBlocksAnAcquirer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		k := newPinger()
		k.gate = make(chan struct{})
		cfg := keepaliveConfig(b, k)
		cfg.MaxConns = 1
		cfg.CheckTimeout = time.Minute
		p, clk := newPool(t, cfg)
		require.NoError(t, acquireN(t, p, 1)[0].Release())
		step(clk, 11*time.Second, nil)
		require.Equal(t, 1, p.Stats().Checking, "the ping runs, and owns the connection")

		step(clk, 10*time.Second, nil)
		k.mu.Lock()
		assert.Equal(t, 1, k.most, "one ping per connection at a time")
		k.mu.Unlock()

		w := startAcquire(context.Background(), p)
		synctest.Wait()
		select {
		case o := <-w:
			t.Fatalf("got a connection while the only one was being pinged: %v", o.err)
		default:
		}
		close(k.gate) // the ping passes: the waiter gets the connection at once
		o := <-w
		require.NoError(t, o.err)
		require.NoError(t, o.c.Release())

		// With room to dial, an acquirer does not wait for a ping.
		k.gate = make(chan struct{})
		require.NoError(t, p.SetMaxConns(2))
		step(clk, 11*time.Second, nil)
		require.Equal(t, 1, p.Stats().Checking)
		c, err := p.Acquire(context.Background())
		require.NoError(t, err, "a new connection, dialed at once")
		require.NoError(t, c.Release())
		close(k.gate)
		synctest.Wait()
	})
}

func TestKeepaliveDoesNotKeepThePoolFromShrinking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		k := newPinger()
		cfg := evictConfig(b, 4, 1)
		cfg.KeepaliveInterval = 5 * time.Second
		cfg.Keepalive = k.ping
		p, clk := newPool(t, cfg)
		for _, c := range acquireN(t, p, 4) {
			require.NoError(t, c.Release())
		}
		step(clk, cfg.IdleTimeout+2*cfg.EvictionInterval, nil)
		s := p.Stats()
		assert.Equal(t, 1, s.Total, "the surplus closes by need, pings or not")
		assert.Equal(t, uint64(3), s.Closed.Idle)
		assert.Positive(t, k.count(1)+k.count(2)+k.count(3)+k.count(4), "pings ran meanwhile")
		checkStats(t, s)
	})
}

func TestKeepaliveNeedsAPing(t *testing.T) {
	b := &backend{}
	cfg := b.config()
	cfg.KeepaliveInterval = time.Second
	_, err := chanpool.New(cfg)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "Config.KeepaliveInterval")
	}
}
