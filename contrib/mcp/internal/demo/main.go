// Command demo measures one sequential tools/call through a pool of MCP
// sessions against connect-per-call (a new session, and for stdio a new
// server process, for every call), over stdio and streamable HTTP, in
// interleaved rounds of the same run, and prints the medians.
//
// The server is this binary, re-run with -serve (package mcpserver).
//
//	go run ./internal/demo -rounds 7 -calls 200
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/chanpool/chanpool/chanpool"
	mcppool "github.com/chanpool/chanpool/contrib/mcp"
	"github.com/chanpool/chanpool/contrib/mcp/internal/mcpserver"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		os.Exit(mcpserver.Main(os.Args[2:], os.Stdout))
	}
	rounds := flag.Int("rounds", 5, "interleaved rounds; the medians are over them")
	calls := flag.Int("calls", 200, "pooled calls per round")
	dials := flag.Int("dials", 20, "connect-per-call calls per round")
	flag.Parse()
	if err := run(*rounds, *calls, *dials); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(rounds, calls, dials int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "chanpool-demo", Version: "v0.0.1"}, nil)
	opts := mcppool.Options{Client: client, Pool: chanpool.Config[*mcppool.Session]{MaxConns: 4}}

	newCmd := func(context.Context) *exec.Cmd { return exec.Command(self, "-serve") }
	stdio, err := mcppool.NewCommand(newCmd, opts)
	if err != nil {
		return err
	}
	defer stdio.Close(ctx)

	srv := exec.Command(self, "-serve", "-http", "127.0.0.1:0")
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the HTTP server's address: %w", err)
	}
	endpoint := "http://" + strings.TrimPrefix(strings.TrimSpace(line), mcpserver.ListeningPrefix)
	web, err := mcppool.NewStreamable(endpoint, nil, opts)
	if err != nil {
		return err
	}
	defer web.Close(ctx)

	// The pools' CallTool leaves its params alone; the SDK's own CallTool,
	// in once, adds the protocol's _meta fields to them, so that one gets
	// params of its own.
	args := &mcp.CallToolParams{Name: mcpserver.ToolEcho, Arguments: map[string]any{"text": "hello"}}
	cases := []struct {
		name string
		n    int
		call func() error
	}{
		{"stdio pooled", calls, func() error { _, err := stdio.CallTool(ctx, args); return err }},
		{"stdio connect-per-call", dials, func() error {
			return once(ctx, client, &mcp.CommandTransport{Command: newCmd(ctx), TerminateDuration: time.Second}, args)
		}},
		{"http pooled", calls, func() error { _, err := web.CallTool(ctx, args); return err }},
		{"http connect-per-call", dials, func() error {
			return once(ctx, client, &mcp.StreamableClientTransport{Endpoint: endpoint}, args)
		}},
	}
	perCall := make([][]time.Duration, len(cases))
	for range rounds {
		for i, c := range cases {
			start := time.Now()
			for range c.n {
				if err := c.call(); err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
			}
			perCall[i] = append(perCall[i], time.Since(start)/time.Duration(c.n))
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("one sequential tools/call (echo), median of %d interleaved rounds (%d pooled, %d connect-per-call calls a round)\n",
		rounds, calls, dials)
	fmt.Printf("load average: %s\n", strings.TrimSpace(string(load)))
	fmt.Printf("%-24s %12s %12s\n", "case", "per call", "vs pooled")
	for i, c := range cases {
		m := median(perCall[i])
		pooled := median(perCall[i-i%2])
		fmt.Printf("%-24s %12v %11.1fx\n", c.name, m.Round(time.Microsecond), float64(m)/float64(pooled))
	}
	for name, p := range map[string]*mcppool.Pool{"stdio": stdio, "http": web} {
		st := p.Stats()
		fmt.Printf("%s pool: %d sessions dialed for %d calls, %d destroyed\n", name, st.Created, st.Acquired, st.Destroyed)
	}
	return nil
}

// once opens a session over t, makes one call and closes it.
func once(ctx context.Context, client *mcp.Client, t mcp.Transport, args *mcp.CallToolParams) error {
	cs, err := client.Connect(ctx, t, nil)
	if err != nil {
		return err
	}
	own := *args
	_, err = cs.CallTool(ctx, &own)
	if cerr := cs.Close(); err == nil {
		err = cerr
	}
	return err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
