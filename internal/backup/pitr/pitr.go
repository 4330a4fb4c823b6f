// Package pitr replicates the SQLite database continuously with Litestream
// (v0.5, used as a library), so that it can be restored as it was at any
// moment of the retention window (point-in-time recovery).
//
// What leaves the machine is sealed. Litestream 0.5 no longer encrypts
// its replicas, and the running replicator reads its own replica back:
// compacting level n into n+1 opens the level-n files on the replica, a
// database found behind its replica on start fetches the newest file from
// it, and the position is found by listing it. So the replica cannot be
// sealed to the offline age identities of the backups (the server does not
// hold them): it is sealed with Options.Key, a 32-byte key the server
// derives from the installation's master key. A copy of the replica is
// useless without the master key, and the master key is never in a backup.
//
// The sealing is a litestream.ReplicaClient of this package (client.go):
// each LTX file is cut into 64 KiB chunks sealed with ChaCha20-Poly1305
// under a key of its own (HKDF of Options.Key and a random salt in the
// file's header); a chunk's nonce is its index and a last-chunk flag, and
// its associated data the file's level, TXID range and timestamp, so
// chunks cannot be reordered, dropped at the end or moved to another file.
// Memory stays bounded (two chunks) whatever the file's size. Litestream
// reads byte ranges (the page index at the end of a file, a header, a
// stream resumed at an offset after a network error): the client fetches
// only the chunks holding the range and authenticates them before
// returning a byte. The plaintext size follows from the stored size, and
// the LTX timestamp is in the object's name, so listing a level is one
// request, as with Litestream's own clients. What sealing cannot show: a
// party with write access to the replica deleting its newest files makes
// a restore return an older state (the files that remain still open).
//
// The timing: the database's write-ahead log is read every 250 ms and new
// transactions are uploaded at most every 500 ms, so a commit reaches the
// replica within about a second (the recovery point; measured: at most
// 0.5 s to a directory, plus the upload to S3). Level 1 compacts
// every 30 s, level 2 every 5 min, level 3 every hour; a snapshot is made
// every hour and kept for Options.Retention (96 h unless set), level-0
// files for 5 min. A restore is therefore precise to the second for the
// last 5 minutes and to 30 s before that, back to the oldest snapshot.
package pitr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
)

// DefaultRetention is how long the replica keeps history unless
// Options.Retention says otherwise: four days, so that a mistake made on
// a Friday evening can still be undone on Monday.
const DefaultRetention = 96 * time.Hour

// Timing of the replication (see the package comment).
const (
	monitorInterval  = 250 * time.Millisecond
	syncInterval     = 500 * time.Millisecond
	snapshotInterval = time.Hour
	shutdownTimeout  = 10 * time.Second
)

var (
	// ErrEmpty: the replica holds no database (yet).
	ErrEmpty = errors.New("the point-in-time replica holds no database yet")
	// ErrOutsideWindow: the time asked for is not in the replica's window.
	ErrOutsideWindow = errors.New("the time is outside the point-in-time replica's window")
)

// Options configure a replica.
type Options struct {
	// DBPath is the SQLite file.
	DBPath string
	// Replica is where the history goes: an absolute directory, file:///dir
	// or s3://[ACCESS:SECRET@]bucket[/prefix]?endpoint=URL[&region=R]
	// [&path-style=true] (the syntax of a backup target).
	Replica string
	// Retention is how long history is kept (0: DefaultRetention).
	Retention time.Duration
	// Key (32 bytes) seals everything written to the replica.
	Key []byte
	// Logger receives Litestream's messages (nil: slog.Default()).
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// connect opens the sealed replica of o; spoolDir holds S3 uploads.
func connect(o Options, spoolDir string) (*client, error) {
	s, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	obj, err := openObjects(o.Replica, spoolDir)
	if err != nil {
		return nil, fmt.Errorf("point-in-time replica: %w", err)
	}
	return newClient(obj, s, o.logger().With("replica", "pitr")), nil
}

// Replicator replicates one database until it is closed.
type Replicator struct {
	client *client
	db     *litestream.DB
	store  *litestream.Store
}

// Start replicates o.DBPath to o.Replica in the background, until Close
// (ctx bounds the start only). Litestream keeps its own state beside the
// database, in .<name>-litestream, and adds two tables to it
// (_litestream_seq, _litestream_lock). It refuses a replica sealed with another key (ErrWrongKey): history
// written under another master key must be moved aside, not mixed.
func Start(ctx context.Context, o Options) (*Replicator, error) {
	if o.DBPath == "" {
		return nil, errors.New("point-in-time replication needs the database path")
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	} else if o.Retention < 0 {
		return nil, fmt.Errorf("point-in-time retention %s is negative", o.Retention)
	}
	c, err := connect(o, filepath.Dir(o.DBPath))
	if err != nil {
		return nil, err
	}
	if _, err := c.checkKey(ctx); err != nil {
		return nil, fmt.Errorf("point-in-time replica %s: %w", c.obj.where(), err)
	}
	ldb := litestream.NewDB(o.DBPath)
	ldb.MonitorInterval = monitorInterval
	ldb.ShutdownSyncTimeout = shutdownTimeout
	ldb.Replica = litestream.NewReplicaWithClient(ldb, c)
	ldb.Replica.SyncInterval = syncInterval
	levels := make(litestream.CompactionLevels, len(litestream.DefaultCompactionLevels))
	for i, l := range litestream.DefaultCompactionLevels {
		cp := *l
		levels[i] = &cp
	}
	store := litestream.NewStore([]*litestream.DB{ldb}, levels)
	store.Logger = o.logger().With("system", "litestream")
	store.SnapshotInterval = min(snapshotInterval, o.Retention)
	store.SnapshotRetention = o.Retention
	store.ShutdownSyncTimeout = shutdownTimeout
	ldb.SetLogger(store.Logger.With("db", filepath.Base(o.DBPath)))
	if err := store.Open(ctx); err != nil {
		store.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start point-in-time replication: %w", err)
	}
	return &Replicator{client: c, db: ldb, store: store}, nil
}

// Sync copies every committed transaction to the replica now.
func (r *Replicator) Sync(ctx context.Context) error {
	return r.db.SyncAndWait(ctx)
}

// Checkpoint copies the write-ahead log into the database file and
// truncates it, in step with the replicator. While the replicator runs,
// the application must checkpoint through it: its own
// PRAGMA wal_checkpoint(TRUNCATE) (db.Reclaim) waits for the replicator's
// read transaction for the whole busy timeout, holding the writer, and
// then gives up.
// Litestream skips a checkpoint while it writes a snapshot, so Checkpoint
// tries again until the log has been reset (its header changed) or ctx
// ends; it gives up after about 10 s of a busy database.
func (r *Replicator) Checkpoint(ctx context.Context) error {
	wal := r.db.WALPath()
	for range 100 {
		before := walHeader(wal)
		if before == nil {
			return nil // no log, nothing to copy
		}
		if err := r.db.Checkpoint(ctx, litestream.CheckpointModeTruncate); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if after := walHeader(wal); after == nil || !bytes.Equal(before, after) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("checkpoint: the write-ahead log stayed busy for 10 s")
}

// walHeader returns the checkpoint sequence and salts of a write-ahead
// log (they change whenever the log is reset), or nil without a log.
func walHeader(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := make([]byte, 32)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil
	}
	return h[12:24]
}

// Close uploads what is not yet on the replica and stops.
func (r *Replicator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout+5*time.Second)
	defer cancel()
	return r.store.Close(ctx)
}

// Window returns the replica's window: a restore may ask for any time
// after from; any time from to on gives the newest replicated state.
func (r *Replicator) Window(ctx context.Context) (from, to time.Time, err error) {
	return r.client.window(ctx)
}

// ReadWindow returns the window of the replica of o without replicating
// (for a stopped server); ErrWrongKey when o.Key does not open it.
func ReadWindow(ctx context.Context, o Options) (from, to time.Time, err error) {
	c, err := connect(o, os.TempDir())
	if err != nil {
		return from, to, err
	}
	if _, err := c.checkKey(ctx); err != nil {
		return from, to, fmt.Errorf("point-in-time replica %s: %w", c.obj.where(), err)
	}
	return c.window(ctx)
}

// RestoreTo writes the database as it was at t to outPath (which must not
// exist, nor its -wal and -shm files). t must be after the start of the replica's window and not in the
// future; a time after the newest replicated change gives the newest
// state (nothing newer reached the replica). The file is checked with
// PRAGMA quick_check and made readable by its owner only.
func RestoreTo(ctx context.Context, o Options, t time.Time, outPath string) error {
	if outPath == "" {
		return errors.New("restore: no output path")
	}
	// A log or shared-memory file left beside the path would be replayed
	// into the restored database by SQLite.
	for _, p := range []string{outPath, outPath + "-wal", outPath + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("restore: %s already exists: %w", p, os.ErrExist)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	c, err := connect(o, os.TempDir())
	if err != nil {
		return err
	}
	where := c.obj.where()
	if _, err := c.checkKey(ctx); err != nil {
		return fmt.Errorf("point-in-time replica %s: %w", where, err)
	}
	from, to, err := c.window(ctx)
	if err != nil {
		return fmt.Errorf("point-in-time replica %s: %w", where, err)
	}
	if !t.After(from) || t.After(time.Now().Add(time.Minute)) {
		return fmt.Errorf("%w: %s; it restores any time after %s (newest change %s)", ErrOutsideWindow,
			t.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	}
	if err := os.MkdirAll(filepath.Dir(outPath), 0o700); err != nil {
		return err
	}
	r := litestream.NewReplicaWithClient(nil, c)
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = outPath
	opt.Timestamp = t
	opt.IntegrityCheck = litestream.IntegrityCheckQuick
	if err := r.Restore(ctx, opt); err != nil {
		if f := c.firstFailure(); f != nil {
			return fmt.Errorf("restore from point-in-time replica %s: %w", where, f)
		}
		if errors.Is(err, litestream.ErrTxNotAvailable) {
			return fmt.Errorf("%w: nothing restorable before %s", ErrOutsideWindow, t.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("restore from point-in-time replica %s: %w", where, err)
	}
	return os.Chmod(outPath, 0o600)
}
