package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// Request is an entry of the register of data subjects' requests.
type Request struct {
	ID          string
	CandidateID string
	Kind        RequestKind
	Status      string
	ReceivedAt  time.Time
	// DueAt is the deadline of the answer: one month after receipt.
	DueAt      time.Time
	AnsweredAt time.Time
	AnsweredBy string
	Note       string
	// Overdue: still open after its deadline.
	Overdue bool
}

// Register is the company's page of requests.
type Register struct {
	// Open are the requests waiting for an answer, the nearest deadline first.
	Open []Request
	// Recent are the newest requests of any status.
	Recent []Request
}

// RegisterLimit bounds each list of the register's page.
const RegisterLimit = 100

const selectRequest = `SELECT id, candidate_id, kind, status, received_at, due_at, answered_at, answered_by, note FROM subject_requests`

// Requests returns the register for a user who holds privacy.settings.
func (s *Service) Requests(ctx context.Context, a access.Actor) (*Register, error) {
	if !a.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	reg := &Register{}
	now := s.now().UTC()
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		if reg.Open, err = scanRequests(tx.QueryContext(ctx, selectRequest+` WHERE tenant_id = $1 AND status = 'open' ORDER BY due_at, id LIMIT `+fmt.Sprint(RegisterLimit), a.TenantID)); err != nil {
			return err
		}
		reg.Recent, err = scanRequests(tx.QueryContext(ctx, selectRequest+` WHERE tenant_id = $1 ORDER BY received_at DESC, id DESC LIMIT `+fmt.Sprint(RegisterLimit), a.TenantID))
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, list := range [][]Request{reg.Open, reg.Recent} {
		for i := range list {
			list[i].Overdue = list[i].Status == StatusOpen && now.After(list[i].DueAt)
		}
	}
	return reg, nil
}

func scanRequests(rows *sql.Rows, err error) ([]Request, error) {
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var kind string
		var answered sql.NullTime
		if err := rows.Scan(&r.ID, &r.CandidateID, &kind, &r.Status, &r.ReceivedAt, &r.DueAt, &answered, &r.AnsweredBy, &r.Note); err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		r.Kind, r.ReceivedAt, r.DueAt, r.AnsweredAt = RequestKind(kind), r.ReceivedAt.UTC(), r.DueAt.UTC(), answered.Time.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// answerTx spends a waiting erasure request by a conditional write (open ->
// status) and records the answer; it returns the request's candidate.
// ErrNotFound for no such request, ErrAnswered for one answered already.
func (s *Service) answerTx(ctx context.Context, tx *sql.Tx, a access.Actor, requestID, status, note string, now time.Time) (string, error) {
	var candidateID string
	err := tx.QueryRowContext(ctx, `UPDATE subject_requests SET status = $3, answered_at = $4, answered_by = $5, note = $6
		WHERE tenant_id = $1 AND id = $2 AND status = 'open' AND kind = 'erasure' RETURNING candidate_id`,
		a.TenantID, requestID, status, now, a.UserID, note).Scan(&candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subject_requests WHERE tenant_id = $1 AND id = $2`, a.TenantID, requestID).Scan(&n); err != nil {
			return "", fmt.Errorf("read request: %w", err)
		}
		if n == 0 {
			return "", ErrNotFound
		}
		return "", ErrAnswered
	}
	if err != nil {
		return "", fmt.Errorf("answer request: %w", err)
	}
	return candidateID, s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.SubjectRequestAnswered, Actor: audit.ActorOf(a), Time: now,
		Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}, {Kind: "subject_request", ID: requestID}},
		Details: map[string]string{"kind": string(RequestErasure), "status": status}})
}

// ApproveErasure approves a waiting request for erasure on behalf of a
// user who holds privacy.settings: the candidate is erased in the
// transaction that answers the request. Of two answers at once, one
// erases and the other gets ErrAnswered.
func (s *Service) ApproveErasure(ctx context.Context, a access.Actor, requestID string) error {
	if !a.Can(access.PrivacySettings) {
		return ErrForbidden
	}
	if !id.Valid(requestID) {
		return ErrNotFound
	}
	var done erased
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		candidateID, err := s.answerTx(ctx, tx, a, requestID, StatusDone, "", now)
		if err != nil {
			return err
		}
		done, err = s.eraseTx(ctx, tx, a.TenantID, []string{candidateID}, ReasonSubjectRequest, audit.ActorOf(a), condAlways)
		return err
	})
	if err != nil {
		return err
	}
	s.afterErase(ctx, done)
	return nil
}

// RefuseErasure refuses a waiting request for erasure with the company's
// reason (required: the candidate is owed it, Art. 12(4)).
func (s *Service) RefuseErasure(ctx context.Context, a access.Actor, requestID, note string) error {
	if !a.Can(access.PrivacySettings) {
		return ErrForbidden
	}
	if !id.Valid(requestID) {
		return ErrNotFound
	}
	note, ok := subjectText(note, maxNote)
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		// An unknown request is not found whatever the reason says.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subject_requests WHERE tenant_id = $1 AND id = $2`, a.TenantID, requestID).Scan(&n); err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if !ok || note == "" {
			return fault.Field("note", "subject.error_note")
		}
		candidateID, err := s.answerTx(ctx, tx, a, requestID, StatusRefused, note, s.now().UTC())
		if err != nil {
			return err
		}
		return s.tellRefusal(ctx, tx, a.TenantID, candidateID, note)
	})
}

// tellRefusal emails the candidate the company's refusal and its reason
// (Art. 12(4)), in the company's language, inside tx.
func (s *Service) tellRefusal(ctx context.Context, tx *sql.Tx, tenantID, candidateID, note string) error {
	var email, company, lang string
	err := tx.QueryRowContext(ctx, `SELECT c.email, t.name, t.default_language FROM candidates c JOIN tenants t ON t.id = c.tenant_id
		WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, candidateID).Scan(&email, &company, &lang)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // erased meanwhile: there is no one to tell
	}
	if err != nil {
		return fmt.Errorf("read candidate: %w", err)
	}
	lang = s.opts.I18n.Pick("", "", lang)
	return s.opts.Queue.Enqueue(ctx, tx, tenantID, notify.Message{To: []string{email},
		Subject: s.opts.I18n.T(lang, "subject.refusal_subject", "company", company),
		Text:    s.opts.I18n.T(lang, "subject.refusal_body", "company", company, "reason", note),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}})
}

// subjectText trims a text of several lines and checks it: valid UTF-8, no
// control characters but line breaks and tabs, at most max characters.
func subjectText(v string, max int) (string, bool) {
	v = strings.TrimSpace(strings.ReplaceAll(norm.NFC.String(v), "\r\n", "\n"))
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return v, false
	}
	return v, !strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}
