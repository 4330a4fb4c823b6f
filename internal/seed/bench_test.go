package seed_test

import (
	"context"
	"testing"

	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/seed"
)

// BenchmarkSeed measures the seed's rate on the suite's engine: one company
// of 5,000 candidates (about 15,000 applications with their history and
// trail), without CV files; rows/s counts every row written.
func BenchmarkSeed(b *testing.B) {
	sc := seed.Scale{Name: "bench", Companies: 1, Largest: 5000, CandidatesPerPosition: 50}
	for b.Loop() {
		b.StopTimer()
		d := dbtest.Open(b)
		deps := services(b, d)
		b.StartTimer()
		res, err := seed.Run(context.Background(), deps, seed.Options{Scale: sc, Seed: 1, Now: now, Password: "seed-Pass-2026-x"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rows, err := d.CountRows(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Applications)/res.Elapsed.Seconds(), "applications/s")
		b.ReportMetric(float64(rows)/res.Elapsed.Seconds(), "rows/s")
		b.StartTimer()
	}
}
