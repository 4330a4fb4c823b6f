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
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// RejectionReasons are the reasons an application can be rejected for.
var RejectionReasons = []string{"qualifications", "experience", "position_filled", "withdrew", "salary", "other"}

// Ratings colleagues give an application (Teamio's line-manager ratings).
const (
	RateInvite      = "invite"
	RateNotSuitable = "not_suitable"
	RateLater       = "later"
)

// RatingValues lists them.
var RatingValues = []string{RateInvite, RateNotSuitable, RateLater}

// Rating is one colleague's rating of an application.
type Rating struct {
	UserID string
	Value  string
}

// Rate sets the actor's rating of an application (one per colleague).
func (s *Service) Rate(ctx context.Context, a access.Actor, applicationID, value string) error {
	if !slices.Contains(RatingValues, value) {
		return fault.Field("rating", "error.rating")
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.Rate, applicationID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, upsertRating,
			a.TenantID, applicationID, a.UserID, value, s.now()); err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationRated, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"rating": value}})
	}))
}

// cleanLabel checks a label: one line of at most 40 characters.
func cleanLabel(label string) (string, bool) {
	label, ok := cleanText(label, 40, true)
	return label, ok
}

// AddLabel puts a label on an application; RemoveLabel takes it off. Both
// need the right to move the application through the pipeline.
func (s *Service) AddLabel(ctx context.Context, a access.Actor, applicationID, label string) error {
	return s.label(ctx, a, applicationID, label, true)
}

// RemoveLabel takes a label off an application.
func (s *Service) RemoveLabel(ctx context.Context, a access.Actor, applicationID, label string) error {
	return s.label(ctx, a, applicationID, label, false)
}

func (s *Service) label(ctx context.Context, a access.Actor, applicationID, label string, add bool) error {
	label, ok := cleanLabel(label)
	if !ok {
		return fault.Field("label", "error.label")
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, applicationID)
		if err != nil {
			return err
		}
		var res sql.Result
		if add {
			res, err = tx.ExecContext(ctx, insertLabel, a.TenantID, applicationID, label, s.now())
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM application_labels WHERE tenant_id = $1 AND application_id = $2 AND label = $3`, a.TenantID, applicationID, label)
		}
		if err != nil {
			return fmt.Errorf("label: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationLabeled, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"added": fmt.Sprint(add)}})
	}))
}

// Note is a private note: only its author ever sees it.
type Note struct {
	ID        string
	Body      string
	CreatedAt time.Time
}

// AddNote keeps a private note of the actor on an application they see.
func (s *Service) AddNote(ctx context.Context, a access.Actor, applicationID, body string) error {
	body = strings.TrimSpace(norm.NFC.String(body))
	if body == "" || !utf8.ValidString(body) || utf8.RuneCountInString(body) > 5000 ||
		strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return fault.Field("note_body", "error.comment")
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.ViewApplications, applicationID)
		if err != nil {
			return err
		}
		id := id.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO private_notes (tenant_id, id, application_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			a.TenantID, id, applicationID, a.UserID, body, s.now()); err != nil {
			return fmt.Errorf("insert note: %w", err)
		}

		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.NoteAdded, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}, {Kind: "note", ID: id}}})
	}))
}

// CardDetails are the parts of a candidate card beyond the application:
// ratings, labels, the actor's own private notes and the history.
type CardDetails struct {
	Ratings []Rating
	Labels  []string
	Notes   []Note
	History []audit.Record
	// Proposals are contact details the career page received for the
	// candidate that differ from the stored ones, waiting for a decision.
	Proposals []Proposal
	// Resubmissions are later submissions to the same position, kept apart.
	Resubmissions []Resubmission
}

// Proposal is a change of a candidate's name or phone that arrived with a
// submission on the career page (an empty field is no change). It is
// applied only when a colleague accepts it.
type Proposal struct {
	ID        string
	Name      string
	Phone     string
	CreatedAt time.Time
}

// listProposals reads the proposals waiting on an application's card, oldest first.
func listProposals(ctx context.Context, q querier, tenantID, applicationID string) ([]Proposal, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, phone, created_at FROM candidate_proposals WHERE tenant_id = $1 AND application_id = $2
		ORDER BY created_at, id LIMIT 50`, tenantID, applicationID)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		var p Proposal
		if err := rows.Scan(&p.ID, &p.Name, &p.Phone, &p.CreatedAt); err != nil {
			return nil, err
		}
		p.CreatedAt = p.CreatedAt.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// ResolveProposal accepts (applies to the candidate) or dismisses a
// proposed change on an application's card; either way the proposal goes
// and the decision is in the history. It needs the right to work on the
// application (MoveStage: the position is the actor's, or they hold all).
func (s *Service) ResolveProposal(ctx context.Context, a access.Actor, applicationID, proposalID string, accept bool) error {
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, applicationID)
		if err != nil {
			return err
		}
		if !id.Valid(proposalID) {
			return ErrNotFound
		}
		var p Proposal
		err = tx.QueryRowContext(ctx, `DELETE FROM candidate_proposals WHERE tenant_id = $1 AND id = $2 AND application_id = $3 RETURNING name, phone`,
			a.TenantID, proposalID, applicationID).Scan(&p.Name, &p.Phone)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("resolve proposal: %w", err)
		}
		var fields []string
		c := app.Candidate
		if p.Name != "" {
			fields = append(fields, "name")
			c.Name = p.Name
		}
		if p.Phone != "" {
			fields = append(fields, "phone")
			c.Phone = p.Phone
		}
		action := audit.CandidateChangeDismissed
		if accept {
			action = audit.CandidateChangeAccepted
			if _, err := tx.ExecContext(ctx, `UPDATE candidates SET name = $3, phone = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
				a.TenantID, c.ID, c.Name, c.Phone, s.now()); err != nil {
				return fmt.Errorf("change candidate: %w", err)
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: action, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: c.ID}},
			Details: map[string]string{"fields": strings.Join(fields, ",")}})
	}))
}

// Card reads the details of an application's card for the actor.
func (s *Service) Card(ctx context.Context, a access.Actor, applicationID string) (d *CardDetails, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		d, err = cardDetails(ctx, q, a.TenantID, applicationID, a.UserID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	if d.History, err = s.history(ctx, a.TenantID, applicationID); err != nil {
		return nil, err
	}
	return d, nil
}

// history lists the history track's records of an application, newest first.
func (s *Service) history(ctx context.Context, tenantID, applicationID string) ([]audit.Record, error) {
	recs, _, err := s.audit.List(ctx, tenantID, audit.Filter{Track: audit.History, ObjectKind: "application", ObjectID: applicationID, Limit: audit.MaxPage})
	return recs, err
}

// cardDetails reads an application's ratings, labels and the private
// notes of userID.
func cardDetails(ctx context.Context, q querier, tenantID, applicationID, userID string) (*CardDetails, error) {
	d := &CardDetails{}
	rows, err := q.QueryContext(ctx, `SELECT user_id, value FROM ratings WHERE tenant_id = $1 AND application_id = $2 ORDER BY updated_at`, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r Rating
		if err := rows.Scan(&r.UserID, &r.Value); err != nil {
			rows.Close()
			return nil, err
		}
		d.Ratings = append(d.Ratings, r)
	}
	rows.Close()
	lrows, err := q.QueryContext(ctx, `SELECT label FROM application_labels WHERE tenant_id = $1 AND application_id = $2 ORDER BY label`, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	for lrows.Next() {
		var l string
		if err := lrows.Scan(&l); err != nil {
			lrows.Close()
			return nil, err
		}
		d.Labels = append(d.Labels, l)
	}
	lrows.Close()
	nrows, err := q.QueryContext(ctx, `SELECT id, body, created_at FROM private_notes WHERE tenant_id = $1 AND application_id = $2 AND author_id = $3
		ORDER BY created_at, id`, tenantID, applicationID, userID)
	if err != nil {
		return nil, err
	}
	defer nrows.Close()
	for nrows.Next() {
		var n Note
		if err := nrows.Scan(&n.ID, &n.Body, &n.CreatedAt); err != nil {
			return nil, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		d.Notes = append(d.Notes, n)
	}
	if err := nrows.Err(); err != nil {
		return nil, err
	}
	if d.Proposals, err = listProposals(ctx, q, tenantID, applicationID); err != nil {
		return nil, err
	}
	if d.Resubmissions, err = listResubmissions(ctx, q, tenantID, applicationID); err != nil {
		return nil, err
	}
	return d, nil
}

// Reason is a reason for rejecting an application: a standard one (ID is
// its code, Name empty: shown translated) or one the company named.
type Reason struct {
	ID, Name string
}

// companyReasons is the company's list of reasons, or the standard ones.
func companyReasons(ctx context.Context, q querier, tenantID string) ([]Reason, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM rejection_reasons WHERE tenant_id = $1 ORDER BY ord, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read rejection reasons: %w", err)
	}
	defer rows.Close()
	var out []Reason
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		for _, code := range RejectionReasons {
			out = append(out, Reason{ID: code})
		}
	}
	return out, nil
}

// Reasons lists the company's reasons for rejecting.
func (s *Service) Reasons(ctx context.Context, a access.Actor) (out []Reason, err error) {
	err = s.read(ctx, a, func(q querier) error {
		out, err = companyReasons(ctx, q, a.TenantID)
		return err
	})
	return out, err
}

// SetReasons replaces the company's reasons for rejecting with names, one
// each (at most 30, 80 characters); a reason keeps its id while its name
// stays, so past rejections keep theirs. No names: the standard reasons.
func (s *Service) SetReasons(ctx context.Context, a access.Actor, names []string) error {
	if !a.Can(access.CompanyProfile) {
		return ErrForbidden
	}
	var clean []string
	for _, n := range names {
		n, ok := cleanText(n, 80, false)
		if !ok {
			return fault.Field("reasons", "error.reasons")
		}
		if n != "" && !slices.Contains(clean, n) {
			clean = append(clean, n)
		}
	}
	if len(clean) > 30 {
		return fault.Field("reasons", "error.reasons")
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM rejection_reasons WHERE tenant_id = $1`, a.TenantID)
		if err != nil {
			return err
		}
		existing := map[string]string{}
		for rows.Next() {
			var reasonID, name string
			if err := rows.Scan(&reasonID, &name); err != nil {
				rows.Close()
				return err
			}
			existing[name] = reasonID
		}
		rows.Close()
		if _, err := tx.ExecContext(ctx, `DELETE FROM rejection_reasons WHERE tenant_id = $1`, a.TenantID); err != nil {
			return err
		}
		for i, n := range clean {
			reasonID := existing[n]
			if reasonID == "" {
				reasonID = id.New()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rejection_reasons (tenant_id, id, name, ord) VALUES ($1, $2, $3, $4)`, a.TenantID, reasonID, n, i+1); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TenantSettingsChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "tenant", ID: a.TenantID}}})
	})

}

// ReasonLabel finds the reason of id in reasons: its name, or "" for a
// standard reason (shown translated by its code).
func ReasonLabel(reasons []Reason, id string) (name string, standard bool) {
	for _, r := range reasons {
		if r.ID == id {
			return r.Name, r.Name == ""
		}
	}
	return "", slices.Contains(RejectionReasons, id)
}
