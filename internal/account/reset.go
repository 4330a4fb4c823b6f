package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// resetValidity is how long a password reset link works.
const resetValidity = 30 * time.Minute

// RequestPasswordReset emails a single-use reset link to the active user
// whose login or email address is identifier (to each, if several share an
// email). It returns nil whether or not such a user exists, so the answer
// reveals nothing; requests from one address are throttled.
func (s *Service) RequestPasswordReset(ctx context.Context, identifier string, c Client) error {
	key := "reset-ip:" + ipDetail(c.IP)
	if err := s.wait(ctx, []string{key}); err != nil {
		return err
	}
	s.throttle.fail(time.Now(), key)
	identifier = strings.TrimSpace(identifier)
	if identifier == "" || len(identifier) > 254 || s.queue == nil {
		return nil
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT tenant_id, id, email, language FROM users
		WHERE status = 'active' AND email <> '' AND (login = $1 OR lower(email) = lower($2)) LIMIT 10`, NormalizeLogin(identifier), identifier)
	if err != nil {
		return fmt.Errorf("find account: %w", err)
	}
	type target struct{ tenantID, userID, email, lang string }
	var targets []target
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.tenantID, &t.userID, &t.email, &t.lang); err != nil {
			rows.Close()
			return err
		}
		targets = append(targets, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range targets {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			token, hash := NewToken()
			now := s.now()
			if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
				VALUES ($1, $2, $3, 'reset', $4, $5, $6)`, t.tenantID, tenant.NewID(), t.userID, hash, now, now.Add(resetValidity)); err != nil {
				return fmt.Errorf("create reset token: %w", err)
			}
			lang, company, err := s.recipient(ctx, tx, t.tenantID, t.lang)
			if err != nil {
				return err
			}
			link := strings.TrimSuffix(s.baseURL(), "/") + "/password/reset/" + token
			if err := s.queue.Enqueue(ctx, tx, t.tenantID, notify.Message{
				To:      []string{t.email},
				Subject: s.i18n.T(lang, "reset.email.subject", "company", company),
				Text:    s.i18n.T(lang, "reset.email.body", "company", company, "url", link, "minutes", strconv.Itoa(int(resetValidity.Minutes()))),
				Headers: map[string]string{"Auto-Submitted": "auto-generated"},
			}); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, audit.Event{TenantID: t.tenantID, Action: audit.PasswordResetRequested, Actor: audit.Anonymous,
				Objects: []audit.Ref{{Kind: "user", ID: t.userID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ResetTokenValid reports whether token is a usable reset link.
func (s *Service) ResetTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens WHERE token_hash = $1 AND purpose = 'reset'
		AND used_at IS NULL AND expires_at > $2`, HashToken(token), s.now()).Scan(&n)
	return err == nil && n == 1
}

// ResetPassword spends a reset link: the account gets the new password,
// loses any lockout, and every session of it ends.
func (s *Service) ResetPassword(ctx context.Context, token, next string, c Client) error {
	var tenantID, userID, login, email string
	err := s.db.Read.QueryRowContext(ctx, `SELECT t.tenant_id, t.user_id, u.login, u.email FROM account_tokens t
		JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = 'reset' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'active'`,
		HashToken(token), s.now()).Scan(&tenantID, &userID, &login, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrTokenInvalid
	}
	if err != nil {
		return fmt.Errorf("read reset token: %w", err)
	}
	p, company, err := policy(ctx, s.db.Read, tenantID)
	if err != nil {
		return err
	}
	if msg := CheckPasswordPolicy(p, next, PasswordContext{Login: login, Email: email, Company: company}); msg != "" {
		return &ValidationError{Fields: map[string]string{"new_password": msg}}
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, HashToken(token), s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid // spent meanwhile
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, must_change_password = FALSE, failed_attempts = 0,
			locked_until = NULL, password_changed_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, hash, now); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		// Other reset links of the account die with this one.
		if _, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND purpose = 'reset' AND used_at IS NULL`,
			tenantID, userID, now); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.PasswordReset, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
	})
}
