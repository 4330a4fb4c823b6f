package recruit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The expiry notices (issue 14): recruiters see the candidates whose
// processing basis ends within tenant.NoticeMonths, soonest first, on a
// list of their own, as a badge on the card and the candidate list, and in
// a weekly digest email. Each reads candidates.basis_until (basis.go keeps
// it) through the index candidates_basis (tenant_id, basis_until).

// The bases a candidate's data is kept on.
const (
	BasisPurpose = "purpose"
	BasisConsent = "consent"
)

// Basis names the basis that keeps the data longest, the one whose end is
// Until: BasisConsent or BasisPurpose ("" when the bases are not known).
func (b Bases) Basis() string {
	switch {
	case b.Until.IsZero():
		return ""
	case !b.ConsentUntil.IsZero() && !b.ConsentUntil.Before(b.PurposeUntil):
		return BasisConsent
	}
	return BasisPurpose
}

// basesOf are the bases read from a candidate's row.
func basesOf(purpose, consent, until sql.NullTime) Bases {
	var b Bases
	if purpose.Valid {
		b.PurposeUntil = purpose.Time.UTC()
	}
	if consent.Valid {
		b.ConsentUntil = consent.Time.UTC()
	}
	if until.Valid {
		b.Until = until.Time.UTC()
	}
	return b
}

// NoticeHorizon is the end of the notice period that starts at now, on
// the calendar of loc: a basis that ends before it is expiring.
func NoticeHorizon(now time.Time, loc *time.Location) time.Time {
	return db.Time(tenant.AddMonths(now, tenant.NoticeMonths, loc))
}

// companyLocation reads the company's time zone inside q, a transaction
// declared to the company.
func companyLocation(ctx context.Context, q querier, tenantID string) (*time.Location, error) {
	var lang, settings string
	if err := q.QueryRowContext(ctx, `SELECT default_language, settings FROM tenants WHERE id = $1`, tenantID).Scan(&lang, &settings); err != nil {
		return nil, fmt.Errorf("read the company's time zone: %w", err)
	}
	t := &tenant.Tenant{DefaultLanguage: lang, Settings: tenant.ParseSettings(settings)}
	return t.Location(), nil
}

// Expiring is a candidate whose bases end within the notice period.
type Expiring struct {
	CandidateID string
	Name        string
	Bases       Bases
	// ApplicationID is the candidate's newest application the actor sees:
	// the card the row links to.
	ApplicationID string
	// RequestPending: a request for consent was sent and awaits the
	// candidate's answer.
	RequestPending bool
}

// ExpiringList is one page of the candidates whose bases end soon.
type ExpiringList struct {
	Candidates []Expiring
	// Next is the cursor of the next page; "" on the last page.
	Next string
	// Horizon is the end of the notice period: the bases shown end before it.
	Horizon time.Time
	// Location is the company's time zone, in which the dates are shown.
	Location *time.Location
	// Company counts the company's candidates whose bases end before
	// Horizon, for those who hold privacy.settings (-1 for others): an
	// administrator, who sees no candidate, learns how many there are.
	Company int
}

// expiringSelect reads the candidates of the notice period soonest first
// from candidates_basis; the actor's visibility and the cursor are added.
const expiringSelect = `SELECT c.id, c.name, c.purpose_until, c.consent_until, c.basis_until,
	EXISTS (SELECT 1 FROM consent_requests r WHERE r.tenant_id = c.tenant_id AND r.candidate_id = c.id AND r.answered_at IS NULL AND r.expires_at > $2)
	FROM candidates c WHERE c.tenant_id = $1 AND c.basis_until < $3`

// ExpiringCandidates lists the candidates the actor may see whose bases
// end within the notice period (already ended ones first: the daily sweep
// has yet to erase them), soonest first, a page at a time from the cursor
// after. Those holding privacy.settings or applications.view may ask;
// each sees the candidates the candidate list shows them.
func (s *Service) ExpiringCandidates(ctx context.Context, a access.Actor, after string, limit int) (*ExpiringList, error) {
	if !a.Can(access.PrivacySettings) && !a.Can(access.ViewApplications) {
		return nil, ErrForbidden
	}
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	now := s.now()
	out := &ExpiringList{Company: -1}
	err := s.read(ctx, a, func(q querier) error {
		loc, err := companyLocation(ctx, q, a.TenantID)
		if err != nil {
			return err
		}
		out.Location, out.Horizon = loc, NoticeHorizon(now, loc)
		if a.Can(access.PrivacySettings) {
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND basis_until < $2`,
				a.TenantID, out.Horizon).Scan(&out.Company); err != nil {
				return fmt.Errorf("count expiring candidates: %w", err)
			}
		}
		args := []any{a.TenantID, db.Time(now), out.Horizon}
		arg := func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		}
		vis := visibleCandidate(a, "c.id", arg)
		if vis == "" {
			return nil // no candidate is theirs to see
		}
		var query strings.Builder
		query.WriteString(expiringSelect)
		if t, id, ok := db.ParseTimeCursor(after); ok {
			// The range starts at the cursor (candidates_basis has no id).
			ts := arg(t)
			query.WriteString(" AND c.basis_until >= " + ts + " AND (c.basis_until > " + ts + " OR c.id > " + arg(id) + ")")
		}
		if vis != "TRUE" {
			query.WriteString(" AND " + vis)
		}
		fmt.Fprintf(&query, " ORDER BY c.basis_until, c.id LIMIT %d", limit+1)
		rows, err := q.QueryContext(ctx, query.String(), args...)
		if err != nil {
			return fmt.Errorf("list expiring candidates: %w", err)
		}
		for rows.Next() {
			var e Expiring
			var purpose, consent, until sql.NullTime
			if err := rows.Scan(&e.CandidateID, &e.Name, &purpose, &consent, &until, &e.RequestPending); err != nil {
				rows.Close()
				return fmt.Errorf("list expiring candidates: %w", err)
			}
			e.Bases = basesOf(purpose, consent, until)
			out.Candidates = append(out.Candidates, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list expiring candidates: %w", err)
		}
		if len(out.Candidates) > limit {
			out.Candidates = out.Candidates[:limit]
			last := out.Candidates[limit-1]
			out.Next = db.TimeCursor(last.Bases.Until, last.CandidateID)
		}
		return s.expiringCards(ctx, q, a, out.Candidates)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// expiringCards finds each listed candidate's newest application the
// actor may open, with one query for the page.
func (s *Service) expiringCards(ctx context.Context, q querier, a access.Actor, list []Expiring) error {
	if len(list) == 0 {
		return nil
	}
	args := []any{a.TenantID}
	in := make([]string, len(list))
	for i, e := range list {
		args = append(args, e.CandidateID)
		in[i] = fmt.Sprintf("$%d", i+2)
	}
	// What the policy decides on, and no more: the page's candidates were
	// read already.
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.candidate_id, a.stage, a.position_id, p.owner_id
		FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
		WHERE a.tenant_id = $1 AND a.candidate_id IN (`+strings.Join(in, ", ")+`) ORDER BY a.created_at DESC, a.id DESC`, args...)
	if err != nil {
		return fmt.Errorf("read the candidates' applications: %w", err)
	}
	var apps []*Application
	byPosition := map[string]*Position{}
	for rows.Next() {
		app := &Application{TenantID: a.TenantID, Position: &Position{TenantID: a.TenantID}, Candidate: &Candidate{TenantID: a.TenantID}}
		var stage string
		if err := rows.Scan(&app.ID, &app.Candidate.ID, &stage, &app.Position.ID, &app.Position.OwnerID); err != nil {
			rows.Close()
			return fmt.Errorf("read the candidates' applications: %w", err)
		}
		app.Stage = access.StageKind(stage)
		if p, ok := byPosition[app.Position.ID]; ok {
			app.Position = p
		} else {
			byPosition[app.Position.ID] = app.Position
		}
		apps = append(apps, app)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := fillMembers(ctx, q, a.TenantID, byPosition); err != nil {
		return err
	}
	card := map[string]string{}
	for _, app := range apps {
		if _, ok := card[app.Candidate.ID]; !ok && Decide(a, access.ViewApplications, app) {
			card[app.Candidate.ID] = app.ID
		}
	}
	for i := range list {
		list[i].ApplicationID = card[list[i].CandidateID]
	}
	return nil
}

// ExpiringCounts counts, inside tx (declared to the company), the
// candidates whose bases end before horizon: the company's, and by each
// user who owns a position one of them applied to (the owner's
// candidates). The weekly digest tells them.
func ExpiringCounts(ctx context.Context, tx *sql.Tx, tenantID string, horizon time.Time) (company int, byOwner map[string]int, err error) {
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND basis_until < $2`,
		tenantID, horizon).Scan(&company); err != nil {
		return 0, nil, fmt.Errorf("count expiring candidates: %w", err)
	}
	byOwner = map[string]int{}
	if company == 0 {
		return 0, byOwner, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT p.owner_id, count(DISTINCT c.id) FROM candidates c
		JOIN applications a ON a.tenant_id = c.tenant_id AND a.candidate_id = c.id
		JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
		WHERE c.tenant_id = $1 AND c.basis_until < $2 GROUP BY p.owner_id`, tenantID, horizon)
	if err != nil {
		return 0, nil, fmt.Errorf("count expiring candidates by owner: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			return 0, nil, fmt.Errorf("count expiring candidates by owner: %w", err)
		}
		byOwner[owner] = n
	}
	return company, byOwner, rows.Err()
}
