package whistle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// CaseFilter narrows the case list.
type CaseFilter struct {
	// Status: one status, "open" (all but closed, the default) or "all".
	Status    string
	ChannelID string
	// After: the keyset position (the last case's ReceivedOn and ID).
	AfterDay, AfterID string
	Limit             int
}

// visibleTo is the condition that the case r is a's: routed to a by its
// channel or assigned, and a not excluded.
const visibleTo = `(EXISTS (SELECT 1 FROM whistle_channel_handlers ch WHERE ch.tenant_id = r.tenant_id AND ch.channel_id = r.channel_id AND ch.user_id = $2)
	OR EXISTS (SELECT 1 FROM whistle_case_handlers h WHERE h.tenant_id = r.tenant_id AND h.report_id = r.id AND h.user_id = $2))
	AND NOT EXISTS (SELECT 1 FROM whistle_case_handlers x WHERE x.tenant_id = r.tenant_id AND x.report_id = r.id AND x.user_id = $2 AND x.excluded)`

// Cases lists a's cases, newest first, without their content.
func (s *Service) Cases(ctx context.Context, a access.Actor, f CaseFilter) ([]*CaseInfo, error) {
	if err := mayHandle(a); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT ` + caseCols + ` FROM whistle_reports r JOIN whistle_channels c ON c.tenant_id = r.tenant_id AND c.id = r.channel_id
		WHERE r.tenant_id = $1 AND ` + visibleTo
	args := []any{a.TenantID, a.UserID}
	switch {
	case f.Status == "" || f.Status == "open":
		q += ` AND r.status <> 'closed'`
	case f.Status == "all":
	case slices.Contains(Statuses, f.Status):
		args = append(args, f.Status)
		q += fmt.Sprintf(` AND r.status = $%d`, len(args))
	default:
		return nil, fault.Field("status", "whistle.error.status")
	}
	if f.ChannelID != "" {
		args = append(args, f.ChannelID)
		q += fmt.Sprintf(` AND r.channel_id = $%d`, len(args))
	}
	if f.AfterDay != "" {
		args = append(args, f.AfterDay, f.AfterID)
		q += fmt.Sprintf(` AND (r.received_on < $%d OR r.received_on = $%d AND r.id < $%d)`, len(args)-1, len(args)-1, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY r.received_on DESC, r.id DESC LIMIT $%d`, len(args))
	var out []*CaseInfo
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// CaseHandlerView is a handler of a case.
type CaseHandlerView struct {
	UserID   string
	Excluded bool
	// HasCopy: the case's key is sealed to this handler.
	HasCopy bool
}

// Case is a case opened by a handler.
type Case struct {
	Info     *CaseInfo
	Entries  []EntryView
	Handlers []CaseHandlerView
	// Archived: a bundle for the archive system exists.
	Archived bool
}

// caseKey reads the case's info and opens its key for h: ErrNotFound when
// the case is not h's or h is excluded, ErrNoCopy when h has no copy yet.
func (s *Service) caseKey(ctx context.Context, tx *sql.Tx, h *Handler, reportID string) (*CaseInfo, *vault.Identity, string, error) {
	a := h.Actor
	info, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM whistle_reports r JOIN whistle_channels c ON c.tenant_id = r.tenant_id AND c.id = r.channel_id
		WHERE r.tenant_id = $1 AND r.id = $3 AND `+visibleTo, a.TenantID, a.UserID, reportID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, "", ErrNotFound
	}
	if err != nil {
		return nil, nil, "", err
	}
	var sealed []byte
	var pub string
	err = tx.QueryRowContext(ctx, `SELECT h.sealed, r.public_key FROM whistle_case_handlers h JOIN whistle_reports r ON r.tenant_id = h.tenant_id AND r.id = h.report_id
		WHERE h.tenant_id = $1 AND h.report_id = $2 AND h.user_id = $3 AND NOT h.excluded`, a.TenantID, reportID, a.UserID).Scan(&sealed, &pub)
	if errors.Is(err, sql.ErrNoRows) || err == nil && sealed == nil {
		return info, nil, "", ErrNoCopy
	}
	if err != nil {
		return nil, nil, "", err
	}
	key, err := vault.OpenIdentity(h.key, reportKeyBinding(a.TenantID, reportID, a.UserID), sealed)
	if err != nil {
		return info, nil, "", ErrNoCopy
	}
	return info, key, pub, nil
}

// ErrNoCopy: the case's key is not (or no longer) sealed to this handler;
// another handler of the case shares it by opening the case.
var ErrNoCopy = fault.New(fault.ErrConflict, "no copy of the case key", "whistle.error.no_copy")

// Case opens a case for h: content, messages, notes, redactions and the
// handlers. Opening is recorded. Channel handlers who enrolled after the
// report came get their copy of its key now.
func (s *Service) Case(ctx context.Context, h *Handler, reportID string) (*Case, error) {
	a := h.Actor
	var out Case
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		info, key, _, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		out.Info = info
		if out.Entries, err = s.openEntries(ctx, tx, a.TenantID, reportID, key, []string{KindReport, KindMessage, KindNote, KindRedaction}); err != nil {
			return err
		}
		if err := s.shareWithChannel(ctx, tx, a.TenantID, info, key); err != nil {
			return err
		}
		if out.Handlers, err = caseHandlers(ctx, tx, a.TenantID, reportID); err != nil {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM whistle_archives WHERE tenant_id = $1 AND report_id = $2`, a.TenantID, reportID).Scan(&one)
		out.Archived = err == nil
		return s.record(ctx, tx, a, audit.CaseOpened, reportID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, a access.Actor, action audit.Action, reportID string, details map[string]string) error {
	return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: action, Actor: audit.ActorOf(a),
		Objects: []audit.Ref{{Kind: "case", ID: reportID}}, Details: details})
}

func caseHandlers(ctx context.Context, tx *sql.Tx, tenantID, reportID string) ([]CaseHandlerView, error) {
	rows, err := tx.QueryContext(ctx, `SELECT user_id, excluded, sealed IS NOT NULL FROM whistle_case_handlers WHERE tenant_id = $1 AND report_id = $2 ORDER BY user_id`, tenantID, reportID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseHandlerView
	for rows.Next() {
		var v CaseHandlerView
		if err := rows.Scan(&v.UserID, &v.Excluded, &v.HasCopy); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// shareWithChannel seals the case's key to the channel's handlers who have
// a key but no copy and are not excluded.
func (s *Service) shareWithChannel(ctx context.Context, tx *sql.Tx, tenantID string, info *CaseInfo, key *vault.Identity) error {
	keys, err := s.routeKeys(ctx, tx, tenantID, info.ChannelID)
	if err != nil {
		return err
	}
	for u, pub := range keys {
		sealed, err := vault.SealIdentity(pub, reportKeyBinding(tenantID, info.ID, u), key)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_case_handlers (tenant_id, report_id, user_id, sealed) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, report_id, user_id) DO UPDATE SET sealed = excluded.sealed
			WHERE whistle_case_handlers.sealed IS NULL AND NOT whistle_case_handlers.excluded`, tenantID, info.ID, u, sealed); err != nil {
			return fmt.Errorf("share case key: %w", err)
		}
	}
	return nil
}

// Acknowledge acknowledges the receipt of a report: the status moves from
// received to acknowledged, the feedback deadline is counted from today,
// and the reporter finds the acknowledgement among the messages.
func (s *Service) Acknowledge(ctx context.Context, h *Handler, reportID, message string) error {
	a := h.Actor
	if err := checkText("message", message, false); err != nil {
		return err
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		info, _, pub, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		today := Day(s.now())
		dl := DeadlinesOf(info.ReceivedOn, today)
		res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET status = $3, acknowledged_on = $4, feedback_due = $5, version = version + 1
			WHERE tenant_id = $1 AND id = $2 AND status = 'received'`, a.TenantID, reportID, Acknowledged, today, dl.FeedbackDue)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrState
		}
		if message = strings.TrimSpace(message); message == "" {
			message = s.o.I18n.T(info.Language, "whistle.ack_message")
		}
		if _, err := s.appendEntry(ctx, tx, a.TenantID, reportID, pub, KindMessage, "handler", a.UserID, &Content{Text: message}, nil); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseAcknowledged, reportID, map[string]string{"channel": info.ChannelID})
	})
}

// Reply writes h's message to the reporter, with files. feedback marks it
// as the directive's feedback (what was done or is planned).
func (s *Service) Reply(ctx context.Context, h *Handler, reportID, text string, files []Upload, feedback bool) error {
	a := h.Actor
	if err := checkText("text", text, len(files) == 0); err != nil {
		return err
	}
	if len(files) > MaxAttachments {
		return ErrTooManyFiles
	}
	var pub string
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		_, _, pub, err = s.caseKey(ctx, tx, h, reportID)
		return err
	})
	if err != nil {
		return err
	}
	stored, _, err := s.storeFiles(ctx, a.TenantID, reportID, pub, files)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		info, _, _, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		if info.Status == Closed {
			return ErrState
		}
		if err := spendAttachments(ctx, tx, a.TenantID, reportID, len(stored)); err != nil {
			return err
		}
		if _, err := s.appendEntry(ctx, tx, a.TenantID, reportID, pub, KindMessage, "handler", a.UserID,
			&Content{Text: strings.TrimSpace(text), Feedback: feedback}, stored); err != nil {
			return err
		}
		if feedback {
			if _, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET feedback_on = COALESCE(feedback_on, $3), version = version + 1
				WHERE tenant_id = $1 AND id = $2`, a.TenantID, reportID, Day(s.now())); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, audit.CaseMessageSent, reportID, map[string]string{"feedback": fmt.Sprint(feedback), "files": fmt.Sprint(len(stored))})
	})
	if err != nil {
		s.dropFiles(ctx, a.TenantID, stored)
	}
	return err
}

// Note keeps h's private note on the case: the case's handlers read it,
// the reporter never does.
func (s *Service) Note(ctx context.Context, h *Handler, reportID, text string) error {
	a := h.Actor
	if err := checkText("note", text, true); err != nil {
		return err
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, _, pub, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		if _, err := s.appendEntry(ctx, tx, a.TenantID, reportID, pub, KindNote, "handler", a.UserID, &Content{Text: strings.TrimSpace(text)}, nil); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseNoteAdded, reportID, nil)
	})
}

// SetStatus moves the case to status (not back from closed; "received" is
// left only by Acknowledge). Concluding or closing needs an outcome;
// closing starts the retention period and, when the company has an
// archive recipient, writes the archive bundle. version is the case's
// version the handler saw.
func (s *Service) SetStatus(ctx context.Context, h *Handler, reportID, status, outcome string, version int) error {
	a := h.Actor
	if !slices.Contains([]string{Investigating, Concluded, Closed}, status) {
		return fault.Field("status", "whistle.error.status")
	}
	if outcome != "" && !slices.Contains(Outcomes, outcome) || (status == Concluded || status == Closed) && outcome == "" {
		return fault.Field("outcome", "whistle.error.outcome")
	}
	var closing bool
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		info, _, _, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		if info.Status == Closed || info.Status == Received {
			return ErrState
		}
		today := Day(s.now())
		var retention int
		if err := tx.QueryRowContext(ctx, `SELECT retention_days FROM whistle_channels WHERE tenant_id = $1 AND id = $2`, a.TenantID, info.ChannelID).Scan(&retention); err != nil {
			return err
		}
		var closedOn, deleteOn any
		if status == Closed {
			closedOn, deleteOn, closing = today, AddDays(today, retention), true
		}
		res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET status = $3, outcome = $4, closed_on = $5, delete_on = $6, version = version + 1, activity_on = $7
			WHERE tenant_id = $1 AND id = $2 AND version = $8 AND status <> 'closed'`, a.TenantID, reportID, status, outcome, closedOn, deleteOn, today, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStale
		}
		return s.record(ctx, tx, a, audit.CaseStatusChanged, reportID, map[string]string{"status": status, "outcome": outcome})
	})
	if err != nil || !closing {
		return err
	}
	if err := s.Archive(ctx, h, reportID); err != nil && !errors.Is(err, ErrNoArchive) {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// SetLegalHold puts the case under legal hold (never deleted) or lifts it.
func (s *Service) SetLegalHold(ctx context.Context, h *Handler, reportID string, hold bool) error {
	a := h.Actor
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, _, _, err := s.caseKey(ctx, tx, h, reportID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET legal_hold = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2`, a.TenantID, reportID, hold); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseLegalHold, reportID, map[string]string{"hold": fmt.Sprint(hold)})
	})
}

// Assign makes user a handler of the case, sealing its key to theirs.
func (s *Service) Assign(ctx context.Context, h *Handler, reportID, userID string) error {
	a := h.Actor
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, key, _, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		pubs, err := s.handlerPublicKeys(ctx, tx, a.TenantID, []string{userID})
		if err != nil {
			return err
		}
		pub, ok := pubs[userID]
		if !ok {
			return fault.Field("user", "whistle.error.assignee")
		}
		sealed, err := vault.SealIdentity(pub, reportKeyBinding(a.TenantID, reportID, userID), key)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO whistle_case_handlers (tenant_id, report_id, user_id, sealed) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, report_id, user_id) DO UPDATE SET sealed = excluded.sealed WHERE NOT whistle_case_handlers.excluded`,
			a.TenantID, reportID, userID, sealed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.Field("user", "whistle.error.assignee_excluded")
		}
		return s.record(ctx, tx, a, audit.CaseAssigned, reportID, map[string]string{"user": userID})
	})
}

// Exclude takes user off the case for a conflict of interest: their copy of
// the key is destroyed and they can neither see nor open the case again.
// At least one other handler must keep a copy.
func (s *Service) Exclude(ctx context.Context, h *Handler, reportID, userID string) error {
	a := h.Actor
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		// Take the case's row first: two handlers excluding each other at
		// once are then decided one after the other, and the second sees
		// the first's exclusion when it counts who keeps a copy.
		if _, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET version = version + 1 WHERE tenant_id = $1 AND id = $2`, a.TenantID, reportID); err != nil {
			return err
		}
		if _, _, _, err := s.caseKey(ctx, tx, h, reportID); err != nil {
			return err
		}
		var others int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM whistle_case_handlers WHERE tenant_id = $1 AND report_id = $2 AND user_id <> $3
			AND NOT excluded AND sealed IS NOT NULL`, a.TenantID, reportID, userID).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			return fault.Field("user", "whistle.error.last_handler")
		}
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2`, a.TenantID, userID).Scan(&exists); err != nil {
			return fault.Field("user", "whistle.error.assignee")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_case_handlers (tenant_id, report_id, user_id, excluded, sealed) VALUES ($1, $2, $3, TRUE, NULL)
			ON CONFLICT (tenant_id, report_id, user_id) DO UPDATE SET excluded = TRUE, sealed = NULL`, a.TenantID, reportID, userID); err != nil {
			return err
		}
		// The excluded handler is told (no content): an exclusion made to
		// push an honest handler off a case does not go unnoticed.
		var email, lang string
		if err := tx.QueryRowContext(ctx, `SELECT email, language FROM users WHERE tenant_id = $1 AND id = $2`, a.TenantID, userID).Scan(&email, &lang); err != nil {
			return err
		}
		if email != "" && userID != a.UserID {
			if err := s.o.Queue.Enqueue(ctx, tx, a.TenantID, notify.Message{To: []string{email},
				Subject: s.o.I18n.T(lang, "whistle.email.excluded.subject"),
				Text:    s.o.I18n.T(lang, "whistle.email.excluded.text", "case", reportID[:8]),
				Headers: map[string]string{"Auto-Submitted": "auto-generated"}}); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, audit.CaseHandlerExcluded, reportID, map[string]string{"user": userID})
	})
}

// Redact keeps a copy of entry seq's text in which every occurrence of
// each term is masked, and the reporter's name and contact are left out:
// a version to share more widely. The original stays intact. It returns
// the copy's entry number.
func (s *Service) Redact(ctx context.Context, h *Handler, reportID string, seq int, terms []string) (int, error) {
	a := h.Actor
	var clean []string
	for _, t := range terms {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !utf8.ValidString(t) || len(t) > 200 {
			return 0, fault.Field("terms", "whistle.error.terms")
		}
		clean = append(clean, t)
	}
	if len(clean) > 200 {
		return 0, fault.Field("terms", "whistle.error.terms")
	}
	var out int
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, key, pub, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		entries, err := s.openEntries(ctx, tx, a.TenantID, reportID, key, []string{KindReport, KindMessage, KindNote})
		if err != nil {
			return err
		}
		i := slices.IndexFunc(entries, func(e EntryView) bool { return e.Seq == seq })
		if i < 0 {
			return fault.Field("entry", "whistle.error.entry")
		}
		src := entries[i].Content
		var masked int
		var b strings.Builder
		if src.Category != "" {
			fmt.Fprintf(&b, "%s\n\n", src.Category)
		}
		for _, an := range src.Answers {
			fmt.Fprintf(&b, "%s: %s\n", an.Label, an.Value)
		}
		if len(src.Answers) > 0 {
			b.WriteString("\n")
		}
		b.WriteString(src.Text)
		// The reporter's name and contact, as the report gave them, are
		// masked in a copy of any entry (a later message may repeat them).
		for _, e := range entries {
			if e.Kind == KindReport {
				clean = append(clean, e.Content.Name, e.Content.Contact)
			}
		}
		text, n := Mask(b.String(), clean)
		masked += n
		if out, err = s.appendEntry(ctx, tx, a.TenantID, reportID, pub, KindRedaction, "handler", a.UserID,
			&Content{Text: text, Source: seq, Masked: masked}, nil); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseRedacted, reportID, map[string]string{"entry": fmt.Sprint(seq), "masked": fmt.Sprint(masked)})
	})
	return out, err
}

// Mask replaces every case-insensitive occurrence of each term in text by
// a block of the same number of characters, and returns how many it
// replaced. Longer terms go first, so a name inside a longer phrase is
// masked with the phrase.
func Mask(text string, terms []string) (string, int) {
	var ts []string
	for _, t := range terms {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, regexp.QuoteMeta(t))
		}
	}
	if len(ts) == 0 {
		return text, 0
	}
	slices.SortFunc(ts, func(x, y string) int { return len(y) - len(x) })
	re := regexp.MustCompile(`(?i)` + strings.Join(ts, "|"))
	n := 0
	out := re.ReplaceAllStringFunc(text, func(m string) string {
		n++
		return strings.Repeat("█", utf8.RuneCountInString(m))
	})
	return out, n
}

// Attachment opens one of the case's files for h (recorded as a read).
func (s *Service) Attachment(ctx context.Context, h *Handler, reportID, attID string) (*File, error) {
	a := h.Actor
	var key *vault.Identity
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		if _, key, _, err = s.caseKey(ctx, tx, h, reportID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseFileOpened, reportID, map[string]string{"file": attID})
	})
	if err != nil {
		return nil, err
	}
	return s.openAttachment(ctx, a.TenantID, reportID, attID, key)
}

// HandlerChannels lists the channels whose cases a may see (routed to a,
// or holding a case a was assigned), by id and name only: the case list's
// filter. The channels' configuration is the administrator's (Channels).
func (s *Service) HandlerChannels(ctx context.Context, a access.Actor) ([]*Channel, error) {
	if err := mayHandle(a); err != nil {
		return nil, err
	}
	var out []*Channel
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.name FROM whistle_channels c WHERE c.tenant_id = $1 AND (
			EXISTS (SELECT 1 FROM whistle_channel_handlers ch WHERE ch.tenant_id = c.tenant_id AND ch.channel_id = c.id AND ch.user_id = $2)
			OR EXISTS (SELECT 1 FROM whistle_case_handlers h JOIN whistle_reports r ON r.tenant_id = h.tenant_id AND r.id = h.report_id
				WHERE h.tenant_id = c.tenant_id AND r.channel_id = c.id AND h.user_id = $2 AND NOT h.excluded))
			ORDER BY c.name, c.id`, a.TenantID, a.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Channel
			if err := rows.Scan(&c.ID, &c.Name); err != nil {
				return err
			}
			out = append(out, &c)
		}
		return rows.Err()
	})
	return out, err
}
