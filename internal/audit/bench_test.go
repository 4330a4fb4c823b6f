package audit_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
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
				err := f.d.InTx(ctx, func(tx *sql.Tx) error {
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
		if err := f.d.InTx(ctx, func(tx *sql.Tx) error {
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
