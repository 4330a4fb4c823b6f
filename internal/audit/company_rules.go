package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/db"
)

// Limits of a company's own alert thresholds: a window long enough to
// matter and short enough that the count stays a burst, counts a person
// could mean.
const (
	minAlertWindow = time.Minute
	maxAlertWindow = 24 * time.Hour
	maxAlertCount  = 1_000_000
)

// Check reports the first threshold out of range, by field name
// ("failed_sign_ins", "failed_sign_in_window", "mass_count"), or "".
func (r Rules) Check() string {
	switch {
	case r.FailedSignIns < 0 || r.FailedSignIns > maxAlertCount:
		return "failed_sign_ins"
	case r.FailedSignInWindow < minAlertWindow || r.FailedSignInWindow > maxAlertWindow:
		return "failed_sign_in_window"
	case r.MassCount < 0 || r.MassCount > maxAlertCount:
		return "mass_count"
	}
	return ""
}

// Rules returns the installation's alert thresholds, those a company
// without its own follows.
func (l *Log) Rules() Rules { return l.rules }

// RulesOf returns the thresholds that apply to a company: its own, else
// the installation's. own reports whether the company set its own.
func (l *Log) RulesOf(ctx context.Context, tenantID string) (r Rules, own bool, err error) {
	err = l.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		r, own, err = l.rulesOf(ctx, tx, tenantID)
		return err
	})
	return r, own, err
}

// RulesTx is RulesOf in the caller's transaction.
func (l *Log) RulesTx(ctx context.Context, tx *sql.Tx, tenantID string) (Rules, bool, error) {
	return l.rulesOf(ctx, tx, tenantID)
}

func (l *Log) rulesOf(ctx context.Context, tx *sql.Tx, tenantID string) (Rules, bool, error) {
	if tenantID == "" {
		return l.rules, false, nil
	}
	var r Rules
	var window int64
	err := tx.QueryRowContext(ctx, `SELECT failed_sign_ins, failed_sign_in_window_seconds, mass_count FROM audit_rules WHERE tenant_id = $1`,
		tenantID).Scan(&r.FailedSignIns, &window, &r.MassCount)
	if errors.Is(err, sql.ErrNoRows) {
		return l.rules, false, nil
	}
	if err != nil {
		return Rules{}, false, fmt.Errorf("read alert thresholds: %w", err)
	}
	r.FailedSignInWindow = time.Duration(window) * time.Second
	return r, true, nil
}

// SetRulesTx sets a company's own alert thresholds in the caller's
// transaction (which records the change); nil returns the company to the
// installation's.
func (l *Log) SetRulesTx(ctx context.Context, tx *sql.Tx, tenantID string, r *Rules) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_rules WHERE tenant_id = $1`, tenantID); err != nil {
		return fmt.Errorf("set alert thresholds: %w", err)
	}
	if r == nil {
		return nil
	}
	if f := r.Check(); f != "" {
		return fmt.Errorf("alert threshold %s out of range", f)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_rules (tenant_id, failed_sign_ins, failed_sign_in_window_seconds, mass_count, updated_at)
		VALUES ($1, $2, $3, $4, $5)`, tenantID, r.FailedSignIns, int64(r.FailedSignInWindow/time.Second), r.MassCount, db.Now())
	if err != nil {
		return fmt.Errorf("set alert thresholds: %w", err)
	}
	return nil
}

// SetRetentionTx sets a company's retention of each track named, in days,
// in the caller's transaction; 0 returns the track to the installation's.
func (l *Log) SetRetentionTx(ctx context.Context, tx *sql.Tx, tenantID string, days map[Track]int) error {
	for t, n := range days {
		if n != 0 {
			if err := CheckRetention(t, time.Duration(n)*day); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_retention WHERE tenant_id = $1 AND track = $2`, tenantID, string(t)); err != nil {
			return fmt.Errorf("set retention: %w", err)
		}
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_retention (tenant_id, track, days) VALUES ($1, $2, $3)`, tenantID, string(t), n); err != nil {
			return fmt.Errorf("set retention: %w", err)
		}
	}
	return nil
}

// OwnRetention returns the retention a company set for itself, in days per
// track (tracks it did not set are absent).
func (l *Log) OwnRetention(ctx context.Context, tenantID string) (out map[Track]int, err error) {
	err = l.db.ReadTx(ctx, scopeOf(tenantID), func(tx *sql.Tx) error {
		out, err = l.OwnRetentionTx(ctx, tx, tenantID)
		return err
	})
	return out, err
}

// OwnRetentionTx is OwnRetention in the caller's transaction.
func (l *Log) OwnRetentionTx(ctx context.Context, tx *sql.Tx, tenantID string) (map[Track]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT track, days FROM audit_retention WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read retention: %w", err)
	}
	defer rows.Close()
	out := map[Track]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("read retention: %w", err)
		}
		out[Track(t)] = n
	}
	return out, rows.Err()
}
