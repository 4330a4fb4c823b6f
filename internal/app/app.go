// Package app is the composition root: it builds the database, the keyring,
// the domain services and the web layer from a Config, and runs the server
// with a graceful shutdown.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/importer"
	"github.com/kandidat/kandidat/internal/jobs"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/web"
	"github.com/kandidat/kandidat/internal/webhook"
	"github.com/kandidat/kandidat/internal/whistle"
)

// Version is set at build time with -ldflags "-X github.com/kandidat/kandidat/internal/app.Version=v1.2.3".
var Version = ""

// VersionString returns the version of this binary.
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "devel-" + rev
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "devel"
}

// App is an opened installation.
type App struct {
	Config *config.Config
	Logger *slog.Logger
	DB     *db.DB
	Master *keys.MasterKey
	Keys   *keys.Keyring
	// Blobs keeps files (CVs, attachments) encrypted, locally or in a bucket.
	Blobs *blob.Store
	Audit *audit.Log
	// Signer signs audit checkpoints; nil when its key file is absent (only serve creates it).
	Signer    *audit.Signer
	Retention audit.Retention
	Tenants   *tenant.Service
	Accounts  *account.Service
	Credits   *credit.Service
	Recruit   *recruit.Service
	// Privacy is the GDPR engine: bases, consents, erasure, requests.
	Privacy *privacy.Service
	// Importer brings candidates from another ATS's files.
	Importer *importer.Service
	// Webhooks: the companies' subscriptions and their deliveries.
	Webhooks *webhook.Service
	// Whistle is the whistleblowing channel: channels, sealed reports, cases.
	Whistle *whistle.Service
	// Queue holds outgoing email until the jobs runner delivers it.
	Queue    *notify.Queue
	I18n     *i18n.Bundle
	Registry *prometheus.Registry
	// SMTPRootCAs replaces the system roots for the SMTP server (tests).
	SMTPRootCAs *x509.CertPool
}

// NewLogger returns the application log: JSON (or text) on w, at the configured level.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// OpenOptions say how to open an installation.
type OpenOptions struct {
	// Migrate applies pending migrations; otherwise a schema that is behind is an error.
	Migrate bool
	// CreateMasterKey generates the master key when its file is absent (serve does; other commands do not).
	CreateMasterKey bool
	// Out receives messages for the operator.
	Out io.Writer
	// Restoring opens an installation whose restore is not finished
	// (RestorePending): only the restore and the ledger's application do.
	Restoring bool
}

// Open opens the installation that cfg describes.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger, o OpenOptions) (*App, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if err := cfg.CheckDataDir(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, RestorePending)); err == nil && !o.Restoring {
		return nil, ErrRestorePending
	}
	a := &App{Config: cfg, Logger: logger, Registry: prometheus.NewRegistry()}
	var err error
	a.DB, err = db.Open(ctx, db.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, ConnectRetries: cfg.DBConnectRetries, RetryDelay: time.Second})
	if err != nil {
		return nil, fmt.Errorf("--database-url: %v", err)
	}
	if err := a.checkSchema(ctx, o.Migrate); err != nil {
		a.DB.Close()
		return nil, err
	}
	keyPath := cfg.MasterKeyPath()
	if o.CreateMasterKey {
		var created bool
		a.Master, created, err = keys.LoadOrCreateMasterKey(keyPath)
		if created {
			fmt.Fprintf(o.Out, "WARNING: a new master key was written to %s.\n"+
				"  It encrypts every company's data key. Keep a copy OFF this machine (a password manager or a safe):\n"+
				"  without it, the data and every backup are unreadable; with it, anyone holding a backup can read them.\n"+
				"  In production, keep it outside the data directory and point --master-key-file at it.\n", keyPath)
			logger.Warn("master key created", "path", keyPath)
		}
	} else {
		a.Master, err = keys.ReadMasterKeyFile(keyPath)
	}
	if err != nil {
		a.DB.Close()
		return nil, fmt.Errorf("--master-key-file: %s", strings.TrimPrefix(err.Error(), "keys: "))
	}
	if a.I18n, err = i18n.Load(); err != nil {
		a.DB.Close()
		return nil, err
	}
	if err := a.openAudit(o); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Keys = keys.New(a.DB, a.Master)
	if a.Blobs, err = openBlobs(cfg, a.Keys); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Tenants = tenant.NewService(a.DB, a.Keys, a.Audit)
	a.Credits = credit.NewService(a.DB, a.Audit)
	a.Queue = notify.NewQueue(a.DB)
	a.Recruit = recruit.NewService(a.DB, a.Audit, a.Credits, a.Tenants, recruit.Options{
		Career: recruit.CareerOptions{Blobs: a.Blobs, Queue: a.Queue, I18n: a.I18n}, BaseURL: cfg.BaseURL})
	a.Privacy = privacy.NewService(a.DB, privacy.Options{Audit: a.Audit, Recruit: a.Recruit, Tenants: a.Tenants, Blobs: a.Blobs,
		Queue: a.Queue, I18n: a.I18n, BaseURL: strings.TrimSuffix(cfg.BaseURL, "/"), Ledger: cfg.ErasureLedger(), Logger: logger,
		OutboxDir: outboxDir(cfg)})
	a.Importer = importer.NewService(a.DB, importer.Options{Recruit: a.Recruit, Audit: a.Audit, Blobs: a.Blobs, Logger: logger})
	a.Accounts = account.NewService(a.DB, a.Audit, account.Options{SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionAbsolute,
		Queue: a.Queue, I18n: a.I18n, BaseURL: strings.TrimSuffix(cfg.BaseURL, "/"), Cipher: a.Keys,
		// Every instance holding the master key signs and checks the same device cookies.
		DeviceKey: a.Master.DeriveKey("device-cookie")})
	a.Webhooks = webhook.NewService(a.DB, webhook.Options{Audit: a.Audit, Keys: a.Keys, AllowPrivate: cfg.WebhookAllowPrivate, Logger: logger})
	a.Whistle = whistle.NewService(a.DB, whistle.Options{Audit: a.Audit, Blobs: a.Blobs, Queue: a.Queue, I18n: a.I18n, Master: a.Master,
		// Its log lines (a report's files removed after a failure) carry the
		// day only, as everything on the reporter's path does.
		BaseURL: strings.TrimSuffix(cfg.BaseURL, "/"), Logger: slog.New(web.NoTraceHandler(logger.Handler())), MayHandle: a.mayHandleCases})
	// A handler's case key follows their password.
	a.Accounts.SetPasswordHook(a.Whistle.PasswordChanged)
	return a, nil
}

// openBlobs opens the file store the configuration names: the bucket, or
// the files directory inside the data directory.
func openBlobs(cfg *config.Config, k *keys.Keyring) (*blob.Store, error) {
	var backend blob.Backend
	if cfg.S3Bucket != "" {
		b, err := blob.NewS3(blob.S3Options{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket, Prefix: cfg.S3Prefix,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PathStyle: cfg.S3PathStyle})
		if err != nil {
			return nil, fmt.Errorf("--s3-bucket: %w", err)
		}
		backend = b
	} else {
		d, err := blob.NewDir(cfg.FilesDir())
		if err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
		backend = d
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	return blob.New(backend, k, tmp), nil
}

func (a *App) openAudit(o OpenOptions) error {
	cfg := a.Config
	a.Retention = audit.Retention{}
	for track, days := range cfg.AuditRetention {
		d := time.Duration(days) * 24 * time.Hour
		if err := audit.CheckRetention(audit.Track(track), d); err != nil {
			return fmt.Errorf("--audit-retention: %s", strings.TrimPrefix(err.Error(), audit.ErrRetentionTooShort.Error()+": "))
		}
		a.Retention[audit.Track(track)] = d
	}
	path := cfg.AuditSigningKeyPath()
	var err error
	if o.CreateMasterKey {
		var created bool
		a.Signer, created, err = audit.LoadOrCreateSigner(path)
		if created {
			fmt.Fprintf(o.Out, "A new audit signing key was written to %s; keep a copy with the master key.\n", path)
		}
	} else {
		a.Signer, err = audit.ReadSigner(path)
		if errors.Is(err, os.ErrNotExist) {
			a.Signer, err = nil, nil // recording works without it; checkpoints need it
		}
	}
	if err != nil {
		return fmt.Errorf("--audit-signing-key-file: %v", err)
	}
	a.Audit = audit.NewLog(a.DB, a.Signer, audit.Rules{
		FailedSignIns: cfg.AlertFailedSignIns, FailedSignInWindow: cfg.AlertFailedSignInWindow, MassCount: cfg.AlertMassCount,
	})
	a.Audit.SetInstallationRetention(a.Retention)
	a.Audit.SetCheckpointFile(cfg.AuditCheckpointPath())
	a.Audit.SetCheckpointExport(cfg.AuditCheckpointExportPath())
	return nil
}

// ErrSchemaBehind is returned when migrations are pending and were not applied.
var ErrSchemaBehind = errors.New("the database schema is behind this binary; run: kandidat migrate up")

func (a *App) checkSchema(ctx context.Context, migrate bool) error {
	if migrate {
		applied, err := a.DB.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			a.Logger.Info("migrations applied", "count", len(applied), "latest", applied[len(applied)-1])
		}
		a.warnWithoutRowSecurity(ctx)
		return nil
	}
	st, err := a.DB.Status(ctx)
	if err != nil {
		return err
	}
	if len(st.Unknown) > 0 {
		return db.ErrSchemaNewer
	}
	if len(st.Pending) > 0 {
		return ErrSchemaBehind
	}
	a.warnWithoutRowSecurity(ctx)
	return nil
}

// warnWithoutRowSecurity tells the operator when PostgreSQL's row-level
// security cannot apply because the connections run as the tables' owner.
func (a *App) warnWithoutRowSecurity(ctx context.Context) {
	if a.DB.Engine != db.Postgres {
		return
	}
	if err := a.DB.Ping(ctx); err == nil && !a.DB.RunsAsAppRole() {
		a.Logger.Warn("row-level security is inactive: the database connections run as the owner of the tables. " +
			"Create the role " + db.AppRole + " as docs/decisions/0005-roles-permissions-and-row-level-security.md shows")
	}
}

// Ready reports whether the installation can serve requests.
func (a *App) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	st, err := a.DB.Status(ctx)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !st.Current() {
		return errors.New("database schema is not current")
	}
	return nil
}

// Web builds the web layer.
func (a *App) Web() (*web.Server, error) {
	return web.New(web.Deps{
		Accounts: a.Accounts, Tenants: a.Tenants, Audit: a.Audit, Recruit: a.Recruit, Privacy: a.Privacy, Credits: a.Credits, Importer: a.Importer, I18n: a.I18n, Logger: a.Logger, Ready: a.Ready, Registry: a.Registry,
		Webhooks: a.Webhooks, Whistle: a.Whistle,
	}, web.Options{
		TLS: a.Config.TLS(), TrustedProxies: a.Config.TrustedProxies, MaxBodyBytes: a.Config.MaxBodyBytes,
		MetricsToken: a.Config.MetricsToken, OutboxDir: a.devOutbox(),
		APIRateToken: a.Config.APIRateToken, APIRateIP: a.Config.APIRateIP,
		// Every instance signs and checks the same page cursors.
		CursorKey: a.Master.DeriveKey("api-cursor"),
	})
}

// outboxDir is where mail goes without an SMTP server ("" with one).
func outboxDir(cfg *config.Config) string {
	if cfg.SMTPHost != "" {
		return ""
	}
	return filepath.Join(cfg.DataDir, "outbox")
}

// devOutbox is the outbox directory shown at /dev/outbox in development mode.
func (a *App) devOutbox() string {
	if !a.Config.Dev || a.Config.SMTPHost != "" {
		return ""
	}
	return filepath.Join(a.Config.DataDir, "outbox")
}

// Mailer returns the configured mail sender: SMTP, or without an SMTP host
// the outbox directory in the data directory, where a developer reads the
// messages as .eml files.
func (a *App) Mailer() notify.Mailer {
	cfg := a.Config
	if cfg.SMTPHost == "" {
		return notify.NewOutbox(filepath.Join(cfg.DataDir, "outbox"), "kandidat@localhost")
	}
	return notify.NewSMTP(notify.SMTPConfig{
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, TLS: cfg.SMTPTLS, Timeout: 30 * time.Second, RootCAs: a.SMTPRootCAs,
	})
}

// SMS returns the text message sender: the HTTP gateway, or the outbox
// directory in development.
func (a *App) SMS() notify.SMSSender {
	if a.Config.SMSGatewayURL == "" {
		return notify.NewSMSOutbox(filepath.Join(a.Config.DataDir, "outbox"))
	}
	return &notify.SMSGateway{URL: a.Config.SMSGatewayURL, Token: a.Config.SMSGatewayToken}
}

// Jobs builds the background job runner.
func (a *App) Jobs(baseURL string) (*jobs.Runner, error) {
	r := &jobs.Runner{
		DB: a.DB, Audit: a.Audit, Accounts: a.Accounts, Tenants: a.Tenants, Recruit: a.Recruit, Privacy: a.Privacy, NoErasureSweep: a.Config.NoErasureSweep, Mailer: a.Mailer(), Queue: a.Queue, SMS: a.SMS(), I18n: a.I18n,
		Logger: a.Logger, BaseURL: baseURL, Retention: a.Retention, CheckpointEvery: a.Config.AuditCheckpointInterval,
		// The text of uploaded documents, for search and the card; the PDF
		// engine starts with the first PDF, and stops with the runner.
		Extractor: a.extractor(),
		Webhooks:  a.Webhooks,
		Whistle:   a.Whistle,
	}
	if err := r.Register(a.Registry); err != nil {
		return nil, err
	}
	return r, nil
}

// extractor is the reader of documents' text. The PDF engine's native
// code is kept between runs in the user's cache directory (private to the
// user; the data directory when there is none), so a restart does not
// compile it again.
func (a *App) extractor() *extract.Extractor {
	dir, err := os.UserCacheDir()
	if err == nil {
		dir = filepath.Join(dir, "kandidat", "pdfium")
	} else {
		dir = filepath.Join(a.Config.DataDir, "cache", "pdfium")
	}
	if err := extract.UseCacheDir(dir); err != nil {
		a.Logger.Warn("no cache for the PDF engine; it is compiled at each start", "error", err.Error())
	}
	return extract.New(extract.DefaultLimits())
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// Stderr is where serve writes its log when no writer is given.
var Stderr io.Writer = os.Stderr

// mayHandleCases tells whether a user holds cases.handle now (a channel
// routes reports only to such users).
func (a *App) mayHandleCases(ctx context.Context, tenantID, userID string) (bool, error) {
	p, err := a.Accounts.Principal(ctx, tenantID, userID)
	if err != nil {
		return false, err
	}
	return p.Can(access.HandleCases), nil
}
