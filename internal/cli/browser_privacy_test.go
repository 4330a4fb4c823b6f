package cli

import (
	"archive/zip"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/kandidat/kandidat/internal/app"
)

// TestBrowserSubjectSelfService: in real Chromium, a candidate who applied
// on the demo's career page asks on its privacy page for the link to their
// data, opens it from the outbox, downloads the export (data.json with
// their name and their CV inside), then erases their data; the recruiter's
// search, which found them before, no longer does.
func TestBrowserSubjectSelfService(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	base, password := startDemoIn(t, dataDir)
	const name, email, word = "Gunnhild Xerxesdottir", "gunnhild.xerxesdottir@example.org", "xerxesdottir"
	cv := filepath.Join(t.TempDir(), "Gunnhild-CV.pdf")
	if err := os.WriteFile(cv, app.DemoCV(name, "Backend Engineer"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/careers/demo"),
		chromedp.WaitVisible(chromedp.CSS("#career-positions")),
		chromedp.Click(chromedp.Search(`//a[contains(., "Backend Engineer")]`)),
		chromedp.WaitVisible(chromedp.CSS("#apply-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SetUploadFiles(chromedp.CSS("#cv"), []string{cv}),
		chromedp.SendKeys(chromedp.CSS("#profile_city"), "Tromsø"),
		chromedp.Click(chromedp.CSS("#apply-submit")),
		chromedp.WaitVisible(chromedp.CSS("#thanks-title")),
	)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}

	// The recruiter finds her (the index follows a moment later).
	if err := chromedp.Do(ctx, firstSignInAs(base, "recruiter", password), chromedp.WaitVisible(chromedp.CSS("#dashboard-title"))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	search := func() string {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/candidates?q="+url.QueryEscape(word)),
			chromedp.WaitVisible(chromedp.CSS("#candidate-filters")),
		)
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		return text(t, ctx, "main")
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(search(), name); {
		if time.Now().After(deadline) {
			t.Fatal("the search never found the candidate before her erasure")
		}
		time.Sleep(500 * time.Millisecond)
	}

	// She asks for her link from the thank-you page's link.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/careers/demo"),
		chromedp.Click(chromedp.CSS("#careers-my-data")),
		chromedp.WaitVisible(chromedp.CSS("#subject-ask-form")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.Click(chromedp.CSS("#subject-ask-submit")),
		chromedp.WaitVisible(chromedp.CSS("#subject-sent")),
	)
	if err != nil {
		t.Fatalf("ask for the link: %v", err)
	}
	link := waitForLink(t, filepath.Join(dataDir, "outbox"), regexp.MustCompile(regexp.QuoteMeta(base)+`/my-data/[A-Za-z0-9_-]{43}`))
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#subject-open")),
		chromedp.Click(chromedp.CSS("#subject-open")),
		chromedp.WaitVisible(chromedp.CSS("#subject-data-title")),
	)
	if err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if got := text(t, ctx, "#subject-contact"); !strings.Contains(got, name) || !strings.Contains(got, email) {
		t.Fatalf("her contact details: %q", got)
	}

	// The export downloads as a file.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#subject-export"))); err != nil {
		t.Fatalf("download: %v", err)
	}
	var zipPath string
	for deadline := time.Now().Add(30 * time.Second); zipPath == ""; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no export was downloaded")
		}
		if m, _ := filepath.Glob(filepath.Join(downloads, "kandidat-data-*.zip")); len(m) == 1 {
			zipPath = m[0]
		}
	}
	var z *zip.ReadCloser
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) { // until the file is whole
		if z, err = zip.OpenReader(zipPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export is not a zip: %v", err)
		}
	}
	files := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	z.Close()
	if data := files["data.json"]; !strings.Contains(data, name) || !strings.Contains(data, email) || !strings.Contains(data, "Backend Engineer") {
		t.Fatalf("data.json: %.300q", data)
	}
	cvFound := false
	for n, b := range files {
		cvFound = cvFound || strings.HasSuffix(n, "Gunnhild-CV.pdf") && strings.HasPrefix(b, "%PDF")
	}
	if !cvFound {
		t.Fatalf("the CV is not in the export: %d files", len(files))
	}

	// She erases her data.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/my-data"),
		chromedp.WaitVisible(chromedp.CSS("#subject-erase-form")),
		chromedp.Click(chromedp.CSS("#subject-erase-confirm")),
		chromedp.Click(chromedp.CSS("#subject-erase")),
		chromedp.WaitVisible(chromedp.CSS("#subject-erased")),
	)
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	if got := text(t, ctx, "main"); strings.Contains(got, name) || strings.Contains(got, email) {
		t.Fatalf("the confirmation shows her data: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/my-data"), chromedp.WaitVisible(chromedp.CSS("#subject-ended"))); err != nil {
		t.Fatalf("her session after the erasure: %v", err)
	}
	if got := search(); strings.Contains(got, name) {
		t.Fatalf("the search still finds her after the erasure: %q", got)
	}
}
