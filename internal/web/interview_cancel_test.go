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

// TestInterviewPageCancelledAfterRejection: a rejected candidate's
// interview link says the interview is cancelled, offers no answers and
// refuses one posted anyway.
func TestInterviewPageCancelledAfterRejection(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Ivan", Email: "ivan@example.org"}, access.StageInterview, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.InviteInterview(ctx, rec, app.ID, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 5).Format("2006-01-02"), Time: "09:15",
		TimeZone: "Europe/Prague", Minutes: 45, Location: "Office"}); err != nil {
		t.Fatal(err)
	}
	var mail string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue WHERE message LIKE '%/interview/%'`).Scan(&mail); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`/interview/([A-Za-z0-9_-]{43})`).FindStringSubmatch(mail)[1]
	if err := f.recruit.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "other"}); err != nil {
		t.Fatal(err)
	}
	page := f.do(request{method: "GET", path: "/interview/" + token})
	if b := body(t, page); page.StatusCode != http.StatusOK || !strings.Contains(b, `id="interview-cancelled"`) || strings.Contains(b, "answer-form") {
		t.Fatalf("page of a rejected candidate: %d\n%s", page.StatusCode, b)
	}
	res := f.do(request{method: "POST", path: "/interview/" + token, form: url.Values{"answer": {"accepted"}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `class="field-error" role="alert"`) {
		t.Fatalf("answer of a rejected candidate: %d\n%s", res.StatusCode, b)
	}
}
