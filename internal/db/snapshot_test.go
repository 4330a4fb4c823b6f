package db_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// TestWriteSnapshot: the image is one consistent view taken while another
// goroutine writes (every committed row count is a multiple of the
// batch), writes go on meanwhile, the image opens as a database that
// passes its integrity check, a failing writer stops it, and PostgreSQL
// says to use pg_dump.
func TestWriteSnapshot(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if d.Engine != db.SQLite {
		if _, err := d.WriteSnapshot(ctx, io.Discard); err == nil {
			t.Fatal("a SQLite snapshot on PostgreSQL succeeded")
		}
		return
	}
	const batch = 10
	var seq atomic.Int64
	insert := func() error {
		return d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			for range batch {
				if _, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ($1, $2)`,
					"snap-"+strconv.FormatInt(seq.Add(1), 10), db.Now()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for range 200 {
		if err := insert(); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var writes atomic.Int64
	done := make(chan error, 1)
	go func() {
		for !stop.Load() {
			if err := insert(); err != nil {
				done <- err
				return
			}
			writes.Add(1)
		}
		done <- nil
	}()
	path := filepath.Join(t.TempDir(), "snap.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.WriteSnapshot(ctx, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if writes.Load() == 0 {
		t.Error("no write went through while the snapshot ran")
	}
	if info, _ := os.Stat(path); info.Size() != n || n%4096 != 0 {
		t.Errorf("image of %d bytes, reported %d", info.Size(), n)
	}
	snap, err := db.Open(ctx, db.Options{URL: "sqlite://" + path})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var rows int
	var check string
	if err := snap.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM pending_backfills WHERE name LIKE 'snap-%'`).Scan(&rows)
	}); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Errorf("integrity of the image: %s", check)
	}
	if rows < 200*batch || rows%batch != 0 {
		t.Errorf("the image holds %d rows: not whole transactions", rows)
	}
	if st, err := snap.Status(ctx); err != nil || !st.Current() {
		t.Errorf("the image's schema: %+v %v", st, err)
	}
	broken := errors.New("disk full")
	if _, err := d.WriteSnapshot(ctx, failingWriter{broken}); !errors.Is(err, broken) {
		t.Errorf("a failing writer: got %v", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// BenchmarkWriteSnapshot streams the image of a database of
// KANDIDAT_BENCH_BACKUP_MB (default 64) megabytes of 2 KB rows.
func BenchmarkWriteSnapshot(b *testing.B) {
	mb := 64
	if v, err := strconv.Atoi(os.Getenv("KANDIDAT_BENCH_BACKUP_MB")); err == nil && v > 0 {
		mb = v
	}
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{DataDir: b.TempDir(), SessionScope: db.Installation})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, q := range []string{`CREATE TABLE fill (id INTEGER PRIMARY KEY, data BLOB)`,
		`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ` + strconv.Itoa(mb<<20/2000) + `) INSERT INTO fill (data) SELECT randomblob(2000) FROM c`,
		`PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := d.Write.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Sync()
	b.SetBytes(int64(mb) << 20)
	for b.Loop() {
		if _, err := d.WriteSnapshot(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
