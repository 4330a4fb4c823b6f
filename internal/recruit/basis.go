package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// A candidate's data is kept on one of two processing bases: the purpose of
// their applications (each lasts the company's purpose period from its
// receipt, at most six months) and their voluntary consent to the talent
// pool (the company's consent period from its grant, at most three years).
// The candidate row keeps when each ends and the later of the two
// (basis_until), written in the transaction that changes an application or
// a consent, so that the expiry list, the search filter and the daily
// erasure sweep are one indexed range each.

// Policy is the part of a company's settings the bases are computed from.
type Policy struct {
	tenant.Privacy
	Location *time.Location
}

// PolicyTx reads the company's privacy policy inside tx.
func PolicyTx(ctx context.Context, tx *sql.Tx, tenantID string) (Policy, error) {
	var lang, settings string
	err := tx.QueryRowContext(ctx, `SELECT default_language, settings FROM tenants WHERE id = $1`, tenantID).Scan(&lang, &settings)
	if err != nil {
		return Policy{}, fmt.Errorf("read privacy policy: %w", err)
	}
	t := &tenant.Tenant{DefaultLanguage: lang, Settings: tenant.ParseSettings(settings)}
	return Policy{Privacy: t.Settings.Privacy, Location: t.Location()}, nil
}

// PurposeEnd is when the purpose of an application received at t ends.
func (p Policy) PurposeEnd(t time.Time) time.Time {
	return db.Time(tenant.AddMonths(t, p.Purpose(), p.Location))
}

// ConsentEnd is when a consent granted at t for months months ends (0:
// the company's period; never beyond the legal maximum).
func (p Policy) ConsentEnd(t time.Time, months int) time.Time {
	if months <= 0 {
		months = p.Consent()
	}
	months = min(months, tenant.MaxConsentMonths)
	return db.Time(tenant.AddMonths(t, months, p.Location))
}

// Bases is what keeps a candidate's data, and until when.
type Bases struct {
	PurposeUntil time.Time
	// ConsentUntil is zero when no consent is in force.
	ConsentUntil time.Time
	// Until is the later of the two: the data goes after it.
	Until time.Time
}

// EndsWithin reports whether the bases end within the notice period
// (tenant.NoticeMonths) after now, in loc's calendar.
func (b Bases) EndsWithin(now time.Time, loc *time.Location) bool {
	return !b.Until.IsZero() && b.Until.Before(tenant.AddMonths(now, tenant.NoticeMonths, loc))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// RefreshBases recomputes the purpose of the candidates from their
// applications (the newest receipt; without one, the candidate's entry;
// applications.receipt is false for an application a recruiter made from
// the pool's matches, since the candidate did not apply, and for one the
// anonymous career form added to a known candidate, since anyone who knows
// the address could send it) under the company's policy, inside tx, which the caller opened
// for the company. Unknown ids are skipped.
func RefreshBases(ctx context.Context, tx *sql.Tx, tenantID string, candidateIDs ...string) error {
	if len(candidateIDs) == 0 {
		return nil
	}
	p, err := PolicyTx(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	return refreshBases(ctx, tx, p, tenantID, candidateIDs)
}

// basisChunk bounds the ids of one statement (SQLite allows 32,766 variables).
const basisChunk = 500

func refreshBases(ctx context.Context, tx *sql.Tx, p Policy, tenantID string, candidateIDs []string) error {
	for len(candidateIDs) > 0 {
		n := min(len(candidateIDs), basisChunk)
		if err := refreshChunk(ctx, tx, p, tenantID, candidateIDs[:n], false); err != nil {
			return err
		}
		candidateIDs = candidateIDs[n:]
	}
	return nil
}

// refreshChunk computes the bases of up to basisChunk candidates in one
// statement. The purpose is computed here (month arithmetic on the
// company's calendar); the basis is the later of it and the consent the
// row holds when the statement writes it, so that a consent recorded by a
// concurrent transaction (RecordConsent locks the row) is never written
// back over with what was read before it. With fromLog, the consent is
// read from the consent log too (the backfill of rows written before the
// bases existed, whose consent_until is unknown): the rows are locked
// first, as RecordConsent does, so that the log read holds every consent
// recorded before and none can be recorded until this transaction ends.
func refreshChunk(ctx context.Context, tx *sql.Tx, p Policy, tenantID string, ids []string, fromLog bool) error {
	args, list := InList([]any{tenantID}, ids)
	if fromLog {
		if _, err := tx.ExecContext(ctx, `UPDATE candidates SET basis_until = basis_until WHERE tenant_id = $1 AND id IN (`+list+`)`, args...); err != nil {
			return fmt.Errorf("lock candidates: %w", err)
		}
	}
	received := map[string]time.Time{}
	var found []string
	q, err := tx.QueryContext(ctx, `SELECT id, created_at FROM candidates WHERE tenant_id = $1 AND id IN (`+list+`)`, args...)
	if err != nil {
		return fmt.Errorf("read bases: %w", err)
	}
	for q.Next() {
		var cid string
		var at time.Time
		if err := q.Scan(&cid, &at); err != nil {
			q.Close()
			return fmt.Errorf("read bases: %w", err)
		}
		received[cid] = at
		found = append(found, cid)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return fmt.Errorf("read bases: %w", err)
	}
	if len(found) == 0 {
		return nil
	}
	q, err = tx.QueryContext(ctx, `SELECT candidate_id, created_at FROM applications WHERE tenant_id = $1 AND candidate_id IN (`+list+`) AND receipt`, args...)
	if err != nil {
		return fmt.Errorf("read applications: %w", err)
	}
	first := map[string]bool{}
	for q.Next() {
		var cid string
		var at time.Time
		if err := q.Scan(&cid, &at); err != nil {
			q.Close()
			return fmt.Errorf("read applications: %w", err)
		}
		if r, ok := received[cid]; ok && (!first[cid] || at.After(r)) {
			received[cid], first[cid] = at, true
		}
	}
	q.Close()
	if err := q.Err(); err != nil {
		return fmt.Errorf("read applications: %w", err)
	}
	var consent map[string]sql.NullTime
	if fromLog {
		consent = map[string]sql.NullTime{}
		q, err = tx.QueryContext(ctx, `SELECT candidate_id, event, valid_until, created_at FROM consent_log
			WHERE tenant_id = $1 AND candidate_id IN (`+list+`) AND purpose = 'talent_pool' ORDER BY created_at, id`, args...)
		if err != nil {
			return fmt.Errorf("read consent log: %w", err)
		}
		for q.Next() {
			var cid, event string
			var until sql.NullTime
			var at time.Time
			if err := q.Scan(&cid, &event, &until, &at); err != nil {
				q.Close()
				return fmt.Errorf("read consent log: %w", err)
			}
			switch {
			case event != string(ConsentGranted):
				consent[cid] = sql.NullTime{}
			case until.Valid:
				consent[cid] = sql.NullTime{Time: db.Time(until.Time), Valid: true}
			default: // granted before validity was recorded: the three years the first text gave
				consent[cid] = sql.NullTime{Time: p.ConsentEnd(at, tenant.MaxConsentMonths), Valid: true}
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return fmt.Errorf("read consent log: %w", err)
		}
	}
	// One statement for the chunk: CASE id WHEN … THEN … per column (the
	// ELSE names the column, which gives PostgreSQL the parameters' type).
	wargs := []any{tenantID}
	var purposeCase, consentCase, basisCase strings.Builder
	marks := make([]string, 0, len(found))
	for _, cid := range found {
		purpose := p.PurposeEnd(received[cid])
		wargs = append(wargs, cid, purpose)
		idp, pp := len(wargs)-1, len(wargs)
		marks = append(marks, fmt.Sprintf("$%d", idp))
		fmt.Fprintf(&purposeCase, " WHEN $%d THEN $%d", idp, pp)
		if fromLog {
			c := consent[cid]
			until := purpose
			if c.Valid {
				until = later(purpose, c.Time)
			}
			wargs = append(wargs, c, until)
			fmt.Fprintf(&consentCase, " WHEN $%d THEN $%d", idp, len(wargs)-1)
			fmt.Fprintf(&basisCase, " WHEN $%d THEN $%d", idp, len(wargs))
		}
	}
	purposeOf := `CASE id` + purposeCase.String() + ` ELSE purpose_until END`
	set := `purpose_until = ` + purposeOf + `, basis_until = CASE WHEN consent_until > ` + purposeOf + ` THEN consent_until ELSE ` + purposeOf + ` END`
	if fromLog {
		set = `purpose_until = ` + purposeOf + `, consent_until = CASE id` + consentCase.String() + ` ELSE consent_until END, basis_until = CASE id` +
			basisCase.String() + ` ELSE basis_until END`
	}
	if _, err := tx.ExecContext(ctx, `UPDATE candidates SET `+set+` WHERE tenant_id = $1 AND id IN (`+strings.Join(marks, ", ")+`)`, wargs...); err != nil {
		return fmt.Errorf("write bases: %w", err)
	}
	return nil
}

func writeBases(ctx context.Context, tx *sql.Tx, tenantID, candidateID string, b Bases) error {
	consent := sql.NullTime{Time: b.ConsentUntil, Valid: !b.ConsentUntil.IsZero()}
	if _, err := tx.ExecContext(ctx, `UPDATE candidates SET purpose_until = $3, consent_until = $4, basis_until = $5 WHERE tenant_id = $1 AND id = $2`,
		tenantID, candidateID, b.PurposeUntil, consent, b.Until); err != nil {
		return fmt.Errorf("write bases: %w", err)
	}
	return nil
}

// BasesOf reads a candidate's bases inside tx (zero times when unknown).
func BasesOf(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) (Bases, error) {
	var purpose, consent, until sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT purpose_until, consent_until, basis_until FROM candidates WHERE tenant_id = $1 AND id = $2`,
		tenantID, candidateID).Scan(&purpose, &consent, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return Bases{}, ErrNotFound
	}
	if err != nil {
		return Bases{}, fmt.Errorf("read bases: %w", err)
	}
	return Bases{PurposeUntil: purpose.Time, ConsentUntil: consent.Time, Until: until.Time}, nil
}

// RefreshAllBases recomputes the bases of every candidate of the company,
// a chunk per transaction (after the company changed its purpose period).
// With missingOnly, only candidates whose bases were never computed.
func (s *Service) RefreshAllBases(ctx context.Context, tenantID string, missingOnly bool) (int, error) {
	done, after := 0, ""
	for {
		var ids []string
		err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
			cond := ""
			if missingOnly {
				cond = " AND purpose_until IS NULL"
			}
			q, err := tx.QueryContext(ctx, `SELECT id FROM candidates WHERE tenant_id = $1 AND id > $2`+cond+` ORDER BY id LIMIT `+fmt.Sprint(basisChunk), tenantID, after)
			if err != nil {
				return fmt.Errorf("list candidates: %w", err)
			}
			ids, err = ScanIDs(q)
			if err != nil || len(ids) == 0 {
				return err
			}
			p, err := PolicyTx(ctx, tx, tenantID)
			if err != nil {
				return err
			}
			return refreshChunk(ctx, tx, p, tenantID, ids, missingOnly)
		})
		if err != nil {
			return done, err
		}
		if len(ids) == 0 {
			return done, nil
		}
		done += len(ids)
		after = ids[len(ids)-1]
	}
}

// InList appends ids to args and returns the placeholders that name them
// ("$3, $4, …", numbered after what args held), for an `IN (…)` list.
func InList(args []any, ids []string) ([]any, string) {
	var b strings.Builder
	for i, v := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, v)
		fmt.Fprintf(&b, "$%d", len(args))
	}
	return args, b.String()
}

// ScanIDs reads the one text column of every row of q, and closes it.
func ScanIDs(q *sql.Rows) ([]string, error) {
	defer q.Close()
	var ids []string
	for q.Next() {
		var s string
		if err := q.Scan(&s); err != nil {
			return nil, err
		}
		ids = append(ids, s)
	}
	return ids, q.Err()
}

// BackfillBases does the recomputations of bases that are pending: of
// candidates written before bases existed (the task migration 0033 left),
// and of every candidate of a company whose purpose period changed (the
// task tenant.SavePrivacy leaves with the change, done at once by
// privacy.SavePolicy unless a crash or a timeout stopped it). Each task is
// forgotten once done, unless it was set again meanwhile. It returns how
// many candidates it computed.
func (s *Service) BackfillBases(ctx context.Context) (int, error) {
	type task struct {
		name string
		at   time.Time
	}
	var tasks []task
	var tenants []string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		q, err := tx.QueryContext(ctx, `SELECT name, created_at FROM pending_backfills WHERE name = 'privacy_bases' OR name LIKE 'privacy_bases:%' ORDER BY name`)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var t task
			if err := q.Scan(&t.name, &t.at); err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		if err := q.Err(); err != nil || len(tasks) == 0 || tasks[0].name != "privacy_bases" {
			return err
		}
		q2, err := tx.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
		if err != nil {
			return err
		}
		tenants, err = ScanIDs(q2)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pending bases: %w", err)
	}
	total := 0
	for _, t := range tasks {
		var n int
		var err error
		if t.name == "privacy_bases" {
			for _, tenantID := range tenants {
				var m int
				m, err = s.RefreshAllBases(ctx, tenantID, true)
				n += m
				if err != nil {
					break
				}
			}
		} else {
			n, err = s.RefreshAllBases(ctx, strings.TrimPrefix(t.name, tenant.PendingBases), false)
		}
		total += n
		if err != nil {
			return total, err
		}
		if err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			if t.name == "privacy_bases" {
				// The migration's task, set once (its time is SQL's, not ours).
				_, err := tx.ExecContext(ctx, `DELETE FROM pending_backfills WHERE name = $1`, t.name)
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM pending_backfills WHERE name = $1 AND created_at = $2`, t.name, t.at)
			return err
		}); err != nil {
			return total, err
		}
	}
	return total, nil
}

// ConsentEvent is what a consent log entry records.
type ConsentEvent string

// The events of the consent log.
const (
	ConsentGranted   ConsentEvent = "granted"
	ConsentRefused   ConsentEvent = "refused"
	ConsentWithdrawn ConsentEvent = "withdrawn"
)

// Referrals: where a choice on a consent came from.
const (
	ReferralCareerPage  = "career_page"
	ReferralRequest     = "request"
	ReferralRenewal     = "renewal"
	ReferralManual      = "manual"
	ReferralSelfService = "self_service"
	ReferralImport      = "import"
)

// ConsentEntry is one choice on the talent-pool consent.
type ConsentEntry struct {
	CandidateID string
	Event       ConsentEvent
	// TextVersion and Language name the text the candidate saw.
	TextVersion string
	Language    string
	Referral    string
	// Evidence is a recruiter's note of a consent entered by hand.
	Evidence string
	// At is when the candidate chose (zero: now); a recruiter entering a
	// consent by hand gives the date it was given.
	At time.Time
	// Months is the validity of a grant (0: the company's period).
	Months int
	// RecordedBy is the user who entered it ("" for the candidate).
	RecordedBy string
}

// maxEvidence bounds a recruiter's note of evidence, in characters.
const maxEvidence = 2000

// RecordConsent writes e to the consent log inside tx, which the caller
// opened for the company, with the candidate's name and address and the
// company's business id as they are now (the log outlives the candidate),
// and sets the candidate's consent basis: a grant runs its validity from
// its date, a refusal or withdrawal ends any consent in force. It returns
// when a grant ends (zero otherwise). The caller writes the audit record.
func RecordConsent(ctx context.Context, tx *sql.Tx, tenantID string, e ConsentEntry, now time.Time) (time.Time, error) {
	switch e.Event {
	case ConsentGranted, ConsentRefused, ConsentWithdrawn:
	default:
		return time.Time{}, fmt.Errorf("record consent: unknown event %q", e.Event)
	}
	if !utf8.ValidString(e.Evidence) || utf8.RuneCountInString(e.Evidence) > maxEvidence {
		return time.Time{}, fmt.Errorf("record consent: evidence too long or not text")
	}
	at := db.Time(now)
	if !e.At.IsZero() {
		at = db.Time(e.At)
	}
	p, err := PolicyTx(ctx, tx, tenantID)
	if err != nil {
		return time.Time{}, err
	}
	// The candidate row is locked first (a no-op write), so that an
	// erasure running at the same moment either finds the consent and
	// spares the candidate, or erased them before and this finds nothing.
	res, err := tx.ExecContext(ctx, `UPDATE candidates SET basis_until = basis_until WHERE tenant_id = $1 AND id = $2`, tenantID, e.CandidateID)
	if err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return time.Time{}, ErrNotFound
	}
	var name, email string
	err = tx.QueryRowContext(ctx, `SELECT name, email FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, e.CandidateID).Scan(&name, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	given, family := SplitName(name)
	var until sql.NullTime
	if e.Event == ConsentGranted {
		until = sql.NullTime{Time: p.ConsentEnd(at, e.Months), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO consent_log (tenant_id, id, candidate_id, purpose, event, given_name, family_name, email, company_number,
		text_version, language, referral, evidence, valid_until, recorded_by, created_at)
		VALUES ($1, $2, $3, 'talent_pool', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		tenantID, id.New(), e.CandidateID, string(e.Event), given, family, email, p.RegistrationNumber,
		e.TextVersion, e.Language, e.Referral, e.Evidence, until, e.RecordedBy, at); err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	b, err := BasesOf(ctx, tx, tenantID, e.CandidateID)
	if err != nil {
		return time.Time{}, err
	}
	if b.PurposeUntil.IsZero() { // never computed: compute it now
		if err := refreshBases(ctx, tx, p, tenantID, []string{e.CandidateID}); err != nil {
			return time.Time{}, err
		}
		if b, err = BasesOf(ctx, tx, tenantID, e.CandidateID); err != nil {
			return time.Time{}, err
		}
	}
	b.ConsentUntil, b.Until = time.Time{}, b.PurposeUntil
	if until.Valid && until.Time.After(now) {
		b.ConsentUntil, b.Until = until.Time, later(b.PurposeUntil, until.Time)
	}
	return until.Time, writeBases(ctx, tx, tenantID, e.CandidateID, b)
}

// SplitName splits a full name into given and family names at its last
// space (a single word is a given name): the consent log's columns.
func SplitName(name string) (given, family string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return strings.TrimSpace(name[:i]), name[i+1:]
	}
	return name, ""
}

// consentRecorded is the audit event of a consent entry.
func consentRecorded(tenantID string, e ConsentEntry, by audit.Actor, objects ...audit.Ref) audit.Event {
	return audit.Event{TenantID: tenantID, Action: audit.ConsentRecorded, Actor: by,
		Objects: append([]audit.Ref{{Kind: "candidate", ID: e.CandidateID}}, objects...),
		Details: map[string]string{"purpose": "talent_pool", "granted": fmt.Sprint(e.Event == ConsentGranted), "event": string(e.Event),
			"text_version": e.TextVersion, "via": e.Referral}}
}
