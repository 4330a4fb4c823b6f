package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/id"
)

const (
	// codeValidity is how long a six-digit code sent by email or SMS works.
	codeValidity = 10 * time.Minute
	// codeMemory is how long a used, replaced or expired code is kept (as
	// its hash, marked used) after it was issued: a new code for the same
	// user never repeats one of them, so a code seen in an old message or
	// over a shoulder cannot come back to life.
	codeMemory = 24 * time.Hour
	// codeDraws bounds the draws for a code that repeats none of the
	// remembered ones; with at most a few hundred remembered among a
	// million, the first draw almost always succeeds.
	codeDraws = 32
)

// codePurposes are the purposes of six-digit codes in account_tokens (the
// table also holds links, whose lifetimes are their own).
var codePurposes = []any{"mfa_email", "mfa_sms", "mfa_email_enrol", "mfa_sms_enrol"}

// errNoFreeCode is returned when every draw repeated a remembered code,
// which only a broken random source makes happen.
var errNoFreeCode = errors.New("no six-digit code left that is not in use")

// sixDigits draws a uniform code from 000000 to 999999; tests replace it.
var sixDigits = func() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash binds a six-digit code to its user, so equal codes of two users
// have different hashes. The purpose is left out on purpose: the unique
// index on account_tokens.token_hash then refuses the same code twice for
// one user, whatever the purposes.
func codeHash(userID, code string) string {
	return id.HashToken("kandidat-code/v1|" + userID + "|" + strings.TrimSpace(code))
}

// issueCode stores a fresh six-digit code of purpose for a user and returns
// it, for the caller to send. Older unused codes of the purpose stop working
// (marked used, so they are remembered too), codes older than codeMemory
// are forgotten, and the new code is drawn again while it equals a code the
// user still has, live or remembered: the unique index on the hash decides,
// so two transactions cannot both hand out the same code.
func (s *Service) issueCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose string) (string, error) {
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL`,
		tenantID, userID, purpose, now); err != nil {
		return "", fmt.Errorf("retire older codes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE tenant_id = $1 AND user_id = $2 AND created_at < $3
		AND purpose IN ($4, $5, $6, $7)`, append([]any{tenantID, userID, now.Add(-codeMemory)}, codePurposes...)...); err != nil {
		return "", fmt.Errorf("forget old codes: %w", err)
	}
	for range codeDraws {
		code, err := sixDigits()
		if err != nil {
			return "", err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			tenantID, id.New(), userID, purpose, codeHash(userID, code), now, now.Add(codeValidity))
		if err != nil {
			return "", fmt.Errorf("store code: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", fmt.Errorf("store code: %w", err)
		} else if n == 1 {
			return code, nil
		}
	}
	return "", errNoFreeCode
}

// spendCode marks a matching unused, unexpired code of purpose used. The
// conditional write is the check: of two transactions given the same code,
// one changes the row and the other finds it used.
func (s *Service) spendCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $5 WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND token_hash = $4
		AND used_at IS NULL AND expires_at > $5`, tenantID, userID, purpose, codeHash(userID, code), s.now())
	if err != nil {
		return false, fmt.Errorf("spend code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("spend code: %w", err)
	}
	return n == 1, nil
}

// recipient returns the language to write to someone of a company in (their
// own setting, else the company's) and the company's name.
func (s *Service) recipient(ctx context.Context, tx *sql.Tx, tenantID, userLang string) (lang, company string, err error) {
	var companyLang string
	if err := tx.QueryRowContext(ctx, `SELECT name, default_language FROM tenants WHERE id = $1`, tenantID).Scan(&company, &companyLang); err != nil {
		return "", "", fmt.Errorf("read company: %w", err)
	}
	return s.i18n.Pick(userLang, "", companyLang), company, nil
}
