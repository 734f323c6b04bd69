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

// A group with a key per server (and, in real use, per credential): each
// key's sessions connect to its own server, here in-process, and a session
// of one key never serves another. The cap bounds the sessions of every
// key together.
func ExampleGroup() {
	servers := map[string]*mcp.Server{"alice@search": mcpserver.New(), "bob@search": mcpserver.New()}
	g, err := mcppool.NewGroup(func(ctx context.Context, key string) (mcp.Transport, error) {
		server, ok := servers[key]
		if !ok {
			return nil, fmt.Errorf("no server for key %q", key)
		}
		clientEnd, serverEnd := mcp.NewInMemoryTransports()
		if _, err := server.Connect(ctx, serverEnd, nil); err != nil {
			return nil, err
		}
		return clientEnd, nil
	}, mcppool.GroupOptions{MaxConns: 4})
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	ctx := context.Background()
	for _, key := range []string{"alice@search", "bob@search", "alice@search"} {
		res, err := g.CallTool(ctx, key, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi " + key}})
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	}
	_, err = g.CallTool(ctx, "mallory@search", &mcp.CallToolParams{Name: "echo"})
	fmt.Println("error:", err != nil)

	st := g.Stats()
	fmt.Println("cap:", st.MaxConns, "sessions:", st.Open)
	fmt.Println("alice's sessions:", st.Keys["alice@search"].Created, "calls:", st.Keys["alice@search"].Acquired)
	fmt.Println("bob's sessions:", st.Keys["bob@search"].Created, "calls:", st.Keys["bob@search"].Acquired)
	// Output:
	// hi alice@search
	// hi bob@search
	// hi alice@search
	// error: true
	// cap: 4 sessions: 2
	// alice's sessions: 1 calls: 2
	// bob's sessions: 1 calls: 1
}
