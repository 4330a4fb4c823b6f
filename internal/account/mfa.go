package account

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/keys"
)

// FieldCipher encrypts a field with the company's data key, bound to where
// it is stored. internal/keys.Keyring is one.
type FieldCipher interface {
	Encrypt(ctx context.Context, tenantID string, ad keys.Field, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tenantID string, ad keys.Field, ciphertext []byte) ([]byte, error)
}

// Errors of the second factor.
var (
	// ErrInvalidCode is the one answer to a wrong, reused or expired code.
	ErrInvalidCode = errors.New("invalid code")
	// ErrNoPendingEnrolment is returned when a code confirms nothing.
	ErrNoPendingEnrolment = errors.New("no authenticator enrolment in progress")
	// ErrMFAEnabled is returned when enrolling while a factor is already on.
	ErrMFAEnabled = errors.New("two-factor sign-in is already on")
)

const (
	totpPeriod        = 30
	recoveryCodeCount = 10
)

func totpField(userID, column string) keys.Field {
	return keys.Field{Table: "users", Column: column, Row: userID}
}

// TOTPEnrolment is what the user needs to add Kandidat to an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32, for typing in by hand
	URL    string // otpauth:// URL, the content of the QR code
	QRPNG  []byte
}

// BeginTOTP creates a new TOTP secret for the principal, kept pending (and
// encrypted) until a code from it confirms the enrolment.
func (s *Service) BeginTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	if s.cipher == nil {
		return nil, errors.New("two-factor sign-in needs the keyring")
	}
	var login string
	var active []byte
	if err := s.db.Read.QueryRowContext(ctx, `SELECT login, totp_secret FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).
		Scan(&login, &active); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	if active != nil {
		return nil, ErrMFAEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Kandidat", AccountName: login, Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	sealed, err := s.cipher.Encrypt(ctx, p.TenantID, totpField(p.UserID, "totp_pending"), []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Write.ExecContext(ctx, `UPDATE users SET totp_pending = $3 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID, sealed); err != nil {
		return nil, fmt.Errorf("store pending secret: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// matchTOTP returns the time step whose code equals code, within one step
// either side of now and after lastStep (a used code cannot be replayed),
// or 0.
func matchTOTP(secret, code string, now time.Time, lastStep int64) int64 {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0
	}
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current - 1, current, current + 1} {
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && hmac.Equal([]byte(want), []byte(code)) {
			return step
		}
	}
	return 0
}

// ConfirmTOTP turns on two-factor sign-in with the pending secret when code
// matches it, and returns ten single-use recovery codes, shown once. Every
// other session of the user ends.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string, c Client) ([]string, error) {
	var pending []byte
	if err := s.db.Read.QueryRowContext(ctx, `SELECT totp_pending FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).Scan(&pending); err != nil {
		return nil, fmt.Errorf("read pending secret: %w", err)
	}
	if pending == nil {
		return nil, ErrNoPendingEnrolment
	}
	secret, err := s.cipher.Decrypt(ctx, p.TenantID, totpField(p.UserID, "totp_pending"), pending)
	if err != nil {
		return nil, err
	}
	step := matchTOTP(string(secret), code, s.now(), 0)
	if step == 0 {
		return nil, ErrInvalidCode
	}
	sealed, err := s.cipher.Encrypt(ctx, p.TenantID, totpField(p.UserID, "totp_secret"), secret)
	if err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = $3, totp_pending = NULL, totp_last_step = $4, mfa_failed_attempts = 0
			WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID, sealed, step); err != nil {
			return err
		}
		if err := s.replaceRecoveryCodes(ctx, tx, p, codes); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAEnabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "totp"}})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, p *Principal, codes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
		return err
	}
	for _, code := range codes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (tenant_id, user_id, code_hash) VALUES ($1, $2, $3)`,
			p.TenantID, p.UserID, recoveryHash(p.UserID, code)); err != nil {
			return err
		}
	}
	return nil
}

// newRecoveryCode returns a code of 10 base32 characters in two groups
// (50 random bits), easy to read from paper.
func newRecoveryCode() string {
	b := make([]byte, 7)
	rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
	return s[:5] + "-" + s[5:]
}

// recoveryHash binds a code to its user, so equal codes of two users differ.
func recoveryHash(userID, code string) string {
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	if len(code) == 10 {
		code = code[:5] + "-" + code[5:]
	}
	sum := sha256.Sum256([]byte("kandidat-recovery/v1|" + userID + "|" + code))
	return hex.EncodeToString(sum[:])
}

// VerifySecondFactor completes a sign-in waiting for its second step with a
// TOTP code or a recovery code. On success the waiting session is replaced
// by a new, full one (a new id for the new privilege) whose secret is
// returned. Failures count separately from the password's; at the limit the
// account is locked as after password failures.
func (s *Service) VerifySecondFactor(ctx context.Context, token, code string, c Client) (string, error) {
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return "", err
	}
	if !p.MFAPending {
		return "", ErrNoSession
	}
	var sealed []byte
	var lastStep int64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).
		Scan(&sealed, &lastStep); err != nil {
		return "", err
	}
	method, step := "", int64(0)
	if sealed != nil {
		secret, err := s.cipher.Decrypt(ctx, p.TenantID, totpField(p.UserID, "totp_secret"), sealed)
		if err != nil {
			return "", err
		}
		if step = matchTOTP(string(secret), code, s.now(), lastStep); step > 0 {
			method = "totp"
		}
	}
	var newToken string
	failed := false
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if method == "" {
			res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
				p.TenantID, p.UserID, recoveryHash(p.UserID, code), s.now())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				method = "recovery_code"
			}
		}
		if method == "" {
			for _, channel := range []string{"email", "sms"} {
				ok, err := s.spendCode(ctx, tx, p.TenantID, p.UserID, "mfa_"+channel, code)
				if err != nil {
					return err
				}
				if ok {
					method = channel
					break
				}
			}
		}
		if method == "" {
			failed = true // the failure is counted and committed
			return s.secondFactorFailed(ctx, tx, p, c)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = 0, totp_last_step = CASE WHEN $3 > totp_last_step THEN $3 ELSE totp_last_step END
			WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID, step); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, HashToken(token)); err != nil {
			return err
		}
		var err error
		if newToken, err = s.startSession(ctx, tx, p.TenantID, p.UserID, c); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFASucceeded, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": method}})
	})
	if err == nil && failed {
		return "", ErrInvalidCode
	}
	return newToken, err
}

// secondFactorFailed counts a failure of the second step, records it and, at
// the limit, locks the account and ends its sessions.
func (s *Service) secondFactorFailed(ctx context.Context, tx *sql.Tx, p *Principal, c Client) error {
	var failures int
	if err := tx.QueryRowContext(ctx, `UPDATE users SET mfa_failed_attempts = mfa_failed_attempts + 1 WHERE tenant_id = $1 AND id = $2
		RETURNING mfa_failed_attempts`, p.TenantID, p.UserID).Scan(&failures); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAFailed, Actor: audit.User(p.UserID),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures)}}); err != nil {
		return err
	}
	if failures >= s.opts.MaxFailures {
		until := s.now().Add(s.opts.LockDuration)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = 0, locked_until = $3 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID, until); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, p.TenantID, p.UserID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}},
			Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339)}}); err != nil {
			return err
		}
	}
	return nil
}

// DisableTOTP turns two-factor sign-in off after checking a current code
// (or a recovery code); recovery codes go, and every other session ends.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal, code string, c Client) error {
	var sealed []byte
	var lastStep int64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).
		Scan(&sealed, &lastStep); err != nil {
		return err
	}
	if sealed == nil {
		return ErrNoPendingEnrolment
	}
	secret, err := s.cipher.Decrypt(ctx, p.TenantID, totpField(p.UserID, "totp_secret"), sealed)
	if err != nil {
		return err
	}
	step := matchTOTP(string(secret), code, s.now(), lastStep)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if step == 0 {
			res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
				p.TenantID, p.UserID, recoveryHash(p.UserID, code), s.now())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrInvalidCode
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE tenant_id = $1 AND id = $2`,
			p.TenantID, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFADisabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "totp"}})
	})
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, tenantID, userID string) (int, error) {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL`, tenantID, userID).Scan(&n)
	return n, err
}
