package db_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// BenchmarkCommitFlush compares a small write transaction that waits for
// its flush to disk with one that does not (InTxNoFlush, used for the
// record of a page read). On PostgreSQL the difference is the WAL flush of
// the commit (run against a server with fsync on to see it); on SQLite in
// WAL mode with synchronous=NORMAL there is none to save.
func BenchmarkCommitFlush(b *testing.B) {
	d := dbtest.Open(b)
	ctx := context.Background()
	write := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ('bench', $1)
			ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at`, db.Now())
		return err
	}
	b.Run("flush", func(b *testing.B) {
		for b.Loop() {
			if err := d.InTx(ctx, db.Installation, write); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no-flush", func(b *testing.B) {
		for b.Loop() {
			if err := d.InTxNoFlush(ctx, db.Installation, write); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestInTxNoFlush: the write commits like any other.
func TestInTxNoFlush(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if err := d.InTxNoFlush(ctx, db.Installation, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ('probe', $1)`, db.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Read.QueryRow(`SELECT count(*) FROM pending_backfills WHERE name = 'probe'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("got %d rows, %v; want the committed row", n, err)
	}
}

// TestOptimize: the periodic statistics run, and leave the planner stats
// of a table it saw (SQLite), or do nothing (PostgreSQL).
func TestOptimize(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if err := d.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Engine != db.SQLite {
		return
	}
	var n int
	if err := d.Read.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sqlite_stat1: %d, %v; want the statistics table", n, err)
	}
}
