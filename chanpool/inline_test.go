package chanpool_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestHotPathInlines checks that no atomic operation on Acquire's and
// Release's paths is left as a function call when Pool is instantiated in a
// user's package (testdata/inlinecheck, which, unlike this test package,
// imports no atomic package). Such a call costs more than the single
// instruction it stands for, on every acquire and release (atomics.go says
// why the compiler leaves them), and the package's own benchmarks cannot
// show it.
func TestHotPathInlines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and disassembles a program")
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("64-bit atomics are single instructions only on 64-bit platforms")
	}
	bin := filepath.Join(t.TempDir(), "inlinecheck")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/inlinecheck").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	syms := `chanpool\.\(\*Pool\[.*\]\)\.Acquire$|chanpool\.Conn\[.*\]\.Release$`
	out, err := exec.Command("go", "tool", "objdump", "-s", syms, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool objdump: %v\n%s", err, out)
	}
	text := string(out)
	for _, fn := range []string{"Acquire", "Release"} {
		if !regexp.MustCompile(`(?m)^TEXT .*\.` + fn + `\(SB\)`).MatchString(text) {
			t.Fatalf("objdump shows no %s:\n%s", fn, text)
		}
	}
	for line := range strings.Lines(text) {
		if strings.Contains(line, "CALL") && strings.Contains(line, "atomic") {
			t.Errorf("an atomic operation is a call: %s", strings.TrimSpace(line))
		}
	}
}
