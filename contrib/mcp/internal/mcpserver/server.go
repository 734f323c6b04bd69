// Package mcpserver is a small MCP server for the tests and the demo of
// package mcppool: tools that echo, sleep, fail and report the server's
// process id, and flags that make the server misbehave the way real ones do.
package mcpserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool names.
const (
	ToolEcho  = "echo"  // returns its "text" argument
	ToolSleep = "sleep" // sleeps "ms" milliseconds, or until the call is canceled
	ToolFail  = "fail"  // a tool failure: a result with IsError set
	ToolPID   = "pid"   // returns the server's process id
	// ToolWhoAmI returns the credential the call came with: the bearer
	// token of its HTTP request, or else the server's CredentialEnv.
	ToolWhoAmI = "whoami"
)

// CredentialEnv is the environment variable from which a stdio server
// takes the credential that ToolWhoAmI reports.
const CredentialEnv = "MCPTEST_CREDENTIAL"

// ListeningPrefix starts the line that an HTTP server prints on stdout once
// it listens, followed by its address.
const ListeningPrefix = "listening on "

// EchoArgs are the echo tool's arguments.
type EchoArgs struct {
	Text string `json:"text"`
}

// SleepArgs are the sleep tool's arguments.
type SleepArgs struct {
	Ms int `json:"ms"`
}

// New returns the server with its tools.
func New() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "chanpool-test-server", Version: "v0.0.1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: ToolEcho, Description: "echo the text"},
		func(_ context.Context, _ *mcp.CallToolRequest, in EchoArgs) (*mcp.CallToolResult, any, error) {
			return text(in.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolSleep, Description: "sleep ms milliseconds"},
		func(ctx context.Context, _ *mcp.CallToolRequest, in SleepArgs) (*mcp.CallToolResult, any, error) {
			t := time.NewTimer(time.Duration(in.Ms) * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				return text("slept"), nil, nil
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolFail, Description: "always fails"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			// An error from the handler becomes a result with IsError set.
			return nil, nil, errors.New("the fail tool failed, as asked")
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolPID, Description: "the server's process id"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprint(os.Getpid())), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolWhoAmI, Description: "the credential of the call"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			if req.Extra != nil && req.Extra.Header != nil {
				if tok, ok := strings.CutPrefix(req.Extra.Header.Get("Authorization"), "Bearer "); ok {
					return text(tok), nil, nil
				}
			}
			return text(os.Getenv(CredentialEnv)), nil, nil
		})
	return s
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// Main runs the server as its command line says (see the flags) and returns
// the exit code. Over stdio (the default) it serves one session on
// stdin/stdout; with -http it serves streamable HTTP on the address.
func Main(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("mcptestserver", flag.ContinueOnError)
	httpAddr := fs.String("http", "", "serve streamable HTTP on this address (127.0.0.1:0 picks a port) instead of stdio")
	stateless := fs.Bool("stateless", false, "with -http: a stateless server (no session id; protocol 2026-07-28 accepted)")
	ignoreStdin := fs.Bool("ignore-stdin", false, "stdio: keep running after stdin closes, until killed")
	ignoreTerm := fs.Bool("ignore-sigterm", false, "ignore SIGTERM")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	s := New()
	if *httpAddr == "" {
		err := s.Run(context.Background(), &mcp.StdioTransport{})
		if *ignoreStdin {
			select {} // until a signal this process does not ignore
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(os.Stderr, "mcptestserver:", err)
			return 1
		}
		return 0
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcptestserver:", err)
		return 1
	}
	fmt.Fprintln(stdout, ListeningPrefix+ln.Addr().String())
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: *stateless})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "mcptestserver:", err)
		return 1
	}
	return 0
}
