package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestMatchesTab: required skills set on the position's form, the matches
// tab ranking the pool with its explanation, adding a selection to the
// pipeline and inviting it (once), and the tab closed to a line manager
// the position is not shared with.
func TestMatchesTab(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Backend developer")
	_, recTok := f.roleUserSession(t, "rolf")
	_, lmTok := f.roleUser("lina", access.LineManager)
	other, err := f.recruit.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := f.recruit.AddCandidate(ctx, rec, other.ID, recruit.CandidateInput{Name: "Karin Kubernetes", Email: "karin@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddComment(ctx, rec, app.ID, "Payment services on Kubernetes."); err != nil {
		t.Fatal(err)
	}
	// The edit form keeps the required skills.
	form := url.Values{"title": {"Backend developer"}, "language": {"sv"}, "employment_type": {"full_time"},
		"description": {"Payment services on Kubernetes."}, "skills": {"Kubernetes, Go"}}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID, cookie: recTok, form: form}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, body(t, res))
	}
	page := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	for _, want := range []string{`id="matches-tab"`, `<span class="label">Kubernetes</span>`, `value="Go, Kubernetes"`, `<option value="Kubernetes">`} {
		if !strings.Contains(page, want) {
			t.Errorf("position page lacks %s", want)
		}
	}
	form.Set("skills", strings.Repeat("x", 80))
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID, cookie: recTok, form: form}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad skill: %d, want 422", res.StatusCode)
	}
	for {
		n, err := f.recruit.IndexQueued(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	tab := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID + "/matches", cookie: recTok}))
	for _, want := range []string{"Karin Kubernetes", `name="candidate" value="` + app.Candidate.ID + `"`, `<span class="label">payment</span>`,
		`id="matches-add"`, `id="matches-invite"`, `<meter class="score"`} {
		if !strings.Contains(tab, want) {
			t.Errorf("matches tab lacks %s", want)
		}
	}
	if res := f.do(request{method: "GET", path: "/positions/" + pos.ID + "/matches", cookie: lmTok}); res.StatusCode != http.StatusNotFound {
		t.Errorf("line manager: %d, want 404", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/matches", cookie: lmTok,
		form: url.Values{"action": {"add"}, "candidate": {app.Candidate.ID}}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("line manager adds: %d, want 404", res.StatusCode)
	}
	// Nothing selected: said on the tab.
	res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/matches", cookie: recTok, form: url.Values{"action": {"add"}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="matches-error"`) {
		t.Errorf("empty selection: %d", res.StatusCode)
	}
	// An invitation links to the career page: a draft invites nobody.
	res = f.do(request{method: "POST", path: "/positions/" + other.ID + "/matches", cookie: recTok,
		form: url.Values{"action": {"invite"}, "candidate": {app.Candidate.ID}}})
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, `id="matches-error"`) {
		t.Errorf("invite to a draft: %d", res.StatusCode)
	}
	for _, action := range []string{"add", "invite", "invite"} {
		res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/matches", cookie: recTok,
			form: url.Values{"action": {action}, "candidate": {app.Candidate.ID}}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/positions/"+pos.ID+"/matches?") {
			t.Fatalf("%s: %d %q", action, res.StatusCode, res.Header.Get("Location"))
		}
	}
	tab = body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID + "/matches?done=0&already=1&refused=0", cookie: recTok}))
	for _, want := range []string{`class="label match-applied"`, `class="label match-invited"`, `id="matches-result"`} {
		if !strings.Contains(tab, want) {
			t.Errorf("after the actions, the tab lacks %s", want)
		}
	}
	var sent int
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM email_queue WHERE message LIKE $1 AND message LIKE '%karin@example.org%'`,
		"%/careers/acme/"+pos.ID+"%").Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if sent != 1 {
		t.Errorf("%d invitations emailed, want 1", sent)
	}
}
