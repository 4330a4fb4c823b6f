package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// The reads the REST API needs beyond the pages' (internal/web/api_*.go):
// lean keyset pages an integration walks (a position's applications, an
// application's comments and interviews), an application's labels, and a
// candidate with the applications the actor may see.

// PositionApplicationsFilter narrows a position's applications.
type PositionApplicationsFilter struct {
	// Stage keeps the applications at stages of this kind; "" any.
	Stage access.StageKind
	// StageID keeps those at one stage of the position's pipeline; "" any.
	StageID string
	// After continues from the cursor of the previous page.
	After string
	// Limit is the page size (PageSize when 0, at most MaxList).
	Limit int
}

// authorizePositionLean is authorizePosition for a read that needs the
// position's row only: the members are read only when the decision
// depends on them (members only ever add visibility, so an actor allowed
// without them is allowed with them). The position it returns has no
// Members when they were not needed.
func (s *Service) authorizePositionLean(ctx context.Context, q querier, a access.Actor, perm access.Permission, positionID string) (*Position, error) {
	if !id.Valid(positionID) {
		return nil, ErrNotFound
	}
	p, err := scanPosition(q.QueryRowContext(ctx, selectPosition+` WHERE tenant_id = $1 AND id = $2`, a.TenantID, positionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read position: %w", err)
	}
	if access.DecidePosition(a, perm, p.policy()) == access.Allow {
		return p, nil
	}
	return s.authorizePosition(ctx, q, a, perm, positionID)
}

// selectPositionApplication reads the applications of a page with their
// candidate's contact details and their stage's name; the page's ids come
// first from the index of the position's applications (the subquery the
// statement ends with, which PositionApplicationsPage completes), so that
// each engine joins a page of rows, never a company's candidates.
const selectPositionApplication = `SELECT a.id, a.stage, a.stage_id, COALESCE(ps.name, ''), a.rejection_reason, a.source, a.created_at, a.updated_at,
	c.id, c.name, c.email, c.phone, c.basis_until
	FROM applications a JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id
	LEFT JOIN position_stages ps ON ps.tenant_id = a.tenant_id AND ps.id = a.stage_id
	WHERE a.tenant_id = $1 AND a.id IN (SELECT pa.id FROM applications pa WHERE pa.tenant_id = $1 AND pa.position_id = $2`

// PositionApplicationsPage lists a position's applications, newest first,
// one page at a time, each with its candidate's contact details (of their
// bases only Bases.Until) and its stage. One decision on the position
// decides for all its applications (whoever may view a position's
// applications sees every one of them); the page is one query on the index
// of the position's applications. The reads of a list are not written to
// the security log, as the pages' lists are not.
func (s *Service) PositionApplicationsPage(ctx context.Context, a access.Actor, positionID string, f PositionApplicationsFilter) (*ListPage, error) {
	if f.Stage != "" && !slices.Contains(access.StageKinds, f.Stage) {
		return nil, fault.Field("stage", "error.stage")
	}
	if f.StageID != "" && !id.Valid(f.StageID) {
		return nil, fault.Field("stage_id", "error.stage")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	out := &ListPage{}
	err := s.read(ctx, a, func(q querier) error {
		p, err := s.authorizePositionLean(ctx, q, a, access.ViewApplications, positionID)
		if err != nil {
			return err
		}
		var query strings.Builder
		query.WriteString(selectPositionApplication)
		args := []any{a.TenantID, p.ID}
		arg := func(v any) string {
			args = append(args, v)
			return "$" + strconv.Itoa(len(args))
		}
		if f.StageID != "" {
			query.WriteString(" AND pa.stage_id = " + arg(f.StageID))
		}
		if f.Stage != "" {
			// The position's stages of the kind, so that the index of the
			// position's applications serves the filter (not the index of
			// the company's applications by stage).
			query.WriteString(" AND pa.stage_id IN (SELECT sk.id FROM position_stages sk WHERE sk.tenant_id = $1 AND sk.position_id = $2 AND sk.kind = " +
				arg(string(f.Stage)) + ")")
		}
		if t, after, ok := db.ParseTimeCursor(f.After); ok {
			query.WriteString(" AND (pa.created_at, pa.id) < (" + arg(t) + ", " + arg(after) + ")")
		}
		// The index of the position's applications by time
		// (applications_position_created) gives the order of the page.
		query.WriteString(" ORDER BY pa.created_at DESC, pa.id DESC LIMIT " + strconv.Itoa(limit+1) + ") ORDER BY a.created_at DESC, a.id DESC")
		rows, err := q.QueryContext(ctx, query.String(), args...)
		if err != nil {
			return fmt.Errorf("list the position's applications: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			app := &Application{TenantID: a.TenantID, Position: p, Candidate: &Candidate{TenantID: a.TenantID}}
			var stage string
			var until sql.NullTime
			if err := rows.Scan(&app.ID, &stage, &app.StageID, &app.StageName, &app.RejectionReason, &app.Source, &app.CreatedAt, &app.UpdatedAt,
				&app.Candidate.ID, &app.Candidate.Name, &app.Candidate.Email, &app.Candidate.Phone, &until); err != nil {
				return err
			}
			app.Stage = access.StageKind(stage)
			app.CreatedAt, app.UpdatedAt = app.CreatedAt.UTC(), app.UpdatedAt.UTC()
			app.Candidate.Bases = basesOf(sql.NullTime{}, sql.NullTime{}, until) // the end of the bases only: a list reads no more
			out.Applications = append(out.Applications, app)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out.Applications) > limit {
			out.Applications = out.Applications[:limit]
			last := out.Applications[limit-1]
			out.Next = db.TimeCursor(last.CreatedAt, last.ID)
		}
		return nil
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// CandidateView is a candidate with the applications an actor may see.
type CandidateView struct {
	Candidate *Candidate
	// Applications are the candidate's applications the actor may see,
	// newest first.
	Applications []*Application
}

// maxCandidateApplications bounds the applications read with a candidate
// (a person applies to a handful of positions; the bound keeps a read
// from growing with a company's history).
const maxCandidateApplications = MaxList

// CandidateByID returns a candidate with their applications the actor may
// see: a candidate none of whose applications the actor may see is not
// found, as in the list. The read is written to the security log, as
// Application's is.
func (s *Service) CandidateByID(ctx context.Context, a access.Actor, candidateID string) (*CandidateView, error) {
	if !id.Valid(candidateID) {
		return nil, ErrNotFound
	}
	v := &CandidateView{}
	err := s.read(ctx, a, func(q querier) error {
		rows, err := q.QueryContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.candidate_id = $2 ORDER BY a.created_at DESC, a.id DESC LIMIT `+
			strconv.Itoa(maxCandidateApplications), a.TenantID, candidateID)
		if err != nil {
			return fmt.Errorf("read the candidate's applications: %w", err)
		}
		var apps []*Application
		byPosition := map[string]*Position{}
		for rows.Next() {
			app, err := scanApplication(rows)
			if err != nil {
				rows.Close()
				return err
			}
			apps = append(apps, app)
			if p, ok := byPosition[app.Position.ID]; ok {
				app.Position = p
			} else {
				byPosition[app.Position.ID] = app.Position
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(apps) == 0 {
			return ErrNotFound
		}
		if err := fillMembers(ctx, q, a.TenantID, byPosition); err != nil {
			return err
		}
		v.Candidate = apps[0].Candidate
		v.Applications = slices.DeleteFunc(apps, func(app *Application) bool { return !Decide(a, access.ViewApplications, app) })
		if len(v.Applications) == 0 {
			return &denied{perm: access.ViewApplications, decision: access.Hidden, object: audit.Ref{Kind: "candidate", ID: candidateID}}
		}
		return nil
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	err = s.db.InTxNoFlush(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}},
			Details: map[string]string{"permission": access.ViewApplications.Name(), "decision": access.Allow.String()}})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// CommentsPage lists the comments on an application the actor may see,
// oldest first, one page at a time (limit: PageSize when 0, at most
// MaxList), from the index of the application's comments.
func (s *Service) CommentsPage(ctx context.Context, a access.Actor, applicationID, after string, limit int) (cs []Comment, next string, err error) {
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		query := `SELECT id, author_id, body, created_at FROM comments WHERE tenant_id = $1 AND application_id = $2`
		args := []any{a.TenantID, applicationID}
		if t, cid, ok := db.ParseTimeCursor(after); ok {
			query += ` AND (created_at, id) > ($3, $4)`
			args = append(args, t, cid)
		}
		rows, err := q.QueryContext(ctx, query+` ORDER BY created_at, id LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return fmt.Errorf("list comments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c Comment
			if err := rows.Scan(&c.ID, &c.AuthorID, &c.Body, &c.CreatedAt); err != nil {
				return err
			}
			c.CreatedAt = c.CreatedAt.UTC()
			cs = append(cs, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", s.finish(ctx, a, err)
	}
	if len(cs) > limit {
		cs = cs[:limit]
		next = db.TimeCursor(cs[limit-1].CreatedAt, cs[limit-1].ID)
	}
	return cs, next, nil
}

// Labels lists the labels on an application the actor may see, in
// alphabetical order.
func (s *Service) Labels(ctx context.Context, a access.Actor, applicationID string) (labels []string, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, `SELECT label FROM application_labels WHERE tenant_id = $1 AND application_id = $2 ORDER BY label`, a.TenantID, applicationID)
		if err != nil {
			return fmt.Errorf("list labels: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			labels = append(labels, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return labels, nil
}

// InterviewsPage lists the interviews of an application the actor may
// see, earliest first, one page at a time (limit: PageSize when 0, at most
// 100).
func (s *Service) InterviewsPage(ctx context.Context, a access.Actor, applicationID, after string, limit int) (out []*Interview, next string, err error) {
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, 100) // listInterviews reads 200 at most: more than a page
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		where, args := `i.application_id = $2`, []any{applicationID}
		if t, iid, ok := db.ParseTimeCursor(after); ok {
			where += ` AND (i.starts_at, i.id) > ($3, $4)`
			args = append(args, t, iid)
		}
		out, err = s.listInterviews(ctx, q, a.TenantID, where, args...)
		return err
	})
	if err != nil {
		return nil, "", s.finish(ctx, a, err)
	}
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = db.TimeCursor(last.Start.UTC(), last.ID)
	}
	return out, next, nil
}
