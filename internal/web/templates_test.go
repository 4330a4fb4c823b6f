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

// TestTemplatesPage: the HR manager edits the rejection email; a recruiter
// may not; a rejection with the email appears in the card's history.
func TestTemplatesPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	_, hrTok := f.roleUser("hana", access.HRManager)
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	if res := f.do(request{method: "GET", path: "/settings/templates", cookie: recTok}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("recruiter: %d", res.StatusCode)
	}
	page := body(t, f.do(request{method: "GET", path: "/settings/templates", cookie: hrTok}))
	if !strings.Contains(page, "template-rejection-sv") || !strings.Contains(page, "{position}") {
		t.Fatal("the templates page does not offer every email")
	}
	bad := url.Values{"kind": {"rejection"}, "language": {"en"}, "subject": {"S"}, "body": {"Dear {nam}"}}
	if res := f.do(request{method: "POST", path: "/settings/templates", cookie: hrTok, form: bad}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown variable: %d", res.StatusCode)
	}
	good := url.Values{"kind": {"rejection"}, "language": {"sv"}, // the ad is in Swedish
		"subject": {"About {position}"}, "body": {"Dear {name}, sorry."}}
	if res := f.do(request{method: "POST", path: "/settings/templates", cookie: hrTok, form: good}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	app, _ := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Rita", Email: "rita@example.org"}, access.StageNew, recruit.ViaStaff)
	res := f.do(request{method: "POST", path: "/applications/" + app.ID + "/stage", cookie: recTok,
		form: url.Values{"stage": {"rejected"}, "reason": {"other"}, "notify": {"yes"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	if !strings.Contains(card, "About Engineer") || !strings.Contains(card, "Dear Rita, sorry.") || !strings.Contains(card, "waiting to be sent") {
		t.Fatal("the card does not show the rejection email")
	}
}
