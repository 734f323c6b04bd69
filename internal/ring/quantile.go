package ring

import "math"

// Quantile returns the nearest-rank q-quantile of sorted, which must be in
// ascending order: the smallest sample such that at least a fraction q of
// the samples are <= it. q is clamped to [0, 1] (NaN counts as 0), so q=0 is
// the minimum and q=1 the maximum. Quantile returns 0 for an empty slice.
func Quantile[T ~int64](sorted []T, q float64) T {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if !(q > 0) { // also catches NaN
		q = 0
	}
	q = min(q, 1)
	// The rank is ceil(q*n), except that a product within rounding error of
	// an integer counts as that integer: 0.07*100 is 7.000000000000001 in
	// float64 and must give rank 7, not 8.
	x := q * float64(n)
	rank := math.Ceil(x)
	if r := math.Round(x); math.Abs(x-r) <= 1e-9*max(1, x) {
		rank = r
	}
	// q <= 1 keeps rank <= n; rank is 0 when q is 0 or nearly so.
	return sorted[max(int(rank), 1)-1]
}
