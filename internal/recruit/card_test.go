package recruit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestCardRatingsLabelsNotesAndHistory: who may rate, label and keep
// notes; notes are private; rejecting needs a reason; the history lists
// what happened.
func TestCardRatingsLabelsNotesAndHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, "recruiter2", "Engineer")
	lm, owner := e.users[access.LineManager], e.users["recruiter2"]
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Rita", "rita@example.org", access.StagePreselected)
	var ve *fault.Invalid
	if err := e.svc.Rate(ctx, lm, app.ID, "brilliant"); !errors.As(err, &ve) {
		t.Fatalf("unknown rating: %v", err)
	}
	for _, v := range []string{recruit.RateLater, recruit.RateInvite} { // the second replaces the first
		if err := e.svc.Rate(ctx, lm, app.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Rate(ctx, e.users[access.Recruiter], app.ID, recruit.RateInvite); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a pool recruiter rates: %v", err)
	}
	if err := e.svc.AddLabel(ctx, lm, app.ID, "senior"); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a line manager labels: %v", err)
	}
	for _, l := range []string{"senior", "go", "senior"} {
		if err := e.svc.AddLabel(ctx, owner, app.ID, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.AddLabel(ctx, owner, app.ID, strings.Repeat("x", 41)); !errors.As(err, &ve) {
		t.Fatalf("long label: %v", err)
	}
	if err := e.svc.RemoveLabel(ctx, owner, app.ID, "go"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddNote(ctx, lm, app.ID, "Reminds me of Ada."); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{Kind: access.StageRejected}); !errors.As(err, &ve) || ve.Fields["reason"] == "" {
		t.Fatalf("rejecting without a reason: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "position_filled"}); err != nil {
		t.Fatal(err)
	}
	lmCard, err := e.svc.Card(ctx, lm, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(lmCard.Ratings) != 1 || lmCard.Ratings[0].Value != recruit.RateInvite || len(lmCard.Notes) != 1 || strings.Join(lmCard.Labels, ",") != "senior" {
		t.Fatalf("line manager's card: %+v", lmCard)
	}
	ownerCard, err := e.svc.Card(ctx, owner, app.ID)
	if err != nil || len(ownerCard.Notes) != 0 {
		t.Fatalf("the owner sees another's private note: %+v %v", ownerCard, err)
	}
	var actions []string
	for _, r := range ownerCard.History {
		actions = append(actions, string(r.Action))
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"application.stage_changed", "application.labeled", "application.rated", "application.created", "application.note_added"} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %s: %s", want, got)
		}
	}
	for _, r := range ownerCard.History { // a private note is audited, its text never
		if strings.Contains(fmt.Sprint(r.Details), "Ada") {
			t.Errorf("a record carries the note's text: %+v", r)
		}
	}
	if a, _ := e.svc.Application(ctx, owner, app.ID); a.RejectionReason != "position_filled" {
		t.Fatalf("rejection reason %q", a.RejectionReason)
	}
	if _, err := e.svc.Card(ctx, e.users["foreign"], app.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company's card: %v", err)
	}
	view, err := e.svc.CardView(ctx, lm, app.ID)
	if err != nil || len(view.Details.Notes) != 1 || len(view.Details.Ratings) != 1 || view.Stages != nil || len(view.Reasons) == 0 || len(view.Details.History) == 0 {
		t.Fatalf("the line manager's card view: %+v %v", view, err)
	}
	if view, err := e.svc.CardView(ctx, owner, app.ID); err != nil || len(view.Stages) != len(access.StageKinds) || len(view.Details.Notes) != 0 {
		t.Fatalf("the owner's card view: %+v %v", view, err)
	}
	if _, err := e.svc.CardView(ctx, e.users["foreign"], app.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company's card view: %v", err)
	}
}

// TestReasonsEmploymentAndArchive: a company's own reasons for rejecting;
// the employment type of a position; archiving.
func TestReasonsEmploymentAndArchive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr, rec := e.users[access.HRManager], e.users[access.Recruiter]
	var ve *fault.Invalid
	if _, err := e.svc.CreatePosition(ctx, rec, recruit.PositionInput{Title: "X", Language: "en", EmploymentType: "slavery"}); !errors.As(err, &ve) {
		t.Fatalf("unknown employment type: %v", err)
	}
	pos, err := e.svc.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Intern", Language: "en", EmploymentType: "internship"})
	if err != nil || pos.EmploymentType != "internship" {
		t.Fatalf("position: %+v %v", pos, err)
	}
	app := e.apply(t, access.Recruiter, pos.ID, "Ola", "ola@example.org", access.StageNew)
	if err := e.svc.SetReasons(ctx, rec, []string{"x"}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a recruiter sets the reasons: %v", err)
	}
	if err := e.svc.SetReasons(ctx, hr, []string{"Chose another offer", "", "Chose another offer", "No work permit"}); err != nil {
		t.Fatal(err)
	}
	reasons, _ := e.svc.Reasons(ctx, rec)
	if len(reasons) != 2 || reasons[0].Name != "Chose another offer" {
		t.Fatalf("reasons: %+v", reasons)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "salary"}); !errors.As(err, &ve) {
		t.Fatalf("a standard reason the company no longer offers: %v", err)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: reasons[1].ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Application(ctx, rec, app.ID)
	if name, _ := recruit.ReasonLabel(reasons, got.RejectionReason); name != "No work permit" {
		t.Fatalf("rejection reason %q", name)
	}
	// Renaming nothing keeps the ids.
	if err := e.svc.SetReasons(ctx, hr, []string{"No work permit", "Other"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.svc.Reasons(ctx, rec); again[0].ID != reasons[1].ID {
		t.Fatal("a kept reason changed its id")
	}
	if err := e.svc.SetReasons(ctx, hr, nil); err != nil {
		t.Fatal(err)
	}
	if std, _ := e.svc.Reasons(ctx, rec); len(std) != len(recruit.RejectionReasons) || std[0].Name != "" {
		t.Fatalf("back to the standard reasons: %+v", std)
	}
	// Archive: a draft may be archived, an archived position not published.
	if err := e.svc.Archive(ctx, e.users[access.LineManager], pos.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager archives: %v", err)
	}
	if err := e.svc.Archive(ctx, rec, pos.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Publish(ctx, rec, pos.ID); !errors.Is(err, recruit.ErrState) {
		t.Fatalf("publishing an archived position: %v", err)
	}
	if err := e.svc.Archive(ctx, rec, pos.ID); !errors.Is(err, recruit.ErrState) {
		t.Fatalf("archiving twice: %v", err)
	}
}
