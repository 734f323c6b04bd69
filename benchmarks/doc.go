// Package benchmarks measures chanpool against other Go connection pools and
// against two floors that no pool can beat: a bare buffered channel and a
// mutex-guarded slice.
//
// Every contender pools the same connection type, *FakeConn, and is wrapped
// in one small interface, Contender, so that one benchmark body and one
// latency harness run them all. The benchmarks live in bench_test.go; the
// tail-latency and memory harnesses (tail.go, memory.go) are driven by
// cmd/report, which also writes RESULTS.md. See README.md for how to run it.
package benchmarks
