package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
)

// Application links a candidate to a position, at a stage of its pipeline.
type Application struct {
	TenantID string
	ID       string
	Stage    access.StageKind
	// StageID is the stage of the position's pipeline; StageName its name ("" for a standard stage).
	StageID   string
	StageName string
	// RejectionReason is one of RejectionReasons when the stage is rejected.
	RejectionReason string
	// Source is the channel the application came through; CoverLetter the candidate's text.
	Source      string
	CoverLetter string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Position    *Position
	Candidate   *Candidate
}

const selectApplication = `SELECT a.tenant_id, a.id, a.stage, a.stage_id, COALESCE(ps.name, ''), a.rejection_reason, a.source, a.cover_letter, a.created_at, a.updated_at, a.position_id, p.title, p.status, p.owner_id,
	c.id, c.name, c.email, c.phone, c.purpose_until, c.consent_until, c.basis_until
	FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
	JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id
	LEFT JOIN position_stages ps ON ps.tenant_id = a.tenant_id AND ps.id = a.stage_id`

func scanApplication(row rowScanner) (*Application, error) {
	a := &Application{Position: &Position{}, Candidate: &Candidate{}}
	var stage string
	var purpose, consent, until sql.NullTime
	if err := row.Scan(&a.TenantID, &a.ID, &stage, &a.StageID, &a.StageName, &a.RejectionReason, &a.Source, &a.CoverLetter, &a.CreatedAt, &a.UpdatedAt, &a.Position.ID, &a.Position.Title, &a.Position.Status, &a.Position.OwnerID,
		&a.Candidate.ID, &a.Candidate.Name, &a.Candidate.Email, &a.Candidate.Phone, &purpose, &consent, &until); err != nil {
		return nil, err
	}
	a.Candidate.Bases = basesOf(purpose, consent, until)
	a.Stage = access.StageKind(stage)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.Position.TenantID, a.Candidate.TenantID = a.TenantID, a.TenantID
	return a, nil
}

func (app *Application) policy() access.Application {
	return access.Application{Position: app.Position.policy(), Stage: app.Stage}
}

// authorizeApplication loads an application and decides perm on it.
func (s *Service) authorizeApplication(ctx context.Context, q querier, a access.Actor, perm access.Permission, applicationID string) (*Application, error) {
	if !id.Valid(applicationID) {
		return nil, ErrNotFound
	}
	app, err := scanApplication(q.QueryRowContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.id = $2`, a.TenantID, applicationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read application: %w", err)
	}
	if app.Position, err = loadPosition(ctx, q, a.TenantID, app.Position.ID); err != nil {
		return nil, err
	}
	if d := access.DecideApplication(a, perm, app.policy()); d != access.Allow {
		return nil, &denied{perm: perm, decision: d, object: audit.Ref{Kind: "application", ID: applicationID}}
	}
	return app, nil
}

// Application returns an application the actor may see, through its
// position or the shared pool. Reading a candidate's application is
// written to the security log.
func (s *Service) Application(ctx context.Context, a access.Actor, id string) (*Application, error) {
	var app *Application
	err := s.read(ctx, a, func(q querier) (err error) {
		app, err = s.authorizeApplication(ctx, q, a, access.ViewApplications, id)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	err = s.db.InTxNoFlush(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: id}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"permission": access.ViewApplications.Name(), "decision": access.Allow.String()}})
	})

	if err != nil {
		return nil, err
	}
	return app, nil
}

// Decide tells whether the actor may take action p on an application they
// can see, for showing or hiding controls; the action itself decides again.
func Decide(a access.Actor, p access.Permission, app *Application) bool {
	return access.DecideApplication(a, p, app.policy()) == access.Allow
}

// DecideOnPosition does the same for a position.
func DecideOnPosition(a access.Actor, p access.Permission, pos *Position) bool {
	return access.DecidePosition(a, p, pos.policy()) == access.Allow
}

// applications is Applications inside a read transaction.
func (s *Service) applications(ctx context.Context, q querier, a access.Actor, positionID string) ([]*Application, error) {
	p, err := s.authorizePosition(ctx, q, a, access.ViewApplications, positionID)
	if err != nil {
		return nil, err
	}
	stages, err := positionStages(ctx, q, a.TenantID, positionID)
	if err != nil {
		return nil, err
	}
	// Each column of the board: the stage's newest cards, from the index
	// (position, stage, time); the page links to the full list beyond.
	var out []*Application
	// A card needs the candidate's name only: one lookup per card.
	for _, st := range stages {
		rows, err := q.QueryContext(ctx, `SELECT a.id, a.stage, a.created_at, a.updated_at, c.id, c.name FROM applications a CROSS JOIN candidates c
			WHERE a.tenant_id = $1 AND a.position_id = $2 AND a.stage_id = $3 AND c.tenant_id = a.tenant_id AND c.id = a.candidate_id
			ORDER BY a.created_at DESC, a.id DESC LIMIT `+strconv.Itoa(BoardLimit), a.TenantID, positionID, st.ID)
		if err != nil {
			return nil, fmt.Errorf("list applications: %w", err)
		}
		for rows.Next() {
			app := &Application{TenantID: a.TenantID, StageID: st.ID, StageName: st.Name, Position: p, Candidate: &Candidate{TenantID: a.TenantID}}
			var stage string
			if err := rows.Scan(&app.ID, &stage, &app.CreatedAt, &app.UpdatedAt, &app.Candidate.ID, &app.Candidate.Name); err != nil {
				rows.Close()
				return nil, err
			}
			app.Stage = access.StageKind(stage)
			app.CreatedAt, app.UpdatedAt = app.CreatedAt.UTC(), app.UpdatedAt.UTC()
			out = append(out, app)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BoardLimit is the number of cards a column of a position's board shows.
const BoardLimit = 25

// pool is PoolPage inside a read transaction: the pool's stages through
// their partial index, newest change first, from the cursor on.
func (s *Service) pool(ctx context.Context, q querier, a access.Actor, after string, limit int) (*ListPage, error) {
	if !a.Can(access.ViewSharedPool) {
		return nil, ErrForbidden
	}
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	args := []any{a.TenantID}
	where := ` WHERE a.tenant_id = $1 AND a.stage IN ('preselected', 'interview', 'offer', 'hired')`
	if t, id, ok := db.ParseTimeCursor(after); ok {
		args = append(args, t, id)
		where += ` AND (a.updated_at, a.id) < ($2, $3)`
	}
	rows, err := q.QueryContext(ctx, selectApplication+where+fmt.Sprintf(` ORDER BY a.updated_at DESC, a.id DESC LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, fmt.Errorf("list pool: %w", err)
	}
	out := &ListPage{}
	for rows.Next() {
		app, err := scanApplication(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out.Applications = append(out.Applications, app)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Applications) > limit {
		out.Applications = out.Applications[:limit]
		last := out.Applications[limit-1]
		out.Next = db.TimeCursor(last.UpdatedAt, last.ID)
	}
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM applications a WHERE a.tenant_id = $1 AND a.stage IN ('preselected', 'interview', 'offer', 'hired') LIMIT `+
		strconv.Itoa(countCap+1)+`) x`, a.TenantID).Scan(&out.Total)
	if err != nil {
		return nil, fmt.Errorf("count pool: %w", err)
	}
	if out.Total > countCap {
		out.Total, out.TotalCapped = countCap, true
	}
	out.Applications = slices.DeleteFunc(out.Applications, func(app *Application) bool { return !Decide(a, access.ViewApplications, app) })
	return out, nil
}

// Applications lists the applications to a position in pipeline order,
// the newest BoardLimit of each stage, as the board shows them: the
// candidate's id and name, the stage and the times.
func (s *Service) Applications(ctx context.Context, a access.Actor, positionID string) (apps []*Application, err error) {
	err = s.read(ctx, a, func(q querier) error { apps, err = s.applications(ctx, q, a, positionID); return err })
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return apps, nil
}

// PoolPage lists the company's shared pool: applications at the
// pre-selected, interview, offer and hired stages of any position, the
// most recently changed first, one page at a time.
func (s *Service) PoolPage(ctx context.Context, a access.Actor, after string, limit int) (p *ListPage, err error) {
	err = s.read(ctx, a, func(q querier) error { p, err = s.pool(ctx, q, a, after, limit); return err })
	return p, err
}
