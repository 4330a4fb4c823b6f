package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The states of a candidate's talent-pool consent.
const (
	ConsentStateGranted   = "granted"
	ConsentStateExpired   = "expired"
	ConsentStateRefused   = "refused"
	ConsentStateWithdrawn = "withdrawn"
	ConsentStateNone      = "none"
)

// ConsentLogEntry is one entry of the consent log.
type ConsentLogEntry struct {
	ID            string
	CandidateID   string
	GivenName     string
	FamilyName    string
	Email         string
	CompanyNumber string
	Event         string
	Referral      string
	TextVersion   string
	Language      string
	Evidence      string
	// ValidUntil is when a grant ends (zero for a refusal or withdrawal).
	ValidUntil time.Time
	// RecordedBy is the user who entered it ("" for the candidate).
	RecordedBy string
	CreatedAt  time.Time
}

// PendingConsentRequest is a request sent and not yet answered.
type PendingConsentRequest struct {
	Kind      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CandidateConsent is a candidate's consent as the card shows it.
type CandidateConsent struct {
	CandidateID string
	// State is one of the ConsentState values; Until is when a granted
	// consent ends.
	State string
	Until time.Time
	// Pending is the request waiting for the candidate's answer, if any.
	Pending *PendingConsentRequest
	// History is the candidate's consent log, newest first (at most
	// consentHistory entries).
	History []ConsentLogEntry
	// CanAct: the user may request, enter and withdraw.
	CanAct bool
	// DefaultMonths is the company's validity of a consent; Today the
	// company's date (the latest a consent entered by hand may bear).
	DefaultMonths int
	Today         string
	Location      *time.Location
}

// consentHistory bounds the entries the card shows.
const consentHistory = 50

const selectConsentLog = `SELECT id, candidate_id, given_name, family_name, email, company_number, event, referral, text_version, language,
	evidence, valid_until, recorded_by, created_at FROM consent_log`

func scanConsentLog(rows *sql.Rows) (ConsentLogEntry, error) {
	var e ConsentLogEntry
	var until sql.NullTime
	err := rows.Scan(&e.ID, &e.CandidateID, &e.GivenName, &e.FamilyName, &e.Email, &e.CompanyNumber, &e.Event, &e.Referral, &e.TextVersion,
		&e.Language, &e.Evidence, &until, &e.RecordedBy, &e.CreatedAt)
	if until.Valid {
		e.ValidUntil = until.Time.UTC()
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return e, err
}

// CandidateConsent returns a candidate's consent, its history and any
// request waiting for an answer, for a user who sees the candidate (or
// holds privacy.settings); a candidate they may not see is ErrNotFound.
func (s *Service) CandidateConsent(ctx context.Context, a access.Actor, candidateID string) (*CandidateConsent, error) {
	if !id.Valid(candidateID) {
		return nil, ErrNotFound
	}
	out := &CandidateConsent{CandidateID: candidateID, State: ConsentStateNone}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		sees, err := consentCandidates(ctx, tx, a, []string{candidateID}, false)
		if err != nil {
			return err
		}
		if !sees[candidateID] {
			return hiddenOrMissing(ctx, tx, a.TenantID, candidateID)
		}
		if mayHandleConsents(a) {
			act, err := consentCandidates(ctx, tx, a, []string{candidateID}, true)
			if err != nil {
				return err
			}
			out.CanAct = act[candidateID]
		}
		p, err := recruit.PolicyTx(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		now := s.now()
		out.DefaultMonths, out.Location, out.Today = p.Consent(), p.Location, now.In(p.Location).Format(time.DateOnly)
		b, err := recruit.BasesOf(ctx, tx, a.TenantID, candidateID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, selectConsentLog+` WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY created_at DESC, id DESC LIMIT `+
			strconv.Itoa(consentHistory), a.TenantID, candidateID)
		if err != nil {
			return fmt.Errorf("read consent log: %w", err)
		}
		for rows.Next() {
			e, err := scanConsentLog(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out.History = append(out.History, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case b.ConsentUntil.After(now):
			out.State, out.Until = ConsentStateGranted, b.ConsentUntil
		case len(out.History) == 0:
		case out.History[0].Event == string(recruit.ConsentGranted):
			out.State = ConsentStateExpired
		default:
			out.State = out.History[0].Event
		}
		var pending PendingConsentRequest
		err = tx.QueryRowContext(ctx, `SELECT kind, created_at, expires_at FROM consent_requests
			WHERE tenant_id = $1 AND candidate_id = $2 AND answered_at IS NULL AND expires_at > $3 ORDER BY expires_at DESC LIMIT 1`,
			a.TenantID, candidateID, db.Time(now)).Scan(&pending.Kind, &pending.CreatedAt, &pending.ExpiresAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read consent requests: %w", err)
		default:
			pending.CreatedAt, pending.ExpiresAt = pending.CreatedAt.UTC(), pending.ExpiresAt.UTC()
			out.Pending = &pending
		}
		return nil
	})
	if errors.Is(err, recruit.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.denied(ctx, a, candidateID, err)
	}
	return out, nil
}

// ManualConsent is a consent the candidate gave elsewhere (on paper, by
// email, in person), entered by a recruiter.
type ManualConsent struct {
	// Date is the day it was given, YYYY-MM-DD in the company's zone: not
	// in the future, and recent enough that it is still valid.
	Date string
	// Months is its validity, 1..36 ("" for the company's).
	Months string
	// Evidence says how it was given and where the proof is (required).
	Evidence string
}

// RecordManualConsent records in the consent log a consent the candidate
// gave elsewhere (referral manual, with the user as its recorder and the
// evidence noted), with the company's text in force in the candidate's
// language, and returns when it ends.
func (s *Service) RecordManualConsent(ctx context.Context, a access.Actor, candidateID string, in ManualConsent) (time.Time, error) {
	if !mayHandleConsents(a) {
		return time.Time{}, ErrForbidden
	}
	if !id.Valid(candidateID) {
		return time.Time{}, ErrNotFound
	}
	fields := map[string]string{}
	evidence, ok := cleanNote(in.Evidence, MaxEvidence)
	switch {
	case evidence == "":
		fields["consent_evidence"] = "consent.error.evidence_required"
	case !ok:
		fields["consent_evidence"] = "consent.error.evidence"
	}
	months := 0
	if v := strings.TrimSpace(in.Months); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > tenant.MaxConsentMonths {
			fields["consent_months"] = "consent.error.months"
		}
		months = n
	}
	var until time.Time
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		may, err := consentCandidates(ctx, tx, a, []string{candidateID}, true)
		if err != nil {
			return err
		}
		if !may[candidateID] {
			return hiddenOrMissing(ctx, tx, a.TenantID, candidateID)
		}
		p, err := recruit.PolicyTx(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		if months == 0 {
			months = p.Consent()
		}
		now := db.Time(s.now())
		day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(in.Date), p.Location)
		today := now.In(p.Location).Format(time.DateOnly)
		switch {
		case err != nil:
			fields["consent_date"] = "consent.error.date"
		case day.Format(time.DateOnly) > today:
			fields["consent_date"] = "consent.error.date_future"
		case fields["consent_months"] == "" && !p.ConsentEnd(day, months).After(now):
			fields["consent_date"] = "consent.error.date_past"
		}
		if len(fields) > 0 {
			return &fault.Invalid{Fields: fields}
		}
		at := day
		if day.Format(time.DateOnly) == today {
			at = now // given today: its place in the log is now
		}
		lang, text, err := consentTextOf(ctx, tx, a.TenantID, candidateID)
		if err != nil {
			return err
		}
		e := recruit.ConsentEntry{CandidateID: candidateID, Event: recruit.ConsentGranted, TextVersion: text.Version, Language: lang,
			Referral: recruit.ReferralManual, Evidence: evidence, At: at, Months: months, RecordedBy: a.UserID}
		if until, err = recruit.RecordConsent(ctx, tx, a.TenantID, e, now); err != nil {
			return err
		}
		return s.recordConsentAudit(ctx, tx, a, e)
	})
	if err != nil {
		return time.Time{}, s.denied(ctx, a, candidateID, err)
	}
	return until, nil
}

// RecordWithdrawal records that the candidate withdrew their consent
// (told a recruiter, by phone say), with an optional note: the consent
// ends now. A candidate without a consent in force is ErrNoConsent.
func (s *Service) RecordWithdrawal(ctx context.Context, a access.Actor, candidateID, note string) error {
	if !mayHandleConsents(a) {
		return ErrForbidden
	}
	if !id.Valid(candidateID) {
		return ErrNotFound
	}
	note, ok := cleanNote(note, MaxEvidence)
	if !ok {
		return fault.Field("withdrawal_note", "consent.error.evidence")
	}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		may, err := consentCandidates(ctx, tx, a, []string{candidateID}, true)
		if err != nil {
			return err
		}
		if !may[candidateID] {
			return hiddenOrMissing(ctx, tx, a.TenantID, candidateID)
		}
		now := db.Time(s.now())
		b, err := recruit.BasesOf(ctx, tx, a.TenantID, candidateID)
		if err != nil {
			return err
		}
		if !b.ConsentUntil.After(now) {
			return ErrNoConsent
		}
		lang, version, err := withdrawnText(ctx, tx, a.TenantID, candidateID)
		if err != nil {
			return err
		}
		e := recruit.ConsentEntry{CandidateID: candidateID, Event: recruit.ConsentWithdrawn, TextVersion: version, Language: lang,
			Referral: recruit.ReferralManual, Evidence: note, RecordedBy: a.UserID}
		if _, err := recruit.RecordConsent(ctx, tx, a.TenantID, e, now); err != nil {
			return err
		}
		return s.recordConsentAudit(ctx, tx, a, e)
	})
	return s.denied(ctx, a, candidateID, err)
}

// recordConsentAudit writes the trail's record of a choice a user entered.
func (s *Service) recordConsentAudit(ctx context.Context, tx *sql.Tx, a access.Actor, e recruit.ConsentEntry) error {
	return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ConsentRecorded, Actor: audit.ActorOf(a),
		Objects: []audit.Ref{{Kind: "candidate", ID: e.CandidateID}},
		Details: map[string]string{"purpose": "talent_pool", "granted": fmt.Sprint(e.Event == recruit.ConsentGranted), "event": string(e.Event),
			"text_version": e.TextVersion, "via": e.Referral}})
}
