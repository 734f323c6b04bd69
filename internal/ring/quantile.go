package ring

import "math"

// Quantile returns the q-quantile of an ascending slice by the nearest-rank
// method: the smallest sample with at least q of the samples at or below it.
// q is clamped to [0, 1]; q = 1 is the maximum. It returns 0 for an empty
// slice.
func Quantile[T ~int64](sorted []T, q float64) T {
	if len(sorted) == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}
