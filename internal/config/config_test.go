package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, scope Scope, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Register(fs, scope)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := ApplyEnv(fs, c, func(k string) string { return env[k] }); err != nil {
		return nil, err
	}
	return c, c.Validate(scope)
}

func TestDefaultsAreValidAndSafe(t *testing.T) {
	c, err := load(t, Server, nil, nil)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./kandidat-data" || c.DatabaseURL != "" {
		t.Fatalf("got addr %q data dir %q database %q", c.Addr, c.DataDir, c.DatabaseURL)
	}
}

func TestPrecedenceFlagOverEnvOverDefault(t *testing.T) {
	c, err := load(t, Server, []string{"--addr", "127.0.0.1:9000"}, map[string]string{
		"KANDIDAT_ADDR": "127.0.0.1:7000", "KANDIDAT_LOG_LEVEL": "debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" {
		t.Errorf("addr: got %q, want the flag's 127.0.0.1:9000", c.Addr)
	}
	if c.LogLevel != "debug" {
		t.Errorf("log level: got %q, want the environment's debug", c.LogLevel)
	}
	if c.LogFormat != "json" {
		t.Errorf("log format: got %q, want the default json", c.LogFormat)
	}
}

func TestSecretFromFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("s3cret-smtp-password\n"), 0o600)
	c, err := load(t, Server, nil, map[string]string{"KANDIDAT_SMTP_PASSWORD_FILE": f})
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPPassword != "s3cret-smtp-password" {
		t.Fatalf("got %q, want the file's content without the newline", c.SMTPPassword)
	}
	for _, e := range c.Effective(Server) {
		if strings.Contains(e.Value, "s3cret") {
			t.Fatalf("effective configuration shows the secret in %s", e.Name)
		}
	}
}

func TestEffectiveMasksDatabasePassword(t *testing.T) {
	c, err := load(t, Server, []string{"--database-url", "postgres://kandidat:hunter2@db.example:5432/k?sslmode=verify-full"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Effective(Server) {
		if e.Name == "database-url" {
			if strings.Contains(e.Value, "hunter2") || !strings.Contains(e.Value, "kandidat:") || !strings.Contains(e.Value, "db.example") {
				t.Fatalf("got %q, want the URL with its password masked", e.Value)
			}
			return
		}
	}
	t.Fatal("database-url missing from the effective configuration")
}

func TestInvalidValues(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	os.WriteFile(cert, []byte("x"), 0o600)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the setting the message must name, and a word of what is wrong
	}{
		{"unknown URL scheme", []string{"--database-url", "mysql://x/y"}, nil, `--database-url: unknown URL scheme "mysql"`},
		{"URL without scheme", []string{"--database-url", "localhost:5432"}, nil, "--database-url: unknown URL scheme"},
		{"postgres without host", []string{"--database-url", "postgres:///k"}, nil, "--database-url: the PostgreSQL URL has no host"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"bad log format", nil, map[string]string{"KANDIDAT_LOG_FORMAT": "xml"}, "--log-format"},
		{"address not host:port", []string{"--addr", "8080"}, nil, "--addr"},
		{"address with bad port", []string{"--addr", "127.0.0.1:99999"}, nil, "--addr"},
		{"public address without TLS", []string{"--addr", "0.0.0.0:8080"}, nil, "--addr: 0.0.0.0:8080 is reachable from other machines but TLS is off"},
		{"proxy without trusted CIDRs", []string{"--addr", "0.0.0.0:8080", "--behind-tls-proxy"}, nil, "--trusted-proxies"},
		{"bad trusted proxy", []string{"--trusted-proxies", "10.0.0.0/33"}, nil, "trusted-proxies"},
		{"cert without key", []string{"--tls-cert", cert}, nil, "--tls-cert and --tls-key"},
		{"unreadable cert", []string{"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", cert}, nil, "--tls-cert: cannot read"},
		{"acme and files", []string{"--acme-domain", "jobs.example.com", "--tls-cert", cert, "--tls-key", cert}, nil, "--acme-domain"},
		{"acme bad domain", []string{"--acme-domain", "https://x"}, nil, "--acme-domain"},
		{"acme directory over http", []string{"--acme-domain", "jobs.example.com", "--acme-directory-url", "http://acme"}, nil, "--acme-directory-url"},
		{"base URL without scheme", []string{"--base-url", "jobs.example.com"}, nil, "--base-url"},
		{"redirect without TLS", []string{"--http-redirect-addr", ":80"}, nil, "--http-redirect-addr"},
		{"short metrics token", []string{"--metrics-token", "abc"}, nil, "--metrics-token"},
		{"tiny body limit", []string{"--max-body-bytes", "10"}, nil, "--max-body-bytes"},
		{"idle over absolute", []string{"--session-idle-timeout", "24h"}, nil, "--session-idle-timeout"},
		{"not a duration", []string{"--session-idle-timeout", "soon"}, nil, "soon"},
		{"SMTP without sender", []string{"--smtp-host", "mail.example.com"}, nil, "--smtp-from"},
		{"bucket without endpoint", []string{"--s3-bucket", "files", "--s3-access-key", "a", "--s3-secret-key", "b"}, nil, "--s3-endpoint"},
		{"bucket over plain HTTP", []string{"--s3-bucket", "files", "--s3-endpoint", "http://s3.example.com", "--s3-access-key", "a", "--s3-secret-key", "b"}, nil, "--s3-endpoint"},
		{"bucket without credentials", []string{"--s3-bucket", "files", "--s3-endpoint", "https://s3.example.com"}, nil, "--s3-access-key"},
		{"SMTP plain to remote", []string{"--smtp-host", "mail.example.com", "--smtp-from", "a@b.c", "--smtp-tls", "none"}, nil, "--smtp-tls"},
		{"unreadable secret file", nil, map[string]string{"KANDIDAT_METRICS_TOKEN_FILE": filepath.Join(dir, "nope")}, "KANDIDAT_METRICS_TOKEN_FILE: cannot read"},
		{"bad env bool", nil, map[string]string{"KANDIDAT_DEV": "yes please"}, "KANDIDAT_DEV"},
		{"retries out of range", []string{"--db-connect-retries", "0"}, nil, "--db-connect-retries"},
		{"empty data dir", []string{"--data-dir", ""}, nil, "--data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, Server, tt.args, tt.env)
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("got a multi-line message %q, want one line", err)
			}
		})
	}
}

func TestDataDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes anywhere; use a path under a regular file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		c := Default()
		c.DataDir = filepath.Join(f, "data")
		if err := c.CheckDataDir(); err == nil || !strings.HasPrefix(err.Error(), "--data-dir:") {
			t.Fatalf("got %v, want a --data-dir error", err)
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	c := Default()
	c.DataDir = dir
	if err := c.CheckDataDir(); err == nil || !strings.HasPrefix(err.Error(), "--data-dir:") {
		t.Fatalf("got %v, want a --data-dir error", err)
	}
}

// FuzzLoad feeds arbitrary values to every setting through flags and the
// environment: loading never panics, and every error is one line.
func FuzzLoad(f *testing.F) {
	f.Add("addr", "127.0.0.1:8080")
	f.Add("database-url", "postgres://u:p@h/db")
	f.Add("trusted-proxies", "10.0.0.0/8, ::1")
	f.Add("session-idle-timeout", "1h")
	f.Add("base-url", "https://x.example/")
	f.Fuzz(func(t *testing.T, name, value string) {
		env := map[string]string{}
		for _, s := range settings {
			if s.name == name {
				env[EnvName(s.name)] = value
			}
		}
		_, err := load(t, Server, nil, env)
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error for %s=%q: %q", name, value, err)
		}
		_, _ = load(t, Server, []string{"--" + name, value}, nil)
	})
}

// TestAuditCheckpointExport: the export names a file or a directory that
// exists (a missing mount is refused, not created), and a directory gets
// the checkpoint file's usual name inside it.
func TestAuditCheckpointExport(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		value, want string
		ok          bool
	}{
		{dir, filepath.Join(dir, "audit-checkpoints.jsonl"), true},
		{filepath.Join(dir, "anchor.jsonl"), filepath.Join(dir, "anchor.jsonl"), true},
		{filepath.Join(dir, "not-mounted", "anchor.jsonl"), "", false},
		{filepath.Join(dir, "not-mounted") + string(filepath.Separator), "", false},
	} {
		c, err := load(t, Installation, []string{"--audit-checkpoint-export", tt.value}, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s: got %v, want ok=%v", tt.value, err, tt.ok)
			continue
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--audit-checkpoint-export:") {
				t.Errorf("%s: error %q does not name the setting", tt.value, err)
			}
			continue
		}
		if got := c.AuditCheckpointExportPath(); got != tt.want {
			t.Errorf("%s: path %q, want %q", tt.value, got, tt.want)
		}
	}
	if c, err := load(t, Installation, nil, nil); err != nil || c.AuditCheckpointExportPath() != "" {
		t.Fatalf("default: %v, path %q; want none", err, c.AuditCheckpointExportPath())
	}
}

// The help lists every setting once, grouped in group order, with its
// default once: in the description or from the value, never both.
func TestSettingsForHelp(t *testing.T) {
	all := Settings(Server)
	if len(all) != len(settings) {
		t.Fatalf("Settings(Server) has %d settings, want all %d", len(all), len(settings))
	}
	for i, h := range all {
		if i > 0 && h.Group < all[i-1].Group {
			t.Errorf("--%s (%s) comes after the group %s", h.Name, h.Group, all[i-1].Group)
		}
		if h.Default != "" && strings.Contains(h.Usage, "default") {
			t.Errorf("--%s shows its default twice", h.Name)
		}
		if !IsSetting(h.Name) {
			t.Errorf("IsSetting(%q) is false", h.Name)
		}
	}
	for _, h := range Settings(Installation) {
		if h.Scope != Installation {
			t.Errorf("Settings(Installation) has the server setting --%s", h.Name)
		}
	}
	if n := len(Settings(NoSettings)); n != 0 {
		t.Errorf("Settings(NoSettings) has %d settings", n)
	}
	for in, want := range map[string]string{"1h0m0s": "1h", "10m0s": "10m", "30m0s": "30m", "20s": "20s", "1h30m0s": "1h30m"} {
		if s := shortDuration(in); s != want {
			t.Errorf("shortDuration(%q) = %q, want %q", in, s, want)
		}
	}
}
