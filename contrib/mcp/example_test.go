package mcppool_test

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

// A pool over in-memory transports, each dial connecting a new session to
// an in-process server: the same calls work with NewCommand (stdio) and
// NewStreamable (HTTP).
func Example() {
	server := mcpserver.New()
	p, err := mcppool.New(func() mcp.Transport {
		clientEnd, serverEnd := mcp.NewInMemoryTransports()
		if _, err := server.Connect(context.Background(), serverEnd, nil); err != nil {
			panic(err)
		}
		return clientEnd
	}, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 2}})
	if err != nil {
		panic(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	for _, text := range []string{"one", "two", "three"} {
		res, err := p.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	}
	// A tool's own failure: the call succeeded, the session is kept.
	res, err := p.CallTool(ctx, &mcp.CallToolParams{Name: "fail"})
	fmt.Println("error:", err, "IsError:", res.IsError)

	st := p.Stats()
	fmt.Println("sessions dialed:", st.Created, "calls:", st.Acquired, "destroyed:", st.Destroyed)
	// Output:
	// one
	// two
	// three
	// error: <nil> IsError: true
	// sessions dialed: 1 calls: 4 destroyed: 0
}
