package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chanpool/chanpool/chanpool"
)

// session stands in for a network connection or database session.
type session struct {
	id  int
	buf strings.Builder
}

func Example() {
	dialed := 0
	p, err := chanpool.New(chanpool.Config[*session]{
		Dial: func(ctx context.Context) (*session, error) {
			dialed++
			return &session{id: dialed}, nil
		},
		MaxConns: 2,
		MinConns: chanpool.None, // dial on demand only, so the output is deterministic
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	c, err := p.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("using session", c.Value().id)
	c.Release()

	c, _ = p.Acquire(ctx) // the same session, from the idle list
	fmt.Println("using session", c.Value().id)
	c.Release()

	s := p.Stats()
	fmt.Printf("created %d, acquired %d, idle %d\n", s.Created, s.Acquired, s.Idle)
	// Output:
	// using session 1
	// using session 1
	// created 1, acquired 2, idle 1
}

// A connection that broke during use is destroyed, never released, so it
// cannot reach the next caller.
func ExampleConn_Destroy() {
	p, _ := chanpool.New(chanpool.Config[*session]{
		Dial:     func(ctx context.Context) (*session, error) { return &session{}, nil },
		MinConns: chanpool.None,
	})
	defer p.Close(context.Background())

	c, _ := p.Acquire(context.Background())
	if err := query(c.Value()); err != nil {
		c.Destroy() // broken: close it
	} else {
		c.Release()
	}
	fmt.Println("closed for reason destroy:", p.Stats().Closed.Destroy)
	// Output:
	// closed for reason destroy: 1
}

// query pretends the connection broke mid-request.
func query(s *session) error {
	s.buf.WriteString("SELECT 1")
	return errors.New("connection reset by peer")
}

func ExampleConfig_none() {
	_, err := chanpool.New(chanpool.Config[*session]{
		Dial:           func(ctx context.Context) (*session, error) { return &session{}, nil },
		MaxConns:       4,
		MinConns:       8,
		AcquireTimeout: chanpool.None, // bounded by the caller's context only
	})
	fmt.Println(err)
	// Output:
	// chanpool: Config.MinConns (8) exceeds Config.MaxConns (4)
}

func ExamplePool_TryAcquire() {
	p, _ := chanpool.New(chanpool.Config[*session]{
		Dial:       func(ctx context.Context) (*session, error) { return &session{}, nil },
		MaxConns:   1,
		MinConns:   chanpool.None,
		MaxWaiting: chanpool.None,
	})
	defer p.Close(context.Background())

	c, _ := p.Acquire(context.Background())
	_, err := p.TryAcquire(context.Background())
	fmt.Println(errors.Is(err, chanpool.ErrNoIdle))
	_, err = p.Acquire(context.Background())
	fmt.Println(errors.Is(err, chanpool.ErrExhausted))
	c.Release()
	// Output:
	// true
	// true
}

// A Group keeps one pool per replica address under one cap on the
// connections to all of them.
func ExampleGroup() {
	g, err := chanpool.NewGroup(chanpool.GroupConfig[string, *session]{
		Config: func(addr string) (chanpool.Config[*session], error) {
			return chanpool.Config[*session]{
				Dial: func(ctx context.Context) (*session, error) {
					s := &session{}
					s.buf.WriteString(addr) // a real Dial would connect to addr
					return s, nil
				},
				MaxConns: 4,
				MinConns: chanpool.None,
			}, nil
		},
		MaxConns: 6, // across every replica
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close(context.Background())

	for _, replica := range []string{"10.0.0.1:5432", "10.0.0.2:5432", "10.0.0.1:5432"} {
		c, err := g.Acquire(context.Background(), replica)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("connected to", c.Value().buf.String())
		c.Release()
	}
	s := g.Stats()
	fmt.Printf("keys %d, open %d of %d, acquired %d\n", len(s.Keys), s.Open, s.MaxConns, s.Sum.Acquired)
	// Output:
	// connected to 10.0.0.1:5432
	// connected to 10.0.0.2:5432
	// connected to 10.0.0.1:5432
	// keys 2, open 2 of 6, acquired 3
}

// A maintenance pass over the idle connections: AcquireAllIdle leases every
// one idle now, without dialing or waiting; each goes back with Release.
func ExamplePool_AcquireAllIdle() {
	p, _ := chanpool.New(chanpool.Config[*session]{
		Dial:     func(ctx context.Context) (*session, error) { return &session{}, nil },
		MaxConns: 3,
		MinConns: 3,
	})
	defer p.Close(context.Background())
	for p.Stats().Idle < 3 { // the warm-up dials run in the background
		c, _ := p.Acquire(context.Background())
		c.Release()
	}

	all := p.AcquireAllIdle(context.Background())
	fmt.Println("leased", len(all), "idle now", p.Stats().Idle)
	for _, c := range all {
		c.Value().buf.WriteString("checked")
		c.Release()
	}
	s := p.Stats()
	fmt.Println("idle again", s.Idle, "created", s.Created)
	// Output:
	// leased 3 idle now 0
	// idle again 3 created 3
}

// Detach hands a connection over for good: the pool forgets it and frees
// its slot, and the caller closes it.
func ExampleConn_Detach() {
	closed := 0
	p, _ := chanpool.New(chanpool.Config[*session]{
		Dial:     func(ctx context.Context) (*session, error) { return &session{id: 7}, nil },
		Close:    func(*session) error { closed++; return nil },
		MaxConns: 1,
		MinConns: chanpool.None,
	})
	defer p.Close(context.Background())

	c, _ := p.Acquire(context.Background())
	s, err := c.Detach()
	fmt.Println("detached session", s.id, err)
	st := p.Stats()
	fmt.Printf("total %d, detached %d, closed by the pool %d\n", st.Total, st.Closed.Detached, closed)
	// Output:
	// detached session 7 <nil>
	// total 0, detached 1, closed by the pool 0
}
