//go:build chanpool_nohist

package chanpool

// histograms is false: see hist_on.go.
const histograms = false
