package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The breach register (Art. 33 and 34 GDPR): every personal data breach
// the company learns of is recorded with what happened, whom and what it
// touched, its likely consequences and the measures taken; the controller
// tells the supervisory authority within 72 hours of becoming aware of it
// (unless it is unlikely to put people at risk, which is recorded with the
// reasons), and tells the people concerned when the risk to them is high.

// AuthorityDeadline is how long after its discovery a breach must be
// notified to the supervisory authority (Art. 33(1)). It is a duration,
// not a number of calendar days: a clock change in between moves the
// local time of the deadline, never the hours.
const AuthorityDeadline = 72 * time.Hour

// Statuses of a breach.
const (
	BreachOpen      = "open"
	BreachContained = "contained"
	BreachClosed    = "closed"
)

// BreachStatuses lists the statuses in the order forms offer them.
var BreachStatuses = []string{BreachOpen, BreachContained, BreachClosed}

// The decision on telling the data subjects (Art. 34).
const (
	SubjectsUndecided = ""
	SubjectsNotify    = "notify"
	SubjectsNotNotify = "not_notify"
)

// SubjectCategories are the kinds of people a breach may concern.
var SubjectCategories = []string{"candidates", "users", "referees", "contacts", "other"}

// DataCategories are the kinds of personal data a breach may concern.
var DataCategories = []string{"identity", "contact", "documents", "assessments", "interviews", "salary", "special", "credentials", "other"}

// Errors of the breach register.
var (
	// ErrBreachChanged: the record was saved by someone else since the form was read.
	ErrBreachChanged = fault.New(fault.ErrConflict, "breach record changed meanwhile", "error.breach_changed")
	// ErrAlertNotFound: no such security alert in the company.
	ErrAlertNotFound = fault.New(fault.ErrNotFound, "no such alert", "")
)

// Breach is one record of the register.
type Breach struct {
	ID string
	// AlertID is the security alert the breach was opened from ("": by hand).
	AlertID     string
	Title       string
	Description string
	// OccurredAt is when the breach happened (zero: not known).
	OccurredAt   time.Time
	DiscoveredAt time.Time
	// SubjectCategories and DataCategories hold values of the lists of
	// the same names.
	SubjectCategories []string
	DataCategories    []string
	// SubjectsCount and RecordsCount are approximate (nil: not known).
	SubjectsCount *int64
	RecordsCount  *int64
	Consequences  string
	Measures      string
	Contact       string
	Status        string
	// AuthorityNotifiedAt is when the supervisory authority was told
	// (zero: not yet), AuthorityHow how (the channel, a reference), and
	// AuthorityReason why it is not told; DelayReason explains a notice
	// given after the deadline.
	AuthorityNotifiedAt time.Time
	AuthorityHow        string
	AuthorityReason     string
	DelayReason         string
	// SubjectsDecision is SubjectsNotify, SubjectsNotNotify or undecided,
	// SubjectsReason why, SubjectsNotifiedAt when they were told.
	SubjectsDecision   string
	SubjectsReason     string
	SubjectsNotifiedAt time.Time
	CreatedBy          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Version counts the saves; an update names the version it read.
	Version int
}

// Deadline is when the supervisory authority must have been told.
func (b *Breach) Deadline() time.Time { return b.DiscoveredAt.Add(AuthorityDeadline) }

// AuthorityDecided reports whether the authority was told, or the reasons
// for not telling it are recorded.
func (b *Breach) AuthorityDecided() bool {
	return !b.AuthorityNotifiedAt.IsZero() || b.AuthorityReason != ""
}

// NotifiedLate reports whether the authority was told after the deadline.
func (b *Breach) NotifiedLate() bool {
	return !b.AuthorityNotifiedAt.IsZero() && b.AuthorityNotifiedAt.After(b.Deadline())
}

// TimeLeft is the time left at now to tell the authority: negative when
// the deadline passed. It means nothing once AuthorityDecided.
func (b *Breach) TimeLeft(now time.Time) time.Duration { return b.Deadline().Sub(now) }

// Overdue reports whether, at now, the deadline passed with no decision.
func (b *Breach) Overdue(now time.Time) bool {
	return !b.AuthorityDecided() && !now.Before(b.Deadline())
}

// BreachInput is a breach record as its form gives it. Times are local
// times of the company's zone as a datetime-local field writes them
// ("2006-01-02T15:04"); "" is none. Counts are whole numbers or "".
type BreachInput struct {
	Title, Description                      string
	OccurredAt, DiscoveredAt                string
	SubjectCategories, DataCategories       []string
	SubjectsCount, RecordsCount             string
	Consequences, Measures, Contact, Status string
	AuthorityNotifiedAt                     string
	AuthorityHow, AuthorityReason           string
	DelayReason                             string
	SubjectsDecision, SubjectsReason        string
	SubjectsNotifiedAt                      string
	// Version is the version of the record the form was read at (updates).
	Version int
}

// LocalLayout is the layout of the times of a BreachInput.
const LocalLayout = "2006-01-02T15:04"

// ParseLocal reads a local time of loc written in LocalLayout. A wall time
// that a clock change skips (02:30 on the night summer time starts) is
// moved on by the length of the gap, as time.Date does; one that occurs
// twice is the first of the two.
func ParseLocal(v string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(LocalLayout, strings.TrimSpace(v), loc)
	if err != nil {
		return time.Time{}, err
	}
	return db.Time(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc)), nil
}

// FormatLocal writes t as a local time of loc for a datetime-local field
// ("" for the zero time).
func FormatLocal(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(LocalLayout)
}

// Limits of the texts of a breach record.
const (
	maxBreachTitle = 200
	maxBreachText  = 10000
	maxBreachShort = 1000
	maxCount       = 1_000_000_000_000
	// clockSkew is how far in the future a time may be (the user's clock).
	clockSkew = 5 * time.Minute
)

// validate checks the input at now in loc and returns the record it
// describes (without its id, alert and bookkeeping).
func (in BreachInput) validate(now time.Time, loc *time.Location) (*Breach, error) {
	f := map[string]string{}
	b := &Breach{Title: strings.TrimSpace(in.Title), Description: clean(in.Description), Consequences: clean(in.Consequences),
		Measures: clean(in.Measures), Contact: clean(in.Contact), Status: in.Status, AuthorityHow: clean(in.AuthorityHow),
		AuthorityReason: clean(in.AuthorityReason), DelayReason: clean(in.DelayReason), SubjectsDecision: in.SubjectsDecision,
		SubjectsReason: clean(in.SubjectsReason)}
	if b.Title == "" {
		f["title"] = "error.breach_title_required"
	} else if !utf8.ValidString(b.Title) || utf8.RuneCountInString(b.Title) > maxBreachTitle || strings.ContainsFunc(b.Title, unicode.IsControl) {
		f["title"] = "error.text_field"
	}
	for name, v := range map[string]string{"description": b.Description, "consequences": b.Consequences, "measures": b.Measures,
		"authority_reason": b.AuthorityReason, "delay_reason": b.DelayReason, "subjects_reason": b.SubjectsReason} {
		if !validText(v, maxBreachText) {
			f[name] = "error.breach_text"
		}
	}
	for name, v := range map[string]string{"contact": b.Contact, "authority_how": b.AuthorityHow} {
		if !validText(v, maxBreachShort) {
			f[name] = "error.breach_text_short"
		}
	}
	at := func(name, v string) time.Time {
		if strings.TrimSpace(v) == "" {
			return time.Time{}
		}
		t, err := ParseLocal(v, loc)
		if err != nil {
			f[name] = "error.breach_time"
			return time.Time{}
		}
		if t.After(now.Add(clockSkew)) {
			f[name] = "error.breach_future"
		}
		return t
	}
	b.OccurredAt = at("occurred_at", in.OccurredAt)
	b.DiscoveredAt = at("discovered_at", in.DiscoveredAt)
	b.AuthorityNotifiedAt = at("authority_notified_at", in.AuthorityNotifiedAt)
	b.SubjectsNotifiedAt = at("subjects_notified_at", in.SubjectsNotifiedAt)
	if b.DiscoveredAt.IsZero() && f["discovered_at"] == "" {
		f["discovered_at"] = "error.breach_discovered_required"
	}
	if !b.DiscoveredAt.IsZero() {
		if !b.OccurredAt.IsZero() && b.OccurredAt.After(b.DiscoveredAt) && f["occurred_at"] == "" {
			f["occurred_at"] = "error.breach_occurred_after"
		}
		for _, name := range []string{"authority_notified_at", "subjects_notified_at"} {
			t := b.AuthorityNotifiedAt
			if name == "subjects_notified_at" {
				t = b.SubjectsNotifiedAt
			}
			if !t.IsZero() && t.Before(b.DiscoveredAt) && f[name] == "" {
				f[name] = "error.breach_before_discovery"
			}
		}
	}
	var ok bool
	if b.SubjectCategories, ok = inList(in.SubjectCategories, SubjectCategories); !ok {
		f["subject_categories"] = "error.breach_category"
	}
	if b.DataCategories, ok = inList(in.DataCategories, DataCategories); !ok {
		f["data_categories"] = "error.breach_category"
	}
	b.SubjectsCount = count("subjects_count", in.SubjectsCount, f)
	b.RecordsCount = count("records_count", in.RecordsCount, f)
	if b.Status == "" {
		b.Status = BreachOpen
	}
	if !slices.Contains(BreachStatuses, b.Status) {
		f["status"] = "error.breach_status"
	}
	// The authority is told, or the reasons for not telling it are kept;
	// never both. A late notice carries the reasons for the delay.
	if !b.AuthorityNotifiedAt.IsZero() && b.AuthorityReason != "" {
		f["authority_reason"] = "error.breach_authority_both"
	}
	if b.NotifiedLate() && b.DelayReason == "" {
		f["delay_reason"] = "error.breach_delay_reason"
	}
	switch b.SubjectsDecision {
	case SubjectsUndecided:
		if !b.SubjectsNotifiedAt.IsZero() {
			f["subjects_decision"] = "error.breach_subjects_undecided"
		}
	case SubjectsNotify:
	case SubjectsNotNotify:
		if b.SubjectsReason == "" {
			f["subjects_reason"] = "error.breach_subjects_reason"
		}
		if !b.SubjectsNotifiedAt.IsZero() {
			f["subjects_notified_at"] = "error.breach_subjects_not_notified"
		}
	default:
		f["subjects_decision"] = "error.breach_subjects_decision"
	}
	// A breach is closed only once both decisions are made.
	if b.Status == BreachClosed && (!b.AuthorityDecided() || b.SubjectsDecision == SubjectsUndecided) && f["status"] == "" {
		f["status"] = "error.breach_close_undecided"
	}
	if len(f) > 0 {
		return nil, &fault.Invalid{Fields: f}
	}
	return b, nil
}

// clean normalises the line ends of a text and trims it.
func clean(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// validText allows line breaks and tabs but no other control character.
func validText(s string, limit int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= limit &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

// inList returns the values of vs that allowed holds, each once, in the
// list's order; ok is false when vs holds another value.
func inList(vs, allowed []string) ([]string, bool) {
	var out []string
	for _, a := range allowed {
		if slices.Contains(vs, a) {
			out = append(out, a)
		}
	}
	for _, v := range vs {
		if !slices.Contains(allowed, v) {
			return out, false
		}
	}
	return out, true
}

func count(name, v string, f map[string]string) *int64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxCount {
		f[name] = "error.breach_count"
		return nil
	}
	return &n
}

// location is the company's time zone, read in tx.
func location(ctx context.Context, tx *sql.Tx, tenantID string) (*time.Location, error) {
	var lang, settings string
	if err := tx.QueryRowContext(ctx, `SELECT default_language, settings FROM tenants WHERE id = $1`, tenantID).Scan(&lang, &settings); err != nil {
		return nil, fmt.Errorf("read company: %w", err)
	}
	t := &tenant.Tenant{DefaultLanguage: lang, Settings: tenant.ParseSettings(settings)}
	return t.Location(), nil
}

// CreateBreach records a breach on behalf of actor (privacy.settings).
func (s *Service) CreateBreach(ctx context.Context, actor access.Actor, in BreachInput) (*Breach, error) {
	if !actor.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	var out *Breach
	err := s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		loc, err := location(ctx, tx, actor.TenantID)
		if err != nil {
			return err
		}
		now := db.Time(s.now())
		b, err := in.validate(now, loc)
		if err != nil {
			return err
		}
		b.ID, b.CreatedBy, b.CreatedAt, b.UpdatedAt, b.Version = id.New(), actor.UserID, now, now, 1
		if err := insertBreach(ctx, tx, actor.TenantID, b); err != nil {
			return err
		}
		if err := s.recordBreach(ctx, tx, actor, b, audit.BreachRecorded, map[string]string{"via": "manual"}); err != nil {
			return err
		}
		if err := s.recordNotices(ctx, tx, actor, &Breach{}, b); err != nil {
			return err
		}
		out = b
		return nil
	})
	return out, err
}

// BreachFromAlert opens a breach record from a security alert of the
// company's audit trail, on behalf of actor (privacy.settings): titled
// title, discovered when the alert was raised. An alert opens one record:
// asked again (or twice at once) it returns the record it opened, with
// created false.
func (s *Service) BreachFromAlert(ctx context.Context, actor access.Actor, alertID, title string) (b *Breach, created bool, err error) {
	if !actor.Can(access.PrivacySettings) {
		return nil, false, ErrForbidden
	}
	if !id.Valid(alertID) {
		return nil, false, ErrAlertNotFound
	}
	err = s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		var raised time.Time
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM audit_alerts WHERE tenant_id = $1 AND id = $2`, actor.TenantID, alertID).Scan(&raised)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAlertNotFound
		}
		if err != nil {
			return fmt.Errorf("read alert: %w", err)
		}
		now := db.Time(s.now())
		b = &Breach{ID: id.New(), AlertID: alertID, Title: strings.TrimSpace(title), DiscoveredAt: db.Time(raised), Status: BreachOpen,
			CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now, Version: 1}
		if b.Title == "" || utf8.RuneCountInString(b.Title) > maxBreachTitle {
			b.Title = "Security alert " + alertID
		}
		// The unique index on the alert spends it: of two presses at once,
		// one inserts and the other finds the first one's record.
		res, err := tx.ExecContext(ctx, insertBreachSQL+` ON CONFLICT DO NOTHING`, breachArgs(actor.TenantID, b)...)
		if err != nil {
			return fmt.Errorf("insert breach: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			b, err = scanBreach(tx.QueryRowContext(ctx, selectBreach+` WHERE tenant_id = $1 AND alert_id = $2`, actor.TenantID, alertID))
			if err != nil {
				return fmt.Errorf("read breach of alert: %w", err)
			}
			return nil
		}
		created = true
		return s.recordBreach(ctx, tx, actor, b, audit.BreachRecorded, map[string]string{"via": "alert"})
	})
	if err != nil {
		return nil, false, err
	}
	return b, created, nil
}

// UpdateBreach saves a breach record on behalf of actor (privacy.settings).
// in.Version must be the version the form was read at: a record saved by
// someone else meanwhile is refused with ErrBreachChanged.
func (s *Service) UpdateBreach(ctx context.Context, actor access.Actor, breachID string, in BreachInput) error {
	if !actor.Can(access.PrivacySettings) {
		return ErrForbidden
	}
	if !id.Valid(breachID) {
		return ErrNotFound
	}
	return s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		old, err := scanBreach(tx.QueryRowContext(ctx, selectBreach+` WHERE tenant_id = $1 AND id = $2`, actor.TenantID, breachID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read breach: %w", err)
		}
		loc, err := location(ctx, tx, actor.TenantID)
		if err != nil {
			return err
		}
		now := db.Time(s.now())
		b, err := in.validate(now, loc)
		if err != nil {
			return err
		}
		b.ID, b.AlertID, b.CreatedBy, b.CreatedAt, b.UpdatedAt = old.ID, old.AlertID, old.CreatedBy, old.CreatedAt, now
		// The version read with the form is spent by this write: of two
		// saves of one version, one changes the row and the other none.
		res, err := tx.ExecContext(ctx, `UPDATE breaches SET title = $4, description = $5, occurred_at = $6, discovered_at = $7,
			subject_categories = $8, data_categories = $9, subjects_count = $10, records_count = $11, consequences = $12, measures = $13,
			contact = $14, status = $15, authority_notified_at = $16, authority_how = $17, authority_reason = $18, delay_reason = $19,
			subjects_decision = $20, subjects_reason = $21, subjects_notified_at = $22, updated_at = $23, version = version + 1
			WHERE tenant_id = $1 AND id = $2 AND version = $3`,
			actor.TenantID, b.ID, in.Version, b.Title, b.Description, nullTime(b.OccurredAt), b.DiscoveredAt,
			strings.Join(b.SubjectCategories, ","), strings.Join(b.DataCategories, ","), nullInt(b.SubjectsCount), nullInt(b.RecordsCount),
			b.Consequences, b.Measures, b.Contact, b.Status, nullTime(b.AuthorityNotifiedAt), b.AuthorityHow, b.AuthorityReason, b.DelayReason,
			b.SubjectsDecision, b.SubjectsReason, nullTime(b.SubjectsNotifiedAt), now)
		if err != nil {
			return fmt.Errorf("update breach: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBreachChanged
		}
		b.Version = in.Version + 1
		changed := changedFields(old, b)
		if len(changed) > 0 {
			if err := s.recordBreach(ctx, tx, actor, b, audit.BreachChanged, map[string]string{"fields": strings.Join(changed, ","), "status": b.Status}); err != nil {
				return err
			}
		}
		return s.recordNotices(ctx, tx, actor, old, b)
	})
}

// recordNotices writes a BreachNotified record for each notification
// that b records and old did not.
func (s *Service) recordNotices(ctx context.Context, tx *sql.Tx, actor access.Actor, old, b *Breach) error {
	if old.AuthorityNotifiedAt.IsZero() && !b.AuthorityNotifiedAt.IsZero() {
		if err := s.recordBreach(ctx, tx, actor, b, audit.BreachNotified, map[string]string{"recipient": "authority",
			"late": strconv.FormatBool(b.NotifiedLate())}); err != nil {
			return err
		}
	}
	if old.SubjectsNotifiedAt.IsZero() && !b.SubjectsNotifiedAt.IsZero() {
		return s.recordBreach(ctx, tx, actor, b, audit.BreachNotified, map[string]string{"recipient": "subjects", "late": "false"})
	}
	return nil
}

func (s *Service) recordBreach(ctx context.Context, tx *sql.Tx, actor access.Actor, b *Breach, action audit.Action, details map[string]string) error {
	objects := []audit.Ref{{Kind: "breach", ID: b.ID}}
	if b.AlertID != "" && action == audit.BreachRecorded {
		objects = append(objects, audit.Ref{Kind: "alert", ID: b.AlertID})
	}
	return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: action, Actor: audit.ActorOf(actor),
		Objects: objects, Details: details})
}

// changedFields names the fields of the record that differ.
func changedFields(a, b *Breach) []string {
	eqInt := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	diff := map[string]bool{
		"title": a.Title != b.Title, "description": a.Description != b.Description,
		"occurred_at": !a.OccurredAt.Equal(b.OccurredAt), "discovered_at": !a.DiscoveredAt.Equal(b.DiscoveredAt),
		"subject_categories": !slices.Equal(a.SubjectCategories, b.SubjectCategories), "data_categories": !slices.Equal(a.DataCategories, b.DataCategories),
		"subjects_count": !eqInt(a.SubjectsCount, b.SubjectsCount), "records_count": !eqInt(a.RecordsCount, b.RecordsCount),
		"consequences": a.Consequences != b.Consequences, "measures": a.Measures != b.Measures, "contact": a.Contact != b.Contact,
		"status": a.Status != b.Status, "authority_notified_at": !a.AuthorityNotifiedAt.Equal(b.AuthorityNotifiedAt),
		"authority_how": a.AuthorityHow != b.AuthorityHow, "authority_reason": a.AuthorityReason != b.AuthorityReason,
		"delay_reason": a.DelayReason != b.DelayReason, "subjects_decision": a.SubjectsDecision != b.SubjectsDecision,
		"subjects_reason": a.SubjectsReason != b.SubjectsReason, "subjects_notified_at": !a.SubjectsNotifiedAt.Equal(b.SubjectsNotifiedAt),
	}
	var out []string
	for k, v := range diff {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Breach returns a breach record of actor's company (privacy.settings).
func (s *Service) Breach(ctx context.Context, actor access.Actor, breachID string) (*Breach, error) {
	if !actor.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	if !id.Valid(breachID) {
		return nil, ErrNotFound
	}
	var b *Breach
	err := s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		var err error
		b, err = scanBreach(tx.QueryRowContext(ctx, selectBreach+` WHERE tenant_id = $1 AND id = $2`, actor.TenantID, breachID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	return b, err
}

// Breaches lists the company's breach records, latest discovered first,
// limit at a time after the record after ("": from the newest); next
// names the last one when more may follow.
func (s *Service) Breaches(ctx context.Context, actor access.Actor, after string, limit int) (out []*Breach, next string, err error) {
	if !actor.Can(access.PrivacySettings) {
		return nil, "", ErrForbidden
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if after != "" && !id.Valid(after) {
		return nil, "", fault.Field("after", "error.audit_cursor")
	}
	err = s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		q, args := selectBreach+` WHERE tenant_id = $1`, []any{actor.TenantID}
		if after != "" {
			q += ` AND (discovered_at, id) < (SELECT discovered_at, id FROM breaches WHERE tenant_id = $1 AND id = $2)`
			args = append(args, after)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY discovered_at DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return fmt.Errorf("list breaches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBreach(rows)
			if err != nil {
				return fmt.Errorf("list breaches: %w", err)
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

const breachColumns = `id, alert_id, title, description, occurred_at, discovered_at, subject_categories, data_categories,
	subjects_count, records_count, consequences, measures, contact, status, authority_notified_at, authority_how, authority_reason,
	delay_reason, subjects_decision, subjects_reason, subjects_notified_at, created_by, created_at, updated_at, version`

const selectBreach = `SELECT ` + breachColumns + ` FROM breaches`

const insertBreachSQL = `INSERT INTO breaches (tenant_id, ` + breachColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`

func breachArgs(tenantID string, b *Breach) []any {
	return []any{tenantID, b.ID, b.AlertID, b.Title, b.Description, nullTime(b.OccurredAt), b.DiscoveredAt,
		strings.Join(b.SubjectCategories, ","), strings.Join(b.DataCategories, ","), nullInt(b.SubjectsCount), nullInt(b.RecordsCount),
		b.Consequences, b.Measures, b.Contact, b.Status, nullTime(b.AuthorityNotifiedAt), b.AuthorityHow, b.AuthorityReason,
		b.DelayReason, b.SubjectsDecision, b.SubjectsReason, nullTime(b.SubjectsNotifiedAt), b.CreatedBy, b.CreatedAt, b.UpdatedAt, b.Version}
}

func insertBreach(ctx context.Context, tx *sql.Tx, tenantID string, b *Breach) error {
	if _, err := tx.ExecContext(ctx, insertBreachSQL, breachArgs(tenantID, b)...); err != nil {
		return fmt.Errorf("insert breach: %w", err)
	}
	return nil
}

func scanBreach(row interface{ Scan(...any) error }) (*Breach, error) {
	b := &Breach{}
	var occurred, authority, subjects sql.NullTime
	var subjectsCount, recordsCount sql.NullInt64
	var subjectCats, dataCats string
	if err := row.Scan(&b.ID, &b.AlertID, &b.Title, &b.Description, &occurred, &b.DiscoveredAt, &subjectCats, &dataCats,
		&subjectsCount, &recordsCount, &b.Consequences, &b.Measures, &b.Contact, &b.Status, &authority, &b.AuthorityHow,
		&b.AuthorityReason, &b.DelayReason, &b.SubjectsDecision, &b.SubjectsReason, &subjects, &b.CreatedBy, &b.CreatedAt,
		&b.UpdatedAt, &b.Version); err != nil {
		return nil, err
	}
	b.OccurredAt, b.AuthorityNotifiedAt, b.SubjectsNotifiedAt = occurred.Time, authority.Time, subjects.Time
	b.DiscoveredAt, b.CreatedAt, b.UpdatedAt = b.DiscoveredAt.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	for _, t := range []*time.Time{&b.OccurredAt, &b.AuthorityNotifiedAt, &b.SubjectsNotifiedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	if subjectsCount.Valid {
		b.SubjectsCount = &subjectsCount.Int64
	}
	if recordsCount.Valid {
		b.RecordsCount = &recordsCount.Int64
	}
	if subjectCats != "" {
		b.SubjectCategories = strings.Split(subjectCats, ",")
	}
	if dataCats != "" {
		b.DataCategories = strings.Split(dataCats, ",")
	}
	return b, nil
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

func nullInt(n *int64) sql.NullInt64 {
	if n == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *n, Valid: true}
}
