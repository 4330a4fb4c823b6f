// Package config holds Kandidat's one Config, loaded from command-line flags
// over KANDIDAT_* environment variables over defaults (secrets also from
// KANDIDAT_*_FILE), and validated with messages a person can act on.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one kandidat process.
type Config struct {
	// Installation settings, shared by every subcommand that works on one.
	DataDir          string
	DatabaseURL      string
	MasterKeyFile    string
	LogLevel         string
	LogFormat        string
	DBConnectRetries int

	// Audit trail.
	AuditSigningKeyFile     string
	AuditCheckpointFile     string
	AuditCheckpointExport   string // a second, append-only copy of every checkpoint, off the host (file or directory)
	AuditCheckpointInterval time.Duration
	AuditRetention          map[string]int // track -> days, above the minimums
	AlertFailedSignIns      int
	AlertFailedSignInWindow time.Duration
	AlertMassCount          int

	// Server settings.
	Addr             string
	BaseURL          string
	TLSCert          string
	TLSKey           string
	ACMEDomain       string
	ACMEEmail        string
	ACMEDirectoryURL string
	HTTPRedirectAddr string
	BehindTLSProxy   bool
	TrustedProxies   []netip.Prefix
	AdminAddr        string
	MetricsToken     string
	Dev              bool
	Demo             bool
	NoMigrate        bool
	// NoErasureSweep stops the server's daily erasure sweep (an operator
	// who runs `kandidat privacy sweep` from a scheduler of their own).
	NoErasureSweep bool
	MaxBodyBytes   int64
	// APIRateToken and APIRateIP bound the API requests per minute of one
	// token and of one address (0: no bound).
	APIRateToken    int
	APIRateIP       int
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	ShutdownTimeout time.Duration

	// Email.
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string

	// Text messages (second-factor codes).
	SMSGatewayURL   string
	SMSGatewayToken string

	// File storage: a local directory (the default) or an S3-compatible bucket.
	S3Endpoint  string
	S3Region    string
	S3Bucket    string
	S3Prefix    string
	S3AccessKey string
	S3SecretKey string
	S3PathStyle bool

	// Backups (docs/operations/backup.md). The targets and recipients are
	// parsed by internal/backup when an installation opens.
	BackupTargets        string
	BackupRecipients     string
	BackupRecipientsFile string
	// BackupDrillIdentityFile lets serve restore each target's newest
	// backup on a schedule (the restore drill): it gives the server a key
	// that reads its own backups, so it is off unless set.
	BackupDrillIdentityFile string
	BackupDrillEvery        time.Duration
	PGBinDir                string
	// PITRReplica is where Litestream replicates the SQLite database's
	// write-ahead log ("" for none); PITRRetention the history it keeps.
	PITRReplica   string
	PITRRetention time.Duration
	// PGBackRestStanza and PGBackRestConfig let the operator page show
	// pgBackRest's point-in-time window on PostgreSQL.
	PGBackRestStanza string
	PGBackRestConfig string

	// WebhookAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses and plain http (development only).
	WebhookAllowPrivate bool
}

// FilesDir is the local directory of encrypted files when no bucket is set.
func (c *Config) FilesDir() string { return filepath.Join(c.DataDir, "files") }

// BackupStagingDir is the private directory a backup is prepared in.
func (c *Config) BackupStagingDir() string { return filepath.Join(c.DataDir, "backup-staging") }

// ErasureLedger is the file every erasure is appended to, beside the
// database file and never in it, so that a restored backup can be made to
// forget again whom it still holds.
func (c *Config) ErasureLedger() string { return filepath.Join(c.DataDir, "erasures.jsonl") }

// Scope says which group of settings a subcommand takes.
type Scope int

// Scopes: every installation command takes the installation settings; serve
// and config take the server ones too.
const (
	// NoSettings is the scope of a command that does not work on an
	// installation (version): it takes none of the settings.
	NoSettings Scope = iota - 1
	Installation
	Server
)

// Group is a family of settings, in the order the full help lists them.
type Group int

// Groups of settings.
const (
	GroupInstallation Group = iota
	GroupStorage
	GroupAudit
	GroupServer
	GroupMail
	GroupSMS
	GroupBackup
)

var groupTitles = [...]string{
	GroupInstallation: "Installation",
	GroupStorage:      "File storage",
	GroupAudit:        "Audit trail and alerts",
	GroupServer:       "Server",
	GroupMail:         "Email",
	GroupSMS:          "Text messages",
	GroupBackup:       "Backups and point-in-time recovery",
}

// String is the group's heading in the help.
func (g Group) String() string { return groupTitles[g] }

type setting struct {
	name   string // flag name; the variable is KANDIDAT_ + upper snake case
	usage  string
	scope  Scope
	group  Group
	secret bool
	value  func(c *Config) flag.Value
}

// settings lists every setting once; flags, environment, validation and the
// masked print-out all walk this list.
var settings = []setting{
	{"data-dir", "directory for the SQLite database, keys and files", Installation, GroupInstallation, false, func(c *Config) flag.Value { return (*stringValue)(&c.DataDir) }},
	{"database-url", "empty for SQLite in the data directory, or postgres://user:pass@host/db", Installation, GroupInstallation, true, func(c *Config) flag.Value { return (*stringValue)(&c.DatabaseURL) }},
	{"master-key-file", "file holding the master key (default: master.key in the data directory, created on first start)", Installation, GroupInstallation, false, func(c *Config) flag.Value { return (*stringValue)(&c.MasterKeyFile) }},
	{"log-level", "debug, info, warn or error", Installation, GroupInstallation, false, func(c *Config) flag.Value { return (*stringValue)(&c.LogLevel) }},
	{"log-format", "json or text", Installation, GroupInstallation, false, func(c *Config) flag.Value { return (*stringValue)(&c.LogFormat) }},
	{"db-connect-retries", "attempts to reach PostgreSQL at start-up, one second apart", Installation, GroupInstallation, false, func(c *Config) flag.Value { return (*intValue)(&c.DBConnectRetries) }},
	{"audit-signing-key-file", "Ed25519 key that signs audit checkpoints (default: audit-signing.key beside the master key)", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*stringValue)(&c.AuditSigningKeyFile) }},
	{"audit-checkpoint-file", "file the signed audit checkpoints are exported to (default: audit-checkpoints.jsonl beside the master key)", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*stringValue)(&c.AuditCheckpointFile) }},
	{"audit-checkpoint-export", "also append every new signed audit checkpoint to this file, or to audit-checkpoints.jsonl in this directory: a location off this host (a mount of another machine) that an intruder here cannot rewrite", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*stringValue)(&c.AuditCheckpointExport) }},
	{"audit-retention", "audit retention per track in days above the minimums, e.g. security=365,history=730", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*retentionValue)(&c.AuditRetention) }},

	{"addr", "address to listen on", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.Addr) }},
	{"base-url", "public URL of this installation, e.g. https://jobs.example.com", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.BaseURL) }},
	{"tls-cert", "TLS certificate file (PEM)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.TLSCert) }},
	{"tls-key", "TLS private key file (PEM)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.TLSKey) }},
	{"acme-domain", "domain to obtain a certificate for with ACME (Let's Encrypt)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.ACMEDomain) }},
	{"acme-email", "contact email for the ACME account", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.ACMEEmail) }},
	{"acme-directory-url", "ACME directory (default: Let's Encrypt production)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.ACMEDirectoryURL) }},
	{"http-redirect-addr", "with TLS: also listen here with plain HTTP that redirects to HTTPS (e.g. :80)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.HTTPRedirectAddr) }},
	{"behind-tls-proxy", "plain HTTP behind a proxy that terminates TLS", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.BehindTLSProxy) }},
	{"trusted-proxies", "comma-separated CIDRs whose X-Forwarded-* headers are trusted", Server, GroupServer, false, func(c *Config) flag.Value { return (*prefixesValue)(&c.TrustedProxies) }},
	{"admin-addr", "separate address for /metrics (e.g. 127.0.0.1:9090)", Server, GroupServer, false, func(c *Config) flag.Value { return (*stringValue)(&c.AdminAddr) }},
	{"metrics-token", "bearer token for /metrics on the main address", Server, GroupServer, true, func(c *Config) flag.Value { return (*stringValue)(&c.MetricsToken) }},
	{"dev", "development mode: human-readable text logs (security settings stay on)", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.Dev) }},
	{"demo", "create a demo company and administrator on an empty installation", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.Demo) }},
	{"no-migrate", "do not apply pending migrations at start", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.NoMigrate) }},
	{"no-erasure-sweep", "do not erase, daily, the candidates no processing basis allows keeping (run `kandidat privacy sweep` yourself)", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.NoErasureSweep) }},
	{"max-body-bytes", "largest request body accepted outside uploads", Server, GroupServer, false, func(c *Config) flag.Value { return (*int64Value)(&c.MaxBodyBytes) }},
	{"api-rate-limit", "API requests per minute one token may make (0: no limit)", Server, GroupServer, false, func(c *Config) flag.Value { return (*intValue)(&c.APIRateToken) }},
	{"api-ip-rate-limit", "API requests per minute one address may make, with any token or none (0: no limit)", Server, GroupServer, false, func(c *Config) flag.Value { return (*intValue)(&c.APIRateIP) }},
	{"session-idle-timeout", "sign out after this long without activity", Server, GroupServer, false, func(c *Config) flag.Value { return (*durationValue)(&c.SessionIdle) }},
	{"session-absolute-timeout", "sign out this long after sign-in, active or not", Server, GroupServer, false, func(c *Config) flag.Value { return (*durationValue)(&c.SessionAbsolute) }},
	{"shutdown-timeout", "time given to in-flight requests at shutdown", Server, GroupServer, false, func(c *Config) flag.Value { return (*durationValue)(&c.ShutdownTimeout) }},
	{"audit-checkpoint-interval", "how often the audit chains' heads are signed and exported", Server, GroupAudit, false, func(c *Config) flag.Value { return (*durationValue)(&c.AuditCheckpointInterval) }},
	{"alert-failed-sign-ins", "failed sign-ins in a company within the window that raise an alert (0: off)", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*intValue)(&c.AlertFailedSignIns) }},
	{"alert-failed-sign-in-window", "window of the failed sign-in alert", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*durationValue)(&c.AlertFailedSignInWindow) }},
	{"alert-mass-count", "records in one export or erasure that raise an alert (0: off)", Installation, GroupAudit, false, func(c *Config) flag.Value { return (*intValue)(&c.AlertMassCount) }},

	{"smtp-host", "SMTP server for outgoing email", Server, GroupMail, false, func(c *Config) flag.Value { return (*stringValue)(&c.SMTPHost) }},
	{"smtp-port", "SMTP port", Server, GroupMail, false, func(c *Config) flag.Value { return (*intValue)(&c.SMTPPort) }},
	{"smtp-username", "SMTP user name", Server, GroupMail, false, func(c *Config) flag.Value { return (*stringValue)(&c.SMTPUsername) }},
	{"smtp-password", "SMTP password", Server, GroupMail, true, func(c *Config) flag.Value { return (*stringValue)(&c.SMTPPassword) }},
	{"smtp-from", "sender address of outgoing email", Server, GroupMail, false, func(c *Config) flag.Value { return (*stringValue)(&c.SMTPFrom) }},
	{"smtp-tls", "starttls, tls or none (none only for a server on loopback)", Server, GroupMail, false, func(c *Config) flag.Value { return (*stringValue)(&c.SMTPTLS) }},
	{"sms-gateway-url", "HTTP gateway for text messages: receives POST {\"to\",\"text\"} as JSON (empty: messages go to the outbox directory)", Server, GroupSMS, false, func(c *Config) flag.Value { return (*stringValue)(&c.SMSGatewayURL) }},
	{"sms-gateway-token", "bearer token for the SMS gateway", Server, GroupSMS, true, func(c *Config) flag.Value { return (*stringValue)(&c.SMSGatewayToken) }},

	{"s3-bucket", "keep the encrypted files in this S3-compatible bucket (empty: in the files directory of the data directory)", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*stringValue)(&c.S3Bucket) }},
	{"s3-endpoint", "base URL of the S3 service, e.g. https://s3.eu-north-1.amazonaws.com", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*stringValue)(&c.S3Endpoint) }},
	{"s3-region", "region of the bucket", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*stringValue)(&c.S3Region) }},
	{"s3-prefix", "prefix of every object name in the bucket", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*stringValue)(&c.S3Prefix) }},
	{"s3-access-key", "access key id for the bucket", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*stringValue)(&c.S3AccessKey) }},
	{"s3-secret-key", "secret access key for the bucket", Installation, GroupStorage, true, func(c *Config) flag.Value { return (*stringValue)(&c.S3SecretKey) }},
	{"s3-path-style", "address the bucket in the URL path (most S3-compatible servers want it)", Installation, GroupStorage, false, func(c *Config) flag.Value { return (*boolValue)(&c.S3PathStyle) }},

	{"backup-targets", "where backups go, space-separated NAME=LOCATION entries; LOCATION is a directory or s3://[KEY:SECRET@]bucket/prefix?endpoint=URL, with every=24h, keep=14 and max-age=30d options, e.g. daily=/mnt/backup?every=24h&keep=14", Installation, GroupBackup, true, func(c *Config) flag.Value { return (*stringValue)(&c.BackupTargets) }},
	{"backup-recipients", "age public keys (age1...) backups are encrypted to, comma-separated; the server never holds the matching identity", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.BackupRecipients) }},
	{"backup-recipients-file", "file of age public keys, one per line, added to --backup-recipients", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.BackupRecipientsFile) }},
	{"backup-drill-identity-file", "age identity with which serve restores each target's newest backup on a schedule to prove it restores (off when empty: it lets this server read its backups; run `kandidat backup verify` on another machine instead)", Server, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.BackupDrillIdentityFile) }},
	{"backup-drill-every", "how often the restore drill runs", Server, GroupBackup, false, func(c *Config) flag.Value { return (*durationValue)(&c.BackupDrillEvery) }},
	{"pg-bin-dir", "directory of pg_dump and pg_restore (default: PATH, then /usr/lib/postgresql/*/bin)", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.PGBinDir) }},
	{"pitr-replica", "SQLite only: replicate the write-ahead log continuously (Litestream) to this directory or s3:// location, for `kandidat restore --to-time`", Installation, GroupBackup, true, func(c *Config) flag.Value { return (*stringValue)(&c.PITRReplica) }},
	{"pitr-retention", "history the point-in-time replica keeps", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*durationValue)(&c.PITRRetention) }},
	{"pgbackrest-stanza", "PostgreSQL: the pgBackRest stanza of this database, for the point-in-time window on the backup page", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.PGBackRestStanza) }},
	{"pgbackrest-config", "PostgreSQL: pgBackRest's configuration file (default: its own)", Installation, GroupBackup, false, func(c *Config) flag.Value { return (*stringValue)(&c.PGBackRestConfig) }},

	{"webhook-allow-private", "let webhooks reach loopback, private and link-local addresses and plain http URLs (development only: it opens the installation's own network to the companies' webhook URLs)", Server, GroupServer, false, func(c *Config) flag.Value { return (*boolValue)(&c.WebhookAllowPrivate) }},
}

// Default returns the configuration before flags and environment.
func Default() Config {
	return Config{
		DataDir:                 "./kandidat-data",
		LogLevel:                "info",
		LogFormat:               "json",
		DBConnectRetries:        10,
		AuditCheckpointInterval: time.Hour,
		AlertFailedSignIns:      10,
		AlertFailedSignInWindow: 10 * time.Minute,
		AlertMassCount:          500,
		Addr:                    "127.0.0.1:8080",
		MaxBodyBytes:            1 << 20,
		APIRateToken:            600,
		APIRateIP:               1200,
		SessionIdle:             30 * time.Minute,
		SessionAbsolute:         12 * time.Hour,
		ShutdownTimeout:         20 * time.Second,
		SMTPPort:                587,
		SMTPTLS:                 "starttls",
		BackupDrillEvery:        24 * time.Hour,
		PITRRetention:           96 * time.Hour,
	}
}

// Help is one setting as the help shows it.
type Help struct {
	Name    string // flag name
	Env     string // environment variable
	Usage   string // one sentence, without the variable and the default
	Default string // "" when the default is empty, zero or said in Usage
	Group   Group
	Scope   Scope // Server: taken by serve and config only
	Secret  bool  // also read from Env + "_FILE"
}

// Settings lists the settings of scope (and the scopes below it) grouped,
// in the order of Group, for the help.
func Settings(scope Scope) []Help {
	def := Default()
	var out []Help
	for g := range Group(len(groupTitles)) {
		for _, s := range settings {
			if s.group != g || s.scope > scope {
				continue
			}
			h := Help{Name: s.name, Env: EnvName(s.name), Usage: s.usage, Group: g, Scope: s.scope, Secret: s.secret}
			switch v := s.value(&def).String(); v {
			case "", "0", "false":
			default:
				if !strings.Contains(s.usage, "default") {
					h.Default = shortDuration(v)
				}
			}
			out = append(out, h)
		}
	}
	return out
}

// shortDuration writes 1h0m0s as 1h and 10m0s as 10m; other values stay.
func shortDuration(v string) string {
	if _, err := time.ParseDuration(v); err != nil || !strings.HasSuffix(v, "m0s") {
		return v
	}
	v = strings.TrimSuffix(v, "0s")
	if strings.HasSuffix(v, "h0m") {
		v = strings.TrimSuffix(v, "0m")
	}
	return v
}

// IsSetting reports whether name is the flag of a setting (of any scope).
func IsSetting(name string) bool {
	for _, s := range settings {
		if s.name == name {
			return true
		}
	}
	return false
}

// EnvName returns the environment variable of a setting.
func EnvName(flagName string) string {
	return "KANDIDAT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register defines the flags of scope (and the scopes below it) on fs and
// returns the Config they fill.
func Register(fs *flag.FlagSet, scope Scope) *Config {
	c := Default()
	for _, s := range settings {
		if s.scope > scope {
			continue
		}
		usage := s.usage + " (" + EnvName(s.name)
		if s.secret {
			usage += ", or " + EnvName(s.name) + "_FILE"
		}
		usage += ")"
		fs.Var(s.value(&c), s.name, usage)
	}
	return &c
}

// ApplyEnv fills the settings not given as flags from the environment.
// getenv is os.Getenv outside tests.
func ApplyEnv(fs *flag.FlagSet, c *Config, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if fs.Lookup(s.name) == nil || given[s.name] {
			continue
		}
		env := EnvName(s.name)
		v, ok := getenv(env), getenv(env) != ""
		if s.secret && !ok {
			if file := getenv(env + "_FILE"); file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("%s_FILE: cannot read %s: %v", env, file, unwrapPathError(err))
				}
				v, ok = strings.TrimRight(string(b), "\r\n"), true
			}
		}
		if !ok {
			continue
		}
		if err := s.value(c).Set(v); err != nil {
			return fmt.Errorf("%s: %v", env, err)
		}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Validate checks every value that can be checked without touching the
// network, and returns one line naming the setting and what is wrong.
func (c *Config) Validate(scope Scope) error {
	if scope < Installation {
		return nil
	}
	if c.DataDir == "" {
		return errors.New("--data-dir: must not be empty")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || u.Scheme == "" {
			return errors.New("--database-url: not a URL; use postgres://user:password@host:5432/dbname, or leave it empty for SQLite")
		}
		switch u.Scheme {
		case "postgres", "postgresql":
			if u.Host == "" && u.Query().Get("host") == "" {
				return errors.New("--database-url: the PostgreSQL URL has no host")
			}
		default:
			return fmt.Errorf("--database-url: unknown URL scheme %q; use postgres://, or leave it empty for SQLite", u.Scheme)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("--log-format: %q is not json or text", c.LogFormat)
	}
	if c.DBConnectRetries < 1 || c.DBConnectRetries > 600 {
		return fmt.Errorf("--db-connect-retries: %d is out of range 1..600", c.DBConnectRetries)
	}
	if c.AuditCheckpointExport != "" {
		// The directory must exist: a mount that is missing must not
		// become a local directory that only looks like a copy elsewhere.
		dir := c.AuditCheckpointExport
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			dir = filepath.Dir(dir)
		}
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return fmt.Errorf("--audit-checkpoint-export: the directory %q does not exist (is the remote location mounted?)", dir)
		}
	}
	if c.AlertFailedSignIns < 0 {
		return errors.New("--alert-failed-sign-ins: must not be negative")
	}
	if c.AlertFailedSignInWindow < time.Minute || c.AlertFailedSignInWindow > 24*time.Hour {
		return fmt.Errorf("--alert-failed-sign-in-window: %s is outside 1m..24h", c.AlertFailedSignInWindow)
	}
	if c.AlertMassCount < 0 {
		return errors.New("--alert-mass-count: must not be negative")
	}
	if c.PITRReplica != "" && c.DatabaseURL != "" {
		return errors.New("--pitr-replica: point-in-time replication with Litestream is for SQLite; on PostgreSQL use pgBackRest (docs/operations/backup-postgresql.md)")
	}
	if c.PITRRetention < time.Hour {
		return fmt.Errorf("--pitr-retention: %s is shorter than an hour", c.PITRRetention)
	}
	if c.BackupDrillEvery < time.Hour {
		return fmt.Errorf("--backup-drill-every: %s is shorter than an hour", c.BackupDrillEvery)
	}
	if scope < Server {
		return nil
	}
	host, err := checkAddr("--addr", c.Addr)
	if err != nil {
		return err
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url: %q is not an absolute http(s) URL such as https://jobs.example.com", c.BaseURL)
		}
		if u.Path != "" && u.Path != "/" {
			return errors.New("--base-url: a path prefix is not supported; give scheme and host only")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key: give both or neither")
	}
	if c.TLSCert != "" {
		for name, f := range map[string]string{"--tls-cert": c.TLSCert, "--tls-key": c.TLSKey} {
			if _, err := os.ReadFile(f); err != nil {
				return fmt.Errorf("%s: cannot read %s: %v", name, f, unwrapPathError(err))
			}
		}
	}
	if c.ACMEDomain != "" {
		if c.TLSCert != "" {
			return errors.New("--acme-domain: choose ACME or --tls-cert/--tls-key, not both")
		}
		if strings.ContainsAny(c.ACMEDomain, "/: ") || !strings.Contains(c.ACMEDomain, ".") && c.ACMEDomain != "localhost" {
			return fmt.Errorf("--acme-domain: %q is not a domain name", c.ACMEDomain)
		}
		if c.ACMEEmail != "" && !strings.Contains(c.ACMEEmail, "@") {
			return fmt.Errorf("--acme-email: %q is not an email address", c.ACMEEmail)
		}
	}
	if c.ACMEDirectoryURL != "" {
		u, err := url.Parse(c.ACMEDirectoryURL)
		if err != nil || u.Scheme != "https" {
			return errors.New("--acme-directory-url: must be an https:// URL")
		}
	}
	if c.HTTPRedirectAddr != "" {
		if !c.TLS() {
			return errors.New("--http-redirect-addr: needs TLS (--tls-cert/--tls-key or --acme-domain)")
		}
		if _, err := checkAddr("--http-redirect-addr", c.HTTPRedirectAddr); err != nil {
			return err
		}
	}
	if c.TLS() && c.BehindTLSProxy {
		return errors.New("--behind-tls-proxy: the server terminates TLS itself here; drop one of them")
	}
	if !c.TLS() && !c.BehindTLSProxy && !isLoopback(host) {
		return fmt.Errorf("--addr: %s is reachable from other machines but TLS is off; set --tls-cert/--tls-key or --acme-domain, or --behind-tls-proxy with --trusted-proxies", c.Addr)
	}
	if c.BehindTLSProxy && len(c.TrustedProxies) == 0 {
		return errors.New("--trusted-proxies: --behind-tls-proxy needs the CIDRs of the proxy, e.g. 10.0.0.5/32")
	}
	if c.AdminAddr != "" {
		if _, err := checkAddr("--admin-addr", c.AdminAddr); err != nil {
			return err
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return errors.New("--metrics-token: use at least 16 characters")
	}
	if c.APIRateToken < 0 || c.APIRateIP < 0 {
		return fmt.Errorf("--api-rate-limit, --api-ip-rate-limit: a limit is 0 (none) or more")
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("--max-body-bytes: %d is below the minimum of 1024", c.MaxBodyBytes)
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > c.SessionAbsolute {
		return fmt.Errorf("--session-idle-timeout: %s must be at least 1m and at most the absolute timeout (%s)", c.SessionIdle, c.SessionAbsolute)
	}
	if c.SessionAbsolute > 30*24*time.Hour {
		return fmt.Errorf("--session-absolute-timeout: %s is longer than 30 days", c.SessionAbsolute)
	}
	if c.AuditCheckpointInterval < time.Minute || c.AuditCheckpointInterval > 24*time.Hour {
		return fmt.Errorf("--audit-checkpoint-interval: %s is outside 1m..24h", c.AuditCheckpointInterval)
	}
	if c.ShutdownTimeout < 0 {
		return errors.New("--shutdown-timeout: must not be negative")
	}
	if c.SMSGatewayURL != "" {
		u, err := url.Parse(c.SMSGatewayURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return errors.New("--sms-gateway-url: use an https:// URL (http:// only for a gateway on this machine)")
		}
	}
	if c.S3Bucket != "" {
		u, err := url.Parse(c.S3Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return errors.New("--s3-endpoint: use an https:// URL (http:// only for a server on this machine)")
		}
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			return errors.New("--s3-access-key, --s3-secret-key: the bucket needs both")
		}
	}
	if c.SMTPHost != "" {
		if c.SMTPPort < 1 || c.SMTPPort > 65535 {
			return fmt.Errorf("--smtp-port: %d is not a port number", c.SMTPPort)
		}
		switch c.SMTPTLS {
		case "starttls", "tls":
		case "none":
			if !isLoopback(c.SMTPHost) {
				return errors.New("--smtp-tls: none is allowed only for an SMTP server on this machine")
			}
		default:
			return fmt.Errorf("--smtp-tls: %q is not starttls, tls or none", c.SMTPTLS)
		}
		if c.SMTPFrom == "" || !strings.Contains(c.SMTPFrom, "@") {
			return errors.New("--smtp-from: give the sender address, e.g. jobs@example.com")
		}
	}
	return nil
}

func checkAddr(name, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not host:port (e.g. 127.0.0.1:8080)", name, addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("%s: %q has no valid port", name, addr)
	}
	return host, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// TLS reports whether the server terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" || c.ACMEDomain != "" }

// MasterKeyPath returns the master key file, defaulting to the data directory.
func (c *Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// AuditSigningKeyPath returns the audit signing key file, beside the master key by default.
func (c *Config) AuditSigningKeyPath() string {
	if c.AuditSigningKeyFile != "" {
		return c.AuditSigningKeyFile
	}
	return filepath.Join(filepath.Dir(c.MasterKeyPath()), "audit-signing.key")
}

// AuditCheckpointPath returns the file checkpoints are exported to.
func (c *Config) AuditCheckpointPath() string {
	if c.AuditCheckpointFile != "" {
		return c.AuditCheckpointFile
	}
	return filepath.Join(filepath.Dir(c.MasterKeyPath()), "audit-checkpoints.jsonl")
}

// AuditCheckpointExportPath returns the file every new checkpoint is also
// appended to ("" when none): --audit-checkpoint-export itself, or
// audit-checkpoints.jsonl in it when it names a directory.
func (c *Config) AuditCheckpointExportPath() string {
	p := c.AuditCheckpointExport
	if p == "" {
		return ""
	}
	if info, err := os.Stat(p); (err == nil && info.IsDir()) || strings.HasSuffix(p, string(filepath.Separator)) {
		return filepath.Join(p, "audit-checkpoints.jsonl")
	}
	return p
}

// CheckDataDir creates the data directory when absent and checks that it is writable.
func (c *Config) CheckDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir: cannot create %s: %v", c.DataDir, unwrapPathError(err))
	}
	f, err := os.CreateTemp(c.DataDir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("--data-dir: %s is not writable: %v", c.DataDir, unwrapPathError(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// Entry is one line of the effective configuration.
type Entry struct {
	Name, Env, Value string
}

// Effective lists the settings of scope with their values, secrets masked.
func (c *Config) Effective(scope Scope) []Entry {
	var out []Entry
	for _, s := range settings {
		if s.scope > scope {
			continue
		}
		v := s.value(c).String()
		if s.name == "database-url" {
			v = maskURLPassword(v)
		} else if s.secret && v != "" {
			v = "********"
		}
		out = append(out, Entry{Name: s.name, Env: EnvName(s.name), Value: v})
	}
	return out
}

func maskURLPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if raw == "" {
			return ""
		}
		return "********"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		return strings.Replace(u.String(), "xxxxx", "********", 1)
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "********")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
