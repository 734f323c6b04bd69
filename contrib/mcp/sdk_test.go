package mcppool_test

import "github.com/modelcontextprotocol/go-sdk/mcp"

var mcpErrConnectionClosed = mcp.ErrConnectionClosed
