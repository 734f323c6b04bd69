// Package mcppool pools MCP client sessions (github.com/modelcontextprotocol/go-sdk)
// on chanpool, for Go services that call MCP servers: gateways, agents, tool
// routers. A session costs a subprocess start (stdio) or a connection and an
// initialize round trip; a pool keeps a few open, checks them, and hands them
// out one caller at a time.
//
// Import it under its own name, so that it does not clash with the SDK's mcp
// package:
//
//	import mcppool "github.com/chanpool/chanpool/contrib/mcp"
//
// A typical use, with a stdio server:
//
//	p, err := mcppool.NewCommand(func(context.Context) *exec.Cmd {
//		return exec.Command("my-mcp-server") // a fresh command for every session
//	}, mcppool.Options{Pool: chanpool.Config[*mcppool.Session]{MaxConns: 4}})
//	if err != nil {
//		return err
//	}
//	defer p.Close(context.Background())
//
//	res, err := p.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: args})
//
// CallTool and Call end each lease according to what the error means (see
// IsFatal): a session that failed is destroyed, one that answered (even with
// an error) is kept. Nothing is retried: a tools/call is not known to be
// idempotent, so a failed call is the caller's to repeat or not.
//
// Sessions of different servers or credentials are not interchangeable: a
// Group keeps a pool per key (one key per server and credential) under one
// cap across keys, and a session of one key never serves another:
//
//	g, err := mcppool.NewCommandGroup(func(_ context.Context, tenant string) *exec.Cmd {
//		cmd := exec.Command("my-mcp-server")
//		cmd.Env = append(os.Environ(), "API_TOKEN="+tokenOf(tenant))
//		return cmd
//	}, mcppool.GroupOptions{MaxConns: 16})
//
//	res, err := g.CallTool(ctx, tenant, params)
package mcppool
