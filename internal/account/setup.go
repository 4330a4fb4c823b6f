package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// setupActor is the operator who follows the one-time setup link.
var setupActor = audit.Actor{Kind: audit.ActorOperator, ID: "setup-link"}

// NewSetupToken replaces any unused setup token with a new one and returns
// its secret. The operator opens /setup/{token} to create the first company.
// Setup tokens are the installation's, as is all the work of this file.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	token, hash := id.NewToken()
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE used_at IS NULL`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)`, hash, s.now())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create setup token: %w", err)
	}
	return token, nil
}

// SetupTokenValid reports whether token is an unused setup token.
func (s *Service) SetupTokenValid(ctx context.Context, token string) (bool, error) {
	var n int
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL`, id.HashToken(token)).Scan(&n)
	})
	return n == 1, err
}

// Setup uses a setup token once to create the first company and its
// administrator, all in one transaction: either both exist afterwards and
// the token is spent, or nothing changed. The transaction is the
// installation's: the company does not exist when it begins.
func (s *Service) Setup(ctx context.Context, tenants *tenant.Service, token string, company tenant.CreateInput, admin CreateUserInput) (*tenant.Tenant, *User, error) {
	fields := map[string]string{}
	if err := company.Validate(); err != nil {
		var ve *fault.Invalid
		if !errors.As(err, &ve) {
			return nil, nil, err
		}
		for k, v := range ve.Fields {
			fields[k] = v
		}
	}
	if err := admin.validate(Standard, company.Name); err != nil {
		var ve *fault.Invalid
		if !errors.As(err, &ve) {
			return nil, nil, err
		}
		for k, v := range ve.Fields {
			fields[k] = v
		}
	}
	if len(fields) > 0 {
		return nil, nil, &fault.Invalid{Fields: fields}
	}
	hash, err := s.hasher.Hash(ctx, admin.Password)
	if err != nil {
		return nil, nil, err
	}
	var t *tenant.Tenant
	var u *User
	err = s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, id.HashToken(token), db.Now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrSetupDone
		}
		company.Via, admin.Via = "setup", "setup"
		if t, err = tenants.CreateTx(ctx, tx, setupActor, company); err != nil {
			return err
		}
		u, err = s.insertUser(ctx, tx, setupActor, t.ID, admin, hash)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, u, nil
}
