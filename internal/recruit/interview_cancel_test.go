package recruit_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestRejectedCandidateInterviewCancelled: once the candidate is rejected,
// the interview link says the interview is cancelled and takes no answer.
func TestRejectedCandidateInterviewCancelled(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2031, 5, 10, 9, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	pos := e.position(t, "recruiter2", "Engineer")
	rec := e.users["recruiter2"]
	app := e.apply(t, "recruiter2", pos.ID, "Ivan Interview", "ivan@example.org", access.StageInterview)
	if _, err := e.svc.InviteInterview(ctx, rec, app.ID, recruit.InterviewInput{Date: "2031-05-12", Time: "14:30", TimeZone: "Europe/Stockholm",
		Minutes: 60, Location: "Office"}); err != nil {
		t.Fatal(err)
	}
	msgs := e.queuedMessages(t)
	token := regexp.MustCompile(`/interview/([A-Za-z0-9_-]{43})`).FindStringSubmatch(msgs[len(msgs)-1].Text)[1]
	if iv, err := e.svc.InterviewByToken(ctx, token); err != nil || iv.Cancelled {
		t.Fatalf("before the rejection: %+v %v", iv, err)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "other"}); err != nil {
		t.Fatal(err)
	}
	iv, err := e.svc.InterviewByToken(ctx, token)
	if err != nil || !iv.Cancelled {
		t.Fatalf("after the rejection: %+v %v, want cancelled", iv, err)
	}
	var ve *fault.Invalid
	if _, err := e.svc.RespondToInterview(ctx, token, recruit.InterviewAccepted, ""); !errors.As(err, &ve) || ve.Fields["answer"] != "error.interview_cancelled" {
		t.Fatalf("answer after the rejection: %v", err)
	}
	if list, _ := e.svc.Interviews(ctx, rec, app.ID); list[0].Status != recruit.InterviewInvited {
		t.Fatalf("the refused answer was stored: %+v", list[0])
	}
}
