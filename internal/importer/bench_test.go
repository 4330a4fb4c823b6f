package importer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// BenchmarkImport imports a file of KANDIDAT_IMPORT_ROWS candidates (default
// 5,000), each with an application to one of 20 positions the import adds,
// a stage, a city and two skills, in batches of 500, into a new company,
// and reports rows per second. docs/benchmarks.md ("Import") has the
// figure at 100,000:
//
//	KANDIDAT_IMPORT_ROWS=100000 go test -run '^$' -bench Import -benchtime 1x ./internal/importer/
func BenchmarkImport(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("KANDIDAT_IMPORT_ROWS")); err == nil && v > 0 {
		n = v
	}
	var csv bytes.Buffer
	csv.WriteString("Name,Email,Basis,Applied,Position,Stage,City,Skills,ID\n")
	stages := []string{"new", "preselected", "interview", "offer", "hired", "rejected"}
	for i := range n {
		fmt.Fprintf(&csv, "Person %d Benchmark,person%d@example.com,purpose,2026-%02d-%02d,Position %d,%s,City %d,\"Go, SQL %d\",b-%d\n",
			i, i, 1+i%11, 1+i%28, i%20, stages[i%len(stages)], i%50, i%30, i)
	}
	data := csv.Bytes()
	m, err := ParseMap("Name=full_name,Email=email,Basis=basis,Applied=applied,Position=position,Stage=stage,City=city,Skills=skills,ID=external_id")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		k := testkit.New(b, testkit.Options{})
		c := k.Company(b, tenant.CreateInput{Slug: "bench", Name: "Bench"})
		hr := k.Actor(b, c.ID, "bench-hr", access.HRManager)
		svc := NewService(k.DB, Options{Recruit: k.Recruit, Audit: k.Audit, Blobs: k.Blobs})
		b.StartTimer()
		start := time.Now()
		run, _, err := svc.Import(context.Background(), hr, FileRun{Input: bytesInput(data, CSV, m, nil), FileName: "bench.csv", SHA256: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if run.Created != n {
			b.Fatalf("created %d of %d", run.Created, n)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
		b.ReportMetric(took.Seconds(), "s/import")
	}
}
