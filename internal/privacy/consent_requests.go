package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The kinds of consent request.
const (
	// RequestConsentKind asks a candidate for a consent.
	RequestConsentKind = "request"
	// RenewConsentKind asks a candidate to renew a consent before it ends.
	RenewConsentKind = "renewal"
)

// RequestConsent emails each candidate of candidateIDs a request for
// their talent-pool consent (kind "request") or for its renewal
// ("renewal"), in their language (their newest application's position's,
// else the company's), with a link to a page where they grant or refuse.
// Candidates with a request still waiting for its answer are skipped, as
// are those the actor may not act on. One candidate the actor may not act
// on, asked alone, is ErrNotFound. Each candidate is its own transaction:
// the request, its email and its audit record.
func (s *Service) RequestConsent(ctx context.Context, a access.Actor, candidateIDs []string, kind string) (sent, skipped int, err error) {
	if kind != RequestConsentKind && kind != RenewConsentKind {
		return 0, 0, fault.Field("kind", "consent_request.error.kind")
	}
	if !mayHandleConsents(a) {
		return 0, 0, ErrForbidden
	}
	ids := consentIDs(candidateIDs)
	if len(ids) == 0 && len(candidateIDs) > 0 && len(candidateIDs) <= MaxConsentRequests {
		return 0, 0, ErrNotFound // ids of nothing
	}
	if len(ids) == 0 || len(ids) > MaxConsentRequests {
		return 0, 0, fault.Field("candidate", "consent_request.error.selection")
	}
	t, err := s.opts.Tenants.ByID(ctx, a.TenantID)
	if err != nil {
		return 0, 0, err
	}
	for _, cid := range ids {
		ok, err := s.requestOne(ctx, a, t.Name, cid, kind)
		switch {
		case errors.Is(err, ErrNotFound) && len(ids) == 1:
			return 0, 0, err
		case errors.Is(err, ErrNotFound):
			skipped++
		case err != nil:
			return sent, skipped, err
		case ok:
			sent++
		default:
			skipped++
		}
	}
	return sent, skipped, nil
}

// requestOne sends one candidate's request; false when one is pending.
func (s *Service) requestOne(ctx context.Context, a access.Actor, company, candidateID, kind string) (bool, error) {
	sent := false
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		may, err := consentCandidates(ctx, tx, a, []string{candidateID}, true)
		if err != nil {
			return err
		}
		if !may[candidateID] {
			return hiddenOrMissing(ctx, tx, a.TenantID, candidateID)
		}
		// Requests of one candidate are written one at a time, so that the
		// check for a pending one and the insert are one decision.
		if err := s.consentLock(ctx, tx, a.TenantID+"\x00request\x00"+candidateID); err != nil {
			return err
		}
		lang, text, err := consentTextOf(ctx, tx, a.TenantID, candidateID)
		if err != nil {
			return err
		}
		now := db.Time(s.now())
		token, hash := id.NewToken()
		res, err := tx.ExecContext(ctx, `INSERT INTO consent_requests (tenant_id, id, candidate_id, kind, text_version, language, token_hash, created_at, expires_at, requested_by)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			WHERE NOT EXISTS (SELECT 1 FROM consent_requests WHERE tenant_id = $1 AND candidate_id = $3 AND answered_at IS NULL AND expires_at > $8)`,
			a.TenantID, id.New(), candidateID, kind, text.Version, lang, hash, now, now.Add(ConsentRequestValidity), a.UserID)
		if err != nil {
			return fmt.Errorf("request consent: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // one is waiting for its answer
		}
		if err := s.consentEmail(ctx, tx, a.TenantID, company, candidateID, kind, lang, token, now); err != nil {
			return err
		}
		sent = true
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ConsentRequested, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}},
			Details: map[string]string{"purpose": "talent_pool", "text_version": text.Version, "kind": kind}})
	})
	return sent, s.denied(ctx, a, candidateID, err)
}

// consentEmail queues the request's email inside tx and keeps it, without
// the link, in the communication history of the candidate's newest
// application: a colleague reading the card cannot answer in their place.
func (s *Service) consentEmail(ctx context.Context, tx *sql.Tx, tenantID, company, candidateID, kind, lang, token string, now time.Time) error {
	var name, email string
	if err := tx.QueryRowContext(ctx, `SELECT name, email FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, candidateID).Scan(&name, &email); err != nil {
		return fmt.Errorf("read candidate: %w", err)
	}
	b := s.opts.I18n
	days := int(ConsentRequestValidity / (24 * time.Hour))
	subject := b.T(lang, "consent_request.email.subject."+kind, "company", company)
	intro := b.T(lang, "consent_request.email.greeting", "name", name) + "\n\n" + b.T(lang, "consent_request.email.body."+kind, "company", company)
	text := intro + "\n\n" + b.N(lang, "consent_request.email.link", days, "url", s.linkBase()+"/consent/r/"+token) + "\n\n" + b.T(lang, "consent_request.email.ignore")
	kept := intro + "\n\n" + b.N(lang, "consent_request.email.kept", days)
	queueID, err := s.opts.Queue.EnqueueID(ctx, tx, tenantID, notify.Message{To: []string{email}, Subject: subject, Text: text,
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}})
	if err != nil {
		return err
	}
	var appID string
	err = tx.QueryRowContext(ctx, `SELECT id FROM applications WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1`,
		tenantID, candidateID).Scan(&appID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // no application to keep it with
	}
	if err != nil {
		return fmt.Errorf("read the candidate's application: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (tenant_id, id, application_id, kind, subject, body, queue_id, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)`, tenantID, id.New(), appID, "consent_"+kind, subject, kept, queueID, now); err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	return nil
}

// ConsentRequestView is a consent request as its public page shows it.
type ConsentRequestView struct {
	Company  string
	Language string
	// Kind is RequestConsentKind or RenewConsentKind.
	Kind      string
	Text      recruit.ConsentText
	ExpiresAt time.Time
	// Answer is "granted" or "refused" once answered through the page;
	// ValidUntil is when a grant ends.
	Answer     string
	ValidUntil time.Time
}

// consentRequestRow is a request found by its link.
type consentRequestRow struct {
	tenantID string
	view     ConsentRequestView
}

// findConsentRequest finds a request by its link's secret; the link names
// no company, so the lookup is the installation's. Unknown (forged)
// links are ErrNotFound, answered ones ErrConsentLinkUsed and those past
// their expiry ErrConsentLinkExpired.
func (s *Service) findConsentRequest(ctx context.Context, token string) (*consentRequestRow, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNotFound
	}
	r := &consentRequestRow{}
	var companyLang string
	var answered sql.NullTime
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT r.tenant_id, t.name, t.default_language, r.kind, r.text_version, r.language, r.expires_at, r.answered_at
			FROM consent_requests r JOIN tenants t ON t.id = r.tenant_id WHERE r.token_hash = $1`, id.HashToken(token)).
			Scan(&r.tenantID, &r.view.Company, &companyLang, &r.view.Kind, &r.view.Text.Version, &r.view.Language, &r.view.ExpiresAt, &answered)
		if err != nil {
			return err
		}
		text, err := recruit.ConsentTextOfTx(ctx, tx, r.tenantID, r.view.Language, r.view.Text.Version)
		if err != nil {
			return err
		}
		r.view.Text = text
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, recruit.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read consent request: %w", err)
	}
	if !s.opts.I18n.Has(r.view.Language) {
		r.view.Language = companyLang
	}
	r.view.ExpiresAt = r.view.ExpiresAt.UTC()
	switch {
	case answered.Valid:
		return r, ErrConsentLinkUsed
	case !r.view.ExpiresAt.After(s.now()):
		return r, ErrConsentLinkExpired
	}
	return r, nil
}

// ConsentRequest returns the request of a link for its page, which shows
// the text and asks for the answer. A link used or expired is
// ErrConsentLinkUsed or ErrConsentLinkExpired (with the view, for the
// page's language); an unknown one ErrNotFound.
func (s *Service) ConsentRequest(ctx context.Context, token string) (*ConsentRequestView, error) {
	r, err := s.findConsentRequest(ctx, token)
	if r == nil {
		return nil, err
	}
	return &r.view, err
}

// AnswerConsentRequest records the candidate's answer to the request of a
// link, grant or refusal, in the consent log (referral request or
// renewal) with the text the request showed. The answer spends the link
// in the same transaction by a conditional write: of any number of
// answers at once, one is recorded and the others find it used.
func (s *Service) AnswerConsentRequest(ctx context.Context, token string, grant bool) (*ConsentRequestView, error) {
	r, err := s.findConsentRequest(ctx, token)
	if err != nil {
		if r == nil {
			return nil, err
		}
		return &r.view, err
	}
	view := r.view
	event := recruit.ConsentRefused
	if grant {
		event = recruit.ConsentGranted
	}
	err = s.db.InTx(ctx, r.tenantID, func(tx *sql.Tx) error {
		now := db.Time(s.now())
		var requestID, candidateID, kind, version, lang string
		err := tx.QueryRowContext(ctx, `UPDATE consent_requests SET answered_at = $3, answer = $4
			WHERE tenant_id = $1 AND token_hash = $2 AND answered_at IS NULL AND expires_at > $3
			RETURNING id, candidate_id, kind, text_version, language`, r.tenantID, id.HashToken(token), now, string(event)).
			Scan(&requestID, &candidateID, &kind, &version, &lang)
		if errors.Is(err, sql.ErrNoRows) {
			// Answered meanwhile, or expired meanwhile.
			if view.ExpiresAt.After(now) {
				return ErrConsentLinkUsed
			}
			return ErrConsentLinkExpired
		}
		if err != nil {
			return fmt.Errorf("answer consent request: %w", err)
		}
		e := recruit.ConsentEntry{CandidateID: candidateID, Event: event, TextVersion: version, Language: lang, Referral: kind}
		if view.ValidUntil, err = recruit.RecordConsent(ctx, tx, r.tenantID, e, now); err != nil {
			return err
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: r.tenantID, Action: audit.ConsentRecorded,
			Actor: audit.Actor{Kind: audit.ActorCandidate, ID: candidateID}, Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}},
			Details: map[string]string{"purpose": "talent_pool", "granted": fmt.Sprint(grant), "event": string(event),
				"text_version": version, "via": kind}})
	})
	if err != nil {
		return &view, err
	}
	view.Answer = string(event)
	return &view, nil
}
