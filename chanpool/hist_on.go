//go:build !chanpool_nohist

package chanpool

// histograms is true in normal builds. Building with the chanpool_nohist tag
// compiles hold-time sampling out of the acquire and release paths, so that
// its cost can be measured against a build without it:
//
//	go test -tags chanpool_nohist -bench AcquireRelease ./chanpool
const histograms = true
