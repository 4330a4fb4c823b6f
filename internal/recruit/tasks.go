package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Task is something a colleague should do about an application.
type Task struct {
	ID            string
	ApplicationID string
	Title         string
	// DueOn is a date (YYYY-MM-DD) or "".
	DueOn      string
	AssigneeID string
	Done       bool
	// For the dashboard: whose application it is about.
	CandidateName string
	PositionTitle string
	// What the policy needs to decide whether the task's application is visible.
	stage      access.StageKind
	positionID string
	ownerID    string
}

// TaskInput is a new task.
type TaskInput struct {
	Title, DueOn, AssigneeID string
}

// AddTask adds a task to an application; colleagues who may comment on it may.
func (s *Service) AddTask(ctx context.Context, a access.Actor, applicationID string, in TaskInput) error {
	f := map[string]string{}
	var ok bool
	if in.Title, ok = cleanText(in.Title, 200, true); !ok {
		f["task_title"] = "error.task_title"
	}
	if in.DueOn != "" {
		if _, err := time.Parse("2006-01-02", in.DueOn); err != nil {
			f["due_on"] = "error.due_on"
		}
	}
	if in.AssigneeID == "" {
		in.AssigneeID = a.UserID
	}
	if !id.Valid(in.AssigneeID) {
		f["assignee"] = "error.members"
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.Comment, applicationID)
		if err != nil {
			return err
		}
		ok, err := colleagueSeesApplication(ctx, tx, a.TenantID, in.AssigneeID, app)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("assignee", "error.members")
		}
		id, now := id.New(), s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (tenant_id, id, application_id, title, due_on, assignee_id, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, a.TenantID, id, applicationID, in.Title, in.DueOn, in.AssigneeID, a.UserID, now); err != nil {
			return fmt.Errorf("add task: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TaskChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "task", ID: id}, {Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"done": "false"}})
	}))
}

// SetTaskDone marks a task done or open again.
func (s *Service) SetTaskDone(ctx context.Context, a access.Actor, taskID string, done bool) error {
	if !id.Valid(taskID) {
		return ErrNotFound
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var applicationID string
		err := tx.QueryRowContext(ctx, `SELECT application_id FROM tasks WHERE tenant_id = $1 AND id = $2`, a.TenantID, taskID).Scan(&applicationID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		app, err := s.authorizeApplication(ctx, tx, a, access.Comment, applicationID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET done = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, a.TenantID, taskID, done, s.now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TaskChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "task", ID: taskID}, {Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"done": fmt.Sprint(done)}})
	}))
}

const selectTask = `SELECT t.id, t.application_id, t.title, t.due_on, t.assignee_id, t.done, c.name, p.title, a.stage, p.id, p.owner_id
	FROM tasks t JOIN applications a ON a.tenant_id = t.tenant_id AND a.id = t.application_id
	JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id
	JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id`

func scanTasks(rows *sql.Rows) ([]Task, error) {
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		var stage string
		if err := rows.Scan(&t.ID, &t.ApplicationID, &t.Title, &t.DueOn, &t.AssigneeID, &t.Done, &t.CandidateName, &t.PositionTitle,
			&stage, &t.positionID, &t.ownerID); err != nil {
			return nil, err
		}
		t.stage = access.StageKind(stage)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Tasks lists the tasks of an application the actor may see.
func (s *Service) Tasks(ctx context.Context, a access.Actor, applicationID string) (out []Task, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		out, err = listTasks(ctx, q, a.TenantID, applicationID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// listTasks reads an application's tasks, open ones first.
func listTasks(ctx context.Context, q querier, tenantID, applicationID string) ([]Task, error) {
	rows, err := q.QueryContext(ctx, selectTask+` WHERE t.tenant_id = $1 AND t.application_id = $2 ORDER BY t.done, t.due_on, t.created_at`, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	return scanTasks(rows)
}

// MyTasks lists the open tasks assigned to the actor, of applications they
// may still see, soonest due first.
func (s *Service) MyTasks(ctx context.Context, a access.Actor) ([]Task, error) {
	var out []Task
	err := s.read(ctx, a, func(q querier) error {
		rows, err := q.QueryContext(ctx, selectTask+` WHERE t.tenant_id = $1 AND t.assignee_id = $2 AND NOT t.done
			ORDER BY t.due_on = '', t.due_on, t.created_at LIMIT 100`, a.TenantID, a.UserID)
		if err != nil {
			return err
		}
		all, err := scanTasks(rows)
		if err != nil {
			return err
		}
		// The policy decides in memory, with the positions' members read once.
		positions := map[string]*Position{}
		for _, t := range all {
			positions[t.positionID] = &Position{TenantID: a.TenantID, ID: t.positionID, OwnerID: t.ownerID}
		}
		if err := fillMembers(ctx, q, a.TenantID, positions); err != nil {
			return err
		}
		for _, t := range all {
			app := access.Application{Position: positions[t.positionID].policy(), Stage: t.stage}
			if access.DecideApplication(a, access.ViewApplications, app) == access.Allow {
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}
