package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
)

// Source is what a backup copies.
type Source struct {
	DB          *db.DB      // the open database (SQLite: its pages are read through it; PG: for the schema version)
	DatabaseURL string      // "" for SQLite; PostgreSQL URL for pg_dump (password passed via PGPASSWORD env, never argv)
	PGBinDir    string      // where pg_dump/pg_restore are; "" = PATH, then /usr/lib/postgresql/*/bin (newest)
	Blobs       blob.Lister // the file store's backend (blob.Dir or blob.S3)
	Ledger      string      // path of erasures.jsonl (may not exist)
	Checkpoints string      // path of audit-checkpoints.jsonl (may not exist)
	StagingDir  string      // private scratch (0700), e.g. <data-dir>/backup-staging: for targets that spool (Create stages nothing)
	Version     string      // kandidat version string
	// ExportLedger writes the erasures the database records as ledger
	// lines, added to the ledger file's (nil: the file only).
	ExportLedger func(ctx context.Context, w io.Writer) error
}

// CreateOptions say where a backup goes and to whom it is encrypted.
type CreateOptions struct {
	Recipients []age.Recipient                      // at least one, else error
	Targets    []Target                             // at least one
	Now        func() time.Time                     // nil: time.Now
	Progress   func(part string, done, total int64) // may be nil
	// StallTimeout: a target that takes in no data for this long while
	// given some (a stalled NFS mount, an endpoint that stopped reading),
	// or has not stored an object this long (plus a second per 64 KiB)
	// after its end, is dropped with an error naming it, and the others go
	// on. 0: DefaultStallTimeout (2 minutes).
	StallTimeout time.Duration
}

// Result is what Create made and where it arrived.
type Result struct {
	Manifest Manifest
	Targets  []TargetResult // one per target, in order
}

// TargetResult is the outcome on one target: Err nil means the backup is
// complete there.
type TargetResult struct {
	Target string
	Err    error
}

// Create snapshots once and encrypts each part once, streaming it to every
// target at the same time (parts, then manifest last). A target that fails
// does not stop the others. Returns an error only when no target got a
// complete backup (wrapping the per-target errors) or the snapshot failed.
//
// Nothing is staged on the local disk: writing every byte twice (a staging
// copy, then each target's) held a 1.1 GB backup to 64 MB/s on a disk that
// writes 135 MB/s; streamed, it runs at 283 MB/s. A slow target therefore
// slows the others, but one that stalls does not stop them: after
// StallTimeout without progress it is dropped (its Put's context ends,
// and a Put that still does not return is given up on after a grace of
// at most 2 seconds). When ctx ends, Create returns as promptly, whatever
// the targets do. StagingDir serves the targets that spool (S3). Whatever
// a failed create put on a target is deleted again, as far as the target
// lets it within 30 seconds (a target given up on is not touched); what
// remains has no manifest, lists as incomplete, and retention removes it.
func Create(ctx context.Context, src Source, o CreateOptions) (*Result, error) {
	if len(o.Recipients) == 0 {
		return nil, errors.New("backup: no recipient: give at least one age public key (age1...)")
	}
	if len(o.Targets) == 0 {
		return nil, errors.New("backup: no target: configure one or name a directory")
	}
	if src.DB == nil || src.Blobs == nil {
		return nil, errors.New("backup: the source needs the database and the file store")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	started := now().UTC()
	m := Manifest{Format: FormatVersion, ID: NewID(started), Version: src.Version, StartedAt: started}
	switch src.DB.Engine {
	case db.SQLite:
		m.Engine = EngineSQLite
	case db.Postgres:
		m.Engine = EnginePostgres
		if src.DatabaseURL == "" {
			return nil, errors.New("backup: a PostgreSQL backup needs the database URL for pg_dump")
		}
	default:
		return nil, fmt.Errorf("backup: unknown engine %q", src.DB.Engine)
	}
	var err error
	if m.SchemaVersion, m.Migrations, err = SchemaVersion(ctx, src.DB); err != nil {
		return nil, err
	}

	out := newFanout(ctx, m.ID, o.Targets, o.StallTimeout)
	res := &Result{Targets: make([]TargetResult, len(o.Targets))}
	for i, t := range o.Targets {
		res.Targets[i].Target = t.Name()
	}
	c := &creator{ctx: ctx, out: out, recipients: o.Recipients, progress: o.Progress}
	m.Parts, m.Files, err = c.parts(src, m.Engine)
	if err == nil {
		m.FinishedAt = now().UTC()
		var sealedManifest []byte
		if sealedManifest, err = sealManifest(&m, o.Recipients); err == nil {
			// Last, on every target that holds every part.
			err = out.stream(ManifestObject, func(w io.Writer) error {
				_, err := w.Write(sealedManifest)
				return err
			})
		}
	}
	if errors.Is(err, errNoTarget) {
		err = nil // each target's own failure is recorded
	}
	if err != nil {
		// The source failed (or the context ended): no target is complete.
		out.abort(err)
	}
	out.cleanup()
	res.Manifest = m
	var errs []error
	complete := false
	for i, e := range out.errs {
		res.Targets[i].Err = e
		if e == nil {
			complete = true
		} else {
			errs = append(errs, e)
		}
	}
	if err != nil {
		return res, fmt.Errorf("backup %s: %w", m.ID, err)
	}
	if !complete {
		return res, fmt.Errorf("backup %s reached no target: %w", m.ID, errors.Join(errs...))
	}
	return res, nil
}

// parts writes the four parts in order.
func (c *creator) parts(src Source, engine string) ([]Part, int, error) {
	var dbPart Part
	var err error
	if engine == EngineSQLite {
		dbPart, err = c.sqlite(src.DB)
	} else {
		dbPart, err = c.postgres(src)
	}
	if err != nil {
		return nil, 0, err
	}
	filesPart, files, err := c.files(src.Blobs)
	if err != nil {
		return nil, 0, err
	}
	// The ledger part is the file and what the database records, read
	// after the database's snapshot: on PostgreSQL other instances (other
	// data directories) erase too.
	var extra []byte
	if src.ExportLedger != nil {
		var buf bytes.Buffer
		if err := src.ExportLedger(c.ctx, &buf); err != nil {
			return nil, 0, fmt.Errorf("backup %s: %w", PartLedger, err)
		}
		extra = buf.Bytes()
	}
	ledgerPart, err := c.linesWith(PartLedger, src.Ledger, extra)
	if err != nil {
		return nil, 0, err
	}
	checkpointsPart, err := c.lines(PartCheckpoints, src.Checkpoints)
	if err != nil {
		return nil, 0, err
	}
	return []Part{dbPart, filesPart, ledgerPart, checkpointsPart}, files, nil
}

// errNoTarget stops the source once every target has failed.
var errNoTarget = errors.New("every target failed")

// DefaultStallTimeout is the StallTimeout of CreateOptions that give none.
const DefaultStallTimeout = 2 * time.Minute

// storeRate is the slowest rate at which a target may store an object
// once it has read all of it (an S3 target uploads what it spooled):
// a target that has not finished after the stall timeout plus a second
// per storeRate bytes of the object counts as hung.
const storeRate = 64 << 10

// maxGrace bounds how long a Put is awaited once it is told to stop (its
// target stalled, or the backup was cancelled); one that does not return
// by then is given up on.
const maxGrace = 2 * time.Second

// fanout streams each object to every target still working, each target's
// Put reading from a pipe of its own in its own goroutine. A target that
// fails or stalls drops out; the others go on.
type fanout struct {
	ctx     context.Context
	id      string
	targets []Target
	stall   time.Duration // no progress for this long: the target is dropped
	errs    []error       // per target: its failure, nil while it works
	put     [][]string    // per target: the keys it was given
	hung    []bool        // per target: given up on in a Put that did not return
}

func newFanout(ctx context.Context, id string, targets []Target, stall time.Duration) *fanout {
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	n := len(targets)
	return &fanout{ctx: ctx, id: id, targets: targets, stall: stall, errs: make([]error, n), put: make([][]string, n), hung: make([]bool, n)}
}

// fail records target i's failure (the first one counts).
func (f *fanout) fail(i int, err error) {
	if f.errs[i] != nil {
		return
	}
	if !errors.Is(err, ErrTarget) {
		err = fmt.Errorf("%w: target %s (%s): %w", ErrTarget, f.targets[i].Name(), f.targets[i].Location(), err)
	}
	f.errs[i] = err
}

// abort marks every target still working as failed by the source's error.
func (f *fanout) abort(err error) {
	for i := range f.targets {
		if f.errs[i] == nil {
			f.errs[i] = fmt.Errorf("target %s: %w", f.targets[i].Name(), err)
		}
	}
}

// sink is one object on its way to one target: the pipe its Put reads,
// and the times the watchdog looks at.
type sink struct {
	i       int // the target
	target  string
	object  string
	pw      *io.PipeWriter
	cancel  context.CancelFunc // the Put's context
	done    chan error         // the Put's result; buffered, so a Put given up on may still return
	dropped chan struct{}      // closed when the sink drops out

	writing  atomic.Int64 // when the write in progress began (Unix ns); 0: none
	read     atomic.Int64 // when a Read of the Put last returned (Unix ns)
	n        atomic.Int64 // bytes the Put read
	closed   atomic.Int64 // when the object's end was given (Unix ns); 0: not yet
	returned atomic.Bool  // the Put returned

	mu    sync.Mutex
	err   error // why it dropped out
	stall bool  // dropped by the watchdog
}

// start begins target i's Put of key, reading from a new sink.
func (f *fanout) start(i int, key, object string) *sink {
	t := f.targets[i]
	ctx, cancel := context.WithCancel(f.ctx)
	pr, pw := io.Pipe()
	s := &sink{i: i, target: t.Name(), object: object, pw: pw, cancel: cancel, done: make(chan error, 1), dropped: make(chan struct{})}
	go func() {
		defer cancel()
		err := t.Put(ctx, key, &sinkReader{s: s, r: pr})
		if err == nil {
			err = errStoppedReading // seen only if the writer was still writing
		}
		pr.CloseWithError(err)
		s.returned.Store(true)
		s.done <- err
	}()
	return s
}

// sinkReader is what a Put reads: the pipe, every read stamped.
type sinkReader struct {
	s *sink
	r *io.PipeReader
}

func (r *sinkReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.s.n.Add(int64(n))
	r.s.read.Store(time.Now().UnixNano())
	return n, err
}

// drop takes the sink out: its pipe fails with err and its Put's
// context ends. The first reason counts.
func (s *sink) drop(err error, stall bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err, s.stall = err, stall
	s.pw.CloseWithError(err)
	s.cancel()
	close(s.dropped)
}

func (s *sink) isDropped() bool {
	select {
	case <-s.dropped:
		return true
	default:
		return false
	}
}

// state is why the sink dropped out, and whether the watchdog did it.
func (s *sink) state() (error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err, s.stall
}

// write gives p to the sink's Put; it blocks until the Put has read all
// of it, or the sink is dropped.
func (s *sink) write(p []byte) {
	s.writing.Store(time.Now().UnixNano())
	_, err := s.pw.Write(p)
	s.writing.Store(0)
	if err != nil {
		s.drop(err, false)
	}
}

// check drops the sink if its target made no progress for too long:
// while it is given data, no byte read for stall; after the object's
// end (and its last read), not stored within stall plus a second per
// storeRate bytes.
func (s *sink) check(now int64, stall time.Duration) {
	if w := s.writing.Load(); w != 0 {
		if time.Duration(now-max(w, s.read.Load())) > stall {
			s.drop(fmt.Errorf("%w: target %s stopped accepting data for %s", ErrTarget, s.target, stall), true)
		}
		return
	}
	if c := s.closed.Load(); c != 0 && !s.returned.Load() {
		limit := stall + time.Duration(s.n.Load()/storeRate)*time.Second
		if time.Duration(now-max(c, s.read.Load())) > limit {
			s.drop(fmt.Errorf("%w: target %s did not finish storing %s within %s of its end", ErrTarget, s.target, s.object, limit), true)
		}
	}
}

// watch runs the watchdog over sinks until stop is called: a sink whose
// target stalls is dropped; when the context ends, every sink is.
func (f *fanout) watch(sinks []*sink) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(min(max(f.stall/8, 5*time.Millisecond), time.Second))
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-f.ctx.Done():
				for _, s := range sinks {
					s.drop(f.ctx.Err(), false)
				}
				return
			case now := <-tick.C:
				for _, s := range sinks {
					s.check(now.UnixNano(), f.stall)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// stream puts the object written by write under <id>/object on every
// working target. It returns write's error (the source's), the context's
// when it ended, or errNoTarget when every target failed.
func (f *fanout) stream(object string, write func(w io.Writer) error) error {
	key := f.id + "/" + object
	var sinks []*sink
	for i := range f.targets {
		if f.errs[i] != nil {
			continue
		}
		f.put[i] = append(f.put[i], key)
		sinks = append(sinks, f.start(i, key, object))
	}
	if len(sinks) == 0 {
		return errNoTarget
	}
	stop := f.watch(sinks)
	defer stop()
	bw := bufio.NewWriterSize(&multiPipe{sinks: sinks}, bufSize)
	err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	for _, s := range sinks {
		if err != nil {
			s.drop(err, false)
		} else {
			s.closed.Store(time.Now().UnixNano())
			s.pw.Close()
		}
	}
	// Each Put is awaited until it returns; one told to stop (its target
	// stalled, or the context ended) only for a grace, then given up on.
	var deadline time.Time
	for _, s := range sinks {
		var putErr error
		returned := true
		select {
		case putErr = <-s.done:
		case <-s.dropped:
			if deadline.IsZero() {
				deadline = time.Now().Add(min(f.stall, maxGrace))
			}
			timer := time.NewTimer(time.Until(deadline))
			select {
			case putErr = <-s.done:
			case <-timer.C:
				returned = false
			}
			timer.Stop()
		}
		if !returned {
			f.hung[s.i] = true
		}
		// When the source failed or the context ended, the targets failed
		// because of it: Create marks them all (abort); otherwise a failure
		// is the target's own.
		if (err != nil && !errors.Is(err, errNoTarget)) || f.ctx.Err() != nil {
			continue
		}
		dropErr, stalled := s.state()
		switch {
		case stalled:
			f.fail(s.i, dropErr)
		case putErr != nil && putErr != errStoppedReading:
			f.fail(s.i, putErr)
		case dropErr != nil:
			f.fail(s.i, dropErr)
		}
	}
	if ctxErr := f.ctx.Err(); ctxErr != nil && (err == nil || errors.Is(err, errNoTarget)) {
		return ctxErr
	}
	if errors.Is(err, errNoTarget) {
		return errNoTarget
	}
	return err
}

// errStoppedReading: a target's Put returned before the end of the object.
var errStoppedReading = errors.New("the target stopped reading before the end of the object")

// multiPipe writes to every sink still working, all at once; a sink that
// fails or stalls drops out. It fails only when none is left.
type multiPipe struct {
	sinks []*sink
}

func (m *multiPipe) Write(p []byte) (int, error) {
	var live []*sink
	for _, s := range m.sinks {
		if !s.isDropped() {
			live = append(live, s)
		}
	}
	switch len(live) {
	case 0:
		return 0, errNoTarget
	case 1:
		live[0].write(p)
	default:
		var wg sync.WaitGroup
		for _, s := range live {
			wg.Go(func() { s.write(p) })
		}
		wg.Wait()
	}
	for _, s := range live {
		if !s.isDropped() {
			return len(p), nil
		}
	}
	return 0, errNoTarget
}

// cleanup deletes, on every target that failed, what it was given; a
// target given up on in a Put that never returned is left alone (what it
// holds has no manifest: retention removes it). Deletes that hang are
// not awaited past 30 seconds.
func (f *fanout) cleanup() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, t := range f.targets {
		if f.errs[i] == nil || f.hung[i] {
			continue
		}
		keys := f.put[i]
		wg.Go(func() {
			// The manifest first, so that a half-deleted backup never lists as complete.
			for k := len(keys) - 1; k >= 0; k-- {
				t.Delete(ctx, keys[k])
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
	}
}

// creator writes the encrypted parts of one backup to the targets.
type creator struct {
	ctx        context.Context
	out        *fanout
	recipients []age.Recipient
	progress   func(part string, done, total int64)
}

// seal encrypts what write writes, as the part name, to every target.
func (c *creator) seal(name string, total int64, write func(w io.Writer) error) (Part, error) {
	var p Part
	err := c.out.stream(name+".age", func(w io.Writer) error {
		s, err := newSealed(w, c.recipients)
		if err != nil {
			return err
		}
		if c.progress != nil {
			s.progress = func(done int64) { c.progress(name, done, total) }
		}
		if err := write(s); err != nil {
			return err
		}
		p, err = s.finish(name)
		return err
	})
	if err != nil {
		return Part{}, fmt.Errorf("backup %s: %w", name, err)
	}
	return p, nil
}

// copyFrom copies r into w with a large buffer, stopping when ctx ends.
func (c *creator) copyFrom(w io.Writer, r io.Reader) (int64, error) {
	return io.CopyBuffer(w, &cancelReader{ctx: c.ctx, r: r}, make([]byte, bufSize))
}

// sqlite streams an image of the database, as of one moment, straight
// into its encryption: no plaintext copy touches the disk.
func (c *creator) sqlite(d *db.DB) (Part, error) {
	var estimate int64 = -1
	if info, err := os.Stat(d.Path); err == nil {
		estimate = info.Size()
	}
	return c.seal(PartSQLite, estimate, func(w io.Writer) error {
		_, err := d.WriteSnapshot(c.ctx, w)
		return err
	})
}

// files writes every object of the file store, as stored, into a tar.
func (c *creator) files(store blob.Lister) (Part, int, error) {
	type object struct {
		name string
		size int64
	}
	var objects []object
	var total int64
	err := store.Walk(c.ctx, func(name string, size int64) error {
		objects = append(objects, object{name, size})
		total += size
		return nil
	})
	if err != nil {
		return Part{}, 0, fmt.Errorf("backup: list the file store: %w", err)
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].name < objects[j].name })
	// Every entry carries the day of the backup, like the store's files:
	// no finer time of any document leaves the installation.
	day := time.Now().UTC().Truncate(24 * time.Hour)
	count := 0
	buf := make([]byte, bufSize)
	p, err := c.seal(PartFiles, total, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for _, o := range objects {
			rc, err := store.Get(c.ctx, o.name)
			if errors.Is(err, blob.ErrNotFound) {
				continue // deleted since the listing (an erasure): rightly absent
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", o.name, err)
			}
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: o.name, Size: o.size, Mode: 0o600, ModTime: day, Format: tar.FormatPAX})
			if err == nil {
				var n int64
				n, err = io.CopyBuffer(tw, &cancelReader{ctx: c.ctx, r: io.LimitReader(rc, o.size)}, buf)
				if err == nil && n != o.size {
					err = fmt.Errorf("read %s: %d bytes of %d (the object changed while it was copied)", o.name, n, o.size)
				}
			}
			rc.Close()
			if err != nil {
				return err
			}
			count++
		}
		return tw.Close()
	})
	return p, count, err
}

// lines seals a JSON-lines file (the ledger, the checkpoints) up to its
// last complete line: a line being appended is left for the next backup.
// A missing file is an empty part.
func (c *creator) lines(name, path string) (Part, error) { return c.linesWith(name, path, nil) }

// linesWith is lines with extra appended (whole lines).
func (c *creator) linesWith(name, path string, extra []byte) (Part, error) {
	var b []byte
	if path != "" {
		var err error
		b, err = os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Part{}, fmt.Errorf("backup %s: %w", name, err)
		}
	}
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	b = append(b, extra[:bytes.LastIndexByte(extra, '\n')+1]...)
	return c.seal(name, int64(len(b)), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// SchemaVersion reads the newest applied migration number and names from d.
func SchemaVersion(ctx context.Context, d *db.DB) (int, []string, error) {
	st, err := d.Status(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("read the schema version: %w", err)
	}
	if len(st.Applied) == 0 {
		return 0, nil, errors.New("the database has no schema: nothing to back up")
	}
	n, err := migrationNumber(st.Applied[len(st.Applied)-1])
	if err != nil {
		return 0, nil, err
	}
	return n, st.Applied, nil
}

// migrationNumber reads the number of "0044_whistleblowing.sql".
func migrationNumber(name string) (int, error) {
	num, _, _ := strings.Cut(name, "_")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("migration %q has no number", name)
	}
	return n, nil
}

// KnownSchema is the number of the newest migration this binary holds for engine.
func KnownSchema(engine db.Engine) (int, error) {
	ms, err := db.Migrations(engine)
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, fmt.Errorf("no migrations for %s", engine)
	}
	return migrationNumber(ms[len(ms)-1].Name)
}

// IntegrityCheck runs PRAGMA integrity_check (SQLite) / a catalogue and count check (PG).
func IntegrityCheck(ctx context.Context, d *db.DB) error {
	tables, err := d.Tables(ctx)
	if err != nil {
		return fmt.Errorf("integrity check: list tables: %w", err)
	}
	if len(tables) == 0 {
		return errors.New("integrity check: the database has no tables")
	}
	return d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		if d.Engine == db.SQLite {
			rows, err := tx.QueryContext(ctx, `PRAGMA integrity_check`)
			if err != nil {
				return fmt.Errorf("integrity check: %w", err)
			}
			defer rows.Close()
			var problems []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					return err
				}
				if s != "ok" {
					problems = append(problems, s)
				}
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("integrity check: %w", err)
			}
			if len(problems) > 0 {
				return fmt.Errorf("integrity check found %d problems, first: %s", len(problems), problems[0])
			}
			return nil
		}
		// PostgreSQL checks its pages as it reads them: reading every row of
		// every table (through the catalogue's list) finds what is unreadable.
		for _, t := range tables {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
				return fmt.Errorf("integrity check: table %s: %w", t, err)
			}
		}
		return nil
	})
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// cancelReader stops a copy when its context ends.
type cancelReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// postgres seals pg_dump's custom-format dump of the schemas of the URL's
// search_path, streamed: no plaintext of it touches the disk.
func (c *creator) postgres(src Source) (Part, error) {
	var serverNum string
	err := src.DB.ReadTx(c.ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(c.ctx, `SELECT current_setting('server_version_num')`).Scan(&serverNum)
	})
	if err != nil {
		return Part{}, fmt.Errorf("backup: read the server's version: %w", err)
	}
	n, _ := strconv.Atoi(serverNum)
	pgDump, err := findPGTool("pg_dump", src.PGBinDir, n/10000)
	if err != nil {
		return Part{}, err
	}
	conn, err := parsePGURL(src.DatabaseURL)
	if err != nil {
		return Part{}, err
	}
	// --enable-row-security with the installation's scope declared: a table
	// that forces row-level security on its owner is dumped whole.
	args := []string{"--format=custom", "--enable-row-security", "--dbname=" + conn.libpq}
	for _, s := range conn.schemas {
		args = append(args, "--schema="+quoteIdent(s))
	}
	cmd := exec.CommandContext(c.ctx, pgDump, args...)
	cmd.Env = conn.env()
	var stderr bytes.Buffer
	cmd.Stderr = &toolMessages{b: &stderr, max: 8 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Part{}, err
	}
	if err := cmd.Start(); err != nil {
		return Part{}, fmt.Errorf("backup: start pg_dump: %w", err)
	}
	p, err := c.seal(PartPGDump, -1, func(w io.Writer) error {
		if _, err := c.copyFrom(w, out); err != nil {
			return err
		}
		// The dump is whole only if pg_dump says so: wait before the part ends.
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("pg_dump: %v: %s", err, toolMessage(stderr.String()))
		}
		return nil
	})
	if err != nil {
		out.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return Part{}, err
	}
	return p, nil
}

// pgConn is a PostgreSQL URL taken apart for libpq's tools: the password
// goes through the environment, never the command line.
type pgConn struct {
	libpq    string // URL without password and without pgx-only parameters
	password string
	schemas  []string // of the search_path, "public" when none
}

// libpqParams are the URL parameters libpq's tools understand and that
// are no secret; the rest (search_path, pgx's own, and "options", which
// would override the scope given in PGOPTIONS) are dropped from their
// command line. The password, in the URL's user part or as the query's
// password=, reaches them only through PGPASSWORD.
var libpqParams = map[string]bool{"sslmode": true, "sslrootcert": true, "sslcert": true, "sslkey": true, "sslcrl": true, "sslcrldir": true,
	"sslsni": true, "sslcertmode": true, "sslcompression": true, "sslnegotiation": true, "requiressl": true, "requirepeer": true,
	"require_auth": true, "connect_timeout": true, "application_name": true, "fallback_application_name": true, "target_session_attrs": true,
	"load_balance_hosts": true, "channel_binding": true, "gssencmode": true, "gsslib": true, "gssdelegation": true, "krbsrvname": true,
	"host": true, "hostaddr": true, "port": true, "user": true, "dbname": true, "passfile": true, "service": true, "client_encoding": true,
	"keepalives": true, "keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true}

func parsePGURL(raw string) (*pgConn, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("the database URL is not a postgres:// URL")
	}
	c := &pgConn{}
	if u.User != nil {
		c.password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	// As for libpq, a parameter of the query wins over the URL's own part.
	if pw, ok := q["password"]; ok && len(pw) > 0 {
		c.password = pw[len(pw)-1]
	}
	for _, s := range strings.Split(q.Get("search_path"), ",") {
		s = strings.Trim(strings.TrimSpace(s), `"`)
		if s != "" && s != "$user" {
			c.schemas = append(c.schemas, s)
		}
	}
	if len(c.schemas) == 0 {
		c.schemas = []string{"public"}
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	c.libpq = u.String()
	return c, nil
}

// env is the tools' environment: the password, and the installation's scope
// declared to row-level security (a table that forces it on its owner).
func (c *pgConn) env() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PGPASSWORD=") && !strings.HasPrefix(e, "PGOPTIONS=") {
			env = append(env, e)
		}
	}
	env = append(env, "PGOPTIONS=-c kandidat.tenant_id=*")
	if c.password != "" {
		env = append(env, "PGPASSWORD="+c.password)
	}
	return env
}

var pgVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// toolMajor runs `tool --version` and returns its major version.
func toolMajor(path string) (int, error) {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", path, err)
	}
	m := pgVersionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version says %q", path, strings.TrimSpace(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

// findPGTool finds pg_dump or pg_restore: in binDir when given; else on
// PATH, then the newest /usr/lib/postgresql/*/bin. A tool older than the
// server (major version) cannot read it: the error says which to install.
func findPGTool(name, binDir string, serverMajor int) (string, error) {
	var candidates []string
	if binDir != "" {
		candidates = []string{filepath.Join(binDir, name)}
	} else {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool {
			a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
			b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
			return a > b
		})
		for _, d := range dirs {
			candidates = append(candidates, filepath.Join(d, name))
		}
	}
	var found []string
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		major, err := toolMajor(p)
		if err != nil {
			continue
		}
		if major >= serverMajor {
			return p, nil
		}
		found = append(found, fmt.Sprintf("%s is version %d", p, major))
	}
	if len(found) > 0 {
		return "", fmt.Errorf("%s is older than the PostgreSQL server (version %d): %s; install the client of version %d or newer (postgresql-client-%d) and set the PostgreSQL tools directory", name, serverMajor, strings.Join(found, ", "), serverMajor, serverMajor)
	}
	if binDir != "" {
		return "", fmt.Errorf("%s not found in %s", name, binDir)
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/lib/postgresql/*/bin: install postgresql-client-%d", name, serverMajor)
}

// maxToolMessage bounds what of a tool's messages an error quotes.
const maxToolMessage = 300

// toolMessage is the one line of a PostgreSQL tool's messages that an
// error quotes: its first "error:" line ("pg_restore: error: COPY failed
// for table ...: ERROR: ..."), else its first line, at most 300 bytes. The
// rest is dropped: the DETAIL and CONTEXT lines that follow can quote row
// values (personal data), which must not reach a log or a page; the lines
// before it ("while PROCESSING TOC:") say nothing.
func toolMessage(out string) string {
	var first string
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if first == "" {
			first = line
		}
		if strings.Contains(line, " error: ") || strings.HasPrefix(line, "error: ") {
			first = line
			break
		}
	}
	if len(first) > maxToolMessage {
		cut := maxToolMessage
		for cut > 0 && !utf8.RuneStart(first[cut]) {
			cut--
		}
		first = first[:cut] + "…"
	}
	if first == "" {
		return "(no message)"
	}
	return first
}

// toolMessages keeps the first max bytes a tool writes (its messages).
type toolMessages struct {
	b   *bytes.Buffer
	max int
}

func (l *toolMessages) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
