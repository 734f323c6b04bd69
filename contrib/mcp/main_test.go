package mcppool_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// serverBin is the test MCP server (internal/cmd/mcptestserver), built once
// for the whole run; empty, with buildErr saying why, if it could not be.
var (
	serverBin string
	buildErr  error
)

// The tests run real sessions and server processes, whose goroutines must
// all be gone at the end.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcppool-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "mcptestserver")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/cmd/mcptestserver").CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("building the test MCP server: %v\n%s", err, out)
	} else {
		serverBin = bin
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { _ = os.RemoveAll(dir) }))
}
