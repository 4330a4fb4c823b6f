package bench

import (
	"math"
	"slices"
	"time"
)

// Stats summarises the latencies of one row.
type Stats struct {
	N             int
	P50, P95, P99 time.Duration
}

// Summarize returns the nearest-rank percentiles of latencies, which it
// leaves unchanged.
func Summarize(latencies []time.Duration) Stats {
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	return Stats{
		N:   len(sorted),
		P50: Percentile(sorted, 50),
		P95: Percentile(sorted, 95),
		P99: Percentile(sorted, 99),
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted latencies
// by the nearest-rank method: the smallest value such that at least p% of
// the values are at most it, which is always one of the values measured.
// It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// Multiplying first keeps p*n/100 exact for whole percentages
	// (95*20/100 is 19, not 19.000000000000004).
	rank := int(math.Ceil(p * float64(n) / 100))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
