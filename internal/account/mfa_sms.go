package account

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
)

// sendSMSCode texts a fresh six-digit code for purpose to phone.
func (s *Service) sendSMSCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose, phone string) error {
	if s.queue == nil {
		return fmt.Errorf("codes by SMS need the message queue")
	}
	var userLang string
	if err := tx.QueryRowContext(ctx, `SELECT language FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&userLang); err != nil {
		return err
	}
	code, err := s.issueCode(ctx, tx, tenantID, userID, purpose)
	if err != nil {
		return err
	}
	lang, company, err := s.recipient(ctx, tx, tenantID, userLang)
	if err != nil {
		return err
	}
	return s.queue.EnqueueSMS(ctx, tx, tenantID, phone, s.i18n.T(lang, "mfa.sms.text", "code", code, "company", company,
		"minutes", strconv.Itoa(int(codeValidity.Minutes()))))
}

// BeginSMSMFA texts a code to phone; entering it turns on codes by SMS for
// that number.
func (s *Service) BeginSMSMFA(ctx context.Context, a access.Actor, phone string) error {
	prof, _, err := s.policyOf(ctx, a.TenantID)
	if err != nil {
		return err
	}
	if prof == Strict {
		return ErrFactorNotAllowed
	}
	number, ok := notify.NormalizePhone(phone)
	if !ok {
		return fault.Field("phone", "error.phone_format")
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET phone_pending = $3 WHERE tenant_id = $1 AND id = $2`, a.TenantID, a.UserID, number); err != nil {
			return err
		}
		return s.sendSMSCode(ctx, tx, a.TenantID, a.UserID, "mfa_sms_enrol", number)
	})
}

// ConfirmSMSMFA turns on codes by SMS when code is the one just texted, and
// returns ten recovery codes, shown once.
func (s *Service) ConfirmSMSMFA(ctx context.Context, p *Principal, code string, c Client) ([]string, error) {
	return s.enableCodeFactor(ctx, p, code, "mfa_sms_enrol", `UPDATE users SET mfa_sms = TRUE, phone = phone_pending, phone_pending = '',
		mfa_failed_attempts = 0 WHERE tenant_id = $1 AND id = $2`, "sms", c)
}

// DisableSMSMFA turns codes by SMS off and forgets the number.
func (s *Service) DisableSMSMFA(ctx context.Context, p *Principal, c Client) error {
	return s.disableCodeFactor(ctx, p, `UPDATE users SET mfa_sms = FALSE, phone = '' WHERE tenant_id = $1 AND id = $2 AND mfa_sms`, "sms", c)
}

// SMSMFAEnabled reports whether a user signs in with codes by SMS.
func (s *Service) SMSMFAEnabled(ctx context.Context, tenantID, userID string) (bool, error) {
	var on bool
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT mfa_sms FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&on)
	})
	return on, err
}
