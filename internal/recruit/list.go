package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// ListFilter narrows the candidate list.
type ListFilter struct {
	// Text is a query in the search language (internal/search): words
	// match the start of words of the candidate's name, email, phone,
	// positions, labels, comments and documents, with or without
	// diacritics ("dvor" finds Dvořák); "phrases", -exclusions, OR and
	// field filters (stage:, label:, position:, source:, applied:,
	// consent:) narrow it.
	Text       string
	PositionID string
	Stage      access.StageKind
	Label      string
	Source     string
	// After continues the list from the cursor of the previous page.
	After string
	// Limit is the page size (PageSize when 0, at most MaxList).
	Limit int
}

// PageSize is the number of rows a list page shows.
const PageSize = 50

// MaxList is the longest page a list returns, and the largest selection a
// bulk action takes.
const MaxList = 500

// countCap is where a count that is not kept by counters stops: beyond it,
// the list says "more than".
const countCap = 1000

// ListPage is one page of a list.
type ListPage struct {
	Applications []*Application
	// Next is the cursor of the next page; "" on the last page.
	Next string
	// Total is the number of rows of the whole list; when TotalCapped,
	// there are more than Total.
	Total       int
	TotalCapped bool
	// TotalEstimate: Total is the company's total of a moment ago (a large
	// company's, kept for totalTTL rather than summed at every page).
	TotalEstimate bool
}

// A large company's total of applications is summed from thousands of
// counters (one per position and stage): kept a moment, it is an estimate
// that costs nothing; a small company's is summed every time, exactly.
const (
	totalTTL       = 30 * time.Second
	totalEstimated = 10000
)

type totalCache struct {
	mu sync.Mutex
	m  map[string]cachedTotal
}

type cachedTotal struct {
	n  int
	at time.Time
}

func (c *totalCache) get(tenantID string, now time.Time) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[tenantID]
	return t.n, ok && now.Sub(t.at) < totalTTL
}

func (c *totalCache) put(tenantID string, n int, now time.Time) {
	if n < totalEstimated {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedTotal{}
	}
	c.m[tenantID] = cachedTotal{n, now}
}

// visibleApplications is the SQL condition that the actor may see the
// application aliased app, whose position is aliased pos: the policy's
// rule (access.DecideApplication) for many rows at once, with no query per
// row. One sees the applications of the positions one sees (all of them,
// or those one owns or is a member of) when one may view applications and
// positions, and those at the shared pool's stages when one may view the
// pool. It is "TRUE" when the actor sees every application of the company
// (no need to join the positions), "" when they see none, and otherwise a
// parenthesised condition. The company is $1; values go through arg.
func visibleApplications(a access.Actor, app, pos string, arg func(any) string) string {
	var vis []string
	if a.Can(access.ViewApplications) && a.Can(access.ViewPositions) {
		if a.Can(access.AllPositions) {
			return "TRUE"
		}
		u := arg(a.UserID)
		vis = append(vis, pos+".owner_id = "+u,
			"EXISTS (SELECT 1 FROM position_members vis_m WHERE vis_m.tenant_id = "+pos+".tenant_id AND vis_m.position_id = "+pos+".id AND vis_m.user_id = "+u+")")
	}
	if a.Can(access.ViewSharedPool) {
		vis = append(vis, app+".stage IN ('preselected', 'interview', 'offer', 'hired')")
	}
	if len(vis) == 0 {
		return ""
	}
	return "(" + strings.Join(vis, " OR ") + ")"
}

// ListApplications is the first page of ListPage's list.
func (s *Service) ListApplications(ctx context.Context, a access.Actor, f ListFilter) ([]*Application, error) {
	p, err := s.ListPage(ctx, a, f)
	if err != nil {
		return nil, err
	}
	return p.Applications, nil
}

// ListPage lists the applications the actor may see, newest first, narrowed
// by f, one page at a time: those of the positions they see, and the shared
// pool when they have it. Every row is checked by the policy as well. Each
// page reads its rows from an index from the cursor on, never the
// company's whole list.
func (s *Service) ListPage(ctx context.Context, a access.Actor, f ListFilter) (*ListPage, error) {
	if !a.Can(access.ViewApplications) && !a.Can(access.ViewSharedPool) {
		return nil, ErrForbidden
	}
	if f.Stage != "" && !slices.Contains(access.StageKinds, f.Stage) {
		return nil, fault.Field("stage", "error.stage")
	}
	if f.PositionID != "" && !id.Valid(f.PositionID) {
		return nil, fault.Field("position", "error.position")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	out := &ListPage{}
	err := s.read(ctx, a, func(q querier) error {
		var where strings.Builder
		args := []any{a.TenantID}
		arg := func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		}
		where.WriteString(" WHERE a.tenant_id = $1")
		vis := visibleApplications(a, "a", "p", arg)
		if vis == "" {
			return nil
		}
		// The page and its count join positions only when visibility needs them.
		from := " FROM applications a"
		if vis != "TRUE" {
			from += " JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id"
			where.WriteString(" AND " + vis)
		}
		if t := strings.TrimSpace(f.Text); t != "" {
			cond, err := s.queryFilter(ctx, q, t, a.TenantID, arg)
			if errors.Is(err, errNoTerms) {
				return nil // nothing searchable typed: nothing matches
			}
			if err != nil {
				return err
			}
			if err := s.index().PlanForValues(ctx, q); err != nil {
				return err
			}
			where.WriteString(" AND " + cond)
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
			label, ok := cleanLabel(f.Label)
			if !ok {
				return nil // no label is like that: nothing matches
			}
			// From the label's index: the labelled applications, not every
			// one (uncorrelated, so it runs once).
			where.WriteString(" AND a.id IN (SELECT l.application_id FROM application_labels l WHERE l.tenant_id = $1 AND l.label = " + arg(label) + ")")
		}
		filtered := where.String()
		filteredArgs := slices.Clone(args)
		if t, id, ok := db.ParseTimeCursor(f.After); ok {
			where.WriteString(" AND (a.created_at, a.id) < (" + arg(t) + ", " + arg(id) + ")")
		}
		order := fmt.Sprintf(" ORDER BY a.created_at DESC, a.id DESC LIMIT %d", limit+1)
		query := selectApplication + where.String() + order // the list's own index serves the order: no sort
		if f.Text != "" || f.PositionID != "" || f.Label != "" {
			// The matches are sorted: their ids first (joined to nothing
			// but what visibility needs), then the page's rows with their
			// position and candidate (a join of 51 rows, which no engine
			// does by reading a whole table).
			query = selectApplication + " WHERE a.tenant_id = $1 AND a.id IN (SELECT a.id" + from + where.String() + order + ") ORDER BY a.created_at DESC, a.id DESC"
		}
		rows, err := q.QueryContext(ctx, query, args...)
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
			out.Applications = append(out.Applications, app)
			// One Position per id, shared by its applications, so that the
			// members read below reach every one of them.
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
		if len(out.Applications) > limit {
			out.Applications = out.Applications[:limit]
			last := out.Applications[limit-1]
			out.Next = db.TimeCursor(last.CreatedAt, last.ID)
		}
		if err := fillMembers(ctx, q, a.TenantID, byPosition); err != nil {
			return err
		}
		// The total: from the counters when only the position narrows an
		// unrestricted list, else counted up to countCap.
		if a.Can(access.AllPositions) && a.Can(access.ViewApplications) && f.Text == "" && f.Label == "" && f.Source == "" && f.Stage == "" {
			var n sql.NullInt64
			if f.PositionID == "" {
				if t, ok := s.totals.get(a.TenantID, s.now()); ok {
					out.Total, out.TotalEstimate = t, true
					return nil
				}
				err = q.QueryRowContext(ctx, `SELECT sum(n) FROM application_counts WHERE tenant_id = $1`, a.TenantID).Scan(&n)
				s.totals.put(a.TenantID, int(n.Int64), s.now())
			} else {
				err = q.QueryRowContext(ctx, `SELECT sum(n) FROM application_counts WHERE tenant_id = $1 AND position_id = $2`, a.TenantID, f.PositionID).Scan(&n)
			}
			out.Total = int(n.Int64)
		} else {
			err = q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1`+from+
				filtered+fmt.Sprintf(" LIMIT %d) x", countCap+1), filteredArgs...).Scan(&out.Total)
			if out.Total > countCap {
				out.Total, out.TotalCapped = countCap, true
			}
		}
		if err != nil {
			return fmt.Errorf("count applications: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Applications = slices.DeleteFunc(out.Applications, func(app *Application) bool { return !Decide(a, access.ViewApplications, app) })
	return out, nil
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
		return nil, fault.Field("selection", "error.selection")
	}
	res := &BulkResult{}
	for _, id := range ids {
		var err error
		switch act.Kind {
		case "move":
			err = s.Move(ctx, a, id, MoveInput{Kind: act.Stage})
		case "reject":
			err = s.Move(ctx, a, id, MoveInput{Kind: access.StageRejected, Reason: act.Reason, Notify: act.Notify})
		case "label":
			err = s.AddLabel(ctx, a, id, act.Label)
		default:
			return nil, fault.Field("action", "error.bulk_action")
		}
		var ve *fault.Invalid
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
		if p, ok := byPosition[other.Position.ID]; ok {
			other.Position = p
		} else {
			byPosition[other.Position.ID] = other.Position
		}
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
