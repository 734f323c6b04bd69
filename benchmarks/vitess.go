//go:build smartconnpool

package benchmarks

import (
	"context"

	"vitess.io/vitess/go/pools/smartconnpool"
)

// withSmartconnpool says that this build has the smartconnpool contender.
const withSmartconnpool = true

// vitessPool is vitess's smartconnpool (go/pools/smartconnpool): lock-free
// stacks of idle connections, a mutex-guarded list of waiters. It runs with
// no idle timeout, no maximum lifetime and no refresh, so that its only
// background work is the waiter-expiry tick it always starts. Connections
// carry no Setting: every Get takes the clean stack.
type vitessPool struct {
	p *smartconnpool.ConnPool[*FakeConn]
}

func newSmartconnpool(name string, size int) (Contender, error) {
	p := smartconnpool.NewPool(&smartconnpool.Config[*FakeConn]{
		Capacity:     int64(size),
		MaxIdleCount: int64(size),
	})
	p.Open(dial, nil)
	return wrap(name, size, &vitessPool{p}, nil)
}

func (v *vitessPool) acquire(ctx context.Context) (*smartconnpool.Pooled[*FakeConn], error) {
	return v.p.Get(ctx, nil)
}

func (v *vitessPool) release(c *smartconnpool.Pooled[*FakeConn]) error {
	c.Recycle()
	return nil
}

func (v *vitessPool) value(c *smartconnpool.Pooled[*FakeConn]) *FakeConn { return c.Conn }
func (v *vitessPool) close() error {
	return v.p.CloseWithContext(context.Background())
}

// FakeConn is a smartconnpool.Connection: it has no settings to apply, and
// its Close and IsClosed are in conn.go.
var _ smartconnpool.Connection = (*FakeConn)(nil)

// ApplySetting implements smartconnpool.Connection; FakeConn keeps no setting.
func (*FakeConn) ApplySetting(context.Context, *smartconnpool.Setting) error { return nil }

// ResetSetting implements smartconnpool.Connection.
func (*FakeConn) ResetSetting(context.Context) error { return nil }

// Setting implements smartconnpool.Connection: always none.
func (*FakeConn) Setting() *smartconnpool.Setting { return nil }
