package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/keys"
)

// Idempotency keys of the API. A POST that carries an Idempotency-Key runs
// once per token and key: the first request claims the key with a
// conditional insert, and its response is stored (encrypted: it may name a
// candidate) for a day. A repeat of the same request gets that response; a
// different request with the same key, or a repeat while the first still
// runs, is refused.

// IdempotencyTTL is how long a key and its response are kept.
const IdempotencyTTL = 24 * time.Hour

// Refusals of a repeated key.
var (
	ErrIdempotencyReuse   = fault.NewField(fault.ErrInvalid, "Idempotency-Key", "idempotency key reused for another request", "error.api_idempotency_reuse")
	ErrIdempotencyRunning = fault.New(fault.ErrConflict, "a request with this idempotency key is still running", "error.api_idempotency_running")
)

// StoredResponse is the response the first request with a key gave.
type StoredResponse struct {
	Status   int
	Location string
	Body     []byte
}

// ClaimIdempotencyKey claims key for the token's request with fingerprint.
// It returns nil when the caller runs the request (and must Finish or
// Release the key), the stored response when the same request already ran,
// or a refusal.
func (s *Service) ClaimIdempotencyKey(ctx context.Context, p *TokenPrincipal, key, fingerprint string) (*StoredResponse, error) {
	var out *StoredResponse
	err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		now := s.now()
		// A key older than its lifetime is free again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_idempotency WHERE tenant_id = $1 AND token_id = $2 AND key = $3 AND created_at <= $4`,
			p.TenantID, p.TokenID, key, now.Add(-IdempotencyTTL)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_idempotency (tenant_id, token_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, token_id, key) DO NOTHING`, p.TenantID, p.TokenID, key, fingerprint, now)
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var fp, location string
		var status int
		var body []byte
		if err := tx.QueryRowContext(ctx, `SELECT fingerprint, status, location, body FROM api_idempotency WHERE tenant_id = $1 AND token_id = $2 AND key = $3`,
			p.TenantID, p.TokenID, key).Scan(&fp, &status, &location, &body); err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		switch {
		case fp != fingerprint:
			return ErrIdempotencyReuse
		case status == 0:
			return ErrIdempotencyRunning
		}
		plain, err := s.cipher.Decrypt(ctx, p.TenantID, idempotencyField(p, key), body)
		if err != nil {
			return err
		}
		out = &StoredResponse{Status: status, Location: location, Body: plain}
		return nil
	})
	return out, err
}

// FinishIdempotencyKey stores the response of the request that claimed key.
func (s *Service) FinishIdempotencyKey(ctx context.Context, p *TokenPrincipal, key string, r StoredResponse) error {
	sealed, err := s.cipher.Encrypt(ctx, p.TenantID, idempotencyField(p, key), r.Body)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_idempotency SET status = $4, location = $5, body = $6 WHERE tenant_id = $1 AND token_id = $2 AND key = $3 AND status = 0`,
			p.TenantID, p.TokenID, key, r.Status, r.Location, sealed)
		return err
	})
}

// ReleaseIdempotencyKey frees a key whose request failed without an
// effect (a refusal or an internal error), so that it may be retried.
func (s *Service) ReleaseIdempotencyKey(ctx context.Context, p *TokenPrincipal, key string) error {
	return s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM api_idempotency WHERE tenant_id = $1 AND token_id = $2 AND key = $3 AND status = 0`,
			p.TenantID, p.TokenID, key)
		return err
	})
}

// PruneIdempotencyKeys deletes keys past their lifetime in every company.
func (s *Service) PruneIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_idempotency WHERE created_at <= $1`, s.now().Add(-IdempotencyTTL))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if errors.Is(err, context.Canceled) {
		return n, nil
	}
	return n, err
}

func idempotencyField(p *TokenPrincipal, key string) keys.Field {
	return keys.Field{Table: "api_idempotency", Column: "body", Row: p.TokenID + "/" + key}
}
