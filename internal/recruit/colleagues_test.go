package recruit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestOnlyColleaguesWhoSeeCandidatesAreGivenThem: the pages offer only
// colleagues who could open what they are given; a posted id of anyone
// else (an administrator, whose role sees no candidates) is refused by the
// service too, for sharing, interview participants and task assignees.
func TestOnlyColleaguesWhoSeeCandidatesAreGivenThem(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	owner := e.users["recruiter2"]
	admin := e.users[access.Administrator].UserID
	pos := e.position(t, "recruiter2", "Engineer")
	app := e.apply(t, "recruiter2", pos.ID, "Rita", "rita@example.org", access.StagePreselected)
	var ve *fault.Invalid
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{admin}); !errors.As(err, &ve) {
		t.Errorf("sharing with an administrator: %v, want a ValidationError", err)
	}
	in := recruit.InterviewInput{Date: "2031-05-12", Time: "14:30", TimeZone: "Europe/Stockholm", Minutes: 60, Participants: []string{admin}}
	if _, err := e.svc.InviteInterview(ctx, owner, app.ID, in); !errors.As(err, &ve) {
		t.Errorf("an administrator as interview participant: %v, want a ValidationError", err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", AssigneeID: admin}); !errors.As(err, &ve) {
		t.Errorf("a task for an administrator: %v, want a ValidationError", err)
	}
	// A line manager the position is shared with is given both.
	lm := e.users[access.LineManager].UserID
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{lm}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", AssigneeID: lm}); err != nil {
		t.Fatalf("a task for the line manager of the shared position: %v", err)
	}
}
