package recruit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestPipelineStages: a position's own stages, from the company template;
// renaming, adding, reordering and removing; a move to a custom stage; the
// kind of a stage still decides the shared pool.
func TestPipelineStages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr, owner := e.users[access.HRManager], e.users["recruiter2"]
	var ve *fault.Invalid
	if err := e.svc.SetStageTemplate(ctx, owner, nil); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a recruiter sets the template: %v", err)
	}
	if err := e.svc.SetStageTemplate(ctx, hr, []recruit.StageInput{{Kind: access.StageInterview}, {Kind: access.StageHired}}); !errors.As(err, &ve) {
		t.Fatalf("a template without new and rejected: %v", err)
	}
	if err := e.svc.SetStageTemplate(ctx, hr, []recruit.StageInput{{Name: "Received", Kind: access.StageNew}, {Name: "Phone screen", Kind: access.StagePreselected},
		{Kind: access.StageInterview}, {Kind: access.StageHired}, {Kind: access.StageRejected}}); err != nil {
		t.Fatal(err)
	}
	pos := e.position(t, "recruiter2", "Engineer")
	stages, err := e.svc.Stages(ctx, owner, pos.ID)
	if err != nil || len(stages) != 5 || stages[0].Name != "Received" || stages[1].Kind != access.StagePreselected {
		t.Fatalf("stages from the template: %+v %v", stages, err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Sam", "sam@example.org", access.StageNew)
	if app.StageID != stages[0].ID {
		t.Fatalf("a new application is at %q, want the first new stage %q", app.StageID, stages[0].ID)
	}
	// Add "Technical interview" after the interview, rename one, reorder.
	edits := []recruit.StageEdit{{ID: stages[0].ID, Name: "Received"}, {ID: stages[1].ID, Name: "Call"}, {ID: stages[2].ID},
		{Name: "Technical interview", Kind: access.StageInterview}, {ID: stages[3].ID}, {ID: stages[4].ID}}
	if err := e.svc.SetStages(ctx, owner, pos.ID, edits); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStages(ctx, e.users[access.LineManager], pos.ID, edits); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager without the position edits stages: %v", err)
	}
	stages, _ = e.svc.Stages(ctx, owner, pos.ID)
	if len(stages) != 6 || stages[1].Name != "Call" || stages[3].Name != "Technical interview" {
		t.Fatalf("after editing: %+v", stages)
	}
	// A stage with candidates, or the last stage for new applications, stays.
	if err := e.svc.SetStages(ctx, owner, pos.ID, []recruit.StageEdit{{ID: stages[1].ID}, {ID: stages[5].ID}, {Name: "In", Kind: access.StageNew}}); !errors.As(err, &ve) || ve.Fields["stages"] != "error.stage_in_use" {
		t.Fatalf("removing a stage with a candidate: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: stages[3].ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Application(ctx, owner, app.ID)
	if got.StageID != stages[3].ID || got.Stage != access.StageInterview || got.StageName != "Technical interview" {
		t.Fatalf("after the move: %s %s %q", got.StageID, got.Stage, got.StageName)
	}
	// The kind decides the pool: another recruiter now sees the candidate.
	if _, err := e.svc.Application(ctx, e.users[access.Recruiter], app.ID); err != nil {
		t.Fatalf("an interviewed candidate is not in the pool: %v", err)
	}
	other := e.position(t, access.HRManager, "Other")
	otherStages, _ := e.svc.Stages(ctx, hr, other.ID)
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: otherStages[0].ID}); !errors.As(err, &ve) {
		t.Fatalf("a stage of another position: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: stages[5].ID}); !errors.As(err, &ve) || ve.Fields["reason"] == "" {
		t.Fatalf("a rejection stage without a reason: %v", err)
	}
}
