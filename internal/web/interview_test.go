package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestInterviewThroughThePages: a line manager of the shared position
// invites the candidate; the candidate answers through the emailed link;
// the card and the position show the answer.
func TestInterviewThroughThePages(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Ivan", Email: "ivan@example.org"}, access.StageInterview, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Now().AddDate(0, 0, 5).Format("2006-01-02")
	form := url.Values{"date": {date}, "time": {"09:15"}, "time_zone": {"Europe/Prague"}, "minutes": {"45"}, "video_link": {"https://meet.example/abc"},
		"participant": {lm.ID}}
	bad := url.Values{"date": {"yesterday"}, "time": {"9"}, "time_zone": {"Europe/Prague"}, "minutes": {"45"}}
	if res := f.do(request{method: "POST", path: "/applications/" + app.ID + "/interviews", cookie: lmTok, form: bad}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad invitation: %d", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/applications/" + app.ID + "/interviews", cookie: lmTok, form: form})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d %s", res.StatusCode, body(t, res))
	}
	var mail string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue WHERE message LIKE '%/interview/%'`).Scan(&mail); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`/interview/([A-Za-z0-9_-]{43})`).FindStringSubmatch(mail)[1]
	page := f.do(request{method: "GET", path: "/interview/" + token})
	if b := body(t, page); page.StatusCode != http.StatusOK || !strings.Contains(b, "09:15") || !strings.Contains(b, "Europe/Prague") ||
		page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("answer page: %d", page.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/interview/" + token, form: url.Values{"answer": {"maybe"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown answer: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/interview/" + token, form: url.Values{"answer": {"accepted"}, "note": {"Looking forward"}}})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "answer-saved") {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: lmTok}))
	if !strings.Contains(card, f.srv.I18n.T("en", "interview.status.accepted")) || !strings.Contains(card, "Looking forward") {
		t.Fatal("the card does not show the answer")
	}
	position := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: lmTok}))
	if !strings.Contains(position, "position-interviews") || !strings.Contains(position, date+" 09:15") {
		t.Fatal("the position does not list the interview")
	}
	if res := f.do(request{method: "GET", path: "/interview/" + strings.Repeat("A", 43)}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link: %d", res.StatusCode)
	}
}
