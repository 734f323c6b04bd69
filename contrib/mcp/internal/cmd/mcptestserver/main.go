// Command mcptestserver is the MCP server that package mcppool's tests start
// as a subprocess; see package mcpserver for its tools and flags.
package main

import (
	"os"

	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

func main() {
	os.Exit(mcpserver.Main(os.Args[1:], os.Stdout))
}
