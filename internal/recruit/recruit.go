// Package recruit holds positions, candidates, applications and their
// comments: the recruitment process. Every method takes the acting user
// (access.Actor), asks the access policy before reading or writing, and
// writes its change and its audit record in one transaction. An object the
// actor may not know exists is ErrNotFound; one they see but may not act on
// is ErrForbidden; either denial is written to the security log.
package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Errors of this package.
var (
	// ErrNotFound: no such object in the actor's company, or one they may not know exists.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the actor sees the object but may not do this to it.
	ErrForbidden = errors.New("not permitted")
	// ErrState: the object is not in a state that allows the action (e.g. publishing a closed position twice).
	ErrState = errors.New("not possible in this state")
)

// ValidationError names the fields of a bad input and a message key for each.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid input: %v", e.Fields) }

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
	// Stages is the pipeline (read by Position only).
	Stages []Stage
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

// Candidate is a person who applied to the company.
type Candidate struct {
	TenantID string
	ID       string
	Name     string
	Email    string
	Phone    string
}

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

// Comment is a remark of a colleague on an application.
type Comment struct {
	ID        string
	AuthorID  string
	Body      string
	CreatedAt time.Time
}

// Service runs the recruitment process.
type Service struct {
	db      *db.DB
	audit   *audit.Log
	credits *credit.Service
	tenants *tenant.Service
	career  CareerOptions
	base    atomic.Value // string: the derived base URL (SetBaseURL)
	now     func() time.Time
	totals  totalCache
}

// NewService returns the recruitment service.
func NewService(d *db.DB, log *audit.Log, credits *credit.Service, tenants *tenant.Service) *Service {
	return &Service{db: d, audit: log, credits: credits, tenants: tenants, now: db.Now}
}

// SetClock replaces the time source (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// denied is a policy denial on its way out of a method; finish writes it
// to the security log once the method's transaction is over (on SQLite a
// second write transaction inside the first would wait for ever).
type denied struct {
	perm     access.Permission
	decision access.Decision
	object   audit.Ref
}

func (d *denied) Error() string { return "denied: " + d.perm.Name() + " on " + d.object.Kind }

// finish turns a denial into ErrNotFound or ErrForbidden after writing it
// to the security log; other errors pass.
func (s *Service) finish(ctx context.Context, a access.Actor, err error) error {
	var d *denied
	if !errors.As(err, &d) {
		return err
	}
	out := ErrNotFound
	if d.decision == access.Forbidden {
		out = ErrForbidden
	}
	if rerr := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{d.object}, Details: map[string]string{"permission": d.perm.Name(), "decision": d.decision.String()}})
	}); rerr != nil {
		return rerr
	}
	return out
}

// cleanText trims a one-line text and checks it: valid UTF-8, no control
// characters, at most max characters, and not empty when required.
func cleanText(v string, max int, required bool) (string, bool) {
	v = strings.TrimSpace(norm.NFC.String(v))
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || (required && v == "") {
		return v, false
	}
	return v, !strings.ContainsFunc(v, unicode.IsControl)
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
	if len(f) > 0 {
		return &ValidationError{Fields: f}
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
	p := &Position{TenantID: a.TenantID, ID: tenant.NewID(), Title: in.Title, Department: in.Department, Location: in.Location,
		Language: in.Language, Description: in.Description, EmploymentType: in.EmploymentType, Status: Draft, OwnerID: a.UserID, CreatedAt: now, Counts: map[access.StageKind]int{}}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO positions (tenant_id, id, title, department, location, language, description, employment_type, status, owner_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, p.TenantID, p.ID, p.Title, p.Department, p.Location, p.Language, p.Description, p.EmploymentType, p.Status, p.OwnerID, now); err != nil {
			return fmt.Errorf("insert position: %w", err)
		}
		if err := createStages(ctx, tx, a.TenantID, p.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionCreated, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "position", ID: p.ID}}})
	})

	if err != nil {
		return nil, err
	}
	return p, nil
}

const selectPosition = `SELECT tenant_id, id, title, department, location, language, description, employment_type, status, owner_id, first_published_at, published_at, created_at FROM positions`

type rowScanner interface{ Scan(...any) error }

func scanPosition(row rowScanner) (*Position, error) {
	p := &Position{Counts: map[access.StageKind]int{}}
	var first, published sql.NullTime
	if err := row.Scan(&p.TenantID, &p.ID, &p.Title, &p.Department, &p.Location, &p.Language, &p.Description, &p.EmploymentType, &p.Status, &p.OwnerID, &first, &published, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
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

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadPosition reads a position with its members, or ErrNotFound.
func loadPosition(ctx context.Context, q querier, tenantID, id string) (*Position, error) {
	if !tenant.ValidID(id) {
		return nil, ErrNotFound
	}
	p, err := scanPosition(q.QueryRowContext(ctx, selectPosition+` WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read position: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id FROM position_members WHERE tenant_id = $1 AND position_id = $2 ORDER BY user_id`, tenantID, id)
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
		return nil, &ValidationError{Fields: map[string]string{"status": "error.status"}}
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
	if err := in.validate(); err != nil {
		return err
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.EditPositions, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE positions SET title = $3, department = $4, location = $5, language = $6, description = $7, employment_type = $8, updated_at = $9
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, id, in.Title, in.Department, in.Location, in.Language, in.Description, in.EmploymentType, s.now()); err != nil {
			return fmt.Errorf("update position: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionChanged, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "position", ID: id}}})
	}))
}

// SharePosition sets the colleagues (line managers, typically) a position
// is shared with; each must be an active user of the company.
func (s *Service) SharePosition(ctx context.Context, a access.Actor, id string, members []string) error {
	slices.Sort(members)
	members = slices.Compact(members)
	if len(members) > 100 {
		return &ValidationError{Fields: map[string]string{"members": "error.members"}}
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.EditPositions, id); err != nil {
			return err
		}
		for _, m := range members {
			var n int
			if !tenant.ValidID(m) {
				return &ValidationError{Fields: map[string]string{"members": "error.members"}}
			}
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, a.TenantID, m).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return &ValidationError{Fields: map[string]string{"members": "error.members"}}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM position_members WHERE tenant_id = $1 AND position_id = $2`, a.TenantID, id); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO position_members (tenant_id, position_id, user_id) VALUES ($1, $2, $3)`, a.TenantID, id, m); err != nil {
				return fmt.Errorf("share position: %w", err)
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionShared, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "position", ID: id}}, Details: map[string]string{"members": fmt.Sprint(len(members))}})
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
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionPublished, Actor: audit.User(a.UserID),
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
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionClosed, Actor: audit.User(a.UserID),
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
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionClosed, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "position", ID: id}}})
	}))
}

// CandidateInput is a candidate's contact details.
type CandidateInput struct {
	Name  string
	Email string
	Phone string
}

// NormalizeEmail is the stored form of a candidate's email, by which a
// candidate is unique in a company.
func NormalizeEmail(email string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(email)))
}

func (in *CandidateInput) validate() error {
	f := map[string]string{}
	var ok bool
	if in.Name, ok = cleanText(in.Name, 200, true); !ok {
		f["name"] = "error.candidate_name"
	}
	in.Email = NormalizeEmail(in.Email)
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		f["email"] = "error.email_format"
	}
	if in.Phone, ok = cleanText(in.Phone, 40, false); !ok || strings.ContainsFunc(in.Phone, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune("+ ()-./", r))
	}) {
		f["phone"] = "error.phone"
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// Via says how an application arrived, for the trail.
type Via string

// Ways in.
const (
	ViaStaff      Via = "staff"
	ViaCareerPage Via = "career_page"
	ViaDemo       Via = "demo"
)

// AddCandidate records an application of a candidate to a position on the
// actor's behalf (the career page arrives with the recruitment module). A
// candidate is one per normalised email and company: a second application
// of the same person joins the existing candidate; applying twice to the
// same position returns the existing application. A known address whose
// candidate the actor may not see (none of their applications is visible
// to them, e.g. on a colleague's confidential position) is refused with
// "error.email_known" on the email field and nothing else: the stored
// name and phone stay hidden.
func (s *Service) AddCandidate(ctx context.Context, a access.Actor, positionID string, in CandidateInput, stage access.StageKind, via Via) (*Application, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if !slices.Contains(access.StageKinds, stage) {
		return nil, &ValidationError{Fields: map[string]string{"stage": "error.stage"}}
	}
	var app *Application
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.AddCandidates, positionID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		c := &Candidate{TenantID: a.TenantID, ID: tenant.NewID(), Name: in.Name, Email: in.Email, Phone: in.Phone}
		err = tx.QueryRowContext(ctx, `SELECT id, name, phone FROM candidates WHERE tenant_id = $1 AND email = $2`, a.TenantID, in.Email).Scan(&c.ID, &c.Name, &c.Phone)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, insertCandidate,
				c.TenantID, c.ID, c.Name, c.Email, c.Phone, now)
			if err == nil {
				err = writeTerms(ctx, tx, c.TenantID, c.ID, c.Name, c.Email, false)
			}
		} else if err == nil {

			seen, serr := otherApplications(ctx, tx, a, &Application{Candidate: c})
			if serr != nil {
				return serr
			}
			if len(seen) == 0 {
				return &denied{perm: access.ViewApplications, decision: access.Hidden, object: audit.Ref{Kind: "candidate", ID: c.ID}}
			}
		}
		if err != nil {
			return fmt.Errorf("candidate: %w", err)
		}
		app = &Application{TenantID: a.TenantID, ID: tenant.NewID(), Stage: stage, CreatedAt: now, UpdatedAt: now, Position: p, Candidate: c}
		var existing string
		err = tx.QueryRowContext(ctx, `SELECT id FROM applications WHERE tenant_id = $1 AND position_id = $2 AND candidate_id = $3`, a.TenantID, p.ID, c.ID).Scan(&existing)
		if err == nil {
			app.ID = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		stageID, err := stageOfKind(ctx, tx, a.TenantID, p.ID, stage)
		if err != nil {
			return err
		}
		app.StageID = stageID
		if _, err := tx.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, a.TenantID, app.ID, p.ID, c.ID, string(stage), stageID, now); err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationCreated, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "application", ID: app.ID}, {Kind: "candidate", ID: c.ID}, {Kind: "position", ID: p.ID}},
			Details: map[string]string{"via": string(via), "stage": string(stage)}})
	})

	var d *denied
	if errors.As(err, &d) && d.object.Kind == "candidate" {
		// The security log keeps the attempt; the user learns that the
		// address is known, and nothing of what is stored with it.
		if err := s.finish(ctx, a, err); !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, &ValidationError{Fields: map[string]string{"email": "error.email_known"}}
	}
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return app, nil
}

const selectApplication = `SELECT a.tenant_id, a.id, a.stage, a.stage_id, COALESCE(ps.name, ''), a.rejection_reason, a.source, a.cover_letter, a.created_at, a.updated_at, a.position_id, p.title, p.status, p.owner_id,
	c.id, c.name, c.email, c.phone
	FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
	JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id
	LEFT JOIN position_stages ps ON ps.tenant_id = a.tenant_id AND ps.id = a.stage_id`

func scanApplication(row rowScanner) (*Application, error) {
	a := &Application{Position: &Position{}, Candidate: &Candidate{}}
	var stage string
	if err := row.Scan(&a.TenantID, &a.ID, &stage, &a.StageID, &a.StageName, &a.RejectionReason, &a.Source, &a.CoverLetter, &a.CreatedAt, &a.UpdatedAt, &a.Position.ID, &a.Position.Title, &a.Position.Status, &a.Position.OwnerID,
		&a.Candidate.ID, &a.Candidate.Name, &a.Candidate.Email, &a.Candidate.Phone); err != nil {
		return nil, err
	}
	a.Stage = access.StageKind(stage)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.Position.TenantID, a.Candidate.TenantID = a.TenantID, a.TenantID
	return a, nil
}

func (app *Application) policy() access.Application {
	return access.Application{Position: app.Position.policy(), Stage: app.Stage}
}

// authorizeApplication loads an application and decides perm on it.
func (s *Service) authorizeApplication(ctx context.Context, q querier, a access.Actor, perm access.Permission, id string) (*Application, error) {
	if !tenant.ValidID(id) {
		return nil, ErrNotFound
	}
	app, err := scanApplication(q.QueryRowContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.id = $2`, a.TenantID, id))
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
		return nil, &denied{perm: perm, decision: d, object: audit.Ref{Kind: "application", ID: id}}
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
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.User(a.UserID),
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

// MoveStage moves an application to the first stage of a kind in its
// position's pipeline; moving it to rejected needs one of the company's reasons.
func (s *Service) MoveStage(ctx context.Context, a access.Actor, id string, stage access.StageKind, reason string) error {
	return s.MoveStageNotify(ctx, a, id, stage, reason, false)
}

// MoveStageNotify is MoveStage that, when rejecting with notify, also
// sends the candidate the company's rejection email in the ad's language
// (queued in the same transaction and kept in the communication history).
func (s *Service) MoveStageNotify(ctx context.Context, a access.Actor, id string, stage access.StageKind, reason string, notify bool) error {
	if !slices.Contains(access.StageKinds, stage) {
		return &ValidationError{Fields: map[string]string{"stage": "error.stage"}}
	}
	return s.move(ctx, a, id, stage, "", reason, notify)
}

// MoveToStage moves an application to a given stage of its position's pipeline.
func (s *Service) MoveToStage(ctx context.Context, a access.Actor, id, stageID, reason string, notify bool) error {
	if !tenant.ValidID(stageID) {
		return &ValidationError{Fields: map[string]string{"stage": "error.stage"}}
	}
	return s.move(ctx, a, id, "", stageID, reason, notify)
}

func (s *Service) move(ctx context.Context, a access.Actor, id string, kind access.StageKind, stageID, reason string, notify bool) error {
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, id)
		if err != nil {
			return err
		}
		if stageID == "" {
			if stageID, err = stageOfKind(ctx, tx, a.TenantID, app.Position.ID, kind); err != nil {
				return err
			}
		} else {
			var k string
			err := tx.QueryRowContext(ctx, `SELECT kind FROM position_stages WHERE tenant_id = $1 AND id = $2 AND position_id = $3`,
				a.TenantID, stageID, app.Position.ID).Scan(&k)
			if errors.Is(err, sql.ErrNoRows) {
				return &ValidationError{Fields: map[string]string{"stage": "error.stage"}}
			}
			if err != nil {
				return err
			}
			kind = access.StageKind(k)
		}
		if kind != access.StageRejected {
			reason = ""
		} else {
			reasons, err := companyReasons(ctx, tx, a.TenantID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(reasons, func(r Reason) bool { return r.ID == reason }) {
				return &ValidationError{Fields: map[string]string{"reason": "error.rejection_reason"}}
			}
		}
		if app.StageID == stageID {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET stage = $3, stage_id = $4, rejection_reason = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2`,
			a.TenantID, id, string(kind), stageID, reason, s.now()); err != nil {
			return fmt.Errorf("move application: %w", err)
		}
		if notify && kind == access.StageRejected {
			var lang, company, companyLang string
			if err := tx.QueryRowContext(ctx, `SELECT p.language, t.name, t.default_language FROM positions p JOIN tenants t ON t.id = p.tenant_id
				WHERE p.tenant_id = $1 AND p.id = $2`, a.TenantID, app.Position.ID).Scan(&lang, &company, &companyLang); err != nil {
				return err
			}
			if err := s.sendToCandidate(ctx, tx, a.TenantID, id, TemplateRejection, s.career.I18n.Pick(lang, "", companyLang), app.Candidate.Email,
				map[string]string{"name": app.Candidate.Name, "position": app.Position.Title, "company": company}, "", nil); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.StageChanged, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "application", ID: id}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: stageDetails(kind, app.Stage, reason)})
	}))
}

// AddComment adds a comment to an application.
func (s *Service) AddComment(ctx context.Context, a access.Actor, id, body string) (*Comment, error) {
	body = strings.TrimSpace(norm.NFC.String(body))
	if body == "" || !utf8.ValidString(body) || utf8.RuneCountInString(body) > 5000 ||
		strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return nil, &ValidationError{Fields: map[string]string{"body": "error.comment"}}
	}
	c := &Comment{ID: tenant.NewID(), AuthorID: a.UserID, Body: body, CreatedAt: s.now().UTC()}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.Comment, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertComment,
			a.TenantID, c.ID, id, a.UserID, body, c.CreatedAt); err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationCommented, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "application", ID: id}, {Kind: "candidate", ID: app.Candidate.ID}, {Kind: "comment", ID: c.ID}}})
	})

	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return c, nil
}

// comments is Comments inside a read transaction.
func (s *Service) comments(ctx context.Context, q querier, a access.Actor, id string) ([]Comment, error) {
	if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, id); err != nil {
		return nil, err
	}
	return listComments(ctx, q, a.TenantID, id)
}

// listComments reads an application's comments, oldest first.
func listComments(ctx context.Context, q querier, tenantID, id string) ([]Comment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, author_id, body, created_at FROM comments WHERE tenant_id = $1 AND application_id = $2
		ORDER BY created_at, id`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	var out []Comment
	for rows.Next() {
		var c Comment
		if err := rows.Scan(&c.ID, &c.AuthorID, &c.Body, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.CreatedAt = c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// read runs fn in a read transaction declared to be the actor's company,
// so that PostgreSQL's row-level security applies to every read of
// candidate data as well.
func (s *Service) read(ctx context.Context, a access.Actor, fn func(q querier) error) error {
	return s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error { return fn(tx) })
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

// Comments lists the comments on an application the actor may see, oldest first.
func (s *Service) Comments(ctx context.Context, a access.Actor, id string) (cs []Comment, err error) {
	err = s.read(ctx, a, func(q querier) error { cs, err = s.comments(ctx, q, a, id); return err })
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return cs, nil
}

// stageDetails are the audit details of a move; a reason only with a rejection.
func stageDetails(kind, previous access.StageKind, reason string) map[string]string {
	d := map[string]string{"stage": string(kind), "previous_stage": string(previous)}
	if reason != "" {
		d["reason"] = reason
	}
	return d
}
