package db_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

func TestMigrationNamesMatchAcrossEngines(t *testing.T) {
	lite, err := db.Migrations(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := db.Migrations(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []db.Migration) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if !slices.Equal(names(lite), names(pg)) {
		t.Fatalf("migration names differ:\nsqlite:   %v\npostgres: %v", names(lite), names(pg))
	}
	if len(lite) == 0 {
		t.Fatal("no migrations embedded")
	}
}

// globalTables are the only tables without a tenant_id column.
var globalTables = []string{"schema_migrations", "setup_tokens", "tenants"}

func TestEveryTenantTableHasTenantID(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	tables, err := d.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("got tables %v, want the schema", tables)
	}
	for _, tbl := range tables {
		if slices.Contains(globalTables, tbl) {
			continue
		}
		cols, err := d.Columns(ctx, tbl)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(cols, "tenant_id") {
			t.Errorf("table %s has no tenant_id column (columns %v); add one or list it in globalTables with a reason", tbl, cols)
		}
	}
}

func TestMigrateIsIdempotentAndStatusCurrent(t *testing.T) {
	d := dbtest.OpenEmpty(t)
	ctx := context.Background()
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current() || len(st.Pending) == 0 {
		t.Fatalf("empty database: got status %+v, want pending migrations", st)
	}
	applied, err := d.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(st.Pending) {
		t.Fatalf("applied %v, want %v", applied, st.Pending)
	}
	again, err := d.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate: applied %v, err %v; want nothing", again, err)
	}
	st, err = d.Status(ctx)
	if err != nil || !st.Current() {
		t.Fatalf("after migrate: status %+v, err %v; want current", st, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future.sql', $1)`, db.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := d.Migrate(ctx)
	if !errors.Is(err, db.ErrSchemaNewer) {
		t.Fatalf("got %v, want ErrSchemaNewer", err)
	}
	st, _ := d.Status(ctx)
	if st.Current() || len(st.Unknown) != 1 {
		t.Fatalf("status %+v, want one unknown migration", st)
	}
}

func TestErrorMappingAndTimeRoundTrip(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	now := db.Now()
	insert := `INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $2, 'A', 'en', $3, $3)`
	if _, err := d.Write.ExecContext(ctx, insert, "t1", "acme", now); err != nil {
		t.Fatal(err)
	}
	_, err := d.Write.ExecContext(ctx, insert, "t2", "acme", now)
	if !errors.Is(db.MapError(err), db.ErrUniqueViolation) {
		t.Fatalf("duplicate slug: got %v, want ErrUniqueViolation", err)
	}
	_, err = d.Write.ExecContext(ctx, `INSERT INTO tenant_modules (tenant_id, module, enabled_at) VALUES ('nope', 'api', $1)`, now)
	if !errors.Is(db.MapError(err), db.ErrForeignKeyViolation) {
		t.Fatalf("dangling tenant: got %v, want ErrForeignKeyViolation", err)
	}
	var got time.Time
	if err := d.Read.QueryRowContext(ctx, `SELECT created_at FROM tenants WHERE id = 't1'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(now) {
		t.Fatalf("time round trip: got %v, want %v", got, now)
	}
	// Times compare correctly in SQL on both engines.
	var n int
	if err := d.Read.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE created_at < $1`, now.Add(time.Millisecond)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("time comparison: got %d (%v), want 1", n, err)
	}
	if err := d.Read.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE created_at > $1`, now.Add(-time.Microsecond)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("time comparison: got %d (%v), want 1", n, err)
	}
}

func TestInTxRollsBack(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ('x', 'x', 'X', 'en', $1, $1)`, db.Now()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	var n int
	d.Read.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&n)
	if n != 0 {
		t.Fatalf("rolled-back insert left %d rows", n)
	}
}

func TestSQLitePragmas(t *testing.T) {
	d, err := db.Open(context.Background(), db.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "secure_delete": "1", "busy_timeout": "10000"} {
		var got string
		if err := d.Read.QueryRow(`PRAGMA ` + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := d.Read.Exec(`CREATE TABLE x (a INT)`); err == nil {
		t.Error("reader pool accepted a write; want query_only")
	}
}
