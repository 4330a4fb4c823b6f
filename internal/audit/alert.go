package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/kandidat/kandidat/internal/db"
)

// Rule names an alert rule over the security and admin tracks.
type Rule string

// The alert rules.
const (
	// RuleFailedSignInBurst: many failed sign-ins in a company within a window.
	RuleFailedSignInBurst Rule = "failed_sign_in_burst"
	// RuleNewAdministrator: a user became an administrator.
	RuleNewAdministrator Rule = "new_administrator"
	// RuleDisabledSignIn: someone tried to sign in to a disabled account.
	RuleDisabledSignIn Rule = "disabled_account_sign_in"
	// RuleMassActivity: an export or erasure touched many records at once.
	RuleMassActivity Rule = "mass_activity"
	// RuleAccountLocked: repeated failures locked an account.
	RuleAccountLocked Rule = "account_locked"
	// RuleCandidateAccess: a role, right or invitation gave someone access
	// to candidates' data they did not have (the record's candidate_access).
	RuleCandidateAccess Rule = "candidate_access_given"
)

// AllRules lists the rules.
var AllRules = []Rule{RuleFailedSignInBurst, RuleNewAdministrator, RuleDisabledSignIn, RuleMassActivity, RuleAccountLocked, RuleCandidateAccess}

func ruleNames() []string {
	var out []string
	for _, r := range AllRules {
		out = append(out, string(r))
	}
	return out
}

// Rules are the alert thresholds.
type Rules struct {
	// FailedSignIns failures within FailedSignInWindow raise RuleFailedSignInBurst.
	FailedSignIns      int
	FailedSignInWindow time.Duration
	// MassCount records in one export or erasure raise RuleMassActivity.
	MassCount int
}

// DefaultRules are the thresholds of a new installation.
var DefaultRules = Rules{FailedSignIns: 10, FailedSignInWindow: 10 * time.Minute, MassCount: 500}

// Alert is a raised rule.
type Alert struct {
	TenantID       string
	ID             string
	Rule           Rule
	Count          int64
	CreatedAt      time.Time
	RecordTrack    Track
	RecordSeq      int64
	NotifiedAt     *time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
}

// evaluate applies the rules to a record just written, in its transaction.
func (l *Log) evaluate(ctx context.Context, tx *sql.Tx, r *Record) error {
	if r.Details["candidate_access"] == "true" {
		if err := l.raise(ctx, tx, r, RuleCandidateAccess, 1); err != nil {
			return err
		}
	}
	switch r.Action {
	case SignInFailed:
		if r.Details["reason"] == "disabled_account" {
			if err := l.raise(ctx, tx, r, RuleDisabledSignIn, 1); err != nil {
				return err
			}
		}
		rules, _, err := l.rulesOf(ctx, tx, r.TenantID)
		if err != nil {
			return err
		}
		if rules.FailedSignIns <= 0 {
			return nil
		}
		since := r.Time.Add(-rules.FailedSignInWindow)
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2 AND occurred_at > $3`,
			r.TenantID, string(SignInFailed), since).Scan(&n); err != nil {
			return fmt.Errorf("evaluate alert rule: %w", err)
		}
		if n < int64(rules.FailedSignIns) {
			return nil
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_alerts WHERE tenant_id = $1 AND rule = $2 AND created_at > $3`,
			r.TenantID, string(RuleFailedSignInBurst), since).Scan(&open); err != nil {
			return fmt.Errorf("evaluate alert rule: %w", err)
		}
		if open == 0 {
			return l.raise(ctx, tx, r, RuleFailedSignInBurst, n)
		}
	case UserCreated, UserInvited, UserRoleChanged:
		if r.Details["role"] == "administrator" {
			return l.raise(ctx, tx, r, RuleNewAdministrator, 1)
		}
	case AccountLocked:
		return l.raise(ctx, tx, r, RuleAccountLocked, 1)
	default:
		if !Catalogue[r.Action].Mass {
			return nil
		}
		n, err := strconv.ParseInt(r.Details["count"], 10, 64)
		if err != nil {
			return nil
		}
		rules, _, err := l.rulesOf(ctx, tx, r.TenantID)
		if err != nil {
			return err
		}
		if rules.MassCount > 0 && n >= int64(rules.MassCount) {
			return l.raise(ctx, tx, r, RuleMassActivity, n)
		}
	}
	return nil
}

func (l *Log) raise(ctx context.Context, tx *sql.Tx, r *Record, rule Rule, count int64) error {
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_alerts (tenant_id, id, rule, count, created_at, record_track, record_seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.TenantID, id, string(rule), count, r.Time, string(r.Track), r.Seq); err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	_, err := l.record(ctx, tx, Event{
		TenantID: r.TenantID, Action: AlertRaised, Actor: System("audit.alerts"),
		Objects: []Ref{{Kind: "alert", ID: id}, {Kind: "audit_record", ID: r.ID}},
		Details: map[string]string{"rule": string(rule), "count": strconv.FormatInt(count, 10)},
		Time:    r.Time,
	})
	return err
}

const selectAlert = `SELECT tenant_id, id, rule, count, created_at, record_track, record_seq, notified_at, acknowledged_at, acknowledged_by FROM audit_alerts`

// alerts reads the alerts a query selects, in a transaction of scope.
func (l *Log) alerts(ctx context.Context, scope, q string, args ...any) ([]Alert, error) {
	var out []Alert
	err := l.each(ctx, scope, q, args, func(rows *sql.Rows) error {
		var a Alert
		var rule, track string
		var notified, acked sql.NullTime
		if err := rows.Scan(&a.TenantID, &a.ID, &rule, &a.Count, &a.CreatedAt, &track, &a.RecordSeq, &notified, &acked, &a.AcknowledgedBy); err != nil {
			return err
		}
		a.Rule, a.RecordTrack = Rule(rule), Track(track)
		if notified.Valid {
			a.NotifiedAt = &notified.Time
		}
		if acked.Valid {
			a.AcknowledgedAt = &acked.Time
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// OpenAlerts returns a company's unacknowledged alerts, newest first.
func (l *Log) OpenAlerts(ctx context.Context, tenantID string) ([]Alert, error) {
	out, err := l.alerts(ctx, scopeOf(tenantID), selectAlert+` WHERE tenant_id = $1 AND acknowledged_at IS NULL ORDER BY created_at DESC LIMIT 50`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// PendingNotifications returns alerts not yet announced, oldest first.
func (l *Log) PendingNotifications(ctx context.Context, limit int) ([]Alert, error) {
	// Every company's: the installation announces them; an alert already
	// acknowledged (a fresh demo's own, at its set-up) needs no email.
	out, err := l.alerts(ctx, db.Installation, selectAlert+` WHERE notified_at IS NULL AND acknowledged_at IS NULL ORDER BY created_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending alerts: %w", err)
	}
	return out, nil
}

// MarkNotified records that an alert was announced.
func (l *Log) MarkNotified(ctx context.Context, tenantID, id string) error {
	return l.db.InTx(ctx, scopeOf(tenantID), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE audit_alerts SET notified_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, l.now())
		return err
	})
}

// Acknowledge closes an alert of a company on behalf of actor.
func (l *Log) Acknowledge(ctx context.Context, actor Actor, tenantID, id string) error {
	return l.db.InTx(ctx, scopeOf(tenantID), func(tx *sql.Tx) error {
		var rule string
		err := tx.QueryRowContext(ctx, `SELECT rule FROM audit_alerts WHERE tenant_id = $1 AND id = $2 AND acknowledged_at IS NULL`, tenantID, id).Scan(&rule)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// The row and its record carry the same time and actor: Verify
		// checks the row against the record.
		at := l.now()
		if _, err := tx.ExecContext(ctx, `UPDATE audit_alerts SET acknowledged_at = $3, acknowledged_by = $4 WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, at, actor.ID); err != nil {
			return err
		}
		return l.Record(ctx, tx, Event{TenantID: tenantID, Action: AlertAcknowledged, Actor: actor, Time: at,
			Objects: []Ref{{Kind: "alert", ID: id}}, Details: map[string]string{"rule": rule}})
	})
}
