package tenant

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
)

// MaxLogoBytes is the largest career page logo accepted.
const MaxLogoBytes = 256 << 10

// Logo is a company's career page logo.
type Logo struct {
	ContentType string
	Data        []byte
}

// SaveLogo sets the career page's logo on behalf of a, who needs
// company.profile: a PNG or JPEG image, recognised by its content, with
// its metadata (where and when a photo was taken) removed. nil data
// removes the logo. The company's settings keep a version of it
// (Settings.CareerLogo), so the pages name it by a URL that changes with
// it and may be cached for long.
func (s *Service) SaveLogo(ctx context.Context, a access.Actor, data []byte) error {
	if !a.Can(access.CompanyProfile) {
		return ErrForbidden
	}
	var contentType, version string
	if data != nil {
		if len(data) > MaxLogoBytes {
			return fault.Field("career_logo", "error.logo_too_large")
		}
		t, err := filetype.Detect(data)
		if err != nil || (t != filetype.PNG && t != filetype.JPEG) {
			return fault.Field("career_logo", "error.logo_type")
		}
		if data, err = filetype.StripMetadata(t, data); err != nil {
			return fault.Field("career_logo", "error.logo_type")
		}
		sum := sha256.Sum256(data)
		contentType, version = t.ContentType(), hex.EncodeToString(sum[:8])
	}
	return s.change(ctx, a, func(t *Tenant) []string {
		t.Settings.CareerLogo = version
		return nil
	}, func(tx *sql.Tx, changed []string) ([]string, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM company_logos WHERE tenant_id = $1`, a.TenantID); err != nil {
			return nil, fmt.Errorf("replace logo: %w", err)
		}
		if data != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO company_logos (tenant_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4)`,
				a.TenantID, contentType, data, db.Now()); err != nil {
				return nil, fmt.Errorf("store logo: %w", err)
			}
		}
		return append(changed, "career_logo"), nil
	})
}

// LogoOf returns a company's career page logo, nil when it has none. The
// career page is public: the logo is read as the company's own data.
func (s *Service) LogoOf(ctx context.Context, tenantID string) (*Logo, error) {
	var l Logo
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT content_type, data FROM company_logos WHERE tenant_id = $1`, tenantID).Scan(&l.ContentType, &l.Data)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read logo: %w", err)
	}
	return &l, nil
}
