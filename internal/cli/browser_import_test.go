package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserImport: in real Chromium, the demo's HR manager uploads a CSV
// on the import page, whose column names the spreadsheet mapping knows,
// sees the dry run's report (one new candidate, one row refused for its
// email, on its line), starts the import, and the page (its script asking
// for the progress) shows it done; the candidate is then in the
// position's pipeline.
func TestBrowserImport(t *testing.T) {
	ctx, _, _ := demoAs(t, "hrmanager")
	const name = "Ingrid Importsdottir"
	file := filepath.Join(t.TempDir(), "old-ats.csv")
	if err := os.WriteFile(file, []byte("Name;Email;Basis;Applied;Position;Stage\n"+
		name+";ingrid.importsdottir@example.org;purpose;2026-11-02;Backend Engineer;interview\n"+
		"Broken Row;not-an-email;purpose;2026-11-02;Backend Engineer;new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#nav-imports")),
		chromedp.WaitVisible(chromedp.CSS("#import-upload")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}),
		chromedp.Click(chromedp.CSS("#import-upload-button")),
		chromedp.WaitVisible(chromedp.CSS("#import-mapping")),
		chromedp.Click(chromedp.CSS("#import-check")),
		chromedp.WaitVisible(chromedp.CSS("#import-report")),
	)
	if err != nil {
		t.Fatalf("upload and dry run: %v", err)
	}
	if got := text(t, ctx, "#report-new"); got != "1" {
		t.Fatalf("new candidates in the report: %q", got)
	}
	if got := text(t, ctx, "#report-rejected"); got != "1" {
		t.Fatalf("rows refused in the report: %q", got)
	}
	if got := text(t, ctx, "#import-problems"); !strings.Contains(got, "3") || !strings.Contains(got, "Email") {
		t.Fatalf("the problems: %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#import-start-button")),
		chromedp.WaitVisible(chromedp.CSS("#import-done")),
	)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := text(t, ctx, "#run-created"); got != "1" {
		t.Fatalf("candidates added: %q", got)
	}
	if err := chromedp.Do(ctx, openPosition("Backend Engineer")); err != nil {
		t.Fatalf("position: %v", err)
	}
	if got := text(t, ctx, "#pipeline"); !strings.Contains(got, name) {
		t.Fatalf("the pipeline lacks the imported candidate: %q", got)
	}
}
