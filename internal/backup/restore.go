package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
)

// Fetch downloads backup id from t into dir (created 0700), checking stored size and SHA-256 of
// every object against the manifest before decrypting and the plaintext's after; returns the
// manifest. dir holds the plaintext parts by Part.Name. ErrIncomplete / ErrCorrupt /
// ErrWrongIdentity / ErrNotFound as apply. id "" = newest complete.
//
// The parts are streamed: what is written to dir is used by nobody until
// Fetch returns without error, and on error every file it wrote is removed.
func Fetch(ctx context.Context, t Target, id string, ids []age.Identity, dir string) (*Manifest, error) {
	if id == "" {
		e, err := Newest(ctx, t)
		if err != nil {
			return nil, err
		}
		id = e.ID
	}
	m, err := readManifest(ctx, t, id, ids)
	if err != nil {
		return nil, err
	}
	if err := fetchParts(ctx, t, m, ids, dir); err != nil {
		return nil, err
	}
	return m, nil
}

func fetchParts(ctx context.Context, t Target, m *Manifest, ids []age.Identity, dir string) (err error) {
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fetch directory: %w", err)
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range written {
			os.Remove(p)
		}
		if created {
			os.Remove(dir)
		}
	}()
	buf := make([]byte, bufSize)
	for _, p := range m.Parts {
		path := filepath.Join(dir, p.Name)
		written = append(written, path)
		if err := fetchPart(ctx, t, m.ID, p, ids, path, buf); err != nil {
			return err
		}
	}
	return nil
}

// fetchPart streams one object: stored bytes hashed and counted, decrypted,
// plaintext hashed and counted into path; any difference from the manifest
// is ErrCorrupt naming the part.
func fetchPart(ctx context.Context, t Target, id string, p Part, ids []age.Identity, path string, buf []byte) error {
	rc, err := t.Get(ctx, id+"/"+p.Object)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: backup %s lacks its part %s", ErrCorrupt, id, p.Object)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	// The stored bytes are hashed and counted as they are read.
	stored := &counter{w: io.Discard, h: sha256.New()}
	src := io.TeeReader(bufio.NewReaderSize(&cancelReader{ctx: ctx, r: rc}, bufSize), stored)
	// No more than the manifest promises is read: a longer object is corrupt.
	limited := io.LimitReader(src, p.StoredSize+1)
	plain, err := age.Decrypt(limited, ids...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return openError(id, p.Object, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), plain, buf)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return fmt.Errorf("%w: part %s of backup %s does not decrypt (changed or truncated): %v", ErrCorrupt, p.Object, id, err)
	}
	// The rest of the stored object, if any, still counts.
	if _, err := io.Copy(io.Discard, limited); err != nil {
		return err
	}
	if stored.n != p.StoredSize || hex.EncodeToString(stored.h.Sum(nil)) != p.StoredSHA256 {
		return fmt.Errorf("%w: part %s of backup %s: stored size or SHA-256 differs from the manifest (%d bytes, want %d)", ErrCorrupt, p.Object, id, stored.n, p.StoredSize)
	}
	if n != p.Size || hex.EncodeToString(h.Sum(nil)) != p.SHA256 {
		return fmt.Errorf("%w: part %s of backup %s: decrypted size or SHA-256 differs from the manifest", ErrCorrupt, p.Name, id)
	}
	// Not synced here: what is installed from it is (the database file
	// before its rename, each file by the store, the merged ledgers).
	return f.Close()
}

// RestoreOptions say where a backup is installed.
type RestoreOptions struct {
	DataDir     string       // SQLite: the database goes to DataDir/kandidat.db; ledger, checkpoints to DataDir
	DatabaseURL string       // PostgreSQL target (search_path names the schema) or ""
	PGBinDir    string       // where pg_restore is ("" as for Source.PGBinDir)
	Blobs       blob.Backend // where the files go (blob.Dir under DataDir/files, or the bucket)
	Force       bool         // overwrite an existing installation
	KnownSchema int          // newest migration this binary knows: a backup newer => ErrNewerSchema (0: this binary's)
	StagingDir  string       // scratch for the fetched parts ("": DataDir/backup-staging)
}

// Names of the files a restore writes beside the database.
const (
	LedgerFile      = "erasures.jsonl"
	CheckpointsFile = "audit-checkpoints.jsonl"
)

// Restore fetches and installs the backup. It refuses (ErrNotEmpty) when the target already holds
// a database (SQLite file present, or the PG schema has tables) unless Force; the SQLite file is
// written beside and renamed into place last, so a failed restore leaves no half database under the
// real name. Erasure-ledger application is NOT done here (the caller, outside infra, does it).
// Returns the manifest; the backup's ledger is merged into DataDir/erasures.jsonl (lines of the
// existing ledger kept, the backup's lines added, duplicates dropped), its checkpoints likewise
// into DataDir/audit-checkpoints.jsonl.
func Restore(ctx context.Context, t Target, id string, ids []age.Identity, o RestoreOptions) (*Manifest, error) {
	if o.DataDir == "" {
		return nil, errors.New("restore: no data directory (it receives the erasure ledger, and on SQLite the database)")
	}
	if o.Blobs == nil {
		return nil, errors.New("restore: no file store to restore the files into")
	}
	if id == "" {
		e, err := Newest(ctx, t)
		if err != nil {
			return nil, err
		}
		id = e.ID
	}
	m, err := readManifest(ctx, t, id, ids)
	if err != nil {
		return nil, err
	}
	// Everything that can refuse does so before anything is written.
	engine := db.SQLite
	if o.DatabaseURL != "" {
		engine = db.Postgres
	}
	if m.Engine != string(engine) {
		return nil, fmt.Errorf("restore: backup %s is of a %s installation and cannot be restored into %s (give %s)", m.ID, m.Engine, engine,
			map[string]string{EngineSQLite: "a data directory and no database URL", EnginePostgres: "the PostgreSQL database URL"}[m.Engine])
	}
	known := o.KnownSchema
	if known == 0 {
		if known, err = KnownSchema(engine); err != nil {
			return nil, err
		}
	}
	if m.SchemaVersion > known {
		return nil, fmt.Errorf("%w: backup %s has schema %d and this version knows up to %d: restore it with Kandidat %s or newer", ErrNewerSchema, m.ID, m.SchemaVersion, known, m.Version)
	}
	var pg *pgRestore
	if engine == db.Postgres {
		if pg, err = openPGRestore(ctx, o); err != nil {
			return nil, err
		}
		defer pg.close()
		if err := pg.checkEmpty(ctx, o.Force); err != nil {
			return nil, err
		}
	} else if err := sqliteEmpty(o.DataDir, o.Force); err != nil {
		return nil, err
	}
	if !o.Force {
		if err := blobsEmpty(ctx, o.Blobs); err != nil {
			return nil, err
		}
	}

	staging := o.StagingDir
	if staging == "" {
		staging = filepath.Join(o.DataDir, "backup-staging")
	}
	if _, err := os.Stat(staging); errors.Is(err, fs.ErrNotExist) {
		defer os.Remove(staging) // made here: removed when left empty
	}
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return nil, fmt.Errorf("restore staging directory: %w", err)
	}
	dir, err := os.MkdirTemp(staging, "restore-"+m.ID+"-")
	if err != nil {
		return nil, fmt.Errorf("restore staging directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := fetchParts(ctx, t, m, ids, dir); err != nil {
		return nil, err
	}
	// The tar is checked whole before a file is stored, so a hostile or
	// broken archive stores nothing.
	if err := checkTar(filepath.Join(dir, PartFiles), m.Files); err != nil {
		return nil, err
	}
	if err := restoreFiles(ctx, filepath.Join(dir, PartFiles), o.Blobs); err != nil {
		return nil, err
	}
	if _, err := MergeLedgers(filepath.Join(o.DataDir, LedgerFile), filepath.Join(dir, PartLedger)); err != nil {
		return nil, fmt.Errorf("restore the erasure ledger: %w", err)
	}
	if _, err := MergeLedgers(filepath.Join(o.DataDir, CheckpointsFile), filepath.Join(dir, PartCheckpoints)); err != nil {
		return nil, fmt.Errorf("restore the audit checkpoints: %w", err)
	}
	if engine == db.Postgres {
		err = pg.restore(ctx, filepath.Join(dir, PartPGDump), o.Force)
	} else {
		err = installSQLite(filepath.Join(dir, PartSQLite), o.DataDir, o.Force)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// sqliteFiles are the database file and its companions.
var sqliteFiles = []string{db.SQLiteFileName, db.SQLiteFileName + "-wal", db.SQLiteFileName + "-shm"}

func sqliteEmpty(dataDir string, force bool) error {
	if force {
		return nil
	}
	for _, n := range sqliteFiles {
		if _, err := os.Lstat(filepath.Join(dataDir, n)); err == nil {
			return fmt.Errorf("%w: %s holds a database (%s); restore into an empty data directory, or pass --force to move it aside", ErrNotEmpty, dataDir, n)
		}
	}
	return nil
}

func blobsEmpty(ctx context.Context, b blob.Backend) error {
	l, ok := b.(blob.Lister)
	if !ok {
		return nil
	}
	errFound := errors.New("found")
	err := l.Walk(ctx, func(string, int64) error { return errFound })
	if errors.Is(err, errFound) {
		return fmt.Errorf("%w: the file store already holds files; restore into an empty one, or pass --force", ErrNotEmpty)
	}
	if err != nil {
		return fmt.Errorf("restore: list the file store: %w", err)
	}
	return nil
}

// installSQLite puts the fetched database under its name: written beside
// it, synced, the old one (with Force) moved aside, then renamed.
func installSQLite(fetched, dataDir string, force bool) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	final := filepath.Join(dataDir, db.SQLiteFileName)
	tmp := final + ".restoring"
	if err := os.Rename(fetched, tmp); err != nil {
		// Another file system: copy.
		if err := copyFile(fetched, tmp); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("restore the database: %w", err)
		}
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore the database: %w", err)
	}
	aside := final + ".before-restore-" + time.Now().UTC().Format(idLayout)
	for _, n := range sqliteFiles {
		p := filepath.Join(dataDir, n)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if !force {
			os.Remove(tmp)
			return fmt.Errorf("%w: %s appeared during the restore", ErrNotEmpty, p)
		}
		if err := os.Rename(p, aside+strings.TrimPrefix(n, db.SQLiteFileName)); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("move the old database aside: %w", err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore the database: %w", err)
	}
	return syncDirectory(dataDir)
}

// syncDirectory makes a rename in dir durable.
func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, in, make([]byte, bufSize)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkTar reads the archive's headers: regular files only, each named
// "tenant/object" as the file store names them, no name twice, as many as
// the manifest says.
func checkTar(path string, want int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: files.tar does not read: %v", ErrCorrupt, err)
		}
		if h.Typeflag != tar.TypeReg || !blobName(h.Name) || seen[h.Name] || h.Size < 0 {
			return fmt.Errorf("%w: files.tar holds an entry %q that is not a file of the store", ErrCorrupt, short(h.Name))
		}
		seen[h.Name] = true
	}
	if len(seen) != want {
		return fmt.Errorf("%w: files.tar holds %d files, the manifest says %d", ErrCorrupt, len(seen), want)
	}
	return nil
}

// blobName is the file store's "tenant/object" with both ids as Kandidat makes them.
func blobName(n string) bool {
	tenant, object, ok := strings.Cut(n, "/")
	return ok && blobID(tenant) && blobID(object)
}

func blobID(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// restoreFiles stores every file of the archive in the store. Each entry
// is read from the tar through a section of the file, so that the backend
// (which wants a ReadSeeker and the size) gets it without a copy.
func restoreFiles(ctx context.Context, path string, store blob.Backend) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &offsetReader{r: f}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: files.tar: %v", ErrCorrupt, err)
		}
		// tar.Reader has read the header (and its PAX records) exactly:
		// the entry's data starts where it stopped.
		sec := io.NewSectionReader(f, cr.off, h.Size)
		if err := store.Put(ctx, h.Name, sec, h.Size); err != nil {
			return fmt.Errorf("restore file %s: %w", h.Name, err)
		}
	}
}

// offsetReader counts what tar.Reader consumed. tar.Reader reads headers
// in whole 512-byte blocks and skips data through Seek or Read, so the
// count after Next is the start of the entry's data.
type offsetReader struct {
	r   *os.File
	off int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.off += int64(n)
	return n, err
}

// Seek lets tar.Reader skip an entry's data instead of reading it.
func (o *offsetReader) Seek(offset int64, whence int) (int64, error) {
	off, err := o.r.Seek(offset, whence)
	if err == nil {
		o.off = off
	}
	return off, err
}

// MergeLedgers appends the lines of srcs not already in dst (exact line match) to dst, syncs.
// dst is created (0600) when missing; a missing src adds nothing.
func MergeLedgers(dst string, srcs ...string) (added int, err error) {
	have := map[string]bool{}
	existing, err := os.ReadFile(dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	for line := range strings.SplitSeq(string(existing), "\n") {
		if line != "" {
			have[line] = true
		}
	}
	var add bytes.Buffer
	// A last line without its newline (an append cut short) is completed
	// before anything follows it.
	if len(existing) > 0 && existing[len(existing)-1] != '\n' {
		add.WriteByte('\n')
	}
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if line == "" || have[line] {
				continue
			}
			have[line] = true
			add.WriteString(line)
			add.WriteByte('\n')
			added++
		}
	}
	if added == 0 {
		return 0, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	if _, err := f.Write(add.Bytes()); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	return added, f.Close()
}

// pgRestore restores a dump into the schema of a PostgreSQL URL, as the
// URL's login role (which will own the tables, as after a migration).
type pgRestore struct {
	conn   *pgConn
	schema string
	db     *sql.DB
	binDir string
}

func openPGRestore(ctx context.Context, o RestoreOptions) (*pgRestore, error) {
	c, err := parsePGURL(o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if len(c.schemas) != 1 {
		return nil, fmt.Errorf("restore: the database URL's search_path names %d schemas; name the one to restore into", len(c.schemas))
	}
	pool, err := sql.Open("pgx", o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("restore: database URL: %w", err)
	}
	pool.SetMaxOpenConns(1)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("restore: PostgreSQL does not answer: %v", redact(err, c.password))
	}
	return &pgRestore{conn: c, schema: c.schemas[0], db: pool, binDir: o.PGBinDir}, nil
}

func redact(err error, secret string) string {
	if secret == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), secret, "…")
}

func (p *pgRestore) close() { p.db.Close() }

func (p *pgRestore) checkEmpty(ctx context.Context, force bool) error {
	if force {
		return nil
	}
	var n int
	if err := p.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, p.schema).Scan(&n); err != nil {
		return fmt.Errorf("restore: look into schema %s: %w", p.schema, err)
	}
	if n > 0 {
		return fmt.Errorf("%w: schema %s of the database holds %d tables; restore into an empty schema, or pass --force to drop it", ErrNotEmpty, p.schema, n)
	}
	return nil
}

// restore runs pg_restore in one transaction. The schema is made (or, with
// force, dropped and made again) beforehand, owned by the login role; the
// dump's own CREATE SCHEMA and default privileges are left out, and the
// grants to the application role are kept only when that role exists (it
// is made here when the login role may).
func (p *pgRestore) restore(ctx context.Context, dump string, force bool) (err error) {
	var serverNum int
	if err := p.db.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&serverNum); err != nil {
		return err
	}
	tool, err := findPGTool("pg_restore", p.binDir, serverNum/10000)
	if err != nil {
		return err
	}
	toc, err := exec.CommandContext(ctx, tool, "--list", dump).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%w: the database dump does not read: %v: %s", ErrCorrupt, err, toolMessage(string(exit.Stderr)))
		}
		return fmt.Errorf("%w: the database dump does not read: %v", ErrCorrupt, err)
	}
	if err := dumpSchema(toc, p.schema); err != nil {
		return err
	}
	// With force the installation there is renamed aside, and dropped only
	// once the restore succeeded: a failed restore puts it back.
	var aside string
	if force {
		var exists bool
		if err := p.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, p.schema).Scan(&exists); err != nil {
			return err
		}
		if exists {
			aside = p.schema + "_before_restore_" + strings.ToLower(time.Now().UTC().Format(idLayout))
			if _, err := p.db.ExecContext(ctx, `ALTER SCHEMA `+quoteIdent(p.schema)+` RENAME TO `+quoteIdent(aside)); err != nil {
				return fmt.Errorf("restore: move schema %s aside: %w", p.schema, err)
			}
			defer func() {
				bg := context.WithoutCancel(ctx)
				if err == nil {
					_, err = p.db.ExecContext(bg, `DROP SCHEMA `+quoteIdent(aside)+` CASCADE`)
					return
				}
				p.db.ExecContext(bg, `DROP SCHEMA IF EXISTS `+quoteIdent(p.schema)+` CASCADE`)
				p.db.ExecContext(bg, `ALTER SCHEMA `+quoteIdent(aside)+` RENAME TO `+quoteIdent(p.schema))
			}()
		}
	}
	var existed bool
	if err := p.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, p.schema).Scan(&existed); err != nil {
		return err
	}
	if !existed {
		if _, err := p.db.ExecContext(ctx, `CREATE SCHEMA `+quoteIdent(p.schema)); err != nil {
			return fmt.Errorf("restore: create schema %s: %w", p.schema, err)
		}
		if aside == "" {
			defer func() {
				if err != nil { // leave the database as it was
					p.db.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+quoteIdent(p.schema)+` CASCADE`)
				}
			}()
		}
	}
	// As migration 0010 does: the role may exist already (it is the cluster's).
	p.db.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+db.AppRole+`') THEN CREATE ROLE `+db.AppRole+` NOLOGIN; END IF;
		IF NOT pg_has_role(current_user, '`+db.AppRole+`', 'MEMBER') THEN EXECUTE format('GRANT `+db.AppRole+` TO %I', current_user); END IF;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'cannot create or grant the application role: %', SQLERRM;
	END $$`)
	var role bool
	if err := p.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, db.AppRole).Scan(&role); err != nil {
		return err
	}
	list := filterTOC(toc, role)
	listFile := dump + ".list"
	if err := os.WriteFile(listFile, list, 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, "--exit-on-error", "--single-transaction", "--no-owner", "--use-list="+listFile,
		"--dbname="+p.conn.libpq, dump)
	cmd.Env = p.conn.env()
	var msgs bytes.Buffer
	cmd.Stdout = &toolMessages{b: &msgs, max: 8 << 10}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		// One line of its messages: the rest can quote rows (there is no
		// debug log here to hold them).
		return fmt.Errorf("restore: pg_restore: %v: %s", err, toolMessage(msgs.String()))
	}
	if role {
		s := quoteIdent(p.schema)
		for _, q := range []string{
			`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + s + ` GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + db.AppRole,
			`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + s + ` GRANT USAGE, SELECT ON SEQUENCES TO ` + db.AppRole,
		} {
			if _, err := p.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("restore: default privileges: %w", err)
			}
		}
	}
	return nil
}

// dumpSchema checks that the dump holds objects of schema (and only of it:
// pg_restore cannot rename a schema).
func dumpSchema(toc []byte, schema string) error {
	others := map[string]bool{}
	found := false
	for line := range strings.SplitSeq(string(toc), "\n") {
		if strings.HasPrefix(line, ";") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		// "ID; OID OID TYPE SCHEMA NAME OWNER": TYPE may be two words.
		if len(f) < 6 || f[3] != "TABLE" || f[4] == "DATA" {
			continue
		}
		if f[4] == schema {
			found = true
		} else {
			others[f[4]] = true
		}
	}
	if !found || len(others) > 0 {
		var names []string
		for n := range others {
			names = append(names, n)
		}
		return fmt.Errorf("restore: the backup's tables are in schema(s) %s, not %s: give a database URL whose search_path names the backup's schema", strings.Join(names, ", "), schema)
	}
	return nil
}

// filterTOC comments out the entries the restore does itself or must
// not run: the schema's creation, default privileges (they name the role
// that made the dump), and without the application role its grants.
func filterTOC(toc []byte, role bool) []byte {
	var out bytes.Buffer
	for line := range strings.SplitSeq(string(toc), "\n") {
		f := strings.Fields(line)
		skip := false
		if !strings.HasPrefix(line, ";") && len(f) >= 4 {
			switch {
			case f[3] == "SCHEMA":
				skip = true
			case f[3] == "DEFAULT" && len(f) > 4 && f[4] == "ACL":
				skip = true
			case f[3] == "ACL" && !role:
				skip = true
			}
		}
		if skip {
			out.WriteString(";")
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
