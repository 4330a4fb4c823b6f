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
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// resetValidity is how long a password reset link works.
const resetValidity = 30 * time.Minute

// RequestPasswordReset emails a single-use reset link to the active user
// whose login or email address is identifier (to each, if several share an
// email). It returns nil whether or not such a user exists, so the answer
// reveals nothing; requests from one address are throttled.
//
// Nor does its time tell: a known address writes a token, composes and
// queues the email and records the request, all in one transaction; an
// unknown one runs the same transaction shape (the same statements on the
// same tables inside a savepoint it rolls back, the email composed for
// nobody) and records the request in the installation's security log, so
// both commit one write of the trail. Both are transactions of the
// installation: the address may belong to users of several companies, or
// to none.
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
	var targets []resetTarget
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, email, language FROM users
			WHERE status = 'active' AND email <> '' AND (login = $1 OR lower(email) = lower($2)) LIMIT 10`, NormalizeLogin(identifier), identifier)
		if err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t resetTarget
			if err := rows.Scan(&t.tenantID, &t.userID, &t.email, &t.lang); err != nil {
				return err
			}
			targets = append(targets, t)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error { return s.decoyReset(ctx, tx, c) })
	}
	return s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		for _, t := range targets {
			if err := s.mailResetLink(ctx, tx, t, c); err != nil {
				return err
			}
		}
		return nil
	})
}

type resetTarget struct{ tenantID, userID, email, lang string }

// mailResetLink writes a reset token for t and queues its email.
func (s *Service) mailResetLink(ctx context.Context, tx *sql.Tx, t resetTarget, c Client) error {
	token, hash := id.NewToken()
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, 'reset', $4, $5, $6)`, t.tenantID, id.New(), t.userID, hash, now, now.Add(resetValidity)); err != nil {
		return fmt.Errorf("create reset token: %w", err)
	}
	lang, company, err := s.recipient(ctx, tx, t.tenantID, t.lang)
	if err != nil {
		return err
	}
	if err := s.queue.Enqueue(ctx, tx, t.tenantID, s.resetMessage(t.email, lang, company, token)); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: t.tenantID, Action: audit.PasswordResetRequested, Actor: audit.Anonymous,
		Objects: []audit.Ref{{Kind: "user", ID: t.userID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
}

func (s *Service) resetMessage(email, lang, company, token string) notify.Message {
	link := strings.TrimSuffix(s.baseURL(), "/") + "/password/reset/" + token
	return notify.Message{
		To:      []string{email},
		Subject: s.i18n.T(lang, "reset.email.subject", "company", company),
		Text:    s.i18n.T(lang, "reset.email.body", "company", company, "url", link, "minutes", strconv.Itoa(int(resetValidity.Minutes()))),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
}

// decoyReset does for an address that belongs to no account the work
// mailResetLink does for one that does, statement for statement: the token
// insert (conditional on a user, so it writes no row), the company's
// language, the email composed and queued (and deleted again in the same
// transaction, so it is never seen), and the request recorded, in the
// installation's security log.
func (s *Service) decoyReset(ctx context.Context, tx *sql.Tx, c Client) error {
	token, hash := id.NewToken()
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
		SELECT $1, $2, $3, 'reset', $4, $5, $6 WHERE EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $3)`,
		"", id.New(), id.New(), hash, now, now.Add(resetValidity)); err != nil {
		return fmt.Errorf("decoy token: %w", err)
	}
	var company, companyLang string
	if err := tx.QueryRowContext(ctx, `SELECT name, default_language FROM tenants WHERE id = $1`, "").Scan(&company, &companyLang); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("decoy company: %w", err)
	}
	id, err := s.queue.EnqueueID(ctx, tx, "", s.resetMessage("nobody@example.invalid", s.i18n.Pick("", "", "en"), "Kandidat", token))
	if err != nil {
		return fmt.Errorf("decoy email: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM email_queue WHERE tenant_id = $1 AND id = $2`, "", id); err != nil {
		return fmt.Errorf("decoy email: %w", err)
	}
	return s.audit.Record(ctx, tx, audit.Event{Action: audit.PasswordResetRequested, Actor: audit.Anonymous,
		Details: map[string]string{"ip": ipDetail(c.IP)}})
}

// ResetTokenValid reports whether token is a usable reset link. The link
// names no company: it is looked up as the installation's.
func (s *Service) ResetTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens WHERE token_hash = $1 AND purpose = 'reset'
			AND used_at IS NULL AND expires_at > $2`, id.HashToken(token), s.now()).Scan(&n)
	})
	return err == nil && n == 1
}

// ResetPassword spends a reset link: the account gets the new password,
// loses any lockout, every session of it ends, and every browser's device
// cookie with them; the browser that used the link becomes the account's
// one trusted device, and its cookie is returned. The link is looked up
// as the installation's (it names no company); the rest runs in the
// company of its account.
func (s *Service) ResetPassword(ctx context.Context, token, next string, c Client) (DeviceCookie, error) {
	var tenantID, userID, login, email string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT t.tenant_id, t.user_id, u.login, u.email FROM account_tokens t
			JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
			WHERE t.token_hash = $1 AND t.purpose = 'reset' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'active'`,
			id.HashToken(token), s.now()).Scan(&tenantID, &userID, &login, &email)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return DeviceCookie{}, ErrTokenInvalid
	}
	if err != nil {
		return DeviceCookie{}, fmt.Errorf("read reset token: %w", err)
	}
	p, company, err := s.policyOf(ctx, tenantID)
	if err != nil {
		return DeviceCookie{}, err
	}
	if msg := CheckPasswordPolicy(p, next, PasswordContext{Login: login, Email: email, Company: company, Name: s.displayName(ctx, tenantID, userID)}); msg != "" {
		return DeviceCookie{}, &fault.Invalid{Fields: map[string]string{"new_password": msg}}
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return DeviceCookie{}, err
	}
	var dc DeviceCookie
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, id.HashToken(token), s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, must_change_password = FALSE, failed_attempts = 0,
			locked_until = NULL, password_changed_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, hash, now); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND purpose = 'reset' AND used_at IS NULL`,
			tenantID, userID, now); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		if err := forgetDevices(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		if dc, err = s.trustDevice(ctx, tx, tenantID, userID, Client{IP: c.IP, UserAgent: c.UserAgent}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.PasswordReset, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
	})
	if err != nil {
		return DeviceCookie{}, err
	}
	return dc, nil
}
