package web

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/whistle"
)

// fastVault lowers the Argon2id cost of case keys and receipts for a test.
// fastVault: the package's TestMain (main_test.go) already lowers the
// Argon2id cost once for every test; changing it here would race.
func fastVault(testing.TB) {}

// closedCase makes, in company c (whistleblowing module on), an enrolled
// case handler, a channel, a report with an attachment, and closes it with
// the archive recipient set: the case then has its archive bundle.
func closedCase(t testing.TB, k *testkit.Kit, c *tenant.Tenant, login, recipient, text string) (access.Actor, string) {
	t.Helper()
	ctx := context.Background()
	cur, err := k.Tenants.ByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Enabled(tenant.Whistleblowing) {
		if err := k.Tenants.SetModules(ctx, audit.Operator, c.ID, append(slices.Clone(cur.Modules), tenant.Whistleblowing)); err != nil {
			t.Fatal(err)
		}
	}
	w := k.Whistle
	a := k.Actor(t, c.ID, login, access.CaseHandler)
	if _, err := w.Enrol(ctx, a, testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	// The archive recipient and the channel are the administrator's.
	conf := access.Operator(c.ID, access.CompanySettings)
	if err := w.SetArchiveRecipient(ctx, conf, recipient); err != nil {
		t.Fatal(err)
	}
	var ch string
	ch, err = w.SaveChannel(ctx, conf, whistle.Channel{Slug: "main-" + login, Name: "Main", DefaultLanguage: "en", Languages: []string{"en"},
		RetentionDays: 365, Active: true, Handlers: []string{a.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(ctx, c.ID, ch, whistle.Submission{Language: "en", Text: text,
		Files: []whistle.Upload{{Name: "ledger.txt", Data: []byte("ledger: " + text + "\n")}}}); err != nil {
		t.Fatal(err)
	}
	env, err := w.Unlock(ctx, a, "s-"+login, testkit.Password)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := w.Handler(ctx, a, "s-"+login, env)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := w.Cases(ctx, a, whistle.CaseFilter{})
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
	return a, cs[0].ID
}

// TestAPICaseArchives: the archive system lists the bundles and fetches
// one with a cases.handle token; it decrypts with its age identity, and the
// manifest's signature verifies with the archive signing key. A token
// without the scope is refused (403); another company's case is a 404.
func TestAPICaseArchives(t *testing.T) {
	fastVault(t)
	f := newAPIFixture(t)
	ctx := context.Background()
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "ForkliftInvoicesDoubled"
	_, caseID := closedCase(t, f.kit, f.company, "karin", ident.Recipient().String(), "Invoices "+secret)
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other", Modules: []tenant.Module{tenant.API}})
	_, otherCase := closedCase(t, f.kit, other, "olga", ident.Recipient().String(), "Elsewhere")

	_, tok := f.token(access.CaseHandler, access.HandleCases)
	_, noScope := f.token(access.Administrator, access.ViewAudit)

	res := f.call(tok, "GET", "/api/v1/cases/archives", nil)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, res.Body)
	}
	var list []map[string]any
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatalf("list %s: %v", res.Body, err)
	}
	if len(list) != 1 || list[0]["case"] != caseID {
		t.Fatalf("list %s, want only case %s", res.Body, caseID)
	}

	res = f.call(tok, "GET", "/api/v1/cases/"+caseID+"/archive", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="case-`+caseID+`.zip.age"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	sum := sha256.Sum256(res.Body)
	if hexSum := hex.EncodeToString(sum[:]); list[0]["sha256"] != hexSum || res.Header.Get("ETag") != `"`+hexSum+`"` ||
		res.Header.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" || int(list[0]["size"].(float64)) != len(res.Body) {
		t.Errorf("digest: list %v, ETag %q, Repr-Digest %q, body sha256 %s (%d bytes)", list[0], res.Header.Get("ETag"), res.Header.Get("Repr-Digest"), hexSum, len(res.Body))
	}
	if bytes.Contains(res.Body, []byte(secret)) {
		t.Fatal("the bundle is not encrypted")
	}
	plain, err := age.Decrypt(bytes.NewReader(res.Body), ident)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	zb, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var cj struct {
		Case, Status, Outcome string
		Entries               []struct{ Text string }
	}
	if err := json.Unmarshal(parts["case.json"], &cj); err != nil {
		t.Fatalf("case.json: %v", err)
	}
	if cj.Case != caseID || cj.Status != whistle.Closed || cj.Outcome != "substantiated" || len(cj.Entries) == 0 || !strings.Contains(string(parts["case.json"]), secret) {
		t.Errorf("case.json %s", parts["case.json"])
	}
	var file []byte
	for name, b := range parts {
		if strings.HasPrefix(name, "files/") && strings.HasSuffix(name, "ledger.txt") {
			file = b
		}
	}
	if string(file) != "ledger: Invoices "+secret+"\n" {
		t.Errorf("the attachment: %q (parts %v)", file, slices.Collect(func(yield func(string) bool) {
			for n := range parts {
				if !yield(n) {
					return
				}
			}
		}))
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(parts["manifest.sig"])))
	if err != nil || !ed25519.Verify(f.kit.Whistle.ArchiveSigningKey(), parts["manifest.json"], sig) {
		t.Fatalf("the manifest's signature does not verify (%v)", err)
	}
	var manifest struct {
		Case   string
		SHA256 map[string]string
	}
	if err := json.Unmarshal(parts["manifest.json"], &manifest); err != nil || manifest.Case != caseID {
		t.Fatalf("manifest %s: %v", parts["manifest.json"], err)
	}
	for name, b := range parts {
		if name == "manifest.json" || name == "manifest.sig" {
			continue
		}
		s := sha256.Sum256(b)
		if manifest.SHA256[name] != hex.EncodeToString(s[:]) {
			t.Errorf("manifest: %s has %q, want its sha256", name, manifest.SHA256[name])
		}
	}
	// The export is in the trail, by case id.
	recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Track: audit.Business, Action: audit.CaseArchiveExported})
	if err != nil || len(recs) != 1 || recs[0].Objects[0].ID != caseID {
		t.Fatalf("export records %v %v", recs, err)
	}

	// Without the scope: 403; another company's case, or none: 404.
	if res := f.call(noScope, "GET", "/api/v1/cases/archives", nil); res.StatusCode != 403 {
		t.Errorf("list without the scope: %d, want 403", res.StatusCode)
	}
	if res := f.call(noScope, "GET", "/api/v1/cases/"+caseID+"/archive", nil); res.StatusCode != 403 {
		t.Errorf("download without the scope: %d, want 403", res.StatusCode)
	}
	for _, id := range []string{otherCase, "00000000-0000-4000-8000-000000000000"} {
		if res := f.call(tok, "GET", "/api/v1/cases/"+id+"/archive", nil); res.StatusCode != 404 {
			t.Errorf("case %s of another company: %d, want 404 %s", id, res.StatusCode, res.Body)
		}
	}
}
