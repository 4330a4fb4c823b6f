package cli

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCandidateProfile: in real Chromium, the demo's recruiter opens
// a candidate's card, sees the profile the career form and a colleague
// filled in, edits it in the form (no script needed), and finds the change
// in the profile's history with its old and new value.
func TestBrowserCandidateProfile(t *testing.T) {
	ctx, _, _ := demoAs(t, "recruiter")
	err := chromedp.Do(ctx,
		openPosition("Backend Engineer"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Alma Svensson")]`)),
		chromedp.WaitVisible(chromedp.CSS("#profile-facts")),
	)
	if err != nil {
		t.Fatalf("open the card: %v", err)
	}
	if loc := text(t, ctx, "#profile-location"); loc != "Malmö, Sweden" {
		t.Fatalf("location: %q", loc)
	}
	if skills := text(t, ctx, "#profile-skills"); !strings.Contains(skills, "PostgreSQL") {
		t.Fatalf("skills: %q", skills)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#profile-edit summary")),
		chromedp.WaitVisible(chromedp.CSS("#profile-form")),
		chromedp.SetValue(chromedp.CSS("#profile_title"), "Staff engineer"),
		chromedp.SetValue(chromedp.CSS("#profile_skills"), "Go, PostgreSQL, Rust"),
		chromedp.Click(chromedp.CSS("#profile-save")),
		chromedp.WaitVisible(chromedp.CSS("#profile-history")),
	)
	if err != nil {
		t.Fatalf("edit the profile: %v", err)
	}
	waitText(t, ctx, "#profile-title", "Staff engineer")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#profile-history summary")), chromedp.WaitVisible(chromedp.CSS("#profile-history-list"))); err != nil {
		t.Fatal(err)
	}
	history := text(t, ctx, "#profile-history-list")
	for _, want := range []string{"Backend developer → Staff engineer", "Docker, Go, PostgreSQL → Go, PostgreSQL, Rust", "Malmö"} {
		if !strings.Contains(history, want) {
			t.Errorf("the history lacks %q: %q", want, history)
		}
	}
}
