package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
)

// benchInstall makes a SQLite installation of about KANDIDAT_BENCH_BACKUP_MB
// megabytes (default 64): three quarters database (rows of 2 KB of random
// bytes in a table of its own, beside the migrated schema), one quarter
// files of 1 MiB in the file store. It returns the source and the total
// plaintext size. The figures depend on the disk: a backup to a directory
// writes every byte at least once more and syncs it (this machine's disk
// writes 121 MB/s with fdatasync).
func benchInstall(b *testing.B) (backup.Source, *age.X25519Identity, int64) {
	b.Helper()
	mb := 64
	if v := os.Getenv("KANDIDAT_BENCH_BACKUP_MB"); v != "" {
		var err error
		if mb, err = strconv.Atoi(v); err != nil || mb < 4 {
			b.Fatalf("KANDIDAT_BENCH_BACKUP_MB=%q: want a number of megabytes, at least 4", v)
		}
	}
	ctx := context.Background()
	dataDir := b.TempDir()
	d, err := db.Open(ctx, db.Options{DataDir: dataDir, SessionScope: db.Installation})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	rows := mb * 3 / 4 * (1 << 20) / 2000
	for _, q := range []string{
		`CREATE TABLE bench_fill (id INTEGER PRIMARY KEY, data BLOB NOT NULL)`,
		`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ` + strconv.Itoa(rows) + `)
			INSERT INTO bench_fill (data) SELECT randomblob(2000) FROM c`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	} {
		if _, err := d.Write.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	files, err := blob.NewDir(filepath.Join(dataDir, "files"))
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range mb / 4 {
		rand.Read(chunk)
		name := fmt.Sprintf("0190f0e2-0000-7000-8000-00000000%04x/0190f0e2-0000-7000-8000-0000%08x", i%7, i)
		if err := files.Put(ctx, name, bytes.NewReader(chunk), int64(len(chunk))); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(d.Path)
	if err != nil {
		b.Fatal(err)
	}
	// The installation is on disk before the clock runs, as a live one is:
	// otherwise the write-back of the set-up competes with the backup.
	syscall.Sync()
	id, _ := age.GenerateX25519Identity()
	return backup.Source{DB: d, Blobs: files, StagingDir: filepath.Join(b.TempDir(), "staging"), Version: "bench"}, id,
		info.Size() + int64(mb/4)<<20
}

// BenchmarkBackup measures Create to a directory target: snapshot,
// tar, encryption and upload (write, fsync, rename) of every part.
func BenchmarkBackup(b *testing.B) {
	src, id, total := benchInstall(b)
	ctx := context.Background()
	root := b.TempDir()
	var elapsed, database, rest time.Duration
	i := 0
	for b.Loop() {
		dir := filepath.Join(root, strconv.Itoa(i))
		i++
		tg := dirTarget(b, dir)
		start := time.Now()
		// The database part streams first, then the files (each to the target as it is sealed).
		var firstFiles time.Time
		progress := func(part string, done, total int64) {
			if part == backup.PartFiles && firstFiles.IsZero() {
				firstFiles = time.Now()
			}
		}
		if _, err := backup.Create(ctx, src, backup.CreateOptions{Recipients: []age.Recipient{id.Recipient()}, Targets: []backup.Target{tg}, Progress: progress}); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		elapsed += end.Sub(start)
		database += firstFiles.Sub(start)
		rest += end.Sub(firstFiles)
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/1e6/(elapsed.Seconds()/float64(i)), "MB/s")
	b.ReportMetric(float64(total)/1e6, "MB")
	b.ReportMetric(database.Seconds()/float64(i), "s-database")
	b.ReportMetric(rest.Seconds()/float64(i), "s-files")
}

// BenchmarkRestore measures Restore from a directory target into an empty
// data directory: download, hash checks, decryption, files and database
// put in place.
func BenchmarkRestore(b *testing.B) {
	src, id, total := benchInstall(b)
	ctx := context.Background()
	tg := dirTarget(b, filepath.Join(b.TempDir(), "backups"))
	res, err := backup.Create(ctx, src, backup.CreateOptions{Recipients: []age.Recipient{id.Recipient()}, Targets: []backup.Target{tg}})
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	var elapsed time.Duration
	i := 0
	for b.Loop() {
		dataDir := filepath.Join(root, strconv.Itoa(i))
		i++
		files, err := blob.NewDir(filepath.Join(dataDir, "files"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := backup.Restore(ctx, tg, res.Manifest.ID, []age.Identity{id}, backup.RestoreOptions{DataDir: dataDir, Blobs: files}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		os.RemoveAll(dataDir)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/1e6/(elapsed.Seconds()/float64(i)), "MB/s")
	b.ReportMetric(float64(total)/1e6, "MB")
}
