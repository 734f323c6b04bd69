package chanpool_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	dial := func(context.Context) (*res, error) {
		t.Error("New dialed for a config it rejected")
		return &res{}, nil
	}
	for _, tc := range []struct {
		field string
		edit  func(*chanpool.Config[*res])
	}{
		{"Dial", func(c *chanpool.Config[*res]) { c.Dial = nil }},
		{"MaxConns", func(c *chanpool.Config[*res]) { c.MaxConns = -1 }},
		{"MaxConns", func(c *chanpool.Config[*res]) { c.MaxConns = -5 }},
		{"MinConns", func(c *chanpool.Config[*res]) { c.MinConns = -2 }},
		{"MinConns", func(c *chanpool.Config[*res]) { c.MaxConns, c.MinConns = 3, 4 }},
		{"MaxWaiting", func(c *chanpool.Config[*res]) { c.MaxWaiting = -7 }},
		{"AcquireTimeout", func(c *chanpool.Config[*res]) { c.AcquireTimeout = -time.Second }},
		{"DialTimeout", func(c *chanpool.Config[*res]) { c.DialTimeout = -time.Second }},
		{"IdleTimeout", func(c *chanpool.Config[*res]) { c.IdleTimeout = -time.Second }},
		{"EvictionInterval", func(c *chanpool.Config[*res]) { c.EvictionInterval = -time.Second }},
		{"MaxLifetime", func(c *chanpool.Config[*res]) { c.MaxLifetime = -time.Second }},
		{"MaxLifetime", func(c *chanpool.Config[*res]) {
			c.MaxLifetime, c.EvictionInterval = time.Minute, chanpool.None
		}},
		{"MaxLifetimeJitter", func(c *chanpool.Config[*res]) { c.MaxLifetimeJitter = -time.Second }},
		{"MaxLifetimeJitter", func(c *chanpool.Config[*res]) {
			c.MaxLifetime, c.MaxLifetimeJitter = time.Minute, time.Minute
		}},
		{"HealthCheckAfter", func(c *chanpool.Config[*res]) { c.HealthCheckAfter = -2 * time.Second }},
		{"CheckTimeout", func(c *chanpool.Config[*res]) { c.CheckTimeout = -2 * time.Second }},
	} {
		cfg := chanpool.Config[*res]{Dial: dial}
		tc.edit(&cfg)
		p, err := chanpool.New(cfg)
		assert.Nil(t, p, tc.field)
		if assert.Error(t, err, tc.field) {
			assert.Contains(t, err.Error(), "Config."+tc.field, "the error names the field")
		}
	}
	// goleak (TestMain) checks that the rejected configs started nothing.
}

func TestNoneMeansZero(t *testing.T) {
	b := &backend{}
	p, err := chanpool.New(chanpool.Config[*res]{
		Dial:             b.dial,
		Close:            b.close,
		MaxConns:         1,
		MinConns:         chanpool.None,
		MaxWaiting:       chanpool.None,
		AcquireTimeout:   chanpool.None,
		DialTimeout:      chanpool.None,
		IdleTimeout:      chanpool.None,
		EvictionInterval: chanpool.None,
		CheckTimeout:     chanpool.None,
	})
	require.NoError(t, err)
	defer p.Close(context.Background())

	s := p.Stats()
	assert.Equal(t, 0, s.MinConns)
	assert.Equal(t, 0, s.Total, "MinConns None: nothing dialed at start")
	c, err := p.Acquire(context.Background())
	require.NoError(t, err)
	_, err = p.Acquire(context.Background())
	assert.ErrorIs(t, err, chanpool.ErrExhausted, "MaxWaiting None: no waiting at all")
	require.NoError(t, c.Release())
}

func TestDefaultMinConnsIsCappedByMaxConns(t *testing.T) {
	b := &backend{}
	p, err := chanpool.New(chanpool.Config[*res]{Dial: b.dial, MaxConns: 1, EvictionInterval: chanpool.None})
	require.NoError(t, err, "the default MinConns (2) must not make MaxConns 1 invalid")
	assert.Equal(t, 1, p.Stats().MinConns)
	require.NoError(t, p.Close(context.Background()))
}

// TestDefaults checks what a Config with only Dial set gets: ten
// connections at most, two of them dialed at start.
func TestDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		p, err := chanpool.New(chanpool.Config[*res]{Dial: b.dial})
		require.NoError(t, err)
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 10, s.MaxConns)
		assert.Equal(t, 2, s.MinConns)
		assert.Equal(t, 2, s.Total, "MinConns dialed at start")
		require.NoError(t, p.Close(context.Background()))
	})
}
