package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// A data subject (a candidate) reaches what the company holds about them
// without an account: on the company's privacy page they give their email,
// and the address receives a single-use link (whether the address is known
// is never shown: the page answers the same, after the same work). The
// link's button starts a short session, in which they see their data,
// download a copy, withdraw their consent, correct their name and phone,
// and ask for erasure. Every such request, and the company's answer, is in
// the register (subject_requests) and on the GDPR track of the trail.

// Limits of the self-service.
const (
	// LinkValidity is how long an emailed link may be used.
	LinkValidity = 24 * time.Hour
	// SessionIdle ends a self-service session after so long without a request.
	SessionIdle = 30 * time.Minute
	// SessionAbsolute ends a session however busy it is kept.
	SessionAbsolute = 2 * time.Hour
	// maxNote bounds the reason of a refusal.
	maxNote = 2000
)

// Errors of the self-service.
var (
	// ErrLinkInvalid: the link is unknown, used or expired.
	ErrLinkInvalid = fault.New(fault.ErrNotFound, "self-service link unknown, used or expired", "subject.link_invalid")
	// ErrSessionEnded: the self-service session is unknown or timed out.
	ErrSessionEnded = fault.New(fault.ErrUnauthenticated, "self-service session ended", "subject.session_ended")
	// ErrNothingToWithdraw: the subject has no consent in force to withdraw.
	ErrNothingToWithdraw = fault.New(fault.ErrConflict, "no consent in force", "subject.no_consent")
	// ErrAnswered: the request is answered already (or is not one the company answers).
	ErrAnswered = fault.New(fault.ErrConflict, "request answered already", "subject.answered")
)

// RequestKind is what a data subject asked for.
type RequestKind string

// The kinds of request.
const (
	RequestAccess   RequestKind = "access"
	RequestExport   RequestKind = "export"
	RequestRectify  RequestKind = "rectify"
	RequestWithdraw RequestKind = "withdraw"
	RequestErasure  RequestKind = "erasure"
)

// RequestKinds lists the kinds, for pages and tests.
var RequestKinds = []RequestKind{RequestAccess, RequestExport, RequestRectify, RequestWithdraw, RequestErasure}

// Request statuses.
const (
	StatusOpen    = "open"
	StatusDone    = "done"
	StatusRefused = "refused"
)

// decoyAddress receives the email of an address no candidate has; the
// email is composed and queued like the real one, then taken out again in
// the same transaction, so nothing is ever sent to it.
const decoyAddress = "nobody@example.invalid"

// RequestLink emails a self-service link to the candidate of email in the
// company, in lang. For an address the company does not hold it does the
// same work (a token made and hashed, the same statements, an email
// composed and queued, then withdrawn) and sends nothing: the caller shows
// the same answer either way. Only a malformed address is refused.
func (s *Service) RequestLink(ctx context.Context, tenantID, email, lang string) error {
	email = recruit.NormalizeEmail(email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return fault.Field("email", "subject.error_email")
	}
	token, hash := id.NewToken()
	now := s.now().UTC()
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		// Links nobody used in time go, whoever asks.
		if _, err := tx.ExecContext(ctx, `DELETE FROM subject_links WHERE tenant_id = $1 AND expires_at <= $2`, tenantID, now); err != nil {
			return fmt.Errorf("remove expired links: %w", err)
		}
		var candidateID string
		err := tx.QueryRowContext(ctx, `INSERT INTO subject_links (tenant_id, id, candidate_id, token_hash, created_at, expires_at)
			SELECT $1, $2, c.id, $3, $4, $5 FROM candidates c WHERE c.tenant_id = $1 AND c.email = $6 RETURNING candidate_id`,
			tenantID, id.New(), hash, now, now.Add(LinkValidity), email).Scan(&candidateID)
		known := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create link: %w", err)
		}
		var company string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM tenants WHERE id = $1`, tenantID).Scan(&company); err != nil {
			return fmt.Errorf("read company: %w", err)
		}
		to := email
		if !known {
			to = decoyAddress
		}
		qid, err := s.opts.Queue.EnqueueID(ctx, tx, tenantID, s.linkMessage(to, lang, company, token))
		if err != nil {
			return fmt.Errorf("queue link: %w", err)
		}
		ev := audit.Event{TenantID: tenantID, Action: audit.SubjectLinkRequested, Actor: audit.Anonymous, Time: now}
		if known {
			ev.Objects = []audit.Ref{{Kind: "candidate", ID: candidateID}}
		} else if _, err := tx.ExecContext(ctx, `DELETE FROM email_queue WHERE tenant_id = $1 AND id = $2`, tenantID, qid); err != nil {
			return fmt.Errorf("withdraw decoy email: %w", err)
		}
		return s.opts.Audit.Record(ctx, tx, ev)
	})
}

func (s *Service) linkMessage(to, lang, company, token string) notify.Message {
	base := strings.TrimSuffix(s.opts.BaseURL, "/")
	if base == "" && s.opts.Recruit != nil { // the address serve derived from its listener
		base = s.opts.Recruit.BaseURL()
	}
	link := base + "/my-data/" + token
	hours := int(LinkValidity / time.Hour)
	return notify.Message{
		To:      []string{to},
		Subject: s.opts.I18n.T(lang, "subject.email_subject", "company", company),
		Text:    s.opts.I18n.T(lang, "subject.email_body", "company", company, "url", link, "hours", strconv.Itoa(hours)),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
}

// LinkInfo is what the page of a link shows before its button is pressed.
type LinkInfo struct {
	Company string
	Slug    string
}

// Link checks a self-service link without spending it (the page that
// opens from the email shows a button: mail scanners open links too).
func (s *Service) Link(ctx context.Context, token string) (*LinkInfo, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrLinkInvalid
	}
	info := &LinkInfo{}
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT t.name, t.slug FROM subject_links l JOIN tenants t ON t.id = l.tenant_id
			WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2`, id.HashToken(token), s.now().UTC()).Scan(&info.Company, &info.Slug)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("read link: %w", err)
	}
	return info, nil
}

// Subject is a candidate in a self-service session.
type Subject struct {
	TenantID    string
	CandidateID string
	SessionID   string
	Company     string
	Slug        string
}

// StartSession spends a self-service link and starts a session for its
// candidate; it returns the session's secret (for the cookie; only its
// hash is stored). The link is spent by a conditional write in the
// transaction that starts the session: of any number of presses at once,
// one starts a session and the others get ErrLinkInvalid. The access is
// recorded in the register as a request answered at once.
func (s *Service) StartSession(ctx context.Context, token string) (string, *Subject, error) {
	if token == "" || len(token) > 100 {
		return "", nil, ErrLinkInvalid
	}
	hash := id.HashToken(token)
	subj := &Subject{}
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT l.tenant_id, t.name, t.slug FROM subject_links l JOIN tenants t ON t.id = l.tenant_id
			WHERE l.token_hash = $1`, hash).Scan(&subj.TenantID, &subj.Company, &subj.Slug)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrLinkInvalid
	}
	if err != nil {
		return "", nil, fmt.Errorf("read link: %w", err)
	}
	session, sessionHash := id.NewToken()
	err = s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		err := tx.QueryRowContext(ctx, `UPDATE subject_links SET used_at = $3 WHERE tenant_id = $1 AND token_hash = $2
			AND used_at IS NULL AND expires_at > $3 RETURNING candidate_id`, subj.TenantID, hash, now).Scan(&subj.CandidateID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLinkInvalid // used meanwhile, or expired
		}
		if err != nil {
			return fmt.Errorf("spend link: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subject_sessions WHERE tenant_id = $1 AND idle_until <= $2`, subj.TenantID, now); err != nil {
			return fmt.Errorf("remove ended sessions: %w", err)
		}
		subj.SessionID = id.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO subject_sessions (tenant_id, id, candidate_id, token_hash, created_at, idle_until)
			VALUES ($1, $2, $3, $4, $5, $6)`, subj.TenantID, subj.SessionID, subj.CandidateID, sessionHash, now, now.Add(SessionIdle)); err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		_, err = s.registerTx(ctx, tx, subj, RequestAccess, StatusDone, nil, now)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return session, subj, nil
}

// Session returns the subject of a session's secret and keeps the session
// alive for another SessionIdle; ErrSessionEnded when it is unknown or
// timed out (or the candidate is gone).
func (s *Service) Session(ctx context.Context, token string) (*Subject, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrSessionEnded
	}
	hash := id.HashToken(token)
	subj := &Subject{}
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT s.tenant_id, s.id, s.candidate_id, t.name, t.slug FROM subject_sessions s
			JOIN tenants t ON t.id = s.tenant_id WHERE s.token_hash = $1 AND s.idle_until > $2 AND s.created_at > $3`,
			hash, s.now().UTC(), s.now().UTC().Add(-SessionAbsolute)).
			Scan(&subj.TenantID, &subj.SessionID, &subj.CandidateID, &subj.Company, &subj.Slug)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSessionEnded
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	err = s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		res, err := tx.ExecContext(ctx, `UPDATE subject_sessions SET idle_until = $3 WHERE tenant_id = $1 AND id = $2 AND idle_until > $4`,
			subj.TenantID, subj.SessionID, now.Add(SessionIdle), now)
		if err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrSessionEnded
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return subj, nil
}

// EndSession ends a self-service session (the candidate signs out).
func (s *Service) EndSession(ctx context.Context, subj *Subject) error {
	return s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM subject_sessions WHERE tenant_id = $1 AND id = $2`, subj.TenantID, subj.SessionID)
		return err
	})
}

// registerTx enters a request of the subject into the register and the
// trail, inside tx: answered at once (StatusDone) or waiting for the
// company (StatusOpen), due one month after receipt on the company's
// calendar. It returns the request's id.
func (s *Service) registerTx(ctx context.Context, tx *sql.Tx, subj *Subject, kind RequestKind, status string, fields []string, now time.Time) (string, error) {
	p, err := recruit.PolicyTx(ctx, tx, subj.TenantID)
	if err != nil {
		return "", err
	}
	rid := id.New()
	var answered sql.NullTime
	if status == StatusDone {
		answered = sql.NullTime{Time: now, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO subject_requests (tenant_id, id, candidate_id, kind, status, received_at, due_at, answered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, subj.TenantID, rid, subj.CandidateID, string(kind), status, now,
		db.Time(tenant.AddMonths(now, 1, p.Location)), answered); err != nil {
		return "", fmt.Errorf("register request: %w", err)
	}
	details := map[string]string{"kind": string(kind), "status": status, "via": "self_service"}
	if len(fields) > 0 {
		details["fields"] = strings.Join(fields, ",")
	}
	return rid, s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: subj.TenantID, Action: audit.SubjectRequested, Actor: subj.actor(), Time: now,
		Objects: []audit.Ref{{Kind: "candidate", ID: subj.CandidateID}, {Kind: "subject_request", ID: rid}}, Details: details})
}

func (subj *Subject) actor() audit.Actor {
	return audit.Actor{Kind: audit.ActorCandidate, ID: subj.CandidateID}
}

// WithdrawConsent withdraws the subject's talent-pool consent: the consent
// log records the withdrawal (referral self_service) with the text it
// withdraws from, the consent basis ends, and the request is in the
// register. ErrNothingToWithdraw when none is in force.
func (s *Service) WithdrawConsent(ctx context.Context, subj *Subject) error {
	return s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		b, err := recruit.BasesOf(ctx, tx, subj.TenantID, subj.CandidateID)
		if errors.Is(err, recruit.ErrNotFound) {
			return ErrSessionEnded
		}
		if err != nil {
			return err
		}
		if b.ConsentUntil.IsZero() || !b.ConsentUntil.After(now) {
			return ErrNothingToWithdraw
		}
		lang, version, err := withdrawnText(ctx, tx, subj.TenantID, subj.CandidateID)
		if err != nil {
			return err
		}
		e := recruit.ConsentEntry{CandidateID: subj.CandidateID, Event: recruit.ConsentWithdrawn, TextVersion: version, Language: lang,
			Referral: recruit.ReferralSelfService}
		if _, err := recruit.RecordConsent(ctx, tx, subj.TenantID, e, now); err != nil {
			return err
		}
		if err := s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: subj.TenantID, Action: audit.ConsentRecorded, Actor: subj.actor(), Time: now,
			Objects: []audit.Ref{{Kind: "candidate", ID: subj.CandidateID}},
			Details: map[string]string{"purpose": "talent_pool", "granted": "false", "event": string(recruit.ConsentWithdrawn),
				"text_version": version, "via": recruit.ReferralSelfService}}); err != nil {
			return err
		}
		_, err = s.registerTx(ctx, tx, subj, RequestWithdraw, StatusDone, nil, now)
		return err
	})
}

// Contact is the contact data a subject corrects themselves. The email is
// not among it: it is the identity the self-service link was sent to.
type Contact struct {
	Name  string
	Phone string
}

// subjectLine trims a one-line text and checks it: valid UTF-8, no control
// characters, at most max characters, and not empty when required.
func subjectLine(v string, max int, required bool) (string, bool) {
	v = strings.TrimSpace(norm.NFC.String(v))
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || (required && v == "") {
		return v, false
	}
	return v, !strings.ContainsFunc(v, unicode.IsControl)
}

// Rectify corrects the subject's name and phone (Art. 16). It returns the
// fields that changed (none: nothing is written). The change is in the
// register, on the GDPR track, and in the history of the candidate's
// applications (the fields, never the values).
func (s *Service) Rectify(ctx context.Context, subj *Subject, in Contact) ([]string, error) {
	f := map[string]string{}
	var ok bool
	if in.Name, ok = subjectLine(in.Name, 200, true); !ok {
		f["name"] = "subject.error_name"
	}
	if in.Phone, ok = subjectLine(in.Phone, 40, false); !ok || strings.ContainsFunc(in.Phone, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune("+ ()-./", r))
	}) {
		f["phone"] = "subject.error_phone"
	}
	if len(f) > 0 {
		return nil, &fault.Invalid{Fields: f}
	}
	var changed []string
	err := s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		var name, phone string
		err := tx.QueryRowContext(ctx, `SELECT name, phone FROM candidates WHERE tenant_id = $1 AND id = $2`, subj.TenantID, subj.CandidateID).Scan(&name, &phone)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionEnded
		}
		if err != nil {
			return fmt.Errorf("read contact: %w", err)
		}
		if name != in.Name {
			changed = append(changed, "name")
		}
		if phone != in.Phone {
			changed = append(changed, "phone")
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE candidates SET name = $3, phone = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			subj.TenantID, subj.CandidateID, in.Name, in.Phone, now); err != nil {
			return fmt.Errorf("correct contact: %w", err)
		}
		objects := []audit.Ref{{Kind: "candidate", ID: subj.CandidateID}}
		apps, err := tx.QueryContext(ctx, `SELECT id FROM applications WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY id`, subj.TenantID, subj.CandidateID)
		if err != nil {
			return fmt.Errorf("read applications: %w", err)
		}
		for apps.Next() {
			var aid string
			if err := apps.Scan(&aid); err != nil {
				apps.Close()
				return err
			}
			objects = append(objects, audit.Ref{Kind: "application", ID: aid})
		}
		apps.Close()
		if err := apps.Err(); err != nil {
			return err
		}
		fields := strings.Join(changed, ",")
		if err := s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: subj.TenantID, Action: audit.CandidateRectified, Actor: subj.actor(), Time: now,
			Objects: objects, Details: map[string]string{"fields": fields}}); err != nil {
			return err
		}
		_, err = s.registerTx(ctx, tx, subj, RequestRectify, StatusDone, changed, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// RequestErasure is the subject's request to erase their data (Art. 17).
// Unless the company approves such requests first (ErasureApproval), the
// data is erased at once, in the transaction that registers the request,
// and the session ends with it (erased is true). Otherwise the request
// waits in the register for the company (a second request while one waits
// is that one).
func (s *Service) RequestErasure(ctx context.Context, subj *Subject) (bool, error) {
	var done erased
	err := s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		p, err := recruit.PolicyTx(ctx, tx, subj.TenantID)
		if err != nil {
			return err
		}
		if p.ErasureApproval {
			// The candidate row is locked first (a no-op write), so two
			// presses at once register one request.
			if _, err := tx.ExecContext(ctx, `UPDATE candidates SET basis_until = basis_until WHERE tenant_id = $1 AND id = $2`,
				subj.TenantID, subj.CandidateID); err != nil {
				return fmt.Errorf("lock candidate: %w", err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subject_requests WHERE tenant_id = $1 AND candidate_id = $2 AND kind = 'erasure' AND status = 'open'`,
				subj.TenantID, subj.CandidateID).Scan(&n); err != nil {
				return fmt.Errorf("read requests: %w", err)
			}
			if n > 0 {
				return nil
			}
			_, err := s.registerTx(ctx, tx, subj, RequestErasure, StatusOpen, nil, now)
			return err
		}
		if _, err := s.registerTx(ctx, tx, subj, RequestErasure, StatusDone, nil, now); err != nil {
			return err
		}
		done, err = s.eraseTx(ctx, tx, subj.TenantID, []string{subj.CandidateID}, ReasonSubjectRequest, subj.actor(), condAlways)
		if err == nil && len(done.candidates) == 0 {
			return ErrSessionEnded
		}
		return err
	})
	if err != nil {
		return false, err
	}
	if len(done.candidates) > 0 {
		s.afterErase(ctx, done)
		return true, nil
	}
	return false, nil
}
