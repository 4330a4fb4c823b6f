package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/backup/pitr"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/privacy"
)

// BackupSpecs returns the configured backup targets.
func BackupSpecs(cfg *config.Config) ([]backup.Spec, error) {
	specs, err := backup.ParseSpecs(cfg.BackupTargets)
	if err != nil {
		return nil, fmt.Errorf("--backup-targets: %w", err)
	}
	return specs, nil
}

// ResolveTargets returns the targets refs name: a configured target by its
// name, or a directory or URL given on the spot. No refs: every configured
// target.
func ResolveTargets(cfg *config.Config, refs []string) ([]backup.Spec, error) {
	specs, err := BackupSpecs(cfg)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		if len(specs) == 0 {
			return nil, errors.New("no backup target: give --to DIRECTORY (or an s3:// URL), or configure --backup-targets")
		}
		return specs, nil
	}
	var out []backup.Spec
	for _, ref := range refs {
		i := slices.IndexFunc(specs, func(s backup.Spec) bool { return s.Name == ref })
		if i >= 0 {
			out = append(out, specs[i])
			continue
		}
		sp, err := backup.ParseLocation(ref)
		if err != nil {
			// The reference is not repeated: a location may hold a secret.
			names := make([]string, len(specs))
			for i, s := range specs {
				names[i] = s.Name
			}
			if len(names) > 0 {
				return nil, fmt.Errorf("neither a configured target (%s) nor a location: %w", strings.Join(names, ", "), err)
			}
			return nil, fmt.Errorf("not a backup location: %w", err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// OpenTarget connects the target sp describes.
func OpenTarget(cfg *config.Config, sp backup.Spec) (backup.Target, error) {
	return backup.Open(sp, backup.OpenOptions{TmpDir: stagingDir(cfg)})
}

func stagingDir(cfg *config.Config) string {
	dir := cfg.BackupStagingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return dir
}

// BackupRecipients returns the configured age recipients and extra.
func BackupRecipients(cfg *config.Config, extra []string) ([]age.Recipient, error) {
	keys := strings.FieldsFunc(cfg.BackupRecipients, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
	if cfg.BackupRecipientsFile != "" {
		b, err := os.ReadFile(cfg.BackupRecipientsFile)
		if err != nil {
			return nil, fmt.Errorf("--backup-recipients-file: %v", err)
		}
		keys = append(keys, strings.Split(string(b), "\n")...)
	}
	keys = append(keys, extra...)
	rs, err := backup.ParseRecipients(keys)
	if err != nil {
		return nil, fmt.Errorf("backup recipients: %w", err)
	}
	if len(rs) == 0 {
		return nil, errors.New("no backup recipient: give --recipient age1... (make a key pair with age-keygen, keep the identity file off this server), or configure --backup-recipients")
	}
	return rs, nil
}

// openBlobBackend opens the file store's backend the configuration names.
func openBlobBackend(cfg *config.Config) (blob.Lister, error) {
	if cfg.S3Bucket != "" {
		b, err := blob.NewS3(blob.S3Options{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket, Prefix: cfg.S3Prefix,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PathStyle: cfg.S3PathStyle})
		if err != nil {
			return nil, fmt.Errorf("--s3-bucket: %w", err)
		}
		return b, nil
	}
	d, err := blob.NewDir(cfg.FilesDir())
	if err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	return d, nil
}

// BackupSource is what a backup of this installation copies.
func (a *App) BackupSource() (backup.Source, error) {
	blobs, err := openBlobBackend(a.Config)
	if err != nil {
		return backup.Source{}, err
	}
	return backup.Source{
		DB: a.DB, DatabaseURL: a.Config.DatabaseURL, PGBinDir: a.Config.PGBinDir, Blobs: blobs,
		Ledger: a.Config.ErasureLedger(), Checkpoints: a.Config.AuditCheckpointPath(),
		StagingDir: stagingDir(a.Config), Version: VersionString(),
		ExportLedger: func(ctx context.Context, w io.Writer) error { _, err := a.Privacy.ExportLedger(ctx, w); return err },
	}, nil
}

// PITRKey is the key that seals the point-in-time replica: derived from
// the master key, so a copy of the replica is useless without it.
func PITRKey(m *keys.MasterKey) []byte { return m.DeriveKey("pitr-replica") }

// PITROptions are the Litestream replica's options for this installation.
func (a *App) PITROptions() pitr.Options {
	return pitr.Options{
		DBPath: filepath.Join(a.Config.DataDir, db.SQLiteFileName), Replica: a.Config.PITRReplica,
		Retention: a.Config.PITRRetention, Key: PITRKey(a.Master), Logger: a.Logger,
	}
}

// BackupScheduler returns the scheduler of the configured targets, with
// the restore drill when an identity is configured and the point-in-time
// window of window (nil: none).
func (a *App) BackupScheduler(window func(ctx context.Context) (time.Time, time.Time, error)) (*backup.Scheduler, error) {
	specs, err := BackupSpecs(a.Config)
	if err != nil {
		return nil, err
	}
	s := &backup.Scheduler{Specs: specs, Logger: a.Logger, DrillEvery: a.Config.BackupDrillEvery, Window: window}
	if len(specs) > 0 {
		if s.Recipients, err = BackupRecipients(a.Config, nil); err != nil {
			return nil, err
		}
		if s.Source, err = a.BackupSource(); err != nil {
			return nil, err
		}
	}
	if window == nil && a.Config.DatabaseURL != "" && a.Config.PGBackRestStanza != "" {
		stanza, conf := a.Config.PGBackRestStanza, a.Config.PGBackRestConfig
		s.Window = func(ctx context.Context) (time.Time, time.Time, error) {
			return backup.PGBackRestInfo(ctx, stanza, conf)
		}
	}
	if a.Config.BackupDrillIdentityFile != "" {
		ids, err := backup.ReadIdentities(a.Config.BackupDrillIdentityFile)
		if err != nil {
			return nil, fmt.Errorf("--backup-drill-identity-file: %w", err)
		}
		cfg, logger := a.Config, a.Logger
		s.Verify = func(ctx context.Context, t backup.Target, id string) error {
			rep, err := VerifyBackup(ctx, cfg, logger, t, id, ids)
			if err != nil {
				return err
			}
			if !rep.OK() {
				return errors.New(rep.Problem())
			}
			return nil
		}
	}
	return s, nil
}

// VerifyReport is what verifying a backup found.
type VerifyReport struct {
	Manifest *backup.Manifest
	// Integrity is the database's own check; "" when it passed.
	Integrity string
	// Audit is the audit trail's verification (nil when no signing key
	// was at hand to check the signed checkpoints).
	Audit *audit.VerifyResult
	// LedgerEntries is how many erasures the backup's ledger names; LedgerBad
	// how many of its lines are not entries.
	LedgerEntries, LedgerBad int
	// Migrated is how many migrations the restored copy needed to reach this version.
	Migrated int
	Took     time.Duration
}

// OK reports whether the backup restored and every check passed.
func (r *VerifyReport) OK() bool {
	return r.Integrity == "" && (r.Audit == nil || len(r.Audit.Problems) == 0)
}

// Problem is the first failed check as a sentence ("" when OK).
func (r *VerifyReport) Problem() string {
	switch {
	case r.Integrity != "":
		return "database integrity check: " + r.Integrity
	case r.Audit != nil && len(r.Audit.Problems) > 0:
		return fmt.Sprintf("audit trail: %d problems, first: %s", len(r.Audit.Problems), r.Audit.Problems[0].String())
	}
	return ""
}

// VerifyBackup restores backup id (newest when "") of t into a scratch
// place (a directory under the staging directory; on PostgreSQL a scratch
// database on the configured server), migrates it to this version, runs
// the database's integrity check and verifies the audit trail against the
// backup's signed checkpoints, then records the result on the target.
// The scratch copy is removed whatever happens.
func VerifyBackup(ctx context.Context, cfg *config.Config, logger *slog.Logger, t backup.Target, id string, ids []age.Identity) (*VerifyReport, error) {
	start := time.Now()
	if id == "" {
		e, err := backup.Newest(ctx, t)
		if err != nil {
			return nil, err
		}
		id = e.ID
	}
	rep, err := verifyBackup(ctx, cfg, logger, t, id, ids)
	rec := backup.VerifyRecord{ID: id, At: time.Now().UTC(), OK: err == nil && rep.OK()}
	if host, herr := os.Hostname(); herr == nil {
		rec.Host = host
	}
	switch {
	case err != nil:
		rec.Problem = firstLine(err.Error())
	case !rep.OK():
		rec.Problem = firstLine(rep.Problem())
	}
	if rerr := backup.RecordVerify(context.WithoutCancel(ctx), t, rec); rerr != nil {
		logger.Warn("verify result not recorded on the target", "target", t.Name(), "error", rerr.Error())
	}
	if rep != nil {
		rep.Took = time.Since(start)
	}
	return rep, err
}

func verifyBackup(ctx context.Context, cfg *config.Config, logger *slog.Logger, t backup.Target, id string, ids []age.Identity) (*VerifyReport, error) {
	if err := os.MkdirAll(cfg.BackupStagingDir(), 0o700); err != nil {
		return nil, err
	}
	cleanStaging(cfg)
	scratch, err := os.MkdirTemp(cfg.BackupStagingDir(), "verify-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	scfg := *cfg
	scfg.DataDir = scratch
	scfg.S3Bucket = ""
	scfg.MasterKeyFile = cfg.MasterKeyPath()
	scfg.AuditSigningKeyFile = cfg.AuditSigningKeyPath()
	scfg.AuditCheckpointFile = filepath.Join(scratch, "audit-checkpoints.jsonl")
	scfg.AuditCheckpointExport = ""
	scfg.PITRReplica = ""
	if cfg.DatabaseURL != "" {
		url, drop, err := scratchDatabase(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		defer drop()
		scfg.DatabaseURL = url
	}
	files, err := blob.NewDir(scfg.FilesDir())
	if err != nil {
		return nil, err
	}
	m, err := backup.Restore(ctx, t, id, ids, backup.RestoreOptions{
		DataDir: scratch, DatabaseURL: scfg.DatabaseURL, PGBinDir: cfg.PGBinDir, Blobs: files,
		KnownSchema: KnownSchema(cfg), StagingDir: filepath.Join(scratch, "staging"),
	})
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{Manifest: m}
	sa, err := Open(ctx, &scfg, slog.New(slog.DiscardHandler), OpenOptions{Migrate: true})
	if err != nil {
		return rep, fmt.Errorf("the restored copy does not open: %w", err)
	}
	defer sa.Close()
	rep.Migrated = KnownSchema(cfg) - m.SchemaVersion
	if err := sa.CheckMasterKey(ctx); err != nil {
		return rep, err
	}
	if err := backup.IntegrityCheck(ctx, sa.DB); err != nil {
		rep.Integrity = err.Error()
	}
	if sa.Signer != nil {
		var extra []audit.Checkpoint
		if _, err := os.Stat(scfg.AuditCheckpointFile); err == nil {
			if extra, err = audit.ReadCheckpointFile(scfg.AuditCheckpointFile); err != nil {
				return rep, fmt.Errorf("the backup's audit checkpoints: %w", err)
			}
		}
		res, err := sa.Audit.Verify(ctx, nil, sa.Signer.PublicKey(), extra)
		if err != nil {
			return rep, fmt.Errorf("audit verify: %w", err)
		}
		rep.Audit = &res
	}
	if f, err := os.Open(scfg.ErasureLedger()); err == nil {
		entries, bad, err := privacy.ReadLedger(f)
		f.Close()
		if err != nil {
			return rep, err
		}
		rep.LedgerEntries, rep.LedgerBad = len(entries), bad
	}
	return rep, nil
}

// KnownSchema is the number of the newest migration this binary carries.
func KnownSchema(cfg *config.Config) int {
	engine := db.SQLite
	if cfg.DatabaseURL != "" {
		engine = db.Postgres
	}
	ms, err := db.Migrations(engine)
	if err != nil || len(ms) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(strings.SplitN(ms[len(ms)-1].Name, "_", 2)[0])
	return n
}

// scratchDatabase creates an empty database beside the one rawURL names,
// for a restore drill, and returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, rawURL string) (string, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	// The name carries its creation time, so that a later drill can tell
	// the scratch database of a killed one (with the restored data, erased
	// people included) and drop it.
	name := fmt.Sprintf("kandidat_verify_%d_%s", time.Now().Unix(), hex.EncodeToString(b))
	admin, err := sql.Open("pgx", rawURL)
	if err != nil {
		return "", nil, err
	}
	dropStaleScratch(ctx, admin)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("a restore drill on PostgreSQL needs a scratch database, and the login role of --database-url may not create one (grant it CREATEDB): %v", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			slog.Default().Warn("scratch database not dropped", "database", name, "error", err.Error())
		}
		admin.Close()
	}
	return u.String(), drop, nil
}

// scratchName is the name of a drill's scratch database: its creation
// time (Unix seconds) and random hex.
var scratchName = regexp.MustCompile(`^kandidat_verify_([0-9]{1,12})_[0-9a-f]{12}$`)

// dropStaleScratch drops the scratch databases of drills older than
// staleAfter: a killed verify leaves its restored copy behind.
func dropStaleScratch(ctx context.Context, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'kandidat\_verify\_%'`)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		m := scratchName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if at, err := strconv.ParseInt(m[1], 10, 64); err == nil && time.Since(time.Unix(at, 0)) > staleAfter {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			slog.Default().Warn("stale scratch database not dropped", "database", name, "error", err.Error())
		}
	}
}

// RestoreReport is what a restore did.
type RestoreReport struct {
	Manifest *backup.Manifest
	// ToTime is the point a point-in-time restore reached (zero otherwise).
	ToTime time.Time
	// Ledgers lists the erasure ledgers merged; Ledger what applying them did.
	Ledgers []string
	Ledger  privacy.ApplyReport
	// Skipped lists the ledgers that could not be read (only with IgnoreUnreadableLedgers).
	Skipped []string
	// Aside is where a replaced SQLite database was kept ("" for none).
	Aside string
}

// RestoreOptions say what to restore and from where.
type RestoreOptions struct {
	From       backup.Target
	Identities []age.Identity
	ID         string
	// ToTime restores the SQLite database as it was then from the
	// point-in-time replica (--pitr-replica, or Replica) instead of a backup.
	ToTime  time.Time
	Replica string
	Force   bool
	// IgnoreUnreadableLedgers restores even when the erasure ledger of a
	// backup on a target cannot be read (a target down, a damaged part):
	// erasures only that ledger knew of may come back.
	IgnoreUnreadableLedgers bool
	Out                     io.Writer
}

// RestorePending is the file in the data directory that says a restore
// has installed a database whose erasures are not applied yet: nothing
// opens the installation until `kandidat restore` (again) or `kandidat
// privacy apply-ledger` finishes.
const RestorePending = "restore-pending"

// ErrRestorePending is returned by Open while a restore is unfinished.
var ErrRestorePending = errors.New("a restore did not finish: its erasure ledger is not applied yet, so erased people may still be in the database; run `kandidat privacy apply-ledger` (or the restore again) before anything else")

// Restore brings a backup (or a point in time) into the installation cfg
// describes, which must be empty unless Force and must not be served
// meanwhile.
//
// Before it installs anything it reads the erasure ledger of every
// complete backup on the target restored from and on every configured
// target, and refuses (unless IgnoreUnreadableLedgers) when one cannot be
// read: any of them may know of an erasure newer than the backup. It then
// marks the data directory (RestorePending), installs the backup, merges
// those ledgers with the data directory's and the backup's own, checks that
// the master key opens the companies' data keys, applies the ledger, and
// removes the mark. The master key must be in place first: backups never
// hold it.
func Restore(ctx context.Context, cfg *config.Config, logger *slog.Logger, o RestoreOptions) (*RestoreReport, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if _, err := os.Stat(cfg.MasterKeyPath()); err != nil {
		return nil, fmt.Errorf("the installation's master key is not at %s: copy it there first (or point --master-key-file at it); backups never contain it", cfg.MasterKeyPath())
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	unlock, err := lockExclusive(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cleanStaging(cfg)
	rep := &RestoreReport{}

	// Every ledger in reach, read before anything is installed.
	ledgers, err := os.CreateTemp(stagingDir(cfg), "ledgers-*.jsonl")
	if err != nil {
		return nil, err
	}
	ledgers.Close()
	defer os.Remove(ledgers.Name())
	read, skipped, err := gatherLedgers(ctx, cfg, o, ledgers.Name())
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 && !o.IgnoreUnreadableLedgers {
		return nil, fmt.Errorf("nothing was restored: these erasure ledgers cannot be read, and without them people erased since the backup could come back:\n  %s\nRepair or reach the target, or give --ignore-unreadable-ledgers to restore anyway", strings.Join(skipped, "\n  "))
	}
	rep.Skipped = skipped

	pending := filepath.Join(cfg.DataDir, RestorePending)
	if err := os.WriteFile(pending, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	// A failed install installs nothing (the database goes into place
	// last, and a PostgreSQL schema is put back): the mark goes too.
	if !o.ToTime.IsZero() {
		aside, err := restoreToTime(ctx, cfg, o)
		if err != nil {
			os.Remove(pending)
			return nil, err
		}
		rep.ToTime, rep.Aside = o.ToTime, aside
	} else {
		blobs, err := openBlobBackend(cfg)
		if err != nil {
			return nil, err
		}
		aside := asideName(cfg)
		m, err := backup.Restore(ctx, o.From, o.ID, o.Identities, backup.RestoreOptions{
			DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, PGBinDir: cfg.PGBinDir, Blobs: blobs, Force: o.Force,
			KnownSchema: KnownSchema(cfg), StagingDir: stagingDir(cfg),
		})
		if err != nil {
			os.Remove(pending)
			return nil, err
		}
		rep.Manifest = m
		rep.Aside = aside()
		fmt.Fprintf(o.Out, "restored backup %s (%s, schema %d) from %s\n", m.ID, m.Engine, m.SchemaVersion, o.From.Location())
	}
	rep.Ledgers = append([]string{cfg.ErasureLedger()}, read...)
	if _, err := backup.MergeLedgers(cfg.ErasureLedger(), ledgers.Name()); err != nil {
		return rep, fmt.Errorf("merge the erasure ledgers: %w", err)
	}
	a, err := Open(ctx, cfg, logger, OpenOptions{Migrate: true, Out: o.Out, Restoring: true})
	if err != nil {
		return rep, fmt.Errorf("the restored installation does not open: %w", err)
	}
	defer a.Close()
	if err := a.CheckMasterKey(ctx); err != nil {
		return rep, err
	}
	if _, err := os.Stat(cfg.ErasureLedger()); err == nil {
		if rep.Ledger, err = a.Privacy.ApplyLedger(ctx, cfg.ErasureLedger()); err != nil {
			return rep, fmt.Errorf("apply the erasure ledger: %w", err)
		}
		if rep.Ledger.Erased > 0 {
			// Their bytes leave the write-ahead log and free pages now.
			if err := a.Privacy.Forget(ctx); err != nil {
				return rep, err
			}
		}
	}
	if err := os.Remove(pending); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, err
	}
	return rep, nil
}

// asideName returns a function that tells, after a forced restore, where
// the SQLite database it replaced was kept.
func asideName(cfg *config.Config) func() string {
	before := asides(cfg)
	return func() string {
		for _, p := range asides(cfg) {
			if !slices.Contains(before, p) {
				return p
			}
		}
		return ""
	}
}

func asides(cfg *config.Config) []string {
	m, _ := filepath.Glob(filepath.Join(cfg.DataDir, db.SQLiteFileName+".before-restore-*"))
	var out []string
	for _, p := range m {
		if !strings.HasSuffix(p, "-wal") && !strings.HasSuffix(p, "-shm") {
			out = append(out, p)
		}
	}
	return out
}

// gatherLedgers merges into path the erasure ledger of every complete
// backup on the target restored from and on every configured target. It
// returns what it read and what it could not.
func gatherLedgers(ctx context.Context, cfg *config.Config, o RestoreOptions, path string) (read, skipped []string, err error) {
	var targets []backup.Target
	seen := map[string]bool{}
	add := func(t backup.Target) {
		if t != nil && !seen[t.Location()] {
			seen[t.Location()] = true
			targets = append(targets, t)
		}
	}
	add(o.From)
	specs, err := BackupSpecs(cfg)
	if err != nil {
		return nil, nil, err
	}
	for _, sp := range specs {
		t, err := OpenTarget(cfg, sp)
		if err != nil {
			skipped = append(skipped, sp.Name+": "+err.Error())
			continue
		}
		add(t)
	}
	if len(targets) > 0 && len(o.Identities) == 0 {
		for _, t := range targets {
			skipped = append(skipped, t.Location()+": no --identity given to open its backups")
		}
		return nil, skipped, nil
	}
	part, err := os.CreateTemp(stagingDir(cfg), "ledger-*")
	if err != nil {
		return nil, nil, err
	}
	part.Close()
	defer os.Remove(part.Name())
	for _, t := range targets {
		entries, err := backup.List(ctx, t)
		if err != nil {
			skipped = append(skipped, t.Location()+": "+err.Error())
			continue
		}
		for _, e := range entries {
			if !e.Complete || e.Future {
				continue
			}
			if err := backup.FetchPart(ctx, t, e.ID, o.Identities, backup.PartLedger, part.Name()); err != nil {
				skipped = append(skipped, t.Location()+"/"+e.ID+": "+err.Error())
				continue
			}
			if _, err := backup.MergeLedgers(path, part.Name()); err != nil {
				return read, skipped, err
			}
			read = append(read, t.Location()+"/"+e.ID)
		}
	}
	return read, skipped, nil
}

// CheckMasterKey makes sure the master key opens every company's data
// key: a restore or a verify with another installation's master key (or
// one from before a rewrap) would otherwise look fine and read nothing.
func (a *App) CheckMasterKey(ctx context.Context) error {
	infos, err := a.Keys.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, ki := range infos {
		if ki.MasterKeyID != a.Master.ID() {
			return fmt.Errorf("the data keys of this database are wrapped by master key %s, but the master key at %s is %s: put master key %s in place (keep every master key as long as backups made under it)",
				ki.MasterKeyID, a.Config.MasterKeyPath(), a.Master.ID(), ki.MasterKeyID)
		}
	}
	return nil
}

// restoreToTime restores the SQLite database as it was at o.ToTime from
// the point-in-time replica, and returns where a replaced database was kept.
func restoreToTime(ctx context.Context, cfg *config.Config, o RestoreOptions) (string, error) {
	if cfg.DatabaseURL != "" {
		return "", errors.New("--to-time: on PostgreSQL a point in time is restored with pgBackRest (pgbackrest restore --type=time), see docs/operations/backup-postgresql.md")
	}
	replica := o.Replica
	if replica == "" {
		replica = cfg.PITRReplica
	}
	if replica == "" {
		return "", errors.New("--to-time: no point-in-time replica: give --from with the replica's location, or configure --pitr-replica")
	}
	master, err := keys.ReadMasterKeyFile(cfg.MasterKeyPath())
	if err != nil {
		return "", fmt.Errorf("--master-key-file: %v", err)
	}
	path := filepath.Join(cfg.DataDir, db.SQLiteFileName)
	aside := ""
	if _, err := os.Stat(path); err == nil {
		if !o.Force {
			return "", fmt.Errorf("%w: %s holds a database; stop the server and give --force to replace it (it is kept aside)", backup.ErrNotEmpty, path)
		}
		aside = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
	}
	err = pitr.RestoreTo(ctx, pitr.Options{DBPath: path, Replica: replica, Retention: cfg.PITRRetention, Key: PITRKey(master)}, o.ToTime, path)
	return aside, err
}

// staleAfter is the age at which a leftover in the staging directory is
// taken for the debris of a killed restore, verify or backup.
const staleAfter = 6 * time.Hour

// cleanStaging removes what killed restores, verifies and backups left in
// the staging directory: decrypted databases among them, erased people
// included. Entries younger than staleAfter may belong to a run in
// progress and stay.
func cleanStaging(cfg *config.Config) {
	dir := cfg.BackupStagingDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// firstLine is the first line of a message, at most 300 bytes: what a
// plaintext verify record keeps of an error (a tool's later lines may quote
// data).
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
