package seed_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// TestUndeclaredTransactionReadsNothing (PostgreSQL): on an installation
// with seeded companies, a transaction that declares no company reads no
// row of any company table, while the installation's scope reads them and
// a company's scope reads its own only. The seed fills nearly every table,
// so this is row-level security checked on real data, table by table.
func TestUndeclaredTransactionReadsNothing(t *testing.T) {
	d := dbtest.Open(t)
	if d.Engine != db.Postgres {
		t.Skip("row-level security is PostgreSQL's; set " + dbtest.PostgresEnv)
	}
	res := run(t, d, 1)
	ctx := context.Background()
	tables, err := d.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	company := res.Companies[0].ID
	filled := 0
	for _, table := range tables {
		cols, err := d.Columns(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(cols, "tenant_id") {
			continue
		}
		count := func(scope string) (n, own int) {
			t.Helper()
			err := d.ReadTx(ctx, scope, func(tx *sql.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE tenant_id = $1) FROM `+table, company).Scan(&n, &own)
			})
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			return n, own
		}
		all, _ := count(db.Installation)
		if all > 0 {
			filled++
		}
		if n, own := count(company); n != own {
			t.Errorf("%s: company A's transaction reads %d rows, %d of them its own", table, n, own)
		}
		// The test's pools carry the installation's scope; Kandidat's carry
		// none, as this transaction now has.
		var undeclared int
		err = d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL kandidat.tenant_id TO DEFAULT`); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&undeclared)
		})
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if undeclared != 0 {
			t.Errorf("%s: a transaction that declares no company reads %d of its %d rows", table, undeclared, all)
		}
	}
	if filled < 15 {
		t.Fatalf("only %d company tables hold rows after seeding: the check proves little", filled)
	}
}
