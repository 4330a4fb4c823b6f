package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Limit is how many credits one user may spend in a calendar month (UTC),
// as the company's credit administration set it.
type Limit struct {
	UserID  string
	Monthly int64
	// Spent is what the user spent this month: their spendings, less those
	// refunded.
	Spent     int64
	UpdatedAt time.Time
}

// Left is what the user may still spend this month.
func (l Limit) Left() int64 { return max(0, l.Monthly-l.Spent) }

// monthStart is the first instant of the calendar month (UTC) of now.
func monthStart(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// spentSince is what a user ($2) of a company ($1) spent from $3 on: the
// spendings they made, less those refunded. It reads the ledger by
// credit_ledger_actor.
const spentSince = `SELECT COALESCE(SUM(l.amount), 0) FROM credit_ledger l
	WHERE l.tenant_id = $1 AND l.actor_id = $2 AND l.created_at >= $3 AND l.kind = 'spend' AND l.actor_kind = 'user'
	AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = l.tenant_id AND r.refund_of = l.id)`

// limitLeft returns what a user may still spend this month, inside tx, and
// whether they have a limit at all.
func (s *Service) limitLeft(ctx context.Context, tx *sql.Tx, tenantID, userID string) (int64, bool, error) {
	var monthly int64
	err := tx.QueryRowContext(ctx, `SELECT monthly_limit FROM credit_limits WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID).Scan(&monthly)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read spending limit: %w", err)
	}
	var spent int64
	if err := tx.QueryRowContext(ctx, spentSince, tenantID, userID, monthStart(s.now())).Scan(&spent); err != nil {
		return 0, false, fmt.Errorf("read this month's spendings: %w", err)
	}
	return Limit{Monthly: monthly, Spent: spent}.Left(), true, nil
}

// SetLimit sets how many credits a user of the actor's company may spend
// in a calendar month; nil lifts the limit. The actor must hold
// ManageCredits. A user the company does not have is ErrNotFound.
func (s *Service) SetLimit(ctx context.Context, a access.Actor, userID string, monthly *int64) error {
	if !a.Can(access.ManageCredits) {
		return ErrForbidden
	}
	if monthly != nil && (*monthly < 0 || *monthly > MaxGrant) {
		return fault.Field("limit", "error.credit_limit")
	}
	if !id.Valid(userID) {
		return ErrNotFound
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND id = $2`, a.TenantID, userID).Scan(&n); err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		details := map[string]string{"unlimited": "true"}
		var err error
		if monthly == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM credit_limits WHERE tenant_id = $1 AND user_id = $2`, a.TenantID, userID)
		} else {
			details = map[string]string{"unlimited": "false", "limit": strconv.FormatInt(*monthly, 10)}
			_, err = tx.ExecContext(ctx, `INSERT INTO credit_limits (tenant_id, user_id, monthly_limit, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (tenant_id, user_id) DO UPDATE SET monthly_limit = excluded.monthly_limit, updated_at = excluded.updated_at`,
				a.TenantID, userID, *monthly, db.Time(s.now()))
		}
		if err != nil {
			return fmt.Errorf("set spending limit: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CreditLimitSet, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: details})
	})

}

// Limits lists the spending limits set in the actor's company, with what
// each user spent this month, to a holder of ManageCredits.
func (s *Service) Limits(ctx context.Context, a access.Actor) ([]Limit, error) {
	if !a.Can(access.ManageCredits) {
		return nil, ErrForbidden
	}
	var out []Limit
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_id, monthly_limit, updated_at FROM credit_limits WHERE tenant_id = $1 ORDER BY user_id`, a.TenantID)
		if err != nil {
			return fmt.Errorf("list spending limits: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l Limit
			if err := rows.Scan(&l.UserID, &l.Monthly, &l.UpdatedAt); err != nil {
				return err
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		since := monthStart(s.now())
		for i := range out {
			if err := tx.QueryRowContext(ctx, spentSince, a.TenantID, out[i].UserID, since).Scan(&out[i].Spent); err != nil {
				return fmt.Errorf("read this month's spendings: %w", err)
			}
		}
		return nil
	})

	return out, err
}

// Standing is what a user has to pay for a paid action with: the
// company's balance and, when the user has a monthly limit, what is left
// of it.
type Standing struct {
	Balance   int64
	Limited   bool
	LimitLeft int64
}

// Covers reports whether the standing pays for amount credits.
func (st Standing) Covers(amount int64) bool {
	return amount <= st.Balance && (!st.Limited || amount <= st.LimitLeft)
}

// StandingTx reads the actor's standing inside the caller's transaction,
// which declares the actor's company. Any user of the company may know it:
// it is shown where they are about to pay.
func (s *Service) StandingTx(ctx context.Context, tx *sql.Tx, a access.Actor) (Standing, error) {
	var st Standing
	err := tx.QueryRowContext(ctx, `SELECT balance FROM credit_accounts WHERE tenant_id = $1`, a.TenantID).Scan(&st.Balance)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("read balance: %w", err)
	}
	st.LimitLeft, st.Limited, err = s.limitLeft(ctx, tx, a.TenantID, a.UserID)
	return st, err
}
