package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
)

// Consents to the talent pool (issue 14): the company's own texts
// (consent_texts.go), requests emailed to candidates and their answers
// (consent_requests.go), entries by hand and withdrawals on the card
// (consent_card.go), and the consent log's page, export and retention
// (consent_log.go). Every choice is written by recruit.RecordConsent.
//
// Who may act on a candidate's consent: a user holding privacy.settings
// (the company's privacy contact, who sees the whole consent log anyway),
// or one holding applications.move who sees the candidate (one of their
// applications is visible to them, by the candidate list's rule). Others
// see the state on the card, read-only.

// Errors of the consents.
var (
	// ErrConsentLinkUsed: the link of a consent request was answered already.
	ErrConsentLinkUsed = fault.New(fault.ErrGone, "consent link used", "consent_request.used")
	// ErrConsentLinkExpired: the link of a consent request is past its expiry.
	ErrConsentLinkExpired = fault.New(fault.ErrGone, "consent link expired", "consent_request.expired")
	// ErrNoConsent: a withdrawal of a consent that is not in force.
	ErrNoConsent = fault.New(fault.ErrConflict, "no consent in force", "consent.error.none_to_withdraw")
)

// Limits of the consents.
const (
	// ConsentRequestValidity is how long the link of a consent request works.
	ConsentRequestValidity = 14 * 24 * time.Hour
	// MaxConsentText is the longest consent text, in characters.
	MaxConsentText = 10000
	// MaxEvidence is the longest note of evidence, in characters.
	MaxEvidence = 2000
	// MaxConsentRequests is the largest selection one bulk request takes.
	MaxConsentRequests = 500
	// consentLockClass is the class of the PostgreSQL advisory locks that
	// serialise the writes of one candidate's requests or one language's
	// texts ("KC").
	consentLockClass = 0x4b43
)

// consentLock takes, on PostgreSQL, a lock of key for the rest of tx (on
// SQLite the one writer runs write transactions one at a time already).
func (s *Service) consentLock(ctx context.Context, tx *sql.Tx, key string) error {
	if s.db.Engine != db.Postgres {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, consentLockClass, int32(h.Sum32())); err != nil {
		return fmt.Errorf("lock consents: %w", err)
	}
	return nil
}

// consentIDs cleans a selection of candidate ids: sorted, without
// duplicates or values that are no id.
func consentIDs(ids []string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(c string) bool { return !id.Valid(c) })
	slices.Sort(out)
	return slices.Compact(out)
}

// mayHandleConsents reports whether a may act on consents at all.
func mayHandleConsents(a access.Actor) bool {
	return a.TenantID != "" && (a.Can(access.PrivacySettings) || a.Can(access.MoveStage))
}

// consentCandidates returns which of ids the actor may see (act false) or
// act on (act true), inside tx: every candidate of the company for
// privacy.settings; otherwise the candidates visible to them, and to act,
// only with applications.move.
func consentCandidates(ctx context.Context, tx *sql.Tx, a access.Actor, ids []string, act bool) (map[string]bool, error) {
	if len(ids) == 0 || a.TenantID == "" {
		return map[string]bool{}, nil
	}
	if a.Can(access.PrivacySettings) {
		args, in := recruit.InList([]any{a.TenantID}, ids)
		rows, err := tx.QueryContext(ctx, `SELECT id FROM candidates WHERE tenant_id = $1 AND id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read candidates: %w", err)
		}
		found, err := recruit.ScanIDs(rows)
		if err != nil {
			return nil, fmt.Errorf("read candidates: %w", err)
		}
		out := make(map[string]bool, len(found))
		for _, c := range found {
			out[c] = true
		}
		return out, nil
	}
	if act && !a.Can(access.MoveStage) {
		return map[string]bool{}, nil
	}
	return recruit.VisibleCandidates(ctx, tx, a, ids)
}

// candidateLanguage is the language a candidate is written to: that of
// the position of their newest application, or the company's.
func candidateLanguage(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) (string, error) {
	var lang string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT p.language FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
		WHERE a.tenant_id = $1 AND a.candidate_id = $2 ORDER BY a.created_at DESC, a.id DESC LIMIT 1), t.default_language)
		FROM tenants t WHERE t.id = $1`, tenantID, candidateID).Scan(&lang)
	if err != nil {
		return "", fmt.Errorf("read the candidate's language: %w", err)
	}
	return lang, nil
}

// consentTextOf is the language a candidate is written to and the
// company's consent text in force in it: what a request or a consent
// entered by hand records.
func consentTextOf(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) (string, recruit.ConsentText, error) {
	lang, err := candidateLanguage(ctx, tx, tenantID, candidateID)
	if err != nil {
		return "", recruit.ConsentText{}, err
	}
	text, err := recruit.CurrentConsentTextTx(ctx, tx, tenantID, lang)
	return lang, text, err
}

// linkBase starts every link in a consent email: the configured address,
// or the one serve derived for the recruitment service.
func (s *Service) linkBase() string {
	if s.opts.BaseURL != "" {
		return strings.TrimSuffix(s.opts.BaseURL, "/")
	}
	if s.opts.Recruit != nil {
		return s.opts.Recruit.BaseURL()
	}
	return ""
}

// cleanNote checks a multi-line text a user typed: valid UTF-8, no
// control characters but line breaks and tabs, at most limit characters.
// It returns the text trimmed, with line breaks as "\n".
func cleanNote(v string, limit int) (string, bool) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit {
		return v, false
	}
	return v, !strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

// hiddenOrMissing is the error of a candidate the actor may not act on:
// errConsentHidden when the company has it (a denial for the security
// log), ErrNotFound when it has not (an id of another company or of
// nobody, which the company's trail does not name).
func hiddenOrMissing(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, candidateID).Scan(&n); err != nil {
		return fmt.Errorf("read candidate: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return errConsentHidden
}

// errConsentHidden is a candidate the actor may not act on, on its way out
// of the transaction that found it: denied writes it to the security log.
var errConsentHidden = errors.New("candidate hidden from the actor")

// denied turns errConsentHidden into ErrNotFound after writing the denial
// to the security log (after the transaction that found it: on SQLite a
// second write transaction inside the first would wait for ever); other
// errors pass.
func (s *Service) denied(ctx context.Context, a access.Actor, candidateID string, err error) error {
	if !errors.Is(err, errConsentHidden) {
		return err
	}
	perm := access.MoveStage
	if !a.Can(perm) {
		perm = access.PrivacySettings
	}
	if rerr := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}}, Details: map[string]string{"permission": perm.Name(), "decision": access.Hidden.String()}})
	}); rerr != nil {
		return rerr
	}
	return ErrNotFound
}

// withdrawnText is the language and version of the text a withdrawal
// withdraws from, whoever records it (staff or the candidate): the grant
// in force (the one whose end the candidate row holds), else the latest
// grant; without one in the log, the company's text in force in the
// candidate's language.
func withdrawnText(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) (lang, version string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT l.language, l.text_version FROM consent_log l
		JOIN candidates c ON c.tenant_id = l.tenant_id AND c.id = l.candidate_id
		WHERE l.tenant_id = $1 AND l.candidate_id = $2 AND l.purpose = 'talent_pool' AND l.event = 'granted'
		ORDER BY CASE WHEN l.valid_until = c.consent_until THEN 0 ELSE 1 END, l.created_at DESC, l.id DESC LIMIT 1`,
		tenantID, candidateID).Scan(&lang, &version)
	if err == nil && version != "" {
		return lang, version, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("read the granted consent: %w", err)
	}
	lang, text, err := consentTextOf(ctx, tx, tenantID, candidateID)
	return lang, text.Version, err
}
