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
		rec.Problem = err.Error()
	case !rep.OK():
		rec.Problem = rep.Problem()
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
	name := "kandidat_verify_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", rawURL)
	if err != nil {
		return "", nil, err
	}
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

// RestoreReport is what a restore did.
type RestoreReport struct {
	Manifest *backup.Manifest
	// ToTime is the point a point-in-time restore reached (zero otherwise).
	ToTime time.Time
	// Ledgers lists the erasure ledgers merged; Ledger what applying them did.
	Ledgers []string
	Ledger  privacy.ApplyReport
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
	Out     io.Writer
}

// Restore brings a backup (or a point in time) into the installation cfg
// describes, which must be empty unless Force; then it merges every
// erasure ledger it can find (the data directory's, the backup's, and
// the newest backup's of every configured target) and applies the result,
// so that nobody erased since comes back. The master key must be in place
// first: backups never hold it.
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
	rep := &RestoreReport{}
	if !o.ToTime.IsZero() {
		if err := restoreToTime(ctx, cfg, o); err != nil {
			return nil, err
		}
		rep.ToTime = o.ToTime
	} else {
		blobs, err := openBlobBackend(cfg)
		if err != nil {
			return nil, err
		}
		m, err := backup.Restore(ctx, o.From, o.ID, o.Identities, backup.RestoreOptions{
			DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, PGBinDir: cfg.PGBinDir, Blobs: blobs, Force: o.Force,
			KnownSchema: KnownSchema(cfg), StagingDir: stagingDir(cfg),
		})
		if err != nil {
			return nil, err
		}
		rep.Manifest = m
		fmt.Fprintf(o.Out, "restored backup %s (%s, schema %d) from %s\n", m.ID, m.Engine, m.SchemaVersion, o.From.Location())
	}
	// Every ledger in reach: the newest backup's of each configured target
	// (and of the one restored from) may know of erasures newer than this
	// backup and than the data directory's own copy.
	rep.Ledgers = append(rep.Ledgers, cfg.ErasureLedger())
	targets := []backup.Target{}
	if o.From != nil {
		targets = append(targets, o.From)
	}
	if specs, err := BackupSpecs(cfg); err == nil {
		for _, sp := range specs {
			if t, err := OpenTarget(cfg, sp); err == nil {
				targets = append(targets, t)
			}
		}
	}
	for _, t := range targets {
		if len(o.Identities) == 0 {
			break
		}
		e, err := backup.Newest(ctx, t)
		if err != nil {
			continue
		}
		tmp, err := os.CreateTemp(stagingDir(cfg), "ledger-*")
		if err != nil {
			return rep, err
		}
		tmp.Close()
		err = backup.FetchPart(ctx, t, e.ID, o.Identities, "erasures.jsonl", tmp.Name())
		if err == nil {
			_, err = backup.MergeLedgers(cfg.ErasureLedger(), tmp.Name())
			rep.Ledgers = append(rep.Ledgers, t.Location()+"/"+e.ID)
		}
		os.Remove(tmp.Name())
		if err != nil {
			fmt.Fprintf(o.Out, "warning: the erasure ledger of %s on %s was not read: %v\n", e.ID, t.Location(), err)
		}
	}
	a, err := Open(ctx, cfg, logger, OpenOptions{Migrate: true, Out: o.Out})
	if err != nil {
		return rep, fmt.Errorf("the restored installation does not open: %w", err)
	}
	defer a.Close()
	if _, err := os.Stat(cfg.ErasureLedger()); err == nil {
		if rep.Ledger, err = a.Privacy.ApplyLedger(ctx, cfg.ErasureLedger()); err != nil {
			return rep, fmt.Errorf("apply the erasure ledger: %w", err)
		}
	}
	return rep, nil
}

// restoreToTime restores the SQLite database as it was at o.ToTime from
// the point-in-time replica.
func restoreToTime(ctx context.Context, cfg *config.Config, o RestoreOptions) error {
	if cfg.DatabaseURL != "" {
		return errors.New("--to-time: on PostgreSQL a point in time is restored with pgBackRest (pgbackrest restore --type=time), see docs/operations/backup-postgresql.md")
	}
	replica := o.Replica
	if replica == "" {
		replica = cfg.PITRReplica
	}
	if replica == "" {
		return errors.New("--to-time: no point-in-time replica: give --from with the replica's location, or configure --pitr-replica")
	}
	master, err := keys.ReadMasterKeyFile(cfg.MasterKeyPath())
	if err != nil {
		return fmt.Errorf("--master-key-file: %v", err)
	}
	path := filepath.Join(cfg.DataDir, db.SQLiteFileName)
	if _, err := os.Stat(path); err == nil {
		if !o.Force {
			return fmt.Errorf("%w: %s holds a database; stop the server and give --force to replace it (it is kept aside)", backup.ErrNotEmpty, path)
		}
		aside := path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return pitr.RestoreTo(ctx, pitr.Options{DBPath: path, Replica: replica, Retention: cfg.PITRRetention, Key: PITRKey(master)}, o.ToTime, path)
}
