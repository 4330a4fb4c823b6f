package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
)

// Analyze refreshes the query planner's statistics: `PRAGMA optimize` (with
// a full ANALYZE when asked after bulk work) on SQLite, ANALYZE on
// PostgreSQL. Pages answer from indexes only when the planner knows how
// selective they are; on SQLite nothing else ever gathers statistics.
func (d *DB) Analyze(ctx context.Context) error {
	if d.Engine == SQLite {
		if _, err := d.Write.ExecContext(ctx, `PRAGMA analysis_limit=0`); err != nil { // all rows: after bulk work
			return fmt.Errorf("analyze: %w", err)
		}
		if _, err := d.Write.ExecContext(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		return nil
	}
	// The application role owns no table and may not analyse them: the
	// login role, which owns them, does.
	return d.asOwner(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		return nil
	})
}

// asOwner runs fn on a PostgreSQL connection of the login role (which owns
// the tables), outside the application role and its row-level security:
// for the operator's maintenance, never for a request.
func (d *DB) asOwner(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d.RunsAsAppRole() {
		if _, err := conn.ExecContext(ctx, `RESET ROLE`); err != nil {
			return err
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SET ROLE `+AppRole); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse an owner's connection
			}
		}()
	}
	return fn(conn)
}

// Optimize is the light, periodic form of Analyze: on SQLite `PRAGMA
// optimize`, which analyses only the tables whose statistics are stale
// (cheap enough to run at start and every few hours); on PostgreSQL it does
// nothing, as autovacuum keeps the statistics.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Engine != SQLite {
		return nil
	}
	// A bounded sample per index (analysis_limit) keeps the write
	// connection, which every change waits for, busy for milliseconds even
	// on a database of millions of rows, instead of reading it all.
	if _, err := d.Write.ExecContext(ctx, `PRAGMA analysis_limit=1000`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if _, err := d.Write.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// countedTables are the tables CountRows adds up.
var countedTables = []string{"tenants", "users", "positions", "position_stages", "position_members", "candidates", "applications",
	"documents", "consent_log", "comments", "ratings", "application_labels", "tasks", "interviews", "interview_participants", "messages",
	"audit_records", "audit_refs"}

// CountRows returns the number of rows of the main tables of every
// company: the operator's view, for reports of bulk work.
func (d *DB) CountRows(ctx context.Context) (int64, error) {
	var total int64
	count := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) error {
		for _, t := range countedTables {
			var n int64
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", t, err)
			}
			total += n
		}
		return nil
	}
	if d.Engine == SQLite {
		return total, count(d.Read)
	}
	return total, d.asOwner(ctx, func(conn *sql.Conn) error { return count(conn) })
}

// InTxNoFlush is InTx for a write whose loss in a crash of the machine is
// acceptable: the record that someone read a page. On PostgreSQL the
// commit does not wait for its WAL to reach the disk (synchronous_commit
// off for this transaction only: it becomes durable a moment later, with
// the next flush); on SQLite, in WAL mode with synchronous=NORMAL, no
// commit waits for the disk anyway. Atomicity and ordering are unchanged.
func (d *DB) InTxNoFlush(ctx context.Context, scope string, fn func(tx *sql.Tx) error) error {
	return d.InTx(ctx, scope, func(tx *sql.Tx) error {
		if d.Engine == Postgres {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// TryLock takes PostgreSQL's session advisory lock named name on a
// connection of its own, so that one instance of several does a piece of
// installation work (a job). It reports false when another holds it; the
// returned release frees the lock and the connection. On SQLite, whose
// database one process serves, it always succeeds.
func (d *DB) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if d.Engine != Postgres {
		return func() {}, true, nil
	}
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, true, nil
}

// Reclaim makes the database drop the bytes of deleted rows it still
// holds: on SQLite the write-ahead log is checkpointed into the file and
// truncated (secure_delete, on for every connection, overwrote the rows in
// the file); on PostgreSQL the tables are vacuumed, which removes their
// dead rows (the table's owner may; for another role PostgreSQL skips the
// table with a warning). Neither runs inside a transaction.
func (d *DB) Reclaim(ctx context.Context, tables []string) error {
	if d.Engine == SQLite {
		if fn := d.checkpoint.Load(); fn != nil {
			return (*fn)(ctx)
		}
		if _, err := d.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	}
	for _, t := range tables {
		if !validName(t) {
			return fmt.Errorf("vacuum: bad table name %q", t)
		}
		if _, err := d.Write.ExecContext(ctx, `VACUUM `+t); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return nil
}

// validName accepts a plain SQL identifier.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
