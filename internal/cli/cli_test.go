package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/keys"
)

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line with a clean environment plus env.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, out.String(), errb.String()}
}

// installation returns the flags of a fresh installation on the test's engine.
func installation(t *testing.T) []string {
	t.Helper()
	args := []string{"--data-dir", t.TempDir(), "--log-level", "warn"}
	if u := dbtest.URL(t); u != "" {
		args = append(args, "--database-url", u)
	}
	return args
}

func TestUnknownCommandAndFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serv"}, `unknown command "serv". Did you mean "serve"?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate". Run 'kandidat help'`},
		{[]string{"serve", "--adr", "x"}, `unknown flag --adr. Did you mean "--addr"? Run 'kandidat serve --help'`},
		{[]string{"tenant", "craete"}, `unknown action "craete". Did you mean "create"?`},
		{[]string{"tenant"}, "Usage: kandidat tenant"},
		{[]string{"migrate", "down"}, `unknown action "down"`},
		{[]string{"user", "create", "--bogus"}, "unknown flag --bogus"},
		{nil, "Usage: kandidat <command>"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("stderr %q, want it to contain %q", r.stderr, tt.want)
			}
		})
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	cases := [][]string{{"help"}, {"--help"}, {"serve", "--help"}, {"migrate", "up", "--help"}, {"migrate", "status", "-h"},
		{"tenant", "create", "--help"}, {"tenant", "list", "--help"}, {"tenant", "show", "--help"}, {"tenant", "modules", "--help"},
		{"user", "create", "--help"}, {"user", "list", "--help"}, {"user", "disable", "--help"}, {"user", "enable", "--help"},
		{"keys", "status", "--help"}, {"keys", "rotate", "--help"}, {"keys", "rewrap", "--help"},
		{"credits", "grant", "--help"}, {"credits", "show", "--help"},
		{"config", "--help"}, {"version", "--help"}, {"help", "serve"}, {"tenant", "--help"}, {"help", "user", "create"}}
	for _, args := range cases {
		r := run(t, nil, args...)
		if r.code != 0 || strings.Count(r.stdout, "Usage: kandidat") != 1 {
			t.Errorf("%v: exit %d, stdout %q; want 0 and the usage once", args, r.code, r.stdout)
		}
	}
	// Every installation command names the most used installation flags
	// and where the rest are.
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "status"}, {"tenant", "create"}, {"tenant", "list"}, {"tenant", "show"},
		{"tenant", "modules"}, {"user", "create"}, {"user", "list"}, {"user", "disable"}, {"keys", "status"}, {"keys", "rotate"}, {"keys", "rewrap"}, {"credits", "grant"}, {"credits", "show"}, {"serve"}} {
		r := run(t, nil, append(args, "--help")...)
		want := []string{"--data-dir", "--database-url", "--master-key-file", "kandidat help settings"}
		if args[0] == "serve" {
			want = append(want[:3], "--alert-mass-count", "--smtp-host") // serve lists them all
		}
		for _, want := range want {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v --help lacks %s", args, want)
			}
		}
	}
}

// Each action's help is short: its own flags first, then one mention of
// the installation settings that every command shares.
func TestActionHelpIsShort(t *testing.T) {
	r := run(t, nil, "user", "create", "--help")
	if lines := strings.Count(r.stdout, "\n"); lines >= 30 {
		t.Errorf("user create --help has %d lines, want under 30:\n%s", lines, r.stdout)
	}
	own, shared := strings.Index(r.stdout, "--login"), strings.Index(r.stdout, "--data-dir")
	if own < 0 || shared < 0 || own > shared {
		t.Errorf("user create --help: its own flags (--login at %d) should come before the installation flags (--data-dir at %d):\n%s", own, shared, r.stdout)
	}
	for _, setting := range []string{"--alert-", "--audit-", "--s3-", "--log-level"} {
		if strings.Contains(r.stdout, setting) {
			t.Errorf("user create --help lists %s, one of the settings its help only points to:\n%s", setting, r.stdout)
		}
	}
	r = run(t, nil, "version", "--help")
	if r.code != 0 || strings.Contains(r.stdout, "data-dir") {
		t.Errorf("version --help: exit %d, lists installation flags:\n%s", r.code, r.stdout)
	}
	r = run(t, nil, "credits", "--help")
	if strings.Contains(r.stdout, "credits credits") || !strings.Contains(r.stdout, "Usage: kandidat credits add|refund|show") {
		t.Errorf("credits --help repeats the command:\n%s", r.stdout)
	}
}

// The full list of settings, grouped, is one command away.
func TestHelpSettings(t *testing.T) {
	r := run(t, nil, "help", "settings")
	if r.code != 0 {
		t.Fatalf("help settings: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"Installation:", "File storage:", "Audit trail and alerts:", "Server (serve):", "Email (serve):",
		"--data-dir", "--alert-mass-count", "--s3-bucket", "--smtp-host", "--audit-checkpoint-interval", "KANDIDAT_*"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help settings lacks %q", want)
		}
	}
	if strings.Index(r.stdout, "--data-dir") > strings.Index(r.stdout, "--addr") {
		t.Errorf("help settings: the installation group should come before the server group")
	}
}

// The top-level help lists every action of every command, from the same
// table each command's help and dispatch use.
func TestTopLevelHelpListsEveryAction(t *testing.T) {
	top := run(t, nil, "help").stdout
	for _, want := range []string{"tenant settings", "user unlock", "credits add", "credits refund", "credits show",
		"keys rotate", "audit retention", "seed", "bench"} {
		if !strings.Contains(top, "  "+want+" ") {
			t.Errorf("kandidat help lacks %q:\n%s", want, top)
		}
	}
	for _, c := range commands() {
		if c.actions == nil {
			if !strings.Contains(top, "  "+c.name+" ") {
				t.Errorf("kandidat help lacks %s", c.name)
			}
			continue
		}
		// subcommand refuses an action missing from the table, or a
		// table entry without a function.
		if r := run(t, nil, c.name, "--help"); r.code != 0 {
			t.Errorf("%s --help: exit %d: %s", c.name, r.code, r.stderr)
		}
		for _, a := range c.actions {
			if r := run(t, nil, c.name, a.name, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: kandidat "+c.name+" "+a.name) {
				t.Errorf("%s %s --help: exit %d:\n%s", c.name, a.name, r.code, r.stdout)
			}
			if !a.alias && !strings.Contains(top, "  "+c.name+" "+a.name+" ") {
				t.Errorf("kandidat help lacks %s %s", c.name, a.name)
			}
		}
	}
}

// A flag's default shows once, even when its description names it too.
func TestHelpShowsEachDefaultOnce(t *testing.T) {
	var helps []string
	for _, c := range commands() {
		if c.actions == nil {
			helps = append(helps, run(t, nil, c.name, "--help").stdout)
		}
		for _, a := range c.actions {
			helps = append(helps, run(t, nil, c.name, a.name, "--help").stdout)
		}
	}
	helps = append(helps, run(t, nil, "help", "settings").stdout)
	for _, h := range helps {
		// Flags are joined to their wrapped description lines first.
		for _, entry := range strings.Split(h, "\n  --") {
			if n := strings.Count(entry, "(default"); n > 1 {
				t.Errorf("a flag shows its default %d times: --%s", n, entry)
			}
		}
	}
}

func TestVersionAndConfig(t *testing.T) {
	r := run(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "kandidat ") {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
	r = run(t, map[string]string{"KANDIDAT_SMTP_PASSWORD": "smtp-secret-value", "KANDIDAT_ADDR": "127.0.0.1:9999"},
		"config", "--database-url", "postgres://k:pg-secret@db.internal:5432/k?sslmode=verify-full")
	if r.code != 0 {
		t.Fatalf("config: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "smtp-secret-value") || strings.Contains(r.stdout, "pg-secret") {
		t.Fatalf("config shows a secret:\n%s", r.stdout)
	}
	for _, want := range []string{"127.0.0.1:9999", "KANDIDAT_ADDR", "smtp-password", "********", "db.internal"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config output lacks %q", want)
		}
	}
}

// TestServeRefusesBadSettings: every invalid value stops start-up with one
// line naming the setting.
func TestServeRefusesBadSettings(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	badKey := filepath.Join(dir, "bad.key")
	os.WriteFile(badKey, []byte("not a key\n"), 0o600)
	openKey := filepath.Join(dir, "open.key")
	os.WriteFile(openKey, []byte("kandidat-master-key-v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown URL scheme", []string{"--database-url", "mysql://db/k"}, `--database-url: unknown URL scheme "mysql"`},
		{"key file is a directory", []string{"--master-key-file", dir}, "--master-key-file:"},
		{"key file with bad content", []string{"--master-key-file", badKey}, "--master-key-file:"},
		{"key file readable by others", []string{"--master-key-file", openKey}, "--master-key-file:"},
		{"data directory not writable", []string{"--data-dir", filepath.Join(file, "data")}, "--data-dir:"},
		{"address in use", []string{"--addr", busy.Addr().String()}, "--addr: " + busy.Addr().String() + " is already in use"},
		{"public address without TLS", []string{"--addr", "0.0.0.0:0"}, "--addr: 0.0.0.0:0 is reachable from other machines"},
		{"unreachable PostgreSQL", []string{"--database-url", "postgres://kandidat@127.0.0.1:1/k", "--db-connect-retries", "2"}, "--database-url: PostgreSQL at 127.0.0.1 is unreachable after 2 attempts"},
		{"unreadable TLS cert", []string{"--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", file}, "--tls-cert: cannot read"},
		{"TLS files that are no certificate", []string{"--tls-cert", file, "--tls-key", file}, "--tls-cert: cannot load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "error"}, tt.args...)
			r := run(t, nil, args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q, want it to contain %q", last, tt.want)
			}
		})
	}
}

func TestTenantAndUserCommands(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	r := run(t, nil, with("tenant", "list")...)
	if r.code != 1 || !strings.Contains(r.stderr, "kandidat migrate up") {
		t.Fatalf("before migrating: exit %d %q, want a hint to migrate", r.code, r.stderr)
	}
	if r := run(t, nil, with("migrate", "status")...); r.code != 0 || !strings.Contains(r.stdout, "pending  0001_init.sql") {
		t.Fatalf("migrate status: %d %q", r.code, r.stdout)
	}
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 || !strings.Contains(r.stdout, "applied 0001_init.sql") {
		t.Fatalf("migrate up: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The master key is created by serve; commands other than serve need it.
	if r := run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "ACME")...); r.code != 1 || !strings.Contains(r.stderr, "--master-key-file") {
		t.Fatalf("without a master key: %d %q", r.code, r.stderr)
	}
	dataDir := inst[1]
	if r := run(t, nil, with("keys", "rewrap", "--new-master-key-file", filepath.Join(dataDir, "master.key"))...); r.code != 1 {
		t.Fatalf("rewrap without the old key: exit %d, want 1", r.code)
	}
	writeKey(t, filepath.Join(dataDir, "master.key"))

	if r := run(t, nil, with("tenant", "create", "--slug", "Bad Slug", "--name", "")...); r.code != 1 || !strings.Contains(r.stderr, "--slug:") || !strings.Contains(r.stderr, "--name:") {
		t.Fatalf("invalid company: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "ACME Ltd", "--language", "sv", "--modules", "recruitment,whistleblowing")...); r.code != 0 {
		t.Fatalf("tenant create: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "Other")...); r.code != 1 || !strings.Contains(r.stderr, "--slug: another company") {
		t.Fatalf("duplicate slug: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("tenant", "list")...); r.code != 0 || !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "recruitment,whistleblowing") {
		t.Fatalf("tenant list: %d %q", r.code, r.stdout)
	}
	r = run(t, nil, with("tenant", "modules", "--tenant", "acme", "--enable", "api", "--disable", "whistleblowing")...)
	if r.code != 0 || !regexp.MustCompile(`api\s+on`).MatchString(r.stdout) || !regexp.MustCompile(`whistleblowing\s+off`).MatchString(r.stdout) {
		t.Fatalf("tenant modules: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("tenant", "modules", "--tenant", "acme", "--enable", "payroll")...); r.code != 1 || !strings.Contains(r.stderr, `--enable: unknown module "payroll"`) {
		t.Fatalf("unknown module: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("tenant", "show", "--tenant", "nope")...); r.code != 1 || !strings.Contains(r.stderr, "--tenant: no company") {
		t.Fatalf("unknown tenant: %d %q", r.code, r.stderr)
	}
	r = run(t, nil, with("user", "create", "--tenant", "acme", "--login", "ada", "--name", "Ada Lovelace", "--email", "ada@acme.example")...)
	if r.code != 0 || !strings.Contains(r.stdout, "one-time password: ") {
		t.Fatalf("user create: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("user", "create", "--tenant", "acme", "--login", "ADA", "--name", "Other")...); r.code != 1 || !strings.Contains(r.stderr, "--login: this login is already in use") {
		t.Fatalf("duplicate login: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("user", "create", "--tenant", "acme", "--login", "rex", "--name", "Rex", "--role", "emperor")...); r.code != 1 || !strings.Contains(r.stderr, "--role: Choose one of the offered roles") {
		t.Fatalf("unknown role: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("tenant", "settings", "--tenant", "acme", "--free-publications", "0", "--publication-cost", "2")...); r.code != 0 ||
		!strings.Contains(r.stdout, "free publications a month: 0") || !strings.Contains(r.stdout, "publication cost in credits: 2") {
		t.Fatalf("tenant settings of the allowance: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("tenant", "settings", "--tenant", "acme", "--publication-cost", "100001")...); r.code != 1 || !strings.Contains(r.stderr, "--publication-cost:") {
		t.Fatalf("too high a cost: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("search", "reindex", "--tenant", "acme")...); r.code != 0 || !strings.Contains(r.stdout, "indexed 0 candidates") {
		t.Fatalf("search reindex: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("search", "reindex", "--tenant", "nobody")...); r.code != 1 || !strings.Contains(r.stderr, "--tenant:") {
		t.Fatalf("search reindex of an unknown company: %d %q", r.code, r.stderr)
	}
	// The company profile and session timeouts, with the settings page's rules.
	if r := run(t, nil, with("tenant", "settings", "--tenant", "acme", "--time-zone", "Europe/Oslo", "--privacy-contact", "privacy@acme.example",
		"--career-colour", "#ABCDEF", "--session-idle-timeout", "15m")...); r.code != 0 || !strings.Contains(r.stdout, "time zone: Europe/Oslo") ||
		!strings.Contains(r.stdout, "career page colour: #abcdef") || !strings.Contains(r.stdout, "session idle timeout: 15m0s") ||
		!strings.Contains(r.stdout, "session absolute timeout: the installation's") {
		t.Fatalf("tenant settings of the profile: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("tenant", "settings", "--tenant", "acme", "--time-zone", "Mars/Olympus", "--session-idle-timeout", "1m", "--career-colour", "red")...); r.code != 1 ||
		!strings.Contains(r.stderr, "--time-zone:") || !strings.Contains(r.stderr, "--session-idle-timeout:") || !strings.Contains(r.stderr, "--career-colour:") {
		t.Fatalf("bad profile settings: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("credits", "grant", "--tenant", "acme", "--amount", "0", "--reason", "gift")...); r.code != 1 ||
		!strings.Contains(r.stderr, "--amount: Enter a whole number") || !strings.Contains(r.stderr, "--reason:") {
		t.Fatalf("bad grant: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("credits", "grant", "--tenant", "acme", "--amount", "12", "--note", "INV-2031-7")...); r.code != 0 || !strings.Contains(r.stdout, "balance 12") {
		t.Fatalf("credits grant: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("credits", "show", "--tenant", "acme")...); r.code != 0 || !strings.Contains(r.stdout, "balance: 12") || !strings.Contains(r.stdout, "INV-2031-7") {
		t.Fatalf("credits show: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("user", "list", "--tenant", "acme")...); r.code != 0 || !strings.Contains(r.stdout, "must change password") {
		t.Fatalf("user list: %d %q", r.code, r.stdout)
	}
	if r := run(t, nil, with("user", "disable", "--login", "ada")...); r.code != 0 || !strings.Contains(r.stdout, "disabled") {
		t.Fatalf("user disable: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("tenant", "show", "--tenant", "acme")...); r.code != 0 || !strings.Contains(r.stdout, "users:               1") {
		t.Fatalf("tenant show: %d %q", r.code, r.stdout)
	}
	if r := run(t, nil, with("keys", "rotate", "--tenant", "acme")...); r.code != 0 {
		t.Fatalf("keys rotate: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("keys", "status")...); r.code != 0 || !regexp.MustCompile(`\s2\s`).MatchString(r.stdout) {
		t.Fatalf("keys status after rotation: %d %q, want two keys", r.code, r.stdout)
	}
	newKey := filepath.Join(t.TempDir(), "next.key")
	if r := run(t, nil, with("keys", "rewrap", "--new-master-key-file", newKey)...); r.code != 0 || !strings.Contains(r.stdout, "re-wrapped 1 data keys") {
		t.Fatalf("keys rewrap: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The old master key no longer opens the data keys; the new one does.
	if r := run(t, nil, with("user", "create", "--tenant", "acme", "--login", "bob", "--name", "Bob")...); r.code != 0 {
		t.Fatalf("user create with the old key file: %d %q (creating a user needs no data key)", r.code, r.stderr)
	}
	if r := run(t, nil, with("keys", "rotate", "--tenant", "acme")...); r.code != 1 || !strings.Contains(r.stderr, "master key") {
		t.Fatalf("rotate with the old master key: %d %q, want a master key error", r.code, r.stderr)
	}
	if r := run(t, nil, append(with("keys", "rotate", "--tenant", "acme"), "--master-key-file", newKey)...); r.code != 0 {
		t.Fatalf("rotate with the new master key: %d %q", r.code, r.stderr)
	}
}

func writeKey(t *testing.T, path string) {
	t.Helper()
	m, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteMasterKeyFile(path, m); err != nil {
		t.Fatal(err)
	}
}

func TestServeDemoAndShutdown(t *testing.T) {
	inst := installation(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--demo", "--addr", "127.0.0.1:0"}, inst...), &Env{
			Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
			Ready: func(u string) { ready <- u },
		})
	}()
	var base string
	select {
	case base = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not become ready")
	}
	if !regexp.MustCompile(`password: [a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}`).MatchString(out.String()) {
		t.Fatalf("no one-time password printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), base+"/signin") {
		t.Fatalf("no sign-in URL printed:\n%s", out.String())
	}
	res, err := http.Get(base + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	// Nothing personal in the log: no login, no password.
	if strings.Contains(errb.String(), "admin@demo.example") {
		t.Fatal("the log holds an email address")
	}

	// A request in flight when shutdown starts completes.
	pr, pw := newSlowBody()
	respc := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/signin", pr)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request: %v", err)
			respc <- nil
			return
		}
		respc <- res
	}()
	pw.Write([]byte("login=admin&"))
	time.Sleep(200 * time.Millisecond) // let the server start reading the body
	cancel()
	time.Sleep(200 * time.Millisecond) // shutdown has begun
	pw.Write([]byte("password=wrong"))
	pw.Close()
	res = <-respc
	if res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("in-flight request: got %v, want its 401 answer", res)
	}
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}

	// A second start on the same data directory keeps the demo company and is quick.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	go func() {
		done <- Run(ctx2, append([]string{"serve", "--demo", "--addr", "127.0.0.1:0"}, inst...), &Env{
			Stdout: &out2, Stderr: &errb, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u },
		})
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("second start exited %d: %s", code, errb.String())
	}
	cancel2()
	<-done
	if !strings.Contains(out2.String(), "The demo company exists already") || strings.Contains(out2.String(), "password: ") {
		t.Fatalf("second start:\n%s", out2.String())
	}
}

func TestServeWithoutDemoPrintsSetupLink(t *testing.T) {
	inst := installation(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, inst...), &Env{
			Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u },
		})
	}()
	var base string
	select {
	case base = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	defer func() { cancel(); <-done }()
	m := regexp.MustCompile(regexp.QuoteMeta(base) + `/setup/[A-Za-z0-9_-]{43}`).FindString(out.String())
	if m == "" {
		t.Fatalf("no setup link printed:\n%s", out.String())
	}
	res, err := http.Get(m)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("setup link: %v %v", res, err)
	}
	res.Body.Close()
	if strings.Contains(errb.String(), m[len(base):]) {
		t.Fatal("the setup token reached the log")
	}
}

func TestUserImportWithHash(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	run(t, nil, with("migrate", "up")...)
	writeKey(t, filepath.Join(inst[1], "master.key"))
	run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "ACME")...)
	var out, errb bytes.Buffer
	code := Run(context.Background(), with("user", "create", "--tenant", "acme", "--login", "legacy", "--name", "Legacy", "--password-hash-stdin"), &Env{
		Stdin: strings.NewReader("$2y$10$/bWA5sMphwWEnGJsBKj8COeeUrXFZWd.0V9W6kP7qLiSbT6dxIXCK\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 0 || !strings.Contains(out.String(), "imported user legacy") {
		t.Fatalf("import: %d %s %s", code, out.String(), errb.String())
	}
	errb.Reset()
	code = Run(context.Background(), with("user", "create", "--tenant", "acme", "--login", "weak", "--name", "Weak", "--password-hash-stdin"), &Env{
		Stdin: strings.NewReader("$2a$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 1 || !strings.Contains(errb.String(), "--password-hash-stdin:") {
		t.Fatalf("weak import: %d %s", code, errb.String())
	}
}
