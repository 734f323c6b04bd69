// Command inlinecheck instantiates chanpool.Pool the way a user's package
// does: in a package that does not import go.uber.org/atomic.
// TestHotPathInlines builds it and reads the machine code of Acquire and
// Release.
package main

import (
	"context"

	"github.com/chanpool/chanpool/chanpool"
)

type conn struct{ n int }

func main() {
	p, err := chanpool.New(chanpool.Config[*conn]{
		Dial:     func(context.Context) (*conn, error) { return &conn{}, nil },
		MaxConns: 1,
	})
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())
	c, err := p.Acquire(context.Background())
	if err != nil {
		panic(err)
	}
	if err := c.Release(); err != nil {
		panic(err)
	}
}
