package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/tenant"
)

// codeValidity is how long a six-digit code sent by email or SMS works.
const codeValidity = 10 * time.Minute

// codeHash binds a six-digit code to its user, so equal codes of two users
// have different hashes.
func codeHash(userID, code string) string {
	return HashToken("kandidat-code/v1|" + userID + "|" + strings.TrimSpace(code))
}

// issueCode stores a fresh six-digit code of purpose for a user (older unused
// codes of the purpose die) and returns it, for the caller to send.
func (s *Service) issueCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose string) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	now := s.now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL`,
		tenantID, userID, purpose); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, tenantID, tenant.NewID(), userID, purpose, codeHash(userID, code), now, now.Add(codeValidity)); err != nil {
		return "", fmt.Errorf("store code: %w", err)
	}
	return code, nil
}

// spendCode marks a matching unused, unexpired code of purpose used.
func (s *Service) spendCode(ctx context.Context, tx *sql.Tx, tenantID, userID, purpose, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $5 WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND token_hash = $4
		AND used_at IS NULL AND expires_at > $5`, tenantID, userID, purpose, codeHash(userID, code), s.now())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
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
