package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// openInstallation opens the installation inst names, as the commands do.
func openInstallation(t *testing.T, inst []string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = inst[1]
	if len(inst) > 4 {
		cfg.DatabaseURL = inst[5] // --database-url on PostgreSQL
	}
	a, err := app.Open(context.Background(), &cfg, slog.New(slog.DiscardHandler), app.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// closedCaseIn makes, in the company slug, an enrolled case handler, a
// channel with the archive recipient set, and a report holding text that
// the handler closes: the case then has its archive bundle.
func closedCaseIn(t *testing.T, a *app.App, slug, recipient, text string) string {
	t.Helper()
	ctx := context.Background()
	c, err := a.Tenants.ByRef(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Tenants.SetModules(ctx, audit.Operator, c.ID, append(c.Modules, tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	const password = "case-Handler-Pass-42"
	u, err := a.Accounts.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "kim-" + slug, DisplayName: "Kim", Password: password, Role: access.CaseHandler})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Accounts.Principal(ctx, c.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	actor := p.Actor()
	w := a.Whistle
	if _, err := w.Enrol(ctx, actor, password, false); err != nil {
		t.Fatal(err)
	}
	// The archive recipient and the channel are the administrator's.
	conf := access.Operator(c.ID, access.CompanySettings)
	if err := w.SetArchiveRecipient(ctx, conf, recipient); err != nil {
		t.Fatal(err)
	}
	ch, err := w.SaveChannel(ctx, conf, whistle.Channel{Slug: "main", Name: "Main", DefaultLanguage: "en", Languages: []string{"en"},
		RetentionDays: 365, Active: true, Handlers: []string{u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(ctx, c.ID, ch, whistle.Submission{Language: "en", Text: text}); err != nil {
		t.Fatal(err)
	}
	env, err := w.Unlock(ctx, actor, "cli-test", password)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := w.Handler(ctx, actor, "cli-test", env)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := w.Cases(ctx, actor, whistle.CaseFilter{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases: %v %v", cs, err)
	}
	if err := w.Acknowledge(ctx, h, cs[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	info, err := w.Case(ctx, h, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetStatus(ctx, h, cs[0].ID, whistle.Closed, "substantiated", info.Info.Version); err != nil {
		t.Fatal(err)
	}
	return cs[0].ID
}

// TestCaseCommands: `case signing-key` prints the service's archive key;
// `case archives` lists a company's closed case; `case archive` writes its
// bundle, which the archive system's age identity opens to a zip with
// case.json; an existing file is never overwritten; an unknown case or
// company is refused with the flag named.
func TestCaseCommands(t *testing.T) {
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
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "ForkliftLedgerDoubled"
	a := openInstallation(t, inst)
	caseID := closedCaseIn(t, a, "acme", ident.Recipient().String(), "The invoices are doubled: "+secret)
	otherCase := closedCaseIn(t, a, "other", ident.Recipient().String(), "Elsewhere")
	signing := base64.StdEncoding.EncodeToString(a.Whistle.ArchiveSigningKey())
	acme, err := a.Tenants.ByRef(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	r := run(t, nil, with("case", "signing-key")...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != signing {
		t.Fatalf("case signing-key: %d %q %q, want %q", r.code, r.stdout, r.stderr, signing)
	}
	if key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout)); err != nil || len(key) != 32 {
		t.Fatalf("the signing key is no Ed25519 public key: %d bytes, %v", len(key), err)
	}

	r = run(t, nil, with("case", "archives", "--tenant", "acme")...)
	if r.code != 0 || !regexp.MustCompile(`(?m)^`+caseID+`\s+\d{4}-\d\d-\d\d\s+\d+\s+[0-9a-f]{64}$`).MatchString(r.stdout) || strings.Contains(r.stdout, otherCase) {
		t.Fatalf("case archives: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// --company is the same flag.
	if r := run(t, nil, with("case", "archives", "--company", acme.ID)...); r.code != 0 || !strings.Contains(r.stdout, caseID) {
		t.Fatalf("case archives --company: %d %q %q", r.code, r.stdout, r.stderr)
	}

	out := filepath.Join(t.TempDir(), "case.zip.age")
	r = run(t, nil, with("case", "archive", "--tenant", "acme", "--case", caseID, "--out", out)...)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote ") {
		t.Fatalf("case archive: %d %q %q", r.code, r.stdout, r.stderr)
	}
	sealed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("the bundle is not encrypted")
	}
	dec, err := age.Decrypt(bytes.NewReader(sealed), ident)
	if err != nil {
		t.Fatalf("the bundle does not open with the archive identity: %v", err)
	}
	plain, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	var bundled struct {
		Case   string `json:"case"`
		Status string `json:"status"`
	}
	found := false
	var raw []byte
	for _, zf := range zr.File {
		if zf.Name != "case.json" {
			continue
		}
		found = true
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &bundled); err != nil {
			t.Fatalf("case.json: %v", err)
		}
	}
	if !found || bundled.Case != caseID || bundled.Status != whistle.Closed || !bytes.Contains(raw, []byte(secret)) {
		t.Fatalf("the bundle's case.json: found %v, %+v", found, bundled)
	}

	// The file is never overwritten.
	if r := run(t, nil, with("case", "archive", "--tenant", "acme", "--case", caseID, "--out", out)...); r.code == 0 || !strings.Contains(r.stderr, "--out:") || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("an existing --out: %d %q", r.code, r.stderr)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, sealed) {
		t.Fatal("the existing file was changed")
	}
	// Refusals name the flag; they leave no file behind.
	none := filepath.Join(t.TempDir(), "none.age")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenant", "acme", "--case", "00000000-0000-4000-8000-000000000000", "--out", none}, "--case: 00000000-0000-4000-8000-000000000000 has no archive bundle in acme"},
		{[]string{"--tenant", "acme", "--case", otherCase, "--out", none}, "has no archive bundle in acme"},
		{[]string{"--tenant", "acme", "--case", "../../etc/passwd", "--out", none}, "--case: not a case id"},
		{[]string{"--tenant", "nowhere", "--case", caseID, "--out", none}, "--tenant: no company"},
		{[]string{"--tenant", "acme", "--out", none}, "--case and --out are required"},
	} {
		r := run(t, nil, with(append([]string{"case", "archive"}, tc.args...)...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("case archive %v: %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(none); !os.IsNotExist(err) {
			t.Errorf("case archive %v left %s behind", tc.args, none)
			os.Remove(none)
		}
	}
	// The export is in the company's trail as the operator's.
	a = openInstallation(t, inst)
	defer a.Close()
	recs, _, err := a.Audit.List(context.Background(), acme.ID, audit.Filter{Action: audit.CaseArchiveExported})
	if err != nil || len(recs) != 1 || recs[0].Actor.Kind != audit.Operator.Kind {
		t.Fatalf("the export's record: %+v %v", recs, err)
	}

	// The help names --tenant.
	for _, action := range []string{"archives", "archive"} {
		if r := run(t, nil, "case", action, "--help"); !strings.Contains(r.stdout, "--tenant SLUG|ID") || !strings.Contains(r.stdout, "--tenant string") {
			t.Errorf("case %s --help: %q", action, r.stdout)
		}
	}
}
