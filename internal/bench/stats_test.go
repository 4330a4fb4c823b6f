package bench

import (
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no values", nil, 50, 0},
		{"one value, p50", ms(7), 50, 7 * time.Millisecond},
		{"one value, p99", ms(7), 99, 7 * time.Millisecond},
		{"two values, p50 is the first", ms(1, 2), 50, 1 * time.Millisecond},
		{"two values, p51 is the second", ms(1, 2), 51, 2 * time.Millisecond},
		{"1..100, p50", seq(100), 50, 50 * time.Millisecond},
		{"1..100, p95", seq(100), 95, 95 * time.Millisecond},
		{"1..100, p99", seq(100), 99, 99 * time.Millisecond},
		{"1..100, p100 is the maximum", seq(100), 100, 100 * time.Millisecond},
		{"20 values, p95 is the 19th (no float rounding up)", seq(20), 95, 19 * time.Millisecond},
		{"10 values, p95 is the 10th", seq(10), 95, 10 * time.Millisecond},
		{"10 values, p50 is the 5th", seq(10), 50, 5 * time.Millisecond},
		{"7 values, p99 is the 7th", seq(7), 99, 7 * time.Millisecond},
		{"1000 values, p99 is the 990th", seq(1000), 99, 990 * time.Millisecond},
		{"1001 values, p99 is the 991st", seq(1001), 99, 991 * time.Millisecond},
		{"p0 clamps to the minimum", seq(10), 0, 1 * time.Millisecond},
		{"p above 100 clamps to the maximum", seq(10), 150, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("Percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	in := ms(9, 1, 5, 3, 7, 2, 8, 4, 6, 10)
	got := Summarize(in)
	want := Stats{N: 10, P50: 5 * time.Millisecond, P95: 10 * time.Millisecond, P99: 10 * time.Millisecond}
	if got != want {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	if in[0] != 9*time.Millisecond {
		t.Fatal("Summarize sorted its argument in place")
	}
	if s := Summarize(nil); s != (Stats{}) {
		t.Fatalf("Summarize(nil) = %+v, want zero", s)
	}
}
