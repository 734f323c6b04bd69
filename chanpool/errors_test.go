package chanpool_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

// TestErrorsAreDistinct checks every sentinel error of the package: no two
// match under errors.Is, and each names chanpool. The list is held against
// the package's source, so that a new sentinel cannot be left out of it.
func TestErrorsAreDistinct(t *testing.T) {
	errs := map[string]error{
		"ErrClosed":           chanpool.ErrClosed,
		"ErrExhausted":        chanpool.ErrExhausted,
		"ErrAcquireTimeout":   chanpool.ErrAcquireTimeout,
		"ErrDial":             chanpool.ErrDial,
		"ErrBreakerOpen":      chanpool.ErrBreakerOpen,
		"ErrNoIdle":           chanpool.ErrNoIdle,
		"ErrNotHeld":          chanpool.ErrNotHeld,
		"ErrConnClosedByPeer": chanpool.ErrConnClosedByPeer,
		"ErrUnreadData":       chanpool.ErrUnreadData,
	}
	assert.ElementsMatch(t, declaredErrors(t), slices.Collect(maps.Keys(errs)),
		"the package's Err variables, and the ones listed here")
	for na, a := range errs {
		assert.True(t, strings.HasPrefix(a.Error(), "chanpool: "), "%s = %q: want the prefix \"chanpool: \"", na, a)
		for nb, b := range errs {
			assert.Equal(t, na == nb, errors.Is(a, b), "errors.Is(%s, %s)", na, nb)
		}
	}
}

// declaredErrors returns the names of the exported package-level variables
// named Err… in the package's non-test files, on every platform.
func declaredErrors(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						if id.IsExported() && strings.HasPrefix(id.Name, "Err") {
							names[id.Name] = true
						}
					}
				}
			}
		}
	}
	return slices.Collect(maps.Keys(names))
}
