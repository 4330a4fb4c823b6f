package recruit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/tenant"
)

// ListFilter narrows the candidate list.
type ListFilter struct {
	// Text matches the candidate's name or email (case-insensitive).
	Text       string
	PositionID string
	Stage      access.StageKind
	Label      string
	Source     string
}

// MaxList is the longest candidate list one page shows.
const MaxList = 500

// ListApplications lists the applications the actor may see, newest
// first, narrowed by f: those of the positions they see, and the shared
// pool when they have it. Every row is checked by the policy as well.
func (s *Service) ListApplications(ctx context.Context, a access.Actor, f ListFilter) ([]*Application, error) {
	if !a.Can(access.ViewApplications) && !a.Can(access.ViewSharedPool) {
		return nil, ErrForbidden
	}
	if f.Stage != "" && !slices.Contains(access.StageKinds, f.Stage) {
		return nil, &ValidationError{Fields: map[string]string{"stage": "error.stage"}}
	}
	if f.PositionID != "" && !tenant.ValidID(f.PositionID) {
		return nil, &ValidationError{Fields: map[string]string{"position": "error.position"}}
	}
	var out []*Application
	err := s.read(ctx, a, func(q querier) error {
		var where strings.Builder
		args := []any{a.TenantID}
		arg := func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		}
		where.WriteString(" WHERE a.tenant_id = $1")
		// Visibility, as the policy states it.
		var vis []string
		if a.Can(access.ViewApplications) && a.Can(access.ViewPositions) {
			if a.Can(access.AllPositions) {
				vis = append(vis, "TRUE")
			} else {
				u := arg(a.UserID)
				vis = append(vis, "p.owner_id = "+u,
					"EXISTS (SELECT 1 FROM position_members m WHERE m.tenant_id = p.tenant_id AND m.position_id = p.id AND m.user_id = "+u+")")
			}
		}
		if a.Can(access.ViewSharedPool) {
			vis = append(vis, "a.stage IN ('preselected', 'interview', 'offer', 'hired')")
		}
		if len(vis) == 0 {
			return nil
		}
		where.WriteString(" AND (" + strings.Join(vis, " OR ") + ")")
		if t := strings.ToLower(strings.TrimSpace(f.Text)); t != "" {
			like := arg("%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(t) + "%")
			where.WriteString(" AND (lower(c.name) LIKE " + like + " ESCAPE '\\' OR c.email LIKE " + like + " ESCAPE '\\')")
		}
		if f.PositionID != "" {
			where.WriteString(" AND a.position_id = " + arg(f.PositionID))
		}
		if f.Stage != "" {
			where.WriteString(" AND a.stage = " + arg(string(f.Stage)))
		}
		if f.Source != "" {
			where.WriteString(" AND a.source = " + arg(cleanSource(f.Source)))
		}
		if f.Label != "" {
			where.WriteString(" AND EXISTS (SELECT 1 FROM application_labels l WHERE l.tenant_id = a.tenant_id AND l.application_id = a.id AND l.label = " + arg(f.Label) + ")")
		}
		rows, err := q.QueryContext(ctx, selectApplication+where.String()+fmt.Sprintf(" ORDER BY a.created_at DESC, a.id DESC LIMIT %d", MaxList), args...)
		if err != nil {
			return fmt.Errorf("list applications: %w", err)
		}
		byPosition := map[string]*Position{}
		for rows.Next() {
			app, err := scanApplication(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, app)
			byPosition[app.Position.ID] = app.Position
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := fillMembers(ctx, q, a.TenantID, byPosition); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(app *Application) bool { return !Decide(a, access.ViewApplications, app) }), nil
}

// BulkAction is a change applied to a selection of applications.
type BulkAction struct {
	// Kind is "move", "reject" or "label".
	Kind   string
	Stage  access.StageKind
	Reason string
	Label  string
	// Notify sends the rejection email with a rejection.
	Notify bool
}

// BulkResult says how a bulk action went.
type BulkResult struct {
	Done int
	// Refused counts the applications the actor may not change (or that are gone).
	Refused int
}

// Bulk applies one action to each selected application the actor may
// change, each in its own transaction with its own audit record; the
// others are counted as refused.
func (s *Service) Bulk(ctx context.Context, a access.Actor, ids []string, act BulkAction) (*BulkResult, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 || len(ids) > MaxList {
		return nil, &ValidationError{Fields: map[string]string{"selection": "error.selection"}}
	}
	res := &BulkResult{}
	for _, id := range ids {
		var err error
		switch act.Kind {
		case "move":
			err = s.MoveStage(ctx, a, id, act.Stage, "")
		case "reject":
			err = s.MoveStageNotify(ctx, a, id, access.StageRejected, act.Reason, act.Notify)
		case "label":
			err = s.AddLabel(ctx, a, id, act.Label)
		default:
			return nil, &ValidationError{Fields: map[string]string{"action": "error.bulk_action"}}
		}
		var ve *ValidationError
		switch {
		case errors.As(err, &ve):
			return nil, err // the same for every row: say it once
		case errors.Is(err, ErrForbidden), errors.Is(err, ErrNotFound):
			res.Refused++
		case err != nil:
			return res, err
		default:
			res.Done++
		}
	}
	return res, nil
}

// OtherApplications lists the candidate's other applications to the
// company that the actor may see (a person applies to several positions).
func (s *Service) OtherApplications(ctx context.Context, a access.Actor, app *Application) (out []*Application, err error) {
	err = s.read(ctx, a, func(q querier) error {
		out, err = otherApplications(ctx, q, a, app)
		return err
	})
	return out, err
}

// otherApplications reads the candidate's other applications and keeps the
// ones a may see.
func otherApplications(ctx context.Context, q querier, a access.Actor, app *Application) ([]*Application, error) {
	rows, err := q.QueryContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.candidate_id = $2 AND a.id <> $3 ORDER BY a.created_at DESC`,
		a.TenantID, app.Candidate.ID, app.ID)
	if err != nil {
		return nil, fmt.Errorf("list the candidate's applications: %w", err)
	}
	var out []*Application
	byPosition := map[string]*Position{}
	for rows.Next() {
		other, err := scanApplication(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, other)
		byPosition[other.Position.ID] = other.Position
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := fillMembers(ctx, q, a.TenantID, byPosition); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(o *Application) bool { return !Decide(a, access.ViewApplications, o) }), nil
}
