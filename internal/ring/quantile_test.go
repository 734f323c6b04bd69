package ring_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/chanpool/chanpool/internal/ring"
)

func TestQuantile(t *testing.T) {
	oneToHundred := make([]int64, 100)
	for i := range oneToHundred {
		oneToHundred[i] = int64(i + 1)
	}
	oneToTen := oneToHundred[:10]

	tests := []struct {
		name   string
		sorted []int64
		q      float64
		want   int64
	}{
		{"p50 of 1..100", oneToHundred, 0.50, 50},
		{"p99 of 1..100", oneToHundred, 0.99, 99},
		{"max of 1..100", oneToHundred, 1, 100},
		{"min of 1..100", oneToHundred, 0, 1},
		{"p7 of 1..100 (0.07*100 rounds up in float64)", oneToHundred, 0.07, 7},
		{"p57 of 1..100 (0.57*100 rounds down in float64)", oneToHundred, 0.57, 57},
		{"p99.9 of 1..100", oneToHundred, 0.999, 100},
		{"p50 of 1..10", oneToTen, 0.50, 5},
		{"p90 of 1..10", oneToTen, 0.90, 9},
		{"p95 of 1..10", oneToTen, 0.95, 10},
		{"p50 of odd length", []int64{10, 20, 30}, 0.50, 20},
		{"q above 1 is clamped", oneToTen, 1.5, 10},
		{"q below 0 is clamped", oneToTen, -0.5, 1},
		{"NaN counts as 0", oneToTen, math.NaN(), 1},
		{"+Inf is clamped", oneToTen, math.Inf(1), 10},
		{"-Inf is clamped", oneToTen, math.Inf(-1), 1},
		{"single sample", []int64{42}, 0.99, 42},
		{"empty", nil, 0.5, 0},
		{"duplicates", []int64{1, 2, 2, 2, 9}, 0.5, 2},
	}
	for _, tt := range tests {
		got := ring.Quantile(tt.sorted, tt.q)
		assert.Equal(t, tt.want, got, "%s: Quantile(q=%v): got %d, want %d", tt.name, tt.q, got, tt.want)
	}
}

func TestQuantileDuration(t *testing.T) {
	sorted := []time.Duration{time.Millisecond, 2 * time.Millisecond, time.Second}
	assert.Equal(t, time.Second, ring.Quantile(sorted, 0.99), "p99")
}
