// Package chanpool is a generic, channel-based connection pool for
// latency-sensitive services.
//
// Idle connections wait in a buffered channel that serves as the free list,
// so the common acquire and release are one channel receive and one channel
// send plus a compare-and-swap each on the connection's own state word: no
// locks and no allocations (one lease in 64 per connection also reads the
// clock, to sample hold time). Callers that find no idle connection
// either dial a new one (while the pool is under Config.MaxConns) or wait in
// FIFO order for the next release.
//
// A typical use:
//
//	p, err := chanpool.New(chanpool.Config[net.Conn]{
//		Dial: func(ctx context.Context) (net.Conn, error) {
//			var d net.Dialer
//			return d.DialContext(ctx, "tcp", addr)
//		},
//		Close: net.Conn.Close,
//	})
//	if err != nil {
//		return err
//	}
//	defer p.Close(context.Background())
//
//	c, err := p.Acquire(ctx)
//	if err != nil {
//		return err
//	}
//	defer c.Release()
//	_, err = c.Value().Write(msg)
//
// A connection that failed mid-use should be handed back with Conn.Destroy
// instead of Conn.Release, so that it never returns to the idle list.
//
// A Group keeps one Pool per key (a replica, a tenant, a credential) under
// one cap on the connections of every key; see NewGroup.
package chanpool
