// Package benchmarks measures chanpool against other Go connection pools and
// against floors that do nothing but hand a connection over: a bare buffered
// channel, the same channel plus a compare-and-swap per acquire and per
// release (the least a pool with safe handles does), and a mutex-guarded
// slice.
//
// Every contender pools the same connection type, *FakeConn, and is wrapped
// in one small interface, Contender, so that one benchmark body and one
// latency harness run them all. The benchmarks live in bench_test.go; the
// tail-latency and memory harnesses (tail.go, memory.go) are driven by
// cmd/report, which also writes RESULTS.md. See README.md for how to run it.
package benchmarks
