package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
)

// Reason is why a candidate was erased.
type Reason string

// The reasons of an erasure.
const (
	// ReasonManual: a user erased the candidate from the card or the search.
	ReasonManual Reason = "manual"
	// ReasonPositionArchived: the company erases candidates once their
	// positions are archived (tenant.Privacy.EraseOnArchive).
	ReasonPositionArchived Reason = "position_archived"
	// ReasonPurposeEnded: the purpose of the applications lapsed and no
	// consent was ever given.
	ReasonPurposeEnded Reason = "purpose_ended"
	// ReasonConsentEnded: the consent expired or was withdrawn.
	ReasonConsentEnded Reason = "consent_ended"
	// ReasonSubjectRequest: the candidate asked for it.
	ReasonSubjectRequest Reason = "subject_request"
)

// Reasons lists the reasons, in the order reports show them.
var Reasons = []Reason{ReasonManual, ReasonSubjectRequest, ReasonPurposeEnded, ReasonConsentEnded, ReasonPositionArchived}

// eraseChunk bounds the candidates of one erasing transaction: big enough
// that the fixed cost of a transaction (the audit record, the queue scan,
// the commit's sync) is shared, small enough that staff waiting for the
// write lock wait milliseconds, not seconds.
const eraseChunk = 200

// EraseCandidate erases a candidate on behalf of a user who holds
// candidates.erase and sees every position (the erasure reaches them all),
// and may see the application (the card's action; an application the user
// may not see is ErrNotFound). Everything held about
// the candidate goes, in every position; the consent log keeps its
// entries and the audit trail a tombstone with the candidate's id.
func (s *Service) EraseCandidate(ctx context.Context, a access.Actor, applicationID string) error {
	if !a.Can(access.EraseCandidates) {
		return ErrForbidden
	}
	app, err := s.opts.Recruit.Application(ctx, a, applicationID)
	if err != nil {
		return err
	}
	if !a.Can(access.AllPositions) {
		return ErrForbidden // the erasure reaches positions they may not see
	}
	n, err := s.erase(ctx, a.TenantID, []string{app.Candidate.ID}, ReasonManual, audit.ActorOf(a), condAlways)
	if err == nil && n == 0 {
		return ErrNotFound // erased meanwhile
	}
	return err
}

// EraseCandidates erases the candidates of applications the user selected
// in the search (bulk). Applications the user may not see are skipped, as
// are candidates erased meanwhile; it returns how many were erased.
func (s *Service) EraseCandidates(ctx context.Context, a access.Actor, applicationIDs []string) (int, error) {
	// The erasure reaches every position of the candidate: it is for those
	// who see them all.
	if !a.Can(access.EraseCandidates) || !a.Can(access.AllPositions) {
		return 0, ErrForbidden
	}
	// The candidates of the selection, a query per chunk (not one per
	// application).
	seen := map[string]bool{}
	var ids []string
	for rest := applicationIDs; len(rest) > 0; {
		n := min(len(rest), eraseChunk)
		err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
			cands, err := recruit.CandidatesOfApplications(ctx, tx, a, rest[:n])
			for _, c := range cands {
				if !seen[c] {
					seen[c] = true
					ids = append(ids, c)
				}
			}
			return err
		})
		if err != nil {
			return 0, err
		}
		rest = rest[n:]
	}
	total := 0
	for len(ids) > 0 {
		n := min(len(ids), eraseChunk)
		done, err := s.erase(ctx, a.TenantID, ids[:n], ReasonManual, audit.ActorOf(a), condAlways)
		total += done
		if err != nil {
			return total, err
		}
		ids = ids[n:]
	}
	return total, nil
}

// EraseSubject erases a candidate who asked for it (the self-service page,
// or staff approving the request); by is the candidate or the approving
// user. It returns false when the candidate was already gone.
func (s *Service) EraseSubject(ctx context.Context, by audit.Actor, tenantID, candidateID string) (bool, error) {
	n, err := s.erase(ctx, tenantID, []string{candidateID}, ReasonSubjectRequest, by, condAlways)
	return n == 1, err
}

// Conditions an erasure re-checks, on the candidate row, in the
// transaction that erases: a consent granted a moment before the sweep's
// transaction saves the candidate. $2 is the time of the erasure.
const (
	condAlways = "(c.created_at < $2 OR TRUE)"
	// condNoBasis: no processing basis is left.
	condNoBasis = "c.basis_until <= $2"
	// condArchived: no consent in force and every application is to an
	// archived position.
	condArchived = `(c.consent_until IS NULL OR c.consent_until <= $2) AND NOT EXISTS (SELECT 1 FROM applications ea
		JOIN positions ep ON ep.tenant_id = ea.tenant_id AND ep.id = ea.position_id
		WHERE ea.tenant_id = c.tenant_id AND ea.candidate_id = c.id AND ep.status <> 'archived')`
)

// erased is what one erasing transaction removed, for the work after commit.
type erased struct {
	tenantID   string
	candidates []string
	documents  []string
	erasures   []ledgerEntry
	// addresses are the candidates' emails and phones (their queued mail
	// and the outbox).
	addresses []string
}

// erase removes the candidates in ids (one company, at most eraseChunk)
// that still meet cond, in one transaction: the candidate rows, and with
// them by the schema's cascades every application, document row, comment,
// note, rating, label, interview, task, message, profile, consent link and
// search entry; the candidates' queued email; their place in the search
// queue. The same transaction records the erasures (ids only) and one
// audit tombstone. After commit the erasures go to the ledger and the
// documents' files are deleted (their keys went with the rows). It returns
// how many candidates it erased.
func (s *Service) erase(ctx context.Context, tenantID string, ids []string, reason Reason, by audit.Actor, cond string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var done erased
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		done, err = s.eraseTx(ctx, tx, tenantID, ids, reason, by, cond)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.afterErase(ctx, done)
	return len(done.candidates), nil
}

func (s *Service) eraseTx(ctx context.Context, tx *sql.Tx, tenantID string, ids []string, reason Reason, by audit.Actor, cond string) (erased, error) {
	now := s.now().UTC()
	done := erased{tenantID: tenantID}
	args, in := recruit.InList([]any{tenantID, now}, ids)
	lock := ""
	if s.db.Engine == db.Postgres {
		lock = " FOR UPDATE"
	}
	q, err := tx.QueryContext(ctx, `SELECT c.id, c.email, c.phone FROM candidates c WHERE c.tenant_id = $1 AND c.id IN (`+in+`) AND `+cond+lock, args...)
	if err != nil {
		return done, fmt.Errorf("select candidates to erase: %w", err)
	}
	for q.Next() {
		var cid, email, phone string
		if err := q.Scan(&cid, &email, &phone); err != nil {
			q.Close()
			return done, fmt.Errorf("select candidates to erase: %w", err)
		}
		done.candidates = append(done.candidates, cid)
		done.addresses = append(done.addresses, email)
		if phone != "" {
			done.addresses = append(done.addresses, phone)
			if e164, ok := notify.NormalizePhone(phone); ok && e164 != phone {
				done.addresses = append(done.addresses, e164)
			}
		}
	}
	q.Close()
	if err := q.Err(); err != nil {
		return done, fmt.Errorf("select candidates to erase: %w", err)
	}
	if len(done.candidates) == 0 {
		return done, nil
	}
	args, in = recruit.InList([]any{tenantID}, done.candidates)
	q, err = tx.QueryContext(ctx, `SELECT id FROM documents WHERE tenant_id = $1 AND candidate_id IN (`+in+`)`, args...)
	if err != nil {
		return done, fmt.Errorf("select documents to erase: %w", err)
	}
	if done.documents, err = recruit.ScanIDs(q); err != nil {
		return done, fmt.Errorf("select documents to erase: %w", err)
	}
	// Mail not yet sent to them: what their applications' history and the
	// matches' invitations queued (whatever address it went to), and any
	// other message to their present address or phone.
	for _, q := range []string{
		`DELETE FROM email_queue WHERE tenant_id = $1 AND id IN (SELECT m.queue_id FROM messages m JOIN applications a ON a.tenant_id = m.tenant_id AND a.id = m.application_id
			WHERE a.tenant_id = $1 AND a.candidate_id IN (` + in + `))`,
		`DELETE FROM email_queue WHERE tenant_id = $1 AND id IN (SELECT queue_id FROM match_invitations WHERE tenant_id = $1 AND candidate_id IN (` + in + `))`,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return done, fmt.Errorf("drop queued mail: %w", err)
		}
	}
	if _, err := notify.DropQueuedTo(ctx, tx, tenantID, done.addresses); err != nil {
		return done, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE tenant_id = $1 AND id IN (`+in+`)`, args...); err != nil {
		return done, fmt.Errorf("erase candidates: %w", err)
	}
	// The cascades' triggers queued the candidates for reindexing; the
	// index entries went with them.
	if _, err := tx.ExecContext(ctx, `DELETE FROM search_queue WHERE tenant_id = $1 AND candidate_id IN (`+in+`)`, args...); err != nil {
		return done, fmt.Errorf("erase search queue: %w", err)
	}
	// What outlives the candidate keeps nothing written about them: the
	// consent log its names, address and choices (not a recruiter's note of
	// evidence), the register of their requests its ids (not the company's
	// reasons), and an open request of theirs is answered by the erasure.
	for _, q := range []string{
		`UPDATE consent_log SET evidence = '' WHERE tenant_id = $1 AND candidate_id IN (` + in + `) AND evidence <> ''`,
		`UPDATE subject_requests SET note = '' WHERE tenant_id = $1 AND candidate_id IN (` + in + `) AND note <> ''`,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return done, fmt.Errorf("erase what outlives the candidate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subject_requests SET status = 'done', answered_at = `+fmt.Sprintf("$%d", len(args)+1)+`
		WHERE tenant_id = $1 AND candidate_id IN (`+in+`) AND status = 'open'`, append(args[:len(args):len(args)], now)...); err != nil {
		return done, fmt.Errorf("close open requests: %w", err)
	}
	// The bytes of what was erased go at the next Forget (the task is kept
	// in the database, so a restart does not lose it).
	if _, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ('privacy_forget', $1) ON CONFLICT (name) DO NOTHING`, now); err != nil {
		return done, fmt.Errorf("record the forgetting: %w", err)
	}
	byUser := ""
	if by.Kind == audit.ActorUser {
		byUser = by.ID
	}
	vals := make([]string, 0, len(done.candidates))
	eargs := []any{tenantID, string(reason), byUser, now}
	for _, cid := range done.candidates {
		e := ledgerEntry{Version: 1, Tenant: tenantID, Candidate: cid, Erasure: id.New(), Reason: string(reason), At: now}
		done.erasures = append(done.erasures, e)
		n := len(eargs)
		eargs = append(eargs, e.Erasure, cid)
		vals = append(vals, fmt.Sprintf("($1, $%d, $%d, $2, $3, $4, FALSE)", n+1, n+2))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erasures (tenant_id, id, candidate_id, reason, erased_by, erased_at, ledgered) VALUES `+
		strings.Join(vals, ", "), eargs...); err != nil {
		return done, fmt.Errorf("record erasures: %w", err)
	}
	objects := make([]audit.Ref, len(done.candidates))
	for i, cid := range done.candidates {
		objects[i] = audit.Ref{Kind: "candidate", ID: cid}
	}
	details := map[string]string{"reason": string(reason)}
	if by.Kind != audit.ActorSystem {
		// A person's erasure of many at once is what the mass-activity
		// alert watches; the company's own sweep is not.
		details["count"] = fmt.Sprint(len(done.candidates))
	}
	if err := s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.CandidateErased, Actor: by, Time: now,
		Objects: objects, Details: details}); err != nil {
		return done, err
	}
	return done, nil
}

// afterErase does what an erasure's transaction could not: it appends the
// erasures to the ledger (then marks them ledgered; a crash in between
// leaves them for the next LedgerPending) and deletes the documents'
// files. Both failures are logged by id and left for the next run: the
// rows and the files' keys are gone already.
func (s *Service) afterErase(ctx context.Context, done erased) {
	ctx = context.WithoutCancel(ctx)
	if err := s.ledger(ctx, done.tenantID, done.erasures); err != nil {
		s.logError("erasure ledger", err)
	}
	if _, err := notify.ForgetInOutbox(s.opts.OutboxDir, done.addresses); err != nil {
		s.logError("outbox", err)
	}
	for _, d := range done.documents {
		// The document and the text read from it (recruit's textObject).
		for _, obj := range []string{d, d + "-text"} {
			if err := s.opts.Blobs.Delete(ctx, done.tenantID, obj); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.logError("erase document file "+obj, err)
			}
		}
	}
}

// Forget makes the database drop the bytes of what was erased: on SQLite
// the search index is merged into one segment without the erased entries
// and the write-ahead log is checkpointed and truncated (secure_delete, on
// for every connection, overwrote the freed cells already); on PostgreSQL the
// tables erasure touches are vacuumed, which removes the dead rows (their
// bytes stay in free space until reused: docs/privacy.md says what the
// operator does about that).
func (s *Service) Forget(ctx context.Context) error {
	if s.db.Engine == db.SQLite {
		// The search index deletes by tombstones, which leave the words
		// in the index's pages until a merge: the merge of everything
		// writes the index without them (its old pages are overwritten).
		if err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO candidate_search (candidate_search) VALUES ('optimize')`)
			return err
		}); err != nil {
			return fmt.Errorf("rewrite search index: %w", err)
		}
	}
	return s.db.Reclaim(ctx, vacuumTables)
}

// ForgetPending runs Forget when an erasure happened since the last time
// (the task each erasure leaves in pending_backfills, so that a restart in
// between does not lose it), then forgets the task unless an erasure set
// it again meanwhile. The periodic job and the sweep call it.
func (s *Service) ForgetPending(ctx context.Context) error {
	var at time.Time
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT created_at FROM pending_backfills WHERE name = 'privacy_forget'`).Scan(&at)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pending forgetting: %w", err)
	}
	// The task is taken first, by a conditional write: an erasure from
	// now on sets it again, and a second runner that read the same task
	// finds it taken and leaves the work to the first.
	taken := false
	if err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_backfills WHERE name = 'privacy_forget' AND created_at = $1`, at)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		taken = n == 1
		return err
	}); err != nil {
		return err
	}
	if !taken {
		return nil
	}
	if err := s.Forget(ctx); err != nil {
		// Left for the next run.
		_ = s.db.InTx(context.WithoutCancel(ctx), db.Installation, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ('privacy_forget', $1) ON CONFLICT (name) DO NOTHING`, at)
			return err
		})
		return err
	}
	return nil
}

// vacuumTables are the tables that hold a candidate's data.
var vacuumTables = []string{"candidates", "applications", "documents", "comments", "private_notes", "ratings", "application_labels",
	"interviews", "tasks", "messages", "candidate_proposals", "application_submissions", "candidate_profile_changes", "candidate_skills",
	"candidate_languages", "candidate_search", "candidate_search_words", "consent_confirmations", "match_invitations", "email_queue", "search_queue"}

func (s *Service) logError(what string, err error) {
	if s.opts.Logger != nil {
		s.opts.Logger.Error("privacy: "+what, "error", err.Error())
	}
}
