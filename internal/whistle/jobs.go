package whistle

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/notify"
)

// Reminder windows, in days before the deadline.
const (
	AckRemindDays       = 2
	FeedbackRemindDays  = 14
	RetentionRemindDays = 14
)

// companies lists the companies that have channels.
func (s *Service) companies(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		var err error
		out, err = db.Strings(ctx, tx, `SELECT DISTINCT tenant_id FROM whistle_channels ORDER BY tenant_id`)
		return err
	})
	return out, err
}

// reminder is one kind of notice: which cases are due (a condition on r
// with $2 = today plus the horizon), and the column that records that
// it was sent, written by a conditional update with the email.
type reminder struct {
	kind    string
	due     string
	horizon int
	column  string
}

var reminders = []reminder{
	// A new case is announced the day after it came, so that no email's time tells when the reporter wrote.
	{"new", `r.notified_on IS NULL AND r.received_on <= $2`, -1, "notified_on"},
	{"ack", `r.status = 'received' AND r.ack_due <= $2 AND r.ack_reminded_on IS NULL`, AckRemindDays, "ack_reminded_on"},
	{"feedback", `r.status <> 'closed' AND r.feedback_on IS NULL AND r.feedback_due <= $2 AND r.feedback_reminded_on IS NULL`, FeedbackRemindDays, "feedback_reminded_on"},
	{"retention", `r.status = 'closed' AND NOT r.legal_hold AND r.delete_on <= $2 AND r.retention_reminded_on IS NULL`, RetentionRemindDays, "retention_reminded_on"},
}

// Remind emails the handlers of each case whose notice is due: a new case
// (the day after it came), an acknowledgement or feedback deadline
// approaching, a closed case's deletion approaching. The emails carry no
// content of the case, only its deadline and a link. Each notice is sent
// once, spent by a conditional update in the transaction that queues it.
func (s *Service) Remind(ctx context.Context) (int, error) {
	tenants, err := s.companies(ctx)
	if err != nil {
		return 0, err
	}
	today := Day(s.now())
	sent := 0
	for _, t := range tenants {
		for _, rm := range reminders {
			n, err := s.remindTenant(ctx, t, today, rm)
			sent += n
			if err != nil {
				return sent, fmt.Errorf("remind %s: %w", rm.kind, err)
			}
		}
	}
	return sent, nil
}

type dueCase struct{ id, ackDue, feedbackDue, deleteOn string }

func (s *Service) remindTenant(ctx context.Context, tenantID, today string, rm reminder) (int, error) {
	var due []dueCase
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.ack_due, r.feedback_due, COALESCE(r.delete_on, '') FROM whistle_reports r
			WHERE r.tenant_id = $1 AND `+rm.due+` ORDER BY r.id LIMIT 500`, tenantID, AddDays(today, rm.horizon))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d dueCase
			if err := rows.Scan(&d.id, &d.ackDue, &d.feedbackDue, &d.deleteOn); err != nil {
				return err
			}
			due = append(due, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET `+rm.column+` = $3 WHERE tenant_id = $1 AND id = $2 AND `+rm.column+` IS NULL`,
				tenantID, d.id, today)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another instance sent it
			}
			rows, err := tx.QueryContext(ctx, `SELECT u.id, u.email, u.language FROM whistle_case_handlers h JOIN users u ON u.tenant_id = h.tenant_id AND u.id = h.user_id
				WHERE h.tenant_id = $1 AND h.report_id = $2 AND NOT h.excluded AND h.sealed IS NOT NULL AND u.status = 'active' AND u.email <> '' ORDER BY u.id`, tenantID, d.id)
			if err != nil {
				return err
			}
			type to struct{ id, email, lang string }
			var tos []to
			for rows.Next() {
				var t to
				if err := rows.Scan(&t.id, &t.email, &t.lang); err != nil {
					rows.Close()
					return err
				}
				tos = append(tos, t)
			}
			rows.Close()
			for _, t := range tos {
				if ok, err := s.mayHandleNow(ctx, tenantID, t.id); err != nil {
					return err
				} else if !ok {
					continue // no longer a case handler
				}
				date := map[string]string{"new": d.ackDue, "ack": d.ackDue, "feedback": d.feedbackDue, "retention": d.deleteOn}[rm.kind]
				if err := s.o.Queue.Enqueue(ctx, tx, tenantID, notify.Message{To: []string{t.email},
					Subject: s.o.I18n.T(t.lang, "whistle.email."+rm.kind+".subject"),
					Text:    s.o.I18n.T(t.lang, "whistle.email."+rm.kind+".text", "date", date, "link", s.o.BaseURL+"/cases/"+d.id),
					Headers: map[string]string{"Auto-Submitted": "auto-generated"}}); err != nil {
					return err
				}
			}
			sent++
			return nil
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// Sweep deletes the closed cases whose retention has run out and that are
// not under legal hold: the files first, then the rows, whose sealed keys
// go with them (crypto-shredding: even a copy of the files made earlier
// opens no more). It returns how many cases it deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	tenants, err := s.companies(ctx)
	if err != nil {
		return 0, err
	}
	today := Day(s.now())
	deleted := 0
	for _, t := range tenants {
		var ids []string
		err := s.db.ReadTx(ctx, t, func(tx *sql.Tx) error {
			var err error
			ids, err = db.Strings(ctx, tx, `SELECT id FROM whistle_reports WHERE tenant_id = $1 AND status = 'closed' AND NOT legal_hold
				AND delete_on <= $2 ORDER BY id LIMIT 500`, t, today)
			return err
		})
		if err != nil {
			return deleted, err
		}
		for _, id := range ids {
			ok, err := s.deleteCase(ctx, t, id, today)
			if err != nil {
				return deleted, err
			}
			if ok {
				deleted++
			}
		}
	}
	return deleted, nil
}

func (s *Service) deleteCase(ctx context.Context, tenantID, reportID, today string) (bool, error) {
	var objects []string
	deleted := false
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		// Take the case's row first (a reply's files or a new archive
		// bundle committed before are then in the lists read below; one
		// after finds no case), then list its files, then delete.
		res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET version = version + 1 WHERE tenant_id = $1 AND id = $2 AND status = 'closed'
			AND NOT legal_hold AND delete_on <= $3`, tenantID, reportID, today)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if objects, err = db.Strings(ctx, tx, `SELECT 'whistle-' || id FROM whistle_attachments WHERE tenant_id = $1 AND report_id = $2
			UNION ALL SELECT object_id FROM whistle_archives WHERE tenant_id = $1 AND report_id = $2`, tenantID, reportID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM whistle_reports WHERE tenant_id = $1 AND id = $2`, tenantID, reportID); err != nil {
			return err
		}
		deleted = true
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.CaseDeleted,
			Actor: audit.ActorOf(access.System("whistle.sweep", tenantID)), Objects: []audit.Ref{{Kind: "case", ID: reportID}}})
	})
	if err != nil || !deleted {
		return false, err
	}
	// The keys are gone with the rows; the files go now (a failure leaves
	// ciphertext no one can open, which the log names by id).
	for _, o := range objects {
		if err := s.o.Blobs.Delete(ctx, tenantID, o); err != nil {
			s.o.Logger.Error("delete case file", "case", reportID, "err", err)
		}
	}
	return true, nil
}
