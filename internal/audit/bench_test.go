package audit_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// BenchmarkRecord appends records the way a service does: inside a
// transaction that also makes a change (here, touching a row), one record
// per transaction and, separately, ten.
func BenchmarkRecord(b *testing.B) {
	for _, perTx := range []int{1, 10} {
		b.Run(map[int]string{1: "1-per-tx", 10: "10-per-tx"}[perTx], func(b *testing.B) {
			f := newFixture(b)
			ctx := context.Background()
			f.exec(`INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ('t1', 't1', 'T', 'en', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`)
			e := signIn("0190a5c2-7d5e-7000-8000-000000000001")
			e.TenantID = "t1"
			b.ResetTimer()
			records := 0
			for b.Loop() {
				err := f.d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = 'T' WHERE id = 't1'`); err != nil {
						return err
					}
					for i := 0; i < perTx; i++ {
						if err := f.log.Record(ctx, tx, e); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				records += perTx
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkVerify measures `audit verify` over a chain of 20,000 records:
// reading them from the database, recomputing every hash and link.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	const n = 20000
	e := signIn("0190a5c2-7d5e-7000-8000-000000000001")
	e.TenantID = "t1"
	for done := 0; done < n; done += 1000 {
		if err := f.d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			for i := 0; i < 1000; i++ {
				if err := f.log.Record(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := f.log.Verify(ctx, nil, f.signer.PublicKey(), nil)
		if err != nil || len(res.Problems) != 0 || res.Records != n {
			b.Fatalf("verify: %+v %v", res, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkChainHash measures the hashing alone: the canonical encoding and
// SHA-256 of a typical record.
func BenchmarkChainHash(b *testing.B) {
	r := audit.Record{TenantID: "0190a5c2-7d5e-7000-8000-000000000001", Track: audit.Security, ID: "0190a5c2-7d5e-7000-8000-000000000002",
		Actor: audit.User("0190a5c2-7d5e-7000-8000-000000000003"), Action: audit.SignInSucceeded,
		Objects: []audit.Ref{{Kind: "user", ID: "0190a5c2-7d5e-7000-8000-000000000003"}}, RequestID: "9f2c1a7e4b3d5f60",
		Details: map[string]string{"ip": "192.0.2.1", "method": "password"}}
	prev := audit.GenesisHash
	for b.Loop() {
		prev = audit.ComputeHash(prev, &r)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// auditBenchRecordsEnv sets the size of BenchmarkAuditFilters' trail.
const auditBenchRecordsEnv = "KANDIDAT_BENCH_AUDIT_RECORDS"

// BenchmarkAuditFilters times a page of 50 records (the first, and the next
// by its cursor), as /audit shows it, for each filter of that page alone
// and combined, over one company's trail of 50,000 records, or of
// KANDIDAT_BENCH_AUDIT_RECORDS records (1000000 for the figures in
// docs/benchmarks.md; building them, outside the timing, then takes
// minutes). Another company holds a tenth as many. The trail is written
// with audit.Batch, 5,000 records a transaction, and analysed; the build
// rate and the plans are logged (-v). It ends with eight clients at once
// on one object's page, and a verification of the whole trail.
func BenchmarkAuditFilters(b *testing.B) {
	n := 50000
	if v := os.Getenv(auditBenchRecordsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("%s=%q: give a number of records, at least 1000", auditBenchRecordsEnv, v)
		}
	}
	var sw switchRecorder
	d := dbtest.OpenTraced(b, sw.trace)
	s, _, err := audit.LoadOrCreateSigner(filepath.Join(b.TempDir(), "audit.key"))
	if err != nil {
		b.Fatal(err)
	}
	l := audit.NewLog(d, s, audit.Rules{})
	shape := buildTrail(b, l, d, "t1", n, 1)
	other := buildTrail(b, l, d, "t2", n/10, 2)
	b.Logf("%s: built %d + %d records in %s (%.0f records/s, %d a transaction)", d.Engine, shape.records, other.records,
		(shape.buildTime + other.buildTime).Round(time.Second), shape.recordsPerSecondDuringIt, shape.batchSize)
	ctx := context.Background()
	for _, c := range filterCases(shape) {
		f := c.f
		f.Limit = 50
		first, next, err := l.List(ctx, "t1", f)
		if err != nil {
			b.Fatal(err)
		}
		sw.on.Store(true)
		l.List(ctx, "t1", f)
		sw.on.Store(false)
		for _, p := range dbtest.Plans(ctx, d, sw.rec.Take()) {
			b.Logf("%s (%d records on the first page):\n%s", c.name, len(first), p)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := l.List(ctx, "t1", f); err != nil {
					b.Fatal(err)
				}
			}
		})
		if next == "" {
			continue
		}
		f.After = next
		b.Run(c.name+", next page", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := l.List(ctx, "t1", f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("object application, 8 clients at once", func(b *testing.B) {
		f := audit.Filter{ObjectID: shape.application, Limit: 50} // a bare id, as typed into the form
		b.SetParallelism(4)                                       // 4 per core: 8 on this machine's two
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := l.List(ctx, "t1", f); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// Verifying the whole trail takes seconds at a million records: once,
	// whatever the benchmark time.
	res, err := l.Verify(ctx, nil, s.PublicKey(), nil)
	if err != nil || len(res.Problems) != 0 {
		b.Fatalf("verify: %v %v", res.Problems, err)
	}
	b.Logf("%s: verified %d records and %d references in %s (%.0f records/s)", d.Engine, res.Records, res.References,
		res.Duration.Round(time.Millisecond), float64(res.Records)/res.Duration.Seconds())
}
