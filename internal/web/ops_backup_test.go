package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
)

// TestOperatorBackupsPage: the operator page shows each target's newest
// backup, schedule and state, as HTML and JSON; it answers only bearers of
// the metrics token on the public address and anyone on the admin address;
// a target behind its schedule says so; no target says the installation
// is not backed up.
func TestOperatorBackupsPage(t *testing.T) {
	const token = "0123456789abcdef-token"
	f := newFixture(t, Options{MetricsToken: token})
	auth := map[string]string{"Authorization": "Bearer " + token}

	// No scheduler, or one without targets: the page warns.
	res := f.do(request{method: "GET", path: "/operator/backups", header: auth})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "this installation is not backed up") {
		t.Fatalf("no targets: %d\n%.1500s", res.StatusCode, b)
	}

	dir := t.TempDir()
	files, err := blob.NewDir(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(dir, "staging")
	os.MkdirAll(staging, 0o700)
	specs, err := backup.ParseSpecs("nightly=" + filepath.Join(dir, "target") + "?every=24h&keep=7")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	// The page does not depend on the engine: the backed-up database is a
	// SQLite one of its own on both suites.
	src, err := db.Open(context.Background(), db.Options{DataDir: dir, SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if _, err := src.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := &backup.Scheduler{Specs: specs, Recipients: []age.Recipient{id.Recipient()}, Now: clock,
		Source: backup.Source{DB: src, Blobs: files, StagingDir: staging, Ledger: filepath.Join(dir, "erasures.jsonl"), Checkpoints: filepath.Join(dir, "cp.jsonl")}}
	f.srv.Backups = s
	if err := s.BackupNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	newest := s.Status(context.Background()).Targets[0].Newest
	if newest == nil {
		t.Fatal("no backup listed")
	}

	if res := f.do(request{method: "GET", path: "/operator/backups"}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %d, want 401", res.StatusCode)
	}
	res = f.do(request{method: "GET", path: "/operator/backups", header: auth})
	b := body(t, res)
	for _, want := range []string{"nightly", newest.ID, "every 24h0m0s", "keeps 7", "on time", "Encrypted to 1 age recipient."} {
		if !strings.Contains(b, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("%.3000s", b)
	}

	// Two days later the target is behind; JSON says so too.
	now = now.Add(48 * time.Hour)
	admin := httptest.NewRecorder()
	f.srv.AdminHandler().ServeHTTP(admin, httptest.NewRequest("GET", "/backups", nil))
	if admin.Code != http.StatusOK || !strings.Contains(admin.Body.String(), "behind schedule") {
		t.Fatalf("admin page two days late: %d\n%.3000s", admin.Code, admin.Body.String())
	}
	res = f.do(request{method: "GET", path: "/operator/backups?format=json", header: auth})
	var out struct {
		Targets []struct {
			Name   string   `json:"name"`
			Newest string   `json:"newest_backup"`
			Age    *float64 `json:"newest_backup_age_seconds"`
			Behind bool     `json:"behind"`
		} `json:"targets"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Targets) != 1 || out.Targets[0].Newest != newest.ID || !out.Targets[0].Behind || out.Targets[0].Age == nil || *out.Targets[0].Age < 47*3600 {
		t.Fatalf("json: %+v", out)
	}

	// The operator's language.
	res = f.do(request{method: "GET", path: "/operator/backups", header: map[string]string{"Authorization": "Bearer " + token, "Accept-Language": "sv"}})
	if b := body(t, res); !strings.Contains(b, "Säkerhetskopior") || !strings.Contains(b, "efter schemat") {
		t.Fatalf("Swedish page:\n%.2000s", b)
	}
}
