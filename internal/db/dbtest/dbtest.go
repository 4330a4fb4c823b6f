// Package dbtest opens a fresh, migrated database for a test: SQLite in a
// temporary directory, or, when KANDIDAT_TEST_POSTGRES_URL is set, a new
// schema on that PostgreSQL server, dropped when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
)

// PostgresEnv names the variable that points the suite at PostgreSQL.
const PostgresEnv = "KANDIDAT_TEST_POSTGRES_URL"

// URL returns a database URL for a fresh database: "" (SQLite in the data
// directory) or a PostgreSQL URL with a new schema, removed at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated database for the test, closed at cleanup.
func Open(t testing.TB) *db.DB {
	t.Helper()
	d := OpenEmpty(t)
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}

// OpenEmpty returns an unmigrated database for the test.
func OpenEmpty(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{URL: URL(t), DataDir: t.TempDir(), SessionScope: db.Installation})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// ExecAsOwner runs a statement as the owner of the tables (e.g. DDL a test
// uses to break something): on PostgreSQL the application's connections
// run as a role that owns nothing.
func ExecAsOwner(t testing.TB, d *db.DB, query string) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if d.Engine == db.Postgres {
		// The connection goes away afterwards rather than back to the pool as the owner.
		defer conn.Raw(func(any) error { return driver.ErrBadConn })
		if _, err := conn.ExecContext(ctx, `RESET ROLE`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.ExecContext(ctx, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
