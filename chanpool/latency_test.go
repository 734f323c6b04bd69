package chanpool_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/chanpool/chanpool/chanpool"
)

// TestBucketOf checks the histogram's bucket edges: a sample lands in the
// first bucket whose bound it does not exceed.
func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{1024, 0},
		{1025, 1},
		{2048, 1},
		{2049, 2},
		{time.Second, 20},                 // 2^29 < 1e9 ≤ 2^30
		{1 << 36, chanpool.NumBounds - 1}, // the last bound
		{1<<36 + 1, chanpool.NumBounds},   // overflow
		{time.Hour, chanpool.NumBounds},   // overflow
		{-time.Second, 0},                 // a clock step back counts as zero
	} {
		assert.Equal(t, tc.want, chanpool.BucketOf(tc.d), "chanpool.BucketOf(%v)", tc.d)
		if tc.want < chanpool.NumBounds && tc.d > 0 {
			assert.LessOrEqual(t, tc.d, time.Duration(1)<<(chanpool.FirstBoundShift+tc.want), "%v within its bound", tc.d)
		}
	}
}
