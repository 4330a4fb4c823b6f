package privacy

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// ConsentLogFilter narrows the consent log: an event, and a range of days
// (YYYY-MM-DD in the company's zone, both included); After is the cursor
// of a page.
type ConsentLogFilter struct {
	Event string
	From  string
	To    string
	After string
	Limit int
}

// ConsentLogPage is one page of the consent log, newest first.
type ConsentLogPage struct {
	Entries []ConsentLogEntry
	// Next is the cursor of the next page; "" on the last.
	Next     string
	Location *time.Location
}

// ConsentLogPageSize is the length of a page of the consent log.
const ConsentLogPageSize = 50

// exportPage is how many entries an export reads per transaction.
const exportPage = 1000

// consentLogQuery is a filter made into SQL conditions over the index
// (tenant_id, [event,] created_at, id).
type consentLogQuery struct {
	where string
	args  []any
}

func (q *consentLogQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// consentLogWhere checks f and makes its conditions, in loc's days; until
// (not zero) leaves out what was logged after it.
func consentLogWhere(tenantID string, f ConsentLogFilter, loc *time.Location, until time.Time) (*consentLogQuery, error) {
	q := &consentLogQuery{args: []any{tenantID}}
	conds := []string{"tenant_id = $1"}
	fields := map[string]string{}
	switch f.Event {
	case "":
	case string(recruit.ConsentGranted), string(recruit.ConsentRefused), string(recruit.ConsentWithdrawn):
		conds = append(conds, "event = "+q.arg(f.Event))
	default:
		fields["event"] = "consent_log.error.event"
	}
	var from, to time.Time
	if v := strings.TrimSpace(f.From); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			fields["from"] = "consent_log.error.date"
		}
		from = t
	}
	if v := strings.TrimSpace(f.To); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			fields["to"] = "consent_log.error.date"
		}
		to = t.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		fields["to"] = "consent_log.error.range"
	}
	if len(fields) > 0 {
		return nil, &fault.Invalid{Fields: fields}
	}
	if !from.IsZero() {
		conds = append(conds, "created_at >= "+q.arg(db.Time(from)))
	}
	if !to.IsZero() {
		conds = append(conds, "created_at < "+q.arg(db.Time(to)))
	}
	if !until.IsZero() {
		conds = append(conds, "created_at <= "+q.arg(db.Time(until)))
	}
	if f.After != "" {
		t, cid, ok := db.ParseTimeCursor(f.After)
		if !ok {
			return nil, fault.Field("after", "consent_log.error.cursor")
		}
		conds = append(conds, "(created_at, id) < ("+q.arg(t)+", "+q.arg(cid)+")")
	}
	q.where = " WHERE " + strings.Join(conds, " AND ")
	return q, nil
}

// consentLogRows reads a page of entries matching q.
func consentLogRows(ctx context.Context, tx *sql.Tx, q *consentLogQuery, limit int) ([]ConsentLogEntry, error) {
	rows, err := tx.QueryContext(ctx, selectConsentLog+q.where+" ORDER BY created_at DESC, id DESC LIMIT "+strconv.Itoa(limit), q.args...)
	if err != nil {
		return nil, fmt.Errorf("read consent log: %w", err)
	}
	defer rows.Close()
	var out []ConsentLogEntry
	for rows.Next() {
		e, err := scanConsentLog(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ConsentLog returns a page of the company's consent log, newest first,
// for a user holding privacy.settings.
func (s *Service) ConsentLog(ctx context.Context, a access.Actor, f ConsentLogFilter) (*ConsentLogPage, error) {
	if !a.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	if f.Limit <= 0 || f.Limit > ConsentLogPageSize {
		f.Limit = ConsentLogPageSize
	}
	out := &ConsentLogPage{}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := recruit.PolicyTx(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		out.Location = p.Location
		q, err := consentLogWhere(a.TenantID, f, p.Location, time.Time{})
		if err != nil {
			return err
		}
		if out.Entries, err = consentLogRows(ctx, tx, q, f.Limit+1); err != nil {
			return err
		}
		if len(out.Entries) > f.Limit {
			out.Entries = out.Entries[:f.Limit]
			last := out.Entries[f.Limit-1]
			out.Next = db.TimeCursor(last.CreatedAt, last.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConsentLogColumns are the columns of the consent log's export.
var ConsentLogColumns = []string{"name", "surname", "email", "business_id", "date", "event", "referral", "text_version", "language", "valid_until"}

// ExportConsentLog writes the entries of the company's consent log that f
// selects (f.After is ignored) to w as CSV, newest first, for a user
// holding privacy.settings, and returns how many it wrote. The export is
// recorded on the GDPR track with its count before its first byte: when
// the record cannot be written, there is no export. Cells a spreadsheet
// would run as a formula are defused. Times are in the company's zone.
func (s *Service) ExportConsentLog(ctx context.Context, a access.Actor, f ConsentLogFilter, w io.Writer) (int, error) {
	if !a.Can(access.PrivacySettings) {
		return 0, ErrForbidden
	}
	f.After = ""
	at := db.Time(s.now())
	var q *consentLogQuery
	var loc *time.Location
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := recruit.PolicyTx(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		loc = p.Location
		if q, err = consentLogWhere(a.TenantID, f, loc, at); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM consent_log`+q.where, q.args...).Scan(&n); err != nil {
			return fmt.Errorf("count consent log: %w", err)
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ConsentLogExported, Actor: audit.ActorOf(a),
			Details: map[string]string{"format": "csv", "count": strconv.Itoa(n)}})
	})
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ConsentLogColumns); err != nil {
		return 0, err
	}
	written := 0
	for {
		var page []ConsentLogEntry
		err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
			pq, err := consentLogWhere(a.TenantID, f, loc, at)
			if err != nil {
				return err
			}
			page, err = consentLogRows(ctx, tx, pq, exportPage)
			return err
		})
		if err != nil {
			return written, err
		}
		for _, e := range page {
			until := ""
			if !e.ValidUntil.IsZero() {
				until = e.ValidUntil.In(loc).Format(time.RFC3339)
			}
			row := []string{e.GivenName, e.FamilyName, e.Email, e.CompanyNumber, e.CreatedAt.In(loc).Format(time.RFC3339), e.Event,
				e.Referral, e.TextVersion, e.Language, until}
			for i := range row {
				row[i] = audit.SafeCSVCell(row[i])
			}
			if err := cw.Write(row); err != nil {
				return written, err
			}
			written++
		}
		if len(page) < exportPage {
			break
		}
		last := page[len(page)-1]
		f.After = db.TimeCursor(last.CreatedAt, last.ID)
	}
	cw.Flush()
	return written, cw.Error()
}

// PruneConsentLog deletes the consent log's entries older than
// tenant.ConsentLogYears, every company's, each company in its own
// transaction with its record on the GDPR track, and returns how many it
// deleted: the daily privacy job calls it.
func (s *Service) PruneConsentLog(ctx context.Context, now time.Time) (int, error) {
	var tenants []string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
		if err != nil {
			return fmt.Errorf("list companies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				return err
			}
			tenants = append(tenants, t)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tenants {
		var n int64
		err := s.db.InTx(ctx, t, func(tx *sql.Tx) error {
			p, err := recruit.PolicyTx(ctx, tx, t)
			if err != nil {
				return err
			}
			cutoff := db.Time(tenant.AddMonths(now, -12*tenant.ConsentLogYears, p.Location))
			res, err := tx.ExecContext(ctx, `DELETE FROM consent_log WHERE tenant_id = $1 AND created_at < $2`, t, cutoff)
			if err != nil {
				return fmt.Errorf("prune consent log: %w", err)
			}
			if n, err = res.RowsAffected(); err != nil || n == 0 {
				return err
			}
			return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: t, Action: audit.ConsentLogPruned, Actor: audit.System("privacy.consent_log"),
				Details: map[string]string{"count": strconv.FormatInt(n, 10)}})
		})
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}
