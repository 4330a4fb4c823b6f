package recruit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestTasks: colleagues who may comment add tasks; the assignee sees them
// among their open tasks until done.
func TestTasks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, "recruiter2", "Engineer")
	lm, owner := e.users[access.LineManager], e.users["recruiter2"]
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Tom", "tom@example.org", access.StageInterview)
	var ve *fault.Invalid
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", DueOn: "soon"}); !errors.As(err, &ve) {
		t.Fatalf("bad date: %v", err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "x", AssigneeID: e.users["foreign"].UserID}); !errors.As(err, &ve) {
		t.Fatalf("another company's assignee: %v", err)
	}
	if err := e.svc.AddTask(ctx, e.users[access.Recruiter], app.ID, recruit.TaskInput{Title: "x"}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a pool recruiter adds a task: %v", err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", DueOn: "2031-06-01", AssigneeID: lm.UserID}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.svc.MyTasks(ctx, lm)
	if err != nil || len(mine) != 1 || mine[0].CandidateName != "Tom" || mine[0].DueOn != "2031-06-01" {
		t.Fatalf("the line manager's tasks: %+v %v", mine, err)
	}
	if err := e.svc.SetTaskDone(ctx, lm, mine[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if mine, _ := e.svc.MyTasks(ctx, lm); len(mine) != 0 {
		t.Fatalf("a done task is still open: %+v", mine)
	}
	if err := e.svc.SetTaskDone(ctx, e.users["foreign"], mine0(t, e, owner, app.ID), false); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company reopens the task: %v", err)
	}
	// A task on an application the assignee may no longer see is not listed.
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Second call", AssigneeID: lm.UserID}); err != nil {
		t.Fatal(err)
	}
	if mine, _ := e.svc.MyTasks(ctx, lm); len(mine) != 1 {
		t.Fatalf("open tasks before unsharing: %d", len(mine))
	}
	if err := e.svc.SharePosition(ctx, owner, pos.ID, nil); err != nil {
		t.Fatal(err)
	}
	if mine, err := e.svc.MyTasks(ctx, lm); err != nil || len(mine) != 0 {
		t.Fatalf("tasks of a position no longer shared: %+v %v", mine, err)
	}
}

func mine0(t *testing.T, e *env, a access.Actor, appID string) string {
	t.Helper()
	tasks, err := e.svc.Tasks(context.Background(), a, appID)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks: %v %v", tasks, err)
	}
	return tasks[0].ID
}
