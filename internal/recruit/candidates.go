package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Candidate is a person who applied to the company.
type Candidate struct {
	TenantID string
	ID       string
	Name     string
	Email    string
	Phone    string
	// Bases are what keeps the candidate's data and until when (read
	// with the candidate's applications, for the card's and the list's
	// badges).
	Bases Bases
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
		return &fault.Invalid{Fields: f}
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
		return nil, fault.Field("stage", "error.stage")
	}
	var app *Application
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.AddCandidates, positionID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		c := &Candidate{TenantID: a.TenantID, ID: id.New(), Name: in.Name, Email: in.Email, Phone: in.Phone}
		err = tx.QueryRowContext(ctx, `SELECT id, name, phone FROM candidates WHERE tenant_id = $1 AND email = $2`, a.TenantID, in.Email).Scan(&c.ID, &c.Name, &c.Phone)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, insertCandidate,
				c.TenantID, c.ID, c.Name, c.Email, c.Phone, now)
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
		app = &Application{TenantID: a.TenantID, ID: id.New(), Stage: stage, CreatedAt: now, UpdatedAt: now, Position: p, Candidate: c}
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
		if err := RefreshBases(ctx, tx, a.TenantID, c.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationCreated, Actor: audit.ActorOf(a),
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
		return nil, fault.Field("email", "error.email_known")
	}
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return app, nil
}
