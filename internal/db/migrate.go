package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Name string // e.g. "0001_init.sql"
	SQL  string
}

// Migrations returns the embedded migrations of an engine in order.
func Migrations(engine Engine) ([]Migration, error) {
	dir := path.Join("migrations", string(engine))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations of %s: %w", engine, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// MigrationStatus says where a database's schema stands against this binary.
type MigrationStatus struct {
	Applied []string // names recorded in the database, in order
	Pending []string // embedded migrations not yet applied
	Unknown []string // applied migrations this binary does not know: the schema is newer
}

// Current reports whether the schema is exactly the one this binary expects.
func (s MigrationStatus) Current() bool { return len(s.Pending) == 0 && len(s.Unknown) == 0 }

// ErrSchemaNewer is returned when the database was migrated by a newer binary.
var ErrSchemaNewer = fmt.Errorf("the database schema is newer than this binary; upgrade kandidat")

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	name TEXT PRIMARY KEY,
	applied_at TIMESTAMP NOT NULL
)`

// Status reads the applied migrations and compares them with the embedded ones.
func (d *DB) Status(ctx context.Context) (MigrationStatus, error) {
	var st MigrationStatus
	all, err := Migrations(d.Engine)
	if err != nil {
		return st, err
	}
	applied := map[string]bool{}
	exists, err := d.tableExists(ctx, "schema_migrations")
	if err != nil {
		return st, err
	}
	if exists {
		rows, err := d.Read.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
		if err != nil {
			return st, fmt.Errorf("read schema_migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return st, err
			}
			applied[n] = true
			st.Applied = append(st.Applied, n)
		}
		if err := rows.Err(); err != nil {
			return st, err
		}
	}
	known := map[string]bool{}
	for _, m := range all {
		known[m.Name] = true
		if !applied[m.Name] {
			st.Pending = append(st.Pending, m.Name)
		}
	}
	for _, n := range st.Applied {
		if !known[n] {
			st.Unknown = append(st.Unknown, n)
		}
	}
	return st, nil
}

func (d *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var q string
	switch d.Engine {
	case SQLite:
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	default:
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := d.Read.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// Migrate applies the pending migrations, each in its own transaction, and
// returns their names. It refuses a database whose schema is newer.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	// On PostgreSQL, migrations run as the login role that owns the tables,
	// on a connection of their own that is discarded afterwards; then the
	// pool's idle connections are dropped, so that every later connection
	// assumes the application role a migration may just have created.
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration connection: %w", err)
	}
	defer func() {
		if d.Engine == Postgres {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			d.Write.SetMaxIdleConns(0)
			d.Write.SetMaxIdleConns(10)
		}
		conn.Close()
	}()
	if d.Engine == Postgres {
		if _, err := conn.ExecContext(ctx, `RESET ROLE`); err != nil {
			return nil, fmt.Errorf("migrate as the owner: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	st, err := d.Status(ctx)
	if err != nil {
		return nil, err
	}
	if len(st.Unknown) > 0 {
		return nil, fmt.Errorf("%w (unknown migrations: %s)", ErrSchemaNewer, strings.Join(st.Unknown, ", "))
	}
	all, err := Migrations(d.Engine)
	if err != nil {
		return nil, err
	}
	pending := map[string]bool{}
	for _, n := range st.Pending {
		pending[n] = true
	}
	var done []string
	for _, m := range all {
		if !pending[m.Name] {
			continue
		}
		err := inConnTx(ctx, conn, func(tx *sql.Tx) error {
			if d.Engine == Postgres {
				// Two instances starting together must not both migrate.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7301998)`); err != nil {
					return err
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, m.Name).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, m.Name, Now())
			return err
		})
		if err != nil {
			return done, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}

// Tables lists the application's tables (for tests and operators).
func (d *DB) Tables(ctx context.Context) ([]string, error) {
	var q string
	switch d.Engine {
	case SQLite:
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	default:
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return d.strings(ctx, q)
}

// Columns lists the column names of a table.
func (d *DB) Columns(ctx context.Context, table string) ([]string, error) {
	switch d.Engine {
	case SQLite:
		return d.strings(ctx, `SELECT name FROM pragma_table_info($1) ORDER BY cid`, table)
	default:
		return d.strings(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	}
}

func (d *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	return Strings(ctx, d.Read, q, args...)
}

// inConnTx runs fn in a transaction on conn.
func inConnTx(ctx context.Context, conn *sql.Conn, fn func(tx *sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	return finishTx(tx, fn)
}
