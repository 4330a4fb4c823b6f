package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Position statuses.
const (
	Draft     = "draft"
	Published = "published"
	Closed    = "closed"
	Archived  = "archived"
)

// Position is a job position.
type Position struct {
	TenantID         string
	ID               string
	Title            string
	Department       string
	Location         string
	Language         string
	Description      string
	EmploymentType   string
	Status           string
	OwnerID          string
	Members          []string
	FirstPublishedAt *time.Time
	PublishedAt      *time.Time
	CreatedAt        time.Time
	// UpdatedAt is when its fields, status or publication last changed:
	// its version for a conditional edit (EditPositionIf).
	UpdatedAt time.Time
	// Stages is the pipeline (read by Position only).
	Stages []Stage
	// Skills are the skills the position requires, for matching (read by
	// Position only).
	Skills []Skill
	// ProfileFields are what its career form asks candidates for (read by
	// Position only).
	ProfileFields []ProfileAsk
	// Counts are the position's applications per stage kind.
	Counts map[access.StageKind]int
	// StageCounts are its applications per stage of its pipeline.
	StageCounts map[string]int
}

func (p *Position) policy() access.Position {
	return access.Position{TenantID: p.TenantID, OwnerID: p.OwnerID, Members: p.Members}
}

// Total is the number of applications to the position.
func (p *Position) Total() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// PositionInput is what a recruiter gives for a position.
type PositionInput struct {
	Title      string
	Department string
	Location   string
	Language   string
	// Description is the ad's text, in Markdown.
	Description string
	// EmploymentType is one of EmploymentTypes (full_time when empty).
	EmploymentType string
	// Skills are the names of the skills the position requires (at most
	// maxRequiredSkills); names the company's vocabulary lacks are added
	// to it. Nil leaves the required skills as they are; an empty list
	// clears them.
	Skills []string
	// ProfileFields are the parts of the profile the career form asks
	// for (ProfileAskFields). Nil leaves them as they are.
	ProfileFields []ProfileAsk
}

// EmploymentTypes are the kinds of employment a position may offer.
var EmploymentTypes = []string{"full_time", "part_time", "contract", "temporary", "internship"}

// MaxDescription is the longest description of a position, in characters.
const MaxDescription = 20000

func (in *PositionInput) validate() error {
	f := map[string]string{}
	var ok bool
	if in.Title, ok = cleanText(in.Title, 200, true); !ok {
		f["title"] = "error.position_title"
	}
	if in.Department, ok = cleanText(in.Department, 200, false); !ok {
		f["department"] = "error.text_field"
	}
	if in.Location, ok = cleanText(in.Location, 200, false); !ok {
		f["location"] = "error.text_field"
	}
	if !slices.Contains(tenant.Languages, in.Language) {
		f["language"] = "error.language"
	}
	if in.EmploymentType == "" {
		in.EmploymentType = EmploymentTypes[0]
	}
	if !slices.Contains(EmploymentTypes, in.EmploymentType) {
		f["employment_type"] = "error.employment_type"
	}
	in.Description = strings.TrimSpace(norm.NFC.String(in.Description))
	if !utf8.ValidString(in.Description) || utf8.RuneCountInString(in.Description) > MaxDescription ||
		strings.ContainsFunc(in.Description, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		f["description"] = "error.description"
	}
	if in.ProfileFields != nil {
		asks, ok := validProfileAsks(in.ProfileFields)
		if !ok {
			f["profile_fields"] = "error.profile_fields"
		}
		in.ProfileFields = append([]ProfileAsk{}, asks...)
	}
	if len(in.Skills) > maxRequiredSkills {
		f["skills"] = "error.skills_too_many"
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return nil
}

// setPositionSkills replaces the skills a position requires with in's
// (nothing to do when in names none: nil).
func setPositionSkills(ctx context.Context, tx *sql.Tx, tenantID, positionID string, names []string, now time.Time) error {
	if names == nil {
		return nil
	}
	skills, err := ensureSkills(ctx, tx, tenantID, names, now, "skills")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM position_skills WHERE tenant_id = $1 AND position_id = $2`, tenantID, positionID); err != nil {
		return fmt.Errorf("set position skills: %w", err)
	}
	for _, sk := range skills {
		if _, err := tx.ExecContext(ctx, `INSERT INTO position_skills (tenant_id, position_id, skill_id) VALUES ($1, $2, $3)`, tenantID, positionID, sk.ID); err != nil {
			return fmt.Errorf("set position skills: %w", err)
		}
	}
	return nil
}

// CreatePosition creates a draft position owned by the actor.
func (s *Service) CreatePosition(ctx context.Context, a access.Actor, in PositionInput) (*Position, error) {
	if !a.Can(access.CreatePositions) {
		return nil, ErrForbidden
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Position{TenantID: a.TenantID, ID: id.New(), Title: in.Title, Department: in.Department, Location: in.Location,
		Language: in.Language, Description: in.Description, EmploymentType: in.EmploymentType, Status: Draft, OwnerID: a.UserID, CreatedAt: now, UpdatedAt: now, Counts: map[access.StageKind]int{}}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO positions (tenant_id, id, title, department, location, language, description, employment_type, status, owner_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, p.TenantID, p.ID, p.Title, p.Department, p.Location, p.Language, p.Description, p.EmploymentType, p.Status, p.OwnerID, now); err != nil {
			return fmt.Errorf("insert position: %w", err)
		}
		if err := createStages(ctx, tx, a.TenantID, p.ID); err != nil {
			return err
		}
		if err := setPositionSkills(ctx, tx, a.TenantID, p.ID, in.Skills, now); err != nil {
			return err
		}
		if err := setProfileAsks(ctx, tx, a.TenantID, p.ID, in.ProfileFields); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionCreated, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: p.ID}}})
	})

	if err != nil {
		return nil, err
	}
	return p, nil
}

const selectPosition = `SELECT tenant_id, id, title, department, location, language, description, employment_type, status, owner_id, first_published_at, published_at, created_at, updated_at FROM positions`

func scanPosition(row rowScanner) (*Position, error) {
	p := &Position{Counts: map[access.StageKind]int{}}
	var first, published sql.NullTime
	if err := row.Scan(&p.TenantID, &p.ID, &p.Title, &p.Department, &p.Location, &p.Language, &p.Description, &p.EmploymentType, &p.Status, &p.OwnerID, &first, &published, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if first.Valid {
		t := first.Time.UTC()
		p.FirstPublishedAt = &t
	}
	if published.Valid {
		t := published.Time.UTC()
		p.PublishedAt = &t
	}
	return p, nil
}

// loadPosition reads a position with its members, or ErrNotFound.
func loadPosition(ctx context.Context, q querier, tenantID, positionID string) (*Position, error) {
	if !id.Valid(positionID) {
		return nil, ErrNotFound
	}
	p, err := scanPosition(q.QueryRowContext(ctx, selectPosition+` WHERE tenant_id = $1 AND id = $2`, tenantID, positionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read position: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id FROM position_members WHERE tenant_id = $1 AND position_id = $2 ORDER BY user_id`, tenantID, positionID)
	if err != nil {
		return nil, fmt.Errorf("read position members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		p.Members = append(p.Members, u)
	}
	return p, rows.Err()
}

// authorizePosition loads a position and decides perm on it.
func (s *Service) authorizePosition(ctx context.Context, q querier, a access.Actor, perm access.Permission, id string) (*Position, error) {
	p, err := loadPosition(ctx, q, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	if d := access.DecidePosition(a, perm, p.policy()); d != access.Allow {
		return nil, &denied{perm: perm, decision: d, object: audit.Ref{Kind: "position", ID: id}}
	}
	return p, nil
}

// position is Position inside a read transaction.
func (s *Service) position(ctx context.Context, q querier, a access.Actor, id string) (*Position, error) {
	p, err := s.authorizePosition(ctx, q, a, access.ViewPositions, id)
	if err != nil {
		return nil, err
	}
	if p.Stages, err = positionStages(ctx, q, a.TenantID, id); err != nil {
		return nil, err
	}
	if p.Skills, err = positionSkills(ctx, q, a.TenantID, id); err != nil {
		return nil, err
	}
	var asks string
	if err := q.QueryRowContext(ctx, `SELECT profile_fields FROM positions WHERE tenant_id = $1 AND id = $2`, a.TenantID, id).Scan(&asks); err != nil {
		return nil, fmt.Errorf("read profile fields: %w", err)
	}
	p.ProfileFields = ParseProfileAsks(asks)
	if err := fillCounts(ctx, q, a.TenantID, map[string]*Position{id: p}); err != nil {
		return nil, err
	}
	return p, nil
}

// fillCounts reads the counts per stage of the positions in byID from the
// counters the database keeps (application_counts), never by counting
// applications.
func fillCounts(ctx context.Context, q querier, tenantID string, byID map[string]*Position) error {
	if len(byID) == 0 {
		return nil
	}
	args := []any{tenantID}
	in := make([]string, 0, len(byID))
	for id := range byID {
		args = append(args, id)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT ac.position_id, ac.stage_id, ps.kind, ac.n FROM application_counts ac
		JOIN position_stages ps ON ps.tenant_id = ac.tenant_id AND ps.id = ac.stage_id
		WHERE ac.tenant_id = $1 AND ac.position_id IN (`+strings.Join(in, ", ")+`) AND ac.n > 0`, args...)
	if err != nil {
		return fmt.Errorf("count applications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, sid, kind string
		var n int
		if err := rows.Scan(&pid, &sid, &kind, &n); err != nil {
			return err
		}
		if p := byID[pid]; p != nil {
			p.Counts[access.StageKind(kind)] += n
			if p.StageCounts == nil {
				p.StageCounts = map[string]int{}
			}
			p.StageCounts[sid] = n
		}
	}
	return rows.Err()
}

// PositionFilter narrows and pages the positions list.
type PositionFilter struct {
	// Status is one of the position statuses, or "" for all.
	Status string
	// After continues from the cursor of the previous page.
	After string
	// Limit is the page size (PageSize when 0, at most MaxList).
	Limit int
}

// PositionPage is one page of positions.
type PositionPage struct {
	Positions []*Position
	Next      string
	// Total is the number of positions of the whole list.
	Total int
}

// positions is PositionsPage inside a read transaction.
func (s *Service) positions(ctx context.Context, q querier, a access.Actor, f PositionFilter) (*PositionPage, error) {
	out := &PositionPage{}
	if !a.Can(access.ViewPositions) {
		return out, nil
	}
	if f.Status != "" && !slices.Contains([]string{Draft, Published, Closed, Archived}, f.Status) {
		return nil, fault.Field("status", "error.status")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxList)
	args := []any{a.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := ` p WHERE p.tenant_id = $1`
	if !a.Can(access.AllPositions) {
		u := arg(a.UserID)
		where += ` AND (p.owner_id = ` + u + ` OR EXISTS (SELECT 1 FROM position_members m WHERE m.tenant_id = p.tenant_id AND m.position_id = p.id AND m.user_id = ` + u + `))`
	}
	if f.Status != "" {
		where += ` AND p.status = ` + arg(f.Status)
	}
	// A company has thousands of positions, not hundreds of thousands:
	// counting them through the index is cheap.
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM positions`+where, args...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("count positions: %w", err)
	}
	if t, id, ok := db.ParseTimeCursor(f.After); ok {
		where += ` AND (p.created_at, p.id) < (` + arg(t) + `, ` + arg(id) + `)`
	}
	rows, err := q.QueryContext(ctx, selectPosition+where+fmt.Sprintf(` ORDER BY p.created_at DESC, p.id DESC LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, fmt.Errorf("list positions: %w", err)
	}
	byID := map[string]*Position{}
	for rows.Next() {
		p, err := scanPosition(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out.Positions = append(out.Positions, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Positions) > limit {
		out.Positions = out.Positions[:limit]
		last := out.Positions[limit-1]
		out.Next = db.TimeCursor(last.CreatedAt, last.ID)
	}
	for _, p := range out.Positions {
		byID[p.ID] = p
	}
	if err := fillMembers(ctx, q, a.TenantID, byID); err != nil {
		return nil, err
	}
	out.Positions = slices.DeleteFunc(out.Positions, func(p *Position) bool {
		return access.DecidePosition(a, access.ViewPositions, p.policy()) != access.Allow
	})
	if err := fillCounts(ctx, q, a.TenantID, byID); err != nil {
		return nil, err
	}
	return out, nil
}

// PositionTitle is a position as a filter offers it.
type PositionTitle struct {
	ID, Title, Status string
}

// PositionTitles lists the titles of the open (draft and published)
// positions the actor may see, by title, and of the position selected
// (whatever its status): what the candidate list's position filter shows.
// It reads titles only, never statistics.
func (s *Service) PositionTitles(ctx context.Context, a access.Actor, selected string) (out []PositionTitle, err error) {
	if !a.Can(access.ViewPositions) {
		return nil, nil
	}
	err = s.read(ctx, a, func(q querier) error {
		args := []any{a.TenantID, Draft, Published, selected}
		vis := ""
		if !a.Can(access.AllPositions) {
			args = append(args, a.UserID)
			vis = ` AND (p.owner_id = $5 OR EXISTS (SELECT 1 FROM position_members m WHERE m.tenant_id = p.tenant_id AND m.position_id = p.id AND m.user_id = $5))`
		}
		rows, err := q.QueryContext(ctx, `SELECT p.id, p.title, p.status FROM positions p WHERE p.tenant_id = $1 AND p.status IN ($2, $3)`+vis+`
			UNION SELECT p.id, p.title, p.status FROM positions p WHERE p.tenant_id = $1 AND p.id = $4`+vis+` ORDER BY 2, 1 LIMIT 1000`, args...)
		if err != nil {
			return fmt.Errorf("list position titles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t PositionTitle
			if err := rows.Scan(&t.ID, &t.Title, &t.Status); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// fillMembers reads the members of the positions in byID.
func fillMembers(ctx context.Context, q querier, tenantID string, byID map[string]*Position) error {
	if len(byID) == 0 {
		return nil
	}
	args := []any{tenantID}
	in := make([]string, 0, len(byID))
	for id := range byID {
		args = append(args, id)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT position_id, user_id FROM position_members WHERE tenant_id = $1 AND position_id IN (`+strings.Join(in, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("read position members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, uid string
		if err := rows.Scan(&pid, &uid); err != nil {
			return err
		}
		if p := byID[pid]; p != nil {
			p.Members = append(p.Members, uid)
		}
	}
	return rows.Err()
}

// EditPosition changes a position's title, department, location and language.
func (s *Service) EditPosition(ctx context.Context, a access.Actor, id string, in PositionInput) error {
	return s.editPosition(ctx, a, id, in, time.Time{})
}

// EditPositionIf is EditPosition on condition that the position is still
// at version (its UpdatedAt when the caller read it): otherwise it
// changes nothing and returns fault.ErrStale. The version is compared by
// the update itself, so two edits from the same version cannot both win.
func (s *Service) EditPositionIf(ctx context.Context, a access.Actor, id string, in PositionInput, version time.Time) error {
	if version.IsZero() {
		return fault.ErrStale
	}
	return s.editPosition(ctx, a, id, in, version)
}

func (s *Service) editPosition(ctx context.Context, a access.Actor, id string, in PositionInput, version time.Time) error {
	if err := in.validate(); err != nil {
		return err
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.EditPositions, id); err != nil {
			return err
		}
		q := `UPDATE positions SET title = $3, department = $4, location = $5, language = $6, description = $7, employment_type = $8, updated_at = $9
			WHERE tenant_id = $1 AND id = $2`
		args := []any{a.TenantID, id, in.Title, in.Department, in.Location, in.Language, in.Description, in.EmploymentType, s.now()}
		if !version.IsZero() {
			q += ` AND updated_at = $10`
			args = append(args, version.UTC())
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("update position: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fault.ErrStale
		}
		if err := setPositionSkills(ctx, tx, a.TenantID, id, in.Skills, s.now()); err != nil {
			return err
		}
		if err := setProfileAsks(ctx, tx, a.TenantID, id, in.ProfileFields); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: id}}})
	}))
}

// SharePosition sets the colleagues (line managers, typically) a position
// is shared with; each must be an active user of the company.
func (s *Service) SharePosition(ctx context.Context, a access.Actor, positionID string, members []string) error {
	slices.Sort(members)
	members = slices.Compact(members)
	if len(members) > 100 {
		return fault.Field("members", "error.members")
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.EditPositions, positionID); err != nil {
			return err
		}
		for _, m := range members {
			// A member sees the position and its applications; others
			// (an administrator, a case handler) could open nothing shared.
			c, ok, err := colleague(ctx, tx, a.TenantID, m)
			if err != nil {
				return err
			}
			if !ok || !c.Perms.Has(access.ViewPositions) || !c.Perms.Has(access.ViewApplications) {
				return fault.Field("members", "error.members")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM position_members WHERE tenant_id = $1 AND position_id = $2`, a.TenantID, positionID); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO position_members (tenant_id, position_id, user_id) VALUES ($1, $2, $3)`, a.TenantID, positionID, m); err != nil {
				return fmt.Errorf("share position: %w", err)
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionShared, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: positionID}}, Details: map[string]string{"members": fmt.Sprint(len(members))}})
	}))
}

// Publication tells what publishing a position cost.
type Publication struct {
	// Credits spent; 0 within the free allowance or for a position published before.
	Credits int
	// FreeLeft is what remains of this month's free allowance.
	FreeLeft int
}

// Publish puts a position on the career page. The first publication of a
// position counts against the company's free allowance of the calendar
// month (UTC); beyond it, it costs credits, debited in the same
// transaction (credit.ErrInsufficient when the balance does not cover it,
// credit.ErrForbidden for a user who may not spend credits). Reopening a
// closed position is free.
func (s *Service) Publish(ctx context.Context, a access.Actor, id string) (*Publication, error) {
	t, err := s.tenants.ByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	var pub Publication
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.PublishPositions, id); err != nil {
			return err
		}

		var status string
		var first bool
		if err := tx.QueryRowContext(ctx, `UPDATE positions SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2
			RETURNING status, first_published_at IS NULL`, a.TenantID, id).Scan(&status, &first); err != nil {
			return fmt.Errorf("lock position: %w", err)
		}
		if status == Published || status == Archived {
			return ErrState
		}
		now := s.now().UTC()
		if first {

			if err := s.credits.Lock(ctx, tx, a.TenantID); err != nil {
				return err
			}
			price, freeLeft, err := publicationPrice(ctx, tx, t, true, now)
			if err != nil {
				return err
			}
			if price > 0 {
				pub.Credits = price
				if _, err := s.credits.SpendTx(ctx, tx, a, int64(pub.Credits), credit.ReasonPublication, audit.Ref{Kind: "position", ID: id}); err != nil {
					return err
				}
			}
			pub.FreeLeft = max(0, freeLeft-1)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE positions SET status = $3, published_at = $4, first_published_at = COALESCE(first_published_at, $4), updated_at = $4
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, id, Published, now); err != nil {
			return fmt.Errorf("publish position: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionPublished, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: id}}, Details: map[string]string{"credits": fmt.Sprint(pub.Credits), "first": fmt.Sprint(first)}})
	})

	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return &pub, nil
}

// Close takes a published position off the career page.
func (s *Service) Close(ctx context.Context, a access.Actor, id string) error {
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.PublishPositions, id)
		if err != nil {
			return err
		}
		if p.Status != Published {
			return ErrState
		}
		if _, err := tx.ExecContext(ctx, `UPDATE positions SET status = $3, published_at = NULL, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
			a.TenantID, id, Closed, s.now()); err != nil {
			return fmt.Errorf("close position: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionClosed, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: id}}})
	}))
}

// Archive puts a draft or closed position away: it can no longer be
// published, and its candidates stay until the privacy rules erase them.
func (s *Service) Archive(ctx context.Context, a access.Actor, id string) error {
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.PublishPositions, id)
		if err != nil {
			return err
		}
		if p.Status != Draft && p.Status != Closed {
			return ErrState
		}
		if _, err := tx.ExecContext(ctx, `UPDATE positions SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, a.TenantID, id, Archived, s.now()); err != nil {
			return fmt.Errorf("archive position: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionClosed, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: id}}})
	}))
}

// Position returns a position the actor may see, with its counts per stage.
func (s *Service) Position(ctx context.Context, a access.Actor, id string) (p *Position, err error) {
	err = s.read(ctx, a, func(q querier) error { p, err = s.position(ctx, q, a, id); return err })
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return p, nil
}

// PositionsPage lists the positions the actor may see, newest first, with
// their counts per stage, one page at a time. The query narrows by the
// same rule the policy states, and every row is checked by the policy as well.
func (s *Service) PositionsPage(ctx context.Context, a access.Actor, f PositionFilter) (p *PositionPage, err error) {
	err = s.read(ctx, a, func(q querier) error { p, err = s.positions(ctx, q, a, f); return err })
	return p, err
}
