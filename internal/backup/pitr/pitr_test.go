package pitr

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/superfly/ltx"

	"github.com/kandidat/kandidat/internal/db"
)

// replicaCase is one kind of replica location under test.
type replicaCase struct {
	name string
	// location returns the Replica option for a fresh replica.
	location func(t *testing.T) string
}

func replicaCases() []replicaCase {
	return []replicaCase{
		{"directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "replica") }},
		{"s3", func(t *testing.T) string {
			os.Unsetenv("AWS_CA_BUNDLE")
			mem := s3mem.New()
			if err := mem.CreateBucket("kandidat-pitr"); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gofakes3.New(mem).Server())
			t.Cleanup(srv.Close)
			return "s3://test-access:test-secret@kandidat-pitr/site/pitr?endpoint=" + srv.URL + "&path-style=true"
		}},
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// notes reads the bodies of the notes table of a restored database.
func notes(t *testing.T, path string) map[string]bool {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Query(`SELECT body FROM notes`)
	if err != nil {
		t.Fatalf("read restored database: %v", err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got[s] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// replicaFiles returns every stored object of the replica (key -> bytes).
func replicaFiles(t *testing.T, c *client) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	for level := 0; level <= 9; level++ {
		objs, err := c.obj.list(ctx, levelPrefix(level))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			rc, err := c.obj.get(ctx, o.key, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[o.key] = b
		}
	}
	return out
}

func TestPointInTimeRestore(t *testing.T) {
	for _, rc := range replicaCases() {
		t.Run(rc.name, func(t *testing.T) {
			ctx := context.Background()
			dataDir := t.TempDir()
			d, err := db.Open(ctx, db.Options{DataDir: dataDir})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			o := Options{DBPath: d.Path, Replica: rc.location(t), Key: testKey(t, 7), Logger: testLogger(t)}
			r, err := Start(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					r.Close()
				}
			}()
			insert := func(body string) {
				t.Helper()
				if _, err := d.Write.ExecContext(ctx, `INSERT INTO notes (body) VALUES ($1)`, body); err != nil {
					t.Fatal(err)
				}
			}
			// Filler makes the files span several 64 KiB chunks, so reads
			// of ranges and the chunk boundaries are exercised.
			for range 40 {
				insert("filler " + randomHex(t, 4096))
			}
			marker := "marker " + randomHex(t, 32) // random: no compression hides it
			rowA, rowB := "row A "+randomHex(t, 8), "row B "+randomHex(t, 8)
			insert(marker)
			insert(rowA)
			if err := r.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			// What the background monitors do on their schedule (hourly
			// snapshot, compactions every 30 s and 5 min), now: the restore
			// then reads snapshots and compacted levels too.
			if _, err := r.db.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.db.Compact(ctx, 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
			at := time.Now()
			time.Sleep(30 * time.Millisecond)
			insert(rowB)
			if err := r.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.db.Compact(ctx, 1); err != nil {
				t.Fatal(err)
			}
			// Level 2 is made from the level-1 files read back from the
			// replica (no local copy): they must open with the key.
			if _, err := r.db.Compact(ctx, 2); err != nil {
				t.Fatal(err)
			}
			for _, level := range []int{0, 1, 2, 9} {
				if ids, _, err := r.client.files(ctx, level); err != nil || len(ids) == 0 {
					t.Fatalf("level %d of the replica: %d files, %v", level, len(ids), err)
				}
			}

			from, to, err := r.Window(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !from.Before(at) || !to.After(at) {
				t.Fatalf("window %s to %s does not hold %s", from, to, at)
			}
			if f2, t2, err := ReadWindow(ctx, o); err != nil || !f2.Equal(from) || t2.Before(to) {
				t.Fatalf("ReadWindow: %s to %s, %v; want %s to %s", f2, t2, err, from, to)
			}

			out := t.TempDir()
			past := filepath.Join(out, "past.db")
			if err := RestoreTo(ctx, o, at, past); err != nil {
				t.Fatalf("restore to %s: %v", at, err)
			}
			got := notes(t, past)
			if !got[rowA] || got[rowB] || !got[marker] || len(got) != 42 {
				t.Fatalf("restored as of the time between A and B: A %v, B %v, %d rows; want A and not B, 42 rows", got[rowA], got[rowB], len(got))
			}
			if fi, err := os.Stat(past); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("restored file mode: %v, %v; want 0600", fi.Mode(), err)
			}
			now := filepath.Join(out, "now.db")
			if err := RestoreTo(ctx, o, time.Now(), now); err != nil {
				t.Fatalf("restore to now: %v", err)
			}
			if got := notes(t, now); !got[rowA] || !got[rowB] || len(got) != 43 {
				t.Fatalf("restored as of now: A %v, B %v, %d rows; want both, 43 rows", got[rowA], got[rowB], len(got))
			}

			// Refusals: an existing file, a time before the window or in
			// the future, another key.
			if err := RestoreTo(ctx, o, time.Now(), now); !errors.Is(err, os.ErrExist) {
				t.Fatalf("restore over an existing file: %v, want os.ErrExist", err)
			}
			for _, bad := range []time.Time{from.Add(-time.Hour), from, time.Now().Add(time.Hour)} {
				err := RestoreTo(ctx, o, bad, filepath.Join(out, "outside.db"))
				if !errors.Is(err, ErrOutsideWindow) || !strings.Contains(err.Error(), from.UTC().Format(time.RFC3339Nano)) {
					t.Fatalf("restore to %s: %v; want ErrOutsideWindow naming the window", bad, err)
				}
			}
			wrong := o
			wrong.Key = testKey(t, 8)
			if err := RestoreTo(ctx, wrong, at, filepath.Join(out, "wrong.db")); !errors.Is(err, ErrWrongKey) {
				t.Fatalf("restore with another key: %v, want ErrWrongKey", err)
			}
			if _, _, err := ReadWindow(ctx, wrong); !errors.Is(err, ErrWrongKey) {
				t.Fatalf("window with another key: %v, want ErrWrongKey", err)
			}
			if _, err := os.Stat(filepath.Join(out, "wrong.db")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused restore left a file: %v", err)
			}

			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			closed = true
			if _, err := Start(ctx, wrong); !errors.Is(err, ErrWrongKey) {
				t.Fatalf("start on a replica sealed with another key: %v, want ErrWrongKey", err)
			}

			// Nothing on the replica is readable: no plaintext of the
			// marker, no SQLite or LTX file. The marker is in the
			// plaintext of some file (so the search would have found it).
			c, err := connect(o, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			files := replicaFiles(t, c)
			for key, b := range files {
				t.Logf("replica file %s: %d bytes", key, len(b))
			}
			if len(files) < 2 {
				t.Fatalf("replica holds %d files", len(files))
			}
			inPlain := false
			for key, b := range files {
				if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte(rowA)) {
					t.Fatalf("replica file %s holds plaintext", key)
				}
				if bytes.HasPrefix(b, []byte("SQLite format 3")) || bytes.HasPrefix(b, []byte(ltx.Magic)) || !bytes.HasPrefix(b, []byte(sealMagic)) {
					t.Fatalf("replica file %s starts %q", key, b[:min(16, len(b))])
				}
				id, _ := parseKey(levelOf(key), key)
				f, err := c.OpenLTXFile(ctx, id.level, ltx.TXID(id.minTXID), ltx.TXID(id.maxTXID), 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					t.Fatalf("open %s: %v", key, err)
				}
				if !bytes.HasPrefix(plain, []byte(ltx.Magic)) {
					t.Fatalf("%s opens to %q, not an LTX file", key, plain[:min(8, len(plain))])
				}
				inPlain = inPlain || bytes.Contains(plain, []byte(marker))
				checkRanges(t, c, id, plain)
			}
			if !inPlain {
				t.Fatal("the marker is in no opened replica file: the search for plaintext proves nothing")
			}

			// A changed byte in every file: the restore fails and says why.
			for key, b := range files {
				b[headerSize+len(b)/3%(len(b)-headerSize)] ^= 0x40
				if err := c.obj.put(ctx, key, bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			err = RestoreTo(ctx, o, time.Now(), filepath.Join(out, "tampered.db"))
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("restore from a changed replica: %v, want ErrTampered", err)
			}
			if _, err := os.Stat(filepath.Join(out, "tampered.db")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a failed restore left a file: %v", err)
			}
		})
	}
}

func levelOf(key string) int {
	var level int
	for _, ch := range strings.TrimPrefix(key, "ltx/") {
		if ch < '0' || ch > '9' {
			break
		}
		level = level*10 + int(ch-'0')
	}
	return level
}

// checkRanges reads ranges of a replica file through the client as
// Litestream does (header, page index at the end, resumed streams) and
// compares them with the whole plaintext.
func checkRanges(t *testing.T, c *client, id objectID, plain []byte) {
	t.Helper()
	n := int64(len(plain))
	for _, rg := range [][2]int64{{0, ltx.HeaderSize}, {n - 32*1024, 0}, {n / 2, 0}, {chunkSize - 3, 10}, {chunkSize, 0}, {n - 1, 0}, {n, 0}} {
		off, size := max(rg[0], 0), rg[1]
		if off > n {
			continue
		}
		f, err := c.OpenLTXFile(context.Background(), id.level, ltx.TXID(id.minTXID), ltx.TXID(id.maxTXID), off, size)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		want := plain[off:]
		if size > 0 && int64(len(want)) > size {
			want = want[:size]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s, range %d+%d: %d bytes, %v; want %d bytes", id, off, size, len(got), err, len(want))
		}
	}
}

// TestRecoveryPoint measures how long a commit takes to reach the replica
// without any explicit sync (the recovery point objective).
func TestRecoveryPoint(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	replica := filepath.Join(t.TempDir(), "replica")
	o := Options{DBPath: d.Path, Replica: replica, Key: testKey(t, 3), Logger: testLogger(t)}
	r, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := connect(o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	maxTXID := func() uint64 {
		ids, _, err := c.files(ctx, 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		var m uint64
		for _, id := range ids {
			m = max(m, id.maxTXID)
		}
		return m
	}
	// Let the first upload (the whole database) happen.
	deadline := time.Now().Add(5 * time.Second)
	for maxTXID() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var worst time.Duration
	for i := range 5 {
		before := maxTXID()
		start := time.Now()
		if _, err := d.Write.ExecContext(ctx, `INSERT INTO notes (body) VALUES ($1)`, randomHex(t, 16)); err != nil {
			t.Fatal(err)
		}
		for maxTXID() <= before {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("commit %d not on the replica after 5 s", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
		time.Sleep(time.Duration(i*97) * time.Millisecond) // commits at different phases of the timers
	}
	t.Logf("recovery point: worst of 5 commits reached the replica in %s", worst)
	if worst > 2*time.Second {
		t.Fatalf("a commit took %s to reach the replica, want about a second", worst)
	}
}

// TestRestartAndCheckpoint stops and starts the replicator around writes
// and truncates the log through it (as db.Reclaim does after an erasure):
// nothing committed is missing from the replica.
func TestRestartAndCheckpoint(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	o := Options{DBPath: d.Path, Replica: "file://" + filepath.Join(t.TempDir(), "replica"), Key: testKey(t, 5), Logger: testLogger(t)}
	insert := func(body string) {
		t.Helper()
		if _, err := d.Write.ExecContext(ctx, `INSERT INTO notes (body) VALUES ($1)`, body); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	insert("first")
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	insert("while stopped")
	if r, err = Start(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	insert("after restart")
	if err := r.Sync(ctx); err != nil { // the replicator now holds its read transaction
		t.Fatal(err)
	}
	before, err := os.Stat(d.Path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := r.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the checkpoint took %s", took)
	}
	// Truncated, then restarted by the replicator with one frame of its own.
	if fi, err := os.Stat(d.Path + "-wal"); err != nil || fi.Size() >= before.Size() || fi.Size() > 32+4096+24 {
		t.Fatalf("the log was %d bytes, after the checkpoint %d (%v), want truncated", before.Size(), fi.Size(), err)
	}
	insert("after checkpoint")
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "now.db")
	if err := RestoreTo(ctx, o, time.Now(), out); err != nil {
		t.Fatal(err)
	}
	got := notes(t, out)
	for _, want := range []string{"first", "while stopped", "after restart", "after checkpoint"} {
		if !got[want] {
			t.Fatalf("restored rows %v lack %q", got, want)
		}
	}
}

// TestUndoAndContinue is the disaster drill: a mistake is undone by
// restoring the live database to a time before it, and replication then
// continues on the same replica from the restored state.
func TestUndoAndContinue(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	d, err := db.Open(ctx, db.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	o := Options{DBPath: d.Path, Replica: filepath.Join(t.TempDir(), "replica"), Key: testKey(t, 9), Logger: testLogger(t)}
	exec := func(d *db.DB, q string, args ...any) {
		t.Helper()
		if _, err := d.Write.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	exec(d, `INSERT INTO notes (body) VALUES ('kept')`)
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	before := time.Now()
	time.Sleep(30 * time.Millisecond)
	exec(d, `DELETE FROM notes`) // the mistake
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()

	// Refused while the old database's files are in the way.
	if err := RestoreTo(ctx, o, before, d.Path); !errors.Is(err, os.ErrExist) {
		t.Fatalf("restore over the live database: %v, want os.ErrExist", err)
	}
	for _, p := range []string{d.Path, d.Path + "-wal", d.Path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := RestoreTo(ctx, o, before, d.Path); err != nil {
		t.Fatal(err)
	}

	d2, err := db.Open(ctx, db.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if r, err = Start(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	exec(d2, `INSERT INTO notes (body) VALUES ('after the undo')`)
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "now.db")
	if err := RestoreTo(ctx, o, time.Now(), out); err != nil {
		t.Fatal(err)
	}
	if got := notes(t, out); len(got) != 2 || !got["kept"] || !got["after the undo"] {
		t.Fatalf("after undo and new writes the replica restores %v, want kept and after the undo", got)
	}
}
