package account

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
)

// ErrFactorNotAllowed is returned when the company's policy forbids a factor
// (the strict profile allows authenticator apps and passkeys only).
var ErrFactorNotAllowed = fault.New(fault.ErrForbidden, "this second factor is not allowed by the company's policy", "")

// ErrNoEmail is returned when a factor by email is asked of a user without an address.
var ErrNoEmail = fault.New(fault.ErrConflict, "the account has no email address", "error.mfa_no_email")

// sendEmailCode emails the user a fresh six-digit code for purpose.
func (s *Service) sendEmailCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose string) error {
	var email, userLang string
	if err := tx.QueryRowContext(ctx, `SELECT email, language FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&email, &userLang); err != nil {
		return err
	}
	if email == "" || s.queue == nil {
		return ErrNoEmail
	}
	code, err := s.issueCode(ctx, tx, tenantID, userID, purpose)
	if err != nil {
		return err
	}
	lang, company, err := s.recipient(ctx, tx, tenantID, userLang)
	if err != nil {
		return err
	}
	return s.queue.Enqueue(ctx, tx, tenantID, notify.Message{
		To:      []string{email},
		Subject: s.i18n.T(lang, "mfa.email.subject", "code", code),
		Text:    s.i18n.T(lang, "mfa.email.body", "code", code, "company", company, "minutes", strconv.Itoa(int(codeValidity.Minutes()))),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	})
}

// BeginEmailMFA emails the user a a code that turns on two-factor
// sign-in by email when entered.
func (s *Service) BeginEmailMFA(ctx context.Context, a access.Actor) error {
	prof, _, err := s.policyOf(ctx, a.TenantID)
	if err != nil {
		return err
	}
	if prof == Strict {
		return ErrFactorNotAllowed
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error { return s.sendEmailCode(ctx, tx, a.TenantID, a.UserID, "mfa_email_enrol") })
}

// ConfirmEmailMFA turns on codes by email when code is the one just sent,
// and returns ten recovery codes, shown once.
func (s *Service) ConfirmEmailMFA(ctx context.Context, p *Principal, code string, c Client) ([]string, error) {
	return s.enableCodeFactor(ctx, p, code, "mfa_email_enrol", `UPDATE users SET mfa_email = TRUE, mfa_failed_attempts = 0
		WHERE tenant_id = $1 AND id = $2`, "email", c)
}

// enableCodeFactor spends an enrolment code of purpose and, when it
// matches, runs enable (with tenant and user id as $1 and $2), issues ten
// recovery codes, ends the user's other sessions and records the change.
// The code is spent by the conditional write that accepts it, so of two
// confirmations with the same code only one turns the factor on.
func (s *Service) enableCodeFactor(ctx context.Context, p *Principal, code, purpose, enable, method string, c Client) ([]string, error) {
	codes := newRecoveryCodes()
	err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		ok, err := s.spendCode(ctx, tx, p.TenantID, p.UserID, purpose, code)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInvalidCode
		}
		if _, err := tx.ExecContext(ctx, enable, p.TenantID, p.UserID); err != nil {
			return err
		}
		if err := s.replaceRecoveryCodes(ctx, tx, p, codes); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAEnabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": method}})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableEmailMFA turns codes by email off (the route asks for the password
// first); recovery codes go and other sessions end.
func (s *Service) DisableEmailMFA(ctx context.Context, p *Principal, c Client) error {
	return s.disableCodeFactor(ctx, p, `UPDATE users SET mfa_email = FALSE WHERE tenant_id = $1 AND id = $2 AND mfa_email`, "email", c)
}

// disableCodeFactor runs disable (which must match no row when the factor
// is off), ends the user's other sessions and records the change. Recovery
// codes go when no other factor remains.
func (s *Service) disableCodeFactor(ctx context.Context, p *Principal, disable, method string, c Client) error {
	return s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, disable, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoPendingEnrolment
		}
		var others bool
		if err := tx.QueryRowContext(ctx, `SELECT totp_secret IS NOT NULL OR mfa_email OR mfa_sms OR EXISTS (SELECT 1 FROM webauthn_credentials w
			WHERE w.tenant_id = users.tenant_id AND w.user_id = users.id) FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).Scan(&others); err != nil {
			return err
		}
		if !others {
			if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFADisabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": method}})
	})
}

// EmailMFAEnabled reports whether a user signs in with codes by email.
func (s *Service) EmailMFAEnabled(ctx context.Context, tenantID, userID string) (bool, error) {
	var on bool
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT mfa_email FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&on)
	})
	return on, err
}
