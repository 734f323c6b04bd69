//go:build !smartconnpool

package benchmarks

import "errors"

// withSmartconnpool says that this build has the smartconnpool contender:
// it needs -tags smartconnpool (see vitess.go), which `make bench` sets.
const withSmartconnpool = false

func newSmartconnpool(string, int) (Contender, error) {
	return nil, errors.New("built without -tags smartconnpool")
}
