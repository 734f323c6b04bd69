package chanpool_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chanpool/chanpool/chanpool"
)

// BenchmarkGroupAcquireRelease is one uncontended acquire+release on an
// existing key of a group of 16 keys, next to BenchmarkAcquireRelease's
// single pool: the difference is the key's lookup. key=string looks up a
// string key, key=struct a comparable struct (an address and a port).
func BenchmarkGroupAcquireRelease(b *testing.B) {
	type addr struct {
		host string
		port int
	}
	b.Run("key=pool", func(b *testing.B) { acquireReleaseLoop(b, benchPool(b, 8, 0)) })
	b.Run("key=string", func(b *testing.B) {
		g := benchGroup[string](b, func(i int) string { return fmt.Sprintf("replica-%d:5432", i) })
		groupLoop(b, g, "replica-7:5432")
	})
	b.Run("key=struct", func(b *testing.B) {
		g := benchGroup[addr](b, func(i int) addr { return addr{"10.0.0.1", 5432 + i} })
		groupLoop(b, g, addr{"10.0.0.1", 5439})
	})
}

func groupLoop[K comparable](b *testing.B, g *chanpool.Group[K, *res], key K) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := g.Acquire(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		c.Release()
	}
}

// benchGroup returns a group of 16 keys, each with 8 idle connections.
func benchGroup[K comparable](b *testing.B, key func(int) K) *chanpool.Group[K, *res] {
	b.Helper()
	g, err := chanpool.NewGroup(chanpool.GroupConfig[K, *res]{
		Config: func(K) (chanpool.Config[*res], error) {
			be := &backend{}
			return chanpool.Config[*res]{
				Dial: be.dial, MaxConns: 8, MinConns: chanpool.None, MaxWaiting: 0,
				AcquireTimeout: chanpool.None, EvictionInterval: chanpool.None,
			}, nil
		},
		MaxConns:       16 * 8,
		KeyIdleTimeout: chanpool.None,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close(context.Background()) })
	for i := range 16 {
		var cs []chanpool.Conn[*res]
		for range 8 {
			c, err := g.Acquire(context.Background(), key(i))
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			c.Release()
		}
	}
	return g
}
