package benchmarks_test

import (
	"testing"

	"go.uber.org/goleak"
)

// glog's flush daemon is started by its package init (vitess's logging,
// imported by smartconnpool) and lives for the whole process: it is no
// goroutine of any pool.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"))
}
