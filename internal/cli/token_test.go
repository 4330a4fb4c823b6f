package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
)

// TestTokenCommands: the operator makes a service user and a token acting
// as it (`token service-user`, `token create`, the secret printed once),
// lists and revokes it; the token authenticates until revoked; refusals
// name the flag.
func TestTokenCommands(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(inst[1], "master.key"))
	for _, slug := range []string{"acme", "other"} {
		if r := run(t, nil, with("tenant", "create", "--slug", slug, "--name", slug+" Ltd")...); r.code != 0 {
			t.Fatalf("tenant create: %d %q", r.code, r.stderr)
		}
	}
	if r := run(t, nil, with("user", "create", "--tenant", "acme", "--login", "ada", "--name", "Ada")...); r.code != 0 {
		t.Fatalf("user create: %d %q", r.code, r.stderr)
	}

	r := run(t, nil, with("token", "service-user", "--company", "acme", "--name", "Job Board", "--role", "recruiter")...)
	m := regexp.MustCompile(`created service user (svc-job-board-\S+) in acme, id (\S+) `).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("token service-user: %d %q %q", r.code, r.stdout, r.stderr)
	}
	svc, svcID := m[1], m[2]
	if r := run(t, nil, with("token", "service-user", "--company", "acme", "--name", "Boss", "--role", "administrator")...); r.code != 1 || !strings.Contains(r.stderr, "--role:") {
		t.Fatalf("a service administrator: %d %q", r.code, r.stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", svc, "--name", "x", "--scopes", "positions.view,nope"}, "--scopes: unknown permission \"nope\""},
		{[]string{"--user", svc, "--name", "x", "--scopes", ""}, "--scopes: name at least one"},
		{[]string{"--user", svc, "--name", "x", "--scopes", "users.manage"}, "--scopes: the user does not hold"},
		{[]string{"--user", "ada", "--name", "x", "--scopes", "positions.view"}, "--user: a token made at the command line acts as a service user"},
		{[]string{"--user", "nobody", "--name", "x", "--scopes", "positions.view"}, "--user: acme has no user with this login"},
		{[]string{"--user", svc, "--name", "", "--scopes", "positions.view"}, "--name:"},
		{[]string{"--user", svc, "--name", "x", "--scopes", "positions.view", "--expires", "9999d"}, "--expires:"},
	} {
		args := append([]string{"token", "create", "--company", "acme"}, tc.args...)
		if r := run(t, nil, with(args...)...); r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("token create %v: %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// Another company's service user is not found by login in this one.
	if r := run(t, nil, with("token", "create", "--company", "other", "--user", svc, "--name", "x", "--scopes", "positions.view")...); r.code != 1 || !strings.Contains(r.stderr, "--user: other has no user") {
		t.Fatalf("another company's service user: %d %q", r.code, r.stderr)
	}

	r = run(t, nil, with("token", "create", "--company", "acme", "--user", svc, "--name", "Board sync", "--scopes", "positions.view, applications.view", "--expires", "30d")...)
	cm := regexp.MustCompile(`created token (\S+) in acme acting as ` + regexp.QuoteMeta(svc) + `, scopes positions.view,applications.view, expires \d{4}-`).FindStringSubmatch(r.stdout)
	secret := regexp.MustCompile(`(?m)^(kdt_\S+)$`).FindString(r.stdout)
	if r.code != 0 || cm == nil || secret == "" {
		t.Fatalf("token create: %d %q %q", r.code, r.stdout, r.stderr)
	}
	tokenID := cm[1]

	// The secret authenticates, as the service user, made by the operator.
	authenticate := func() error {
		t.Helper()
		url := ""
		if len(inst) > 4 {
			url = inst[5] // --database-url on PostgreSQL
		}
		d, err := db.Open(context.Background(), db.Options{URL: url, DataDir: inst[1], SessionScope: db.Installation})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		accounts := account.NewService(d, audit.NewLog(d, nil, audit.DefaultRules), account.Options{})
		p, err := accounts.AuthenticateToken(context.Background(), secret, "192.0.2.7")
		if err == nil && p.UserID != svcID {
			t.Fatalf("the token acts as %s, want the service user %s", p.UserID, svcID)
		}
		return err
	}
	if err := authenticate(); err != nil {
		t.Fatalf("the new token: %v", err)
	}
	r = run(t, nil, with("token", "list", "--company", "acme")...)
	if r.code != 0 || !strings.Contains(r.stdout, tokenID) || !strings.Contains(r.stdout, "Board sync") || !strings.Contains(r.stdout, svc) ||
		!strings.Contains(r.stdout, "operator") || !strings.Contains(r.stdout, "192.0.2.7") || strings.Contains(r.stdout, secret) {
		t.Fatalf("token list: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("token", "list", "--company", "other")...); r.code != 0 || strings.Contains(r.stdout, tokenID) {
		t.Fatalf("token list of another company: %d %q", r.code, r.stdout)
	}
	if r := run(t, nil, with("token", "revoke", "--company", "other", tokenID)...); r.code != 1 || !strings.Contains(r.stderr, "no token with this id") {
		t.Fatalf("revoke from another company: %d %q", r.code, r.stderr)
	}
	if err := authenticate(); err != nil {
		t.Fatalf("after another company's revoke: %v", err)
	}
	if r := run(t, nil, with("token", "revoke", "--company", "acme", tokenID)...); r.code != 0 || !strings.Contains(r.stdout, "revoked token "+tokenID) {
		t.Fatalf("token revoke: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if err := authenticate(); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	if r := run(t, nil, with("token", "list", "--company", "acme")...); !strings.Contains(r.stdout, "revoked ") {
		t.Fatalf("token list after revoking: %q", r.stdout)
	}
	if r := run(t, nil, "token", "--help"); !strings.Contains(r.stdout, "create") || !strings.Contains(r.stdout, "service-user") {
		t.Fatalf("token --help: %q", r.stdout)
	}
}
