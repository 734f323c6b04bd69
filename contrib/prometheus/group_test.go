package chanpoolprom_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolprom "github.com/chanpool/chanpool/contrib/prometheus"
)

// newGroup returns a group whose keys each dial in memory, and acquires
// and releases n times on each of keys, leaving one lease out on the first.
func newGroup(t *testing.T, keys []string, n int) (*chanpool.Group[string, *conn], chanpool.Conn[*conn]) {
	t.Helper()
	var ids atomic.Int64
	g, err := chanpool.NewGroup(chanpool.GroupConfig[string, *conn]{
		Config: func(string) (chanpool.Config[*conn], error) {
			return chanpool.Config[*conn]{
				Dial:     func(context.Context) (*conn, error) { return &conn{id: ids.Add(1)}, nil },
				MaxConns: 4, MinConns: chanpool.None,
			}, nil
		},
		MaxConns:       32,
		KeyIdleTimeout: chanpool.None,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	for i, k := range keys {
		for range n * (i + 1) {
			c, err := g.Acquire(context.Background(), k)
			require.NoError(t, err)
			require.NoError(t, c.Release())
		}
	}
	held, err := g.Acquire(context.Background(), keys[0])
	require.NoError(t, err)
	return g, held
}

func TestGroupCollectorExportsEachKey(t *testing.T) {
	g, held := newGroup(t, []string{"10.0.0.1:5432", "10.0.0.2:5432"}, 2)
	c := chanpoolprom.NewGroupCollector(g, chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "replicas"}))
	const want = `
# HELP chanpool_acquires_total Leases granted by Acquire and TryAcquire.
# TYPE chanpool_acquires_total counter
chanpool_acquires_total{key="10.0.0.1:5432",pool="replicas"} 3
chanpool_acquires_total{key="10.0.0.2:5432",pool="replicas"} 4
# HELP chanpool_busy_connections Connections leased to callers.
# TYPE chanpool_busy_connections gauge
chanpool_busy_connections{key="10.0.0.1:5432",pool="replicas"} 1
chanpool_busy_connections{key="10.0.0.2:5432",pool="replicas"} 0
# HELP chanpool_group_connections Connections open or dialing across every key.
# TYPE chanpool_group_connections gauge
chanpool_group_connections{pool="replicas"} 2
# HELP chanpool_group_keys Keys with a pool now.
# TYPE chanpool_group_keys gauge
chanpool_group_keys{pool="replicas"} 2
# HELP chanpool_group_keys_created_total Keys made since the group was made.
# TYPE chanpool_group_keys_created_total counter
chanpool_group_keys_created_total{pool="replicas"} 2
# HELP chanpool_group_max_connections The group's cap on connections open or dialing across every key (0: none).
# TYPE chanpool_group_max_connections gauge
chanpool_group_max_connections{pool="replicas"} 32
`
	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"chanpool_acquires_total", "chanpool_busy_connections", "chanpool_group_connections",
		"chanpool_group_keys", "chanpool_group_keys_created_total", "chanpool_group_max_connections"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c), "a pedantic registry accepts the descriptors")
	_, err = reg.Gather()
	require.NoError(t, err)
	require.NoError(t, held.Release())
}

func TestGroupCollectorCapsTheKeysItExports(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e"}
	g, held := newGroup(t, keys, 1)
	c := chanpoolprom.NewGroupCollector(g, chanpoolprom.WithMaxKeys(2), chanpoolprom.WithKeyLabel("replica"))
	// a and b get series of their own; c, d and e (3, 4 and 5 acquires)
	// are added up under the other key.
	const want = `
# HELP chanpool_acquires_total Leases granted by Acquire and TryAcquire.
# TYPE chanpool_acquires_total counter
chanpool_acquires_total{replica="_other"} 12
chanpool_acquires_total{replica="a"} 2
chanpool_acquires_total{replica="b"} 2
`
	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "chanpool_acquires_total"))
	for i := range 40 {
		k := fmt.Sprintf("more-%02d", i)
		h, err := g.Acquire(context.Background(), k)
		require.NoError(t, err)
		require.NoError(t, h.Release())
	}
	series := testutil.CollectAndCount(c, "chanpool_connections")
	assert.Equal(t, 3, series, "45 keys, 2 exported and one for the rest")
	require.NoError(t, held.Release())
}

func TestGroupCollectorRejectsBadOptions(t *testing.T) {
	g, held := newGroup(t, []string{"a"}, 1)
	defer held.Release()
	for name, opt := range map[string]chanpoolprom.Option{
		"max keys":   chanpoolprom.WithMaxKeys(0),
		"key label":  chanpoolprom.WithKeyLabel("reason"),
		"key string": chanpoolprom.WithKeyString(func(int) string { return "" }),
	} {
		err := prometheus.NewRegistry().Register(chanpoolprom.NewGroupCollector(g, opt))
		assert.Error(t, err, name)
	}
	c := chanpoolprom.NewGroupCollector(g, chanpoolprom.WithKeyString(func(k string) string { return "tenant-" + k }))
	assert.Equal(t, 1, testutil.CollectAndCount(c, "chanpool_connections"))
	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP chanpool_busy_connections Connections leased to callers.
# TYPE chanpool_busy_connections gauge
chanpool_busy_connections{key="tenant-a"} 1
`), "chanpool_busy_connections"))
}
