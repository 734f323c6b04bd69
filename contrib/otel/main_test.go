package chanpoolotel_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The tests run real pools, whose goroutines must all be gone at the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
