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

// TestCardThroughThePages: ratings, labels, private notes, a rejection
// with its reason and the history, through the candidate card.
func TestCardThroughThePages(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	_, recTok := f.roleUserSession(t, "rolf")
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Rita", Email: "rita@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	post := func(tok, path string, form url.Values) int {
		return f.do(request{method: "POST", path: "/applications/" + app.ID + path, cookie: tok, form: form}).StatusCode
	}
	if c := post(lmTok, "/rating", url.Values{"rating": {"not_suitable"}}); c != http.StatusSeeOther {
		t.Fatalf("rate: %d", c)
	}
	if c := post(lmTok, "/labels", url.Values{"label": {"x"}}); c != http.StatusForbidden {
		t.Fatalf("line manager labels: %d", c)
	}
	if c := post(recTok, "/labels", url.Values{"label": {"<b>remote</b>"}}); c != http.StatusSeeOther {
		t.Fatalf("label: %d", c)
	}
	if c := post(lmTok, "/notes", url.Values{"note_body": {"Private thought"}}); c != http.StatusSeeOther {
		t.Fatalf("note: %d", c)
	}
	if c := post(recTok, "/stage", url.Values{"stage": {"rejected"}}); c != http.StatusUnprocessableEntity {
		t.Fatalf("rejection without a reason: %d", c)
	}
	if c := post(recTok, "/stage", url.Values{"stage": {"rejected"}, "reason": {"salary"}}); c != http.StatusSeeOther {
		t.Fatalf("rejection: %d", c)
	}
	recCard := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{"Not suitable", "&lt;b&gt;remote&lt;/b&gt;", "Salary expectations do not match", "history-list", "Label changed", "Candidate rated"} {
		if !strings.Contains(recCard, want) {
			t.Errorf("the recruiter's card lacks %q", want)
		}
	}
	if strings.Contains(recCard, "Private thought") {
		t.Fatal("the recruiter sees the line manager's private note")
	}
	if lmCard := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: lmTok})); !strings.Contains(lmCard, "Private thought") {
		t.Fatal("the line manager does not see their own note")
	}
	// A task for the line manager, on their dashboard until done.
	if c := post(recTok, "/tasks", url.Values{"task_title": {"Call references"}, "due_on": {"2031-06-01"}, "assignee": {lm.ID}}); c != http.StatusSeeOther {
		t.Fatalf("task: %d", c)
	}
	dash := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: lmTok}))
	if !strings.Contains(dash, `id="my-tasks"`) || !strings.Contains(dash, "Call references") {
		t.Fatal("the task is not on the assignee's dashboard")
	}
	tasks, _ := f.recruit.Tasks(ctx, f.actor(lm), app.ID)
	res := f.do(request{method: "POST", path: "/tasks/" + tasks[0].ID + "/done", cookie: lmTok, form: url.Values{"done": {"1"}, "application": {app.ID}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/applications/"+app.ID+"#tasks" {
		t.Fatalf("done: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if dash := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: lmTok})); strings.Contains(dash, "Call references") {
		t.Fatal("a done task is still on the dashboard")
	}
}

// TestReasonsPageAndArchive: the company's reasons, offered on the card;
// the employment type on the ad; archiving a closed position.
func TestReasonsPageAndArchive(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	_, hrTok := f.roleUser("hana", access.HRManager)
	if res := f.do(request{method: "POST", path: "/settings/reasons", cookie: hrTok, form: url.Values{"reasons": {"Chose another offer\r\nNo work permit"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save reasons: %d", res.StatusCode)
	}
	if page := body(t, f.do(request{method: "GET", path: "/settings/reasons", cookie: hrTok})); !strings.Contains(page, "No work permit") {
		t.Fatal("the reasons page does not show the reasons")
	}
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	app, _ := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Ola", Email: "ola@example.org"}, access.StageNew, recruit.ViaStaff)
	if card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok})); !strings.Contains(card, "Chose another offer") {
		t.Fatal("the card does not offer the company's reasons")
	}
	if ad := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID})); !strings.Contains(ad, f.srv.I18n.T("sv", "employment.full_time")) {
		t.Fatal("the ad does not show the employment type")
	}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/archive", cookie: recTok}); res.StatusCode != http.StatusConflict {
		t.Fatalf("archiving a published position: %d", res.StatusCode)
	}
	if err := f.recruit.Close(ctx, rec, pos.ID); err != nil {
		t.Fatal(err)
	}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/archive", cookie: recTok}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", res.StatusCode)
	}
}
