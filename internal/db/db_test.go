package db_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
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

// globalTables are the only tables without a tenant_id column. The words
// of the full-text index (SQLite's candidate_search and FTS5's shadow
// tables, PostgreSQL's candidate_search_words) carry none: their rows are
// reached only through a map that has it (candidate_search_docs,
// candidate_search), and every query names the company (internal/search).
var globalTables = []string{"pending_backfills", "schema_migrations", "setup_tokens", "tenants",
	"candidate_search", "candidate_search_config", "candidate_search_data", "candidate_search_docsize", "candidate_search_idx",
	// PostgreSQL's words of the index: see migration 0030 (matching words
	// cannot pass a row-level security policy and use the index).
	"candidate_search_words"}

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
	err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
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

// TestRowLevelSecurity (PostgreSQL): the application's connections run as
// a role that owns no table; every company table has a policy; a
// transaction that declares a company sees and writes only its rows,
// whatever its statements say.
func TestRowLevelSecurity(t *testing.T) {
	d := dbtest.Open(t)
	if d.Engine != db.Postgres {
		t.Skip("row-level security is PostgreSQL's; set " + dbtest.PostgresEnv)
	}
	ctx := context.Background()
	var user, owner string
	if err := d.Read.QueryRowContext(ctx, `SELECT current_user`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	if err := d.Read.QueryRowContext(ctx, `SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'positions'`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if user != db.AppRole || owner == user || !d.RunsAsAppRole() {
		t.Fatalf("connections run as %q, tables owned by %q", user, owner)
	}
	var unprotected []string
	rows, err := d.Read.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relrowsecurity
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		unprotected = append(unprotected, n)
	}
	rows.Close()
	if len(unprotected) > 0 {
		t.Fatalf("company tables without row-level security: %v", unprotected)
	}
	now := db.Now()
	for _, id := range []string{"ta", "tb"} {
		if err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $1, $1, 'en', $2, $2)`, id, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, id, name, permissions, created_at, updated_at) VALUES ($1, $1 || '-role', 'R', '', $2, $2)`, id, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(scope string) (n int) {
		t.Helper()
		if err := d.ReadTx(ctx, scope, func(tx *sql.Tx) error { return tx.QueryRowContext(ctx, `SELECT count(*) FROM roles`).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if all, a := count(db.Installation), count("ta"); all != 2 || a != 1 {
		t.Fatalf("the installation sees %d roles, company A's transaction %d; want 2 and 1", all, a)
	}
	// A transaction that declares nothing sees no company row and writes none.
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// (The test's pools carry the installation's scope for setting up data;
	// Kandidat's own carry none, as this transaction now has.)
	if _, err := tx.ExecContext(ctx, `SET LOCAL kandidat.tenant_id TO DEFAULT`); err != nil {
		t.Fatal(err)
	}
	var undeclared int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM roles`).Scan(&undeclared); err != nil || undeclared != 0 {
		t.Fatalf("an undeclared transaction sees %d roles (%v), want 0", undeclared, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, id, name, permissions, created_at, updated_at) VALUES ('ta', 'stray', 'S', '', $1, $1)`, now); err == nil {
		t.Fatal("an undeclared transaction wrote a company row")
	}
	tx.Rollback()
	if err := d.InTx(ctx, "", func(*sql.Tx) error { return nil }); !errors.Is(err, db.ErrNoScope) {
		t.Fatalf("a transaction with an empty scope: %v, want ErrNoScope", err)
	}
	err = d.InTx(ctx, "ta", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE roles SET name = 'changed'`) // no tenant filter: the policy is the filter
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("an unfiltered update in company A's transaction changed %d rows", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, "ta", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, id, name, permissions, created_at, updated_at) VALUES ('tb', 'smuggled', 'S', '', $1, $1)`, now)
		return err
	})
	if err == nil {
		t.Fatal("company A's transaction wrote a row of company B")
	}
	// Every company table carries the policy that denies an undeclared
	// transaction: its row is visible only to its own company or to the
	// installation's scope.
	prows, err := d.Read.QueryContext(ctx, `SELECT c.relname, coalesce(p.qual, ''), coalesce(p.with_check, '') FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = 'tenant_isolation'
		WHERE n.nspname = current_schema() AND c.relkind = 'r'
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`)
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for prows.Next() {
		var table, qual, check string
		if err := prows.Scan(&table, &qual, &check); err != nil {
			t.Fatal(err)
		}
		tables++
		for _, expr := range []string{qual, check} {
			if !strings.Contains(expr, "current_setting('kandidat.tenant_id'::text, true)") || !strings.Contains(expr, "'*'::text") || strings.Contains(expr, "''::text") {
				t.Errorf("table %s: policy %q does not deny an undeclared transaction", table, expr)
			}
		}
	}
	prows.Close()
	if tables < 20 {
		t.Fatalf("checked the policies of %d company tables", tables)
	}
	var name string
	if err := d.ReadTx(ctx, "tb", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT name FROM roles WHERE tenant_id = 'tb'`).Scan(&name)
	}); err != nil || name != "R" {
		t.Fatalf("company B's role: %q %v", name, err)
	}
}
