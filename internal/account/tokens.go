package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// API tokens. A token acts in one company as one user: the user who made it,
// or a service user made for an integration (a user that never signs in).
// Its scopes are permissions of the catalogue; at every call the token holds
// the scopes that both the user it acts as and the user who made it still
// hold, so a token never holds more than its creator and loses what a
// changed role takes away. Only the SHA-256 of the secret is stored; the
// secret is shown once, at creation.

// TokenPrefix starts every token secret, so that secret scanners and people
// recognise one.
const TokenPrefix = "kdt_"

// MaxTokenDays bounds a token's lifetime; a token without an expiry is
// allowed, but the form proposes 90 days.
const MaxTokenDays = 366 * 2

// Errors of the tokens.
var (
	ErrNoToken        = fault.New(fault.ErrUnauthenticated, "API token unknown, expired or revoked", "error.api_token_invalid")
	ErrTokenNotFound  = fault.New(fault.ErrNotFound, "API token not found", "")
	ErrScopeNotHeld   = fault.NewField(fault.ErrForbidden, "scopes", "scope not held by the token's creator", "error.api_scope_not_held")
	ErrNotServiceUser = fault.NewField(fault.ErrInvalid, "user", "a token acts as its creator or a service user", "error.api_token_user")
)

// Token is a token as lists show it: never its secret.
type Token struct {
	TenantID string
	ID       string
	Name     string
	UserID   string
	// CreatedBy is the user who made it; "" for the operator
	// (`kandidat token create`).
	CreatedBy string
	Scopes    access.Set
	// Prefix is the start of the secret, to tell tokens apart.
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: no expiry
	LastUsedAt time.Time // zero: never used
	LastUsedIP string
	RevokedAt  time.Time // zero: not revoked
}

// Active reports whether the token may still be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// TokenInput is what a new token needs.
type TokenInput struct {
	Name string
	// UserID is the service user the token acts as; "" for its creator.
	UserID string
	Scopes access.Set
	// ExpiresAt is when it stops working; zero for never.
	ExpiresAt time.Time
}

// TokenPrincipal is who calls through a token.
type TokenPrincipal struct {
	TenantID string
	TokenID  string
	// UserID is the user the token acts as.
	UserID   string
	Language string
	// Perms are the token's scopes that its user and creator still hold.
	Perms access.Set
}

// Actor is the caller as the services see it: the token's user for the
// policy, the token itself in the trail.
func (p *TokenPrincipal) Actor() access.Actor {
	return access.Actor{Kind: access.KindToken, TenantID: p.TenantID, UserID: p.UserID, TokenID: p.TokenID, Perms: p.Perms}
}

// CreateToken makes a token for the actor's company and returns it with
// its secret, which is never shown again. The actor needs the right to
// manage API tokens and every scope it gives.
func (s *Service) CreateToken(ctx context.Context, actor access.Actor, in TokenInput) (Token, string, error) {
	if !actor.Can(access.ManageAPITokens) {
		return Token{}, "", fault.ErrForbidden
	}
	in.Name = strings.TrimSpace(in.Name)
	bad := map[string]string{}
	switch {
	case in.Name == "":
		bad["name"] = "error.api_token_name_required"
	case !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 100:
		bad["name"] = "error.api_token_name"
	}
	if in.Scopes == 0 {
		bad["scopes"] = "error.api_scopes_required"
	}
	now := s.now()
	if !in.ExpiresAt.IsZero() && (!in.ExpiresAt.After(now) || in.ExpiresAt.After(now.AddDate(0, 0, MaxTokenDays))) {
		bad["expires_at"] = "error.api_token_expiry"
	}
	if len(bad) > 0 {
		return Token{}, "", &fault.Invalid{Fields: bad}
	}
	// A token acting as its maker holds at most the maker's permissions. One
	// acting as a service user holds at most the service user's, and its
	// maker gives those scopes as it would give the service user a role
	// (checked below): an administrator of the company may give a service
	// user's token candidate access it lacks itself (access.MayChange), and
	// the operator, who holds no scopes of the company, bounds it by the
	// service user alone.
	operator := actor.Kind == access.KindOperator
	if (in.UserID == "" || in.UserID == actor.UserID) && !operator && !actor.Perms.Contains(in.Scopes) {
		return Token{}, "", ErrScopeNotHeld
	}
	secret, hash := id.NewToken()
	secret = TokenPrefix + secret
	hash = id.HashToken(secret)
	t := Token{TenantID: actor.TenantID, ID: id.New(), Name: in.Name, UserID: actor.UserID, CreatedBy: actor.UserID,
		Scopes: in.Scopes, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: now, ExpiresAt: in.ExpiresAt}
	if in.UserID != "" {
		t.UserID = in.UserID
	}
	err := s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		if t.UserID != actor.UserID {
			var service bool
			err := tx.QueryRowContext(ctx, `SELECT service FROM users WHERE tenant_id = $1 AND id = $2 AND status = $3`,
				actor.TenantID, t.UserID, string(Active)).Scan(&service)
			if errors.Is(err, sql.ErrNoRows) || err == nil && !service {
				return ErrNotServiceUser
			}
			if err != nil {
				return err
			}
			if _, set, err := userSet(ctx, tx, actor.TenantID, t.UserID); err != nil {
				return err
			} else if !set.Contains(in.Scopes) {
				return ErrScopeNotHeld
			}
			if !operator && !actor.Perms.Contains(in.Scopes) {
				_, maker, err := actorNow(ctx, tx, actor)
				if err != nil {
					return err
				}
				if !access.MayChange(maker, access.ManageUsers, 0, in.Scopes, false) {
					return ErrScopeNotHeld
				}
			}
		} else if actor.UserID == "" {
			return ErrNotServiceUser // the operator makes tokens for a service user
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (tenant_id, id, user_id, created_by, name, scopes, secret_hash, prefix, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			t.TenantID, t.ID, t.UserID, t.CreatedBy, t.Name, t.Scopes.Encode(), hash, t.Prefix, now, nullTime(t.ExpiresAt)); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: t.TenantID, Action: audit.APITokenCreated, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "api_token", ID: t.ID}, {Kind: "user", ID: t.UserID}},
			Details: map[string]string{"permissions": t.Scopes.Encode(), "expires": fmt.Sprint(!t.ExpiresAt.IsZero())}})
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// Tokens lists the company's tokens, newest first, revoked ones included.
func (s *Service) Tokens(ctx context.Context, actor access.Actor) ([]Token, error) {
	var out []Token
	after := ""
	for {
		page, next, err := s.TokensPage(ctx, actor, after, 100)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// RevokeToken stops a token at once; revoking a revoked token is a no-op.
func (s *Service) RevokeToken(ctx context.Context, actor access.Actor, tokenID string) error {
	if !actor.Can(access.ManageAPITokens) {
		return fault.ErrForbidden
	}
	return s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
			actor.TenantID, tokenID, s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE tenant_id = $1 AND id = $2`, actor.TenantID, tokenID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return ErrTokenNotFound
			} else if err != nil {
				return err
			}
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.APITokenRevoked, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "api_token", ID: tokenID}}})
	})
}

const tokenColumns = `tenant_id, id, name, user_id, created_by, scopes, prefix, created_at, expires_at, last_used_at, last_used_ip, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var scopes string
	var expires, used, revoked sql.NullTime
	if err := sc.Scan(&t.TenantID, &t.ID, &t.Name, &t.UserID, &t.CreatedBy, &scopes, &t.Prefix, &t.CreatedAt, &expires, &used, &t.LastUsedIP, &revoked); err != nil {
		return Token{}, err
	}
	t.Scopes = access.Decode(scopes)
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = utcOf(expires), utcOf(used), utcOf(revoked)
	return t, nil
}

func utcOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// tokenUseGranularity limits the writes of a token's last use to one a minute.
const tokenUseGranularity = time.Minute

// A token the operator made (an empty created_by) has no creator to bound it:
// its service user's permissions do. A creator who is gone has no status.
const selectTokenPrincipal = `SELECT t.tenant_id, t.id, t.user_id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, t.last_used_ip,
	u.language, u.status, u.role, u.extra_permissions, COALESCE(r.permissions, ''), t.created_by,
	COALESCE(c.status, ''), COALESCE(c.role, ''), COALESCE(c.extra_permissions, ''), COALESCE(cr.permissions, '')
FROM api_tokens t
JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
LEFT JOIN users c ON c.tenant_id = t.tenant_id AND c.id = t.created_by
LEFT JOIN roles cr ON cr.tenant_id = c.tenant_id AND cr.id = c.role
WHERE t.secret_hash = $1`

// AuthenticateToken returns the principal of a token secret, or ErrNoToken
// when it is unknown, revoked, expired, or its user or creator is disabled.
// The secret names no company: it is looked up as the installation's, and
// its last use (time and address, to the minute) is written in its company.
func (s *Service) AuthenticateToken(ctx context.Context, secret, ip string) (*TokenPrincipal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return nil, ErrNoToken
	}
	hash := id.HashToken(secret)
	var p TokenPrincipal
	var scopes, userStatus, role, extra, custom, creator, creatorStatus, creatorRole, creatorExtra, creatorCustom, lastIP string
	var expires, revoked, used sql.NullTime
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, selectTokenPrincipal, hash).Scan(&p.TenantID, &p.TokenID, &p.UserID, &scopes, &expires, &revoked, &used, &lastIP,
			&p.Language, &userStatus, &role, &extra, &custom, &creator, &creatorStatus, &creatorRole, &creatorExtra, &creatorCustom)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	now := s.now()
	if revoked.Valid || expires.Valid && !now.Before(expires.Time) || userStatus != string(Active) || creator != "" && creatorStatus != string(Active) {
		return nil, ErrNoToken
	}
	p.Perms = access.Decode(scopes) & access.Resolve(role, custom, extra)
	// The maker bounds the token by what it may still give: its own set, or
	// anything (for another user) while it administers the company
	// (access.MayChange's exception).
	if maker := access.Resolve(creatorRole, creatorCustom, creatorExtra); creator != "" && !(creator != p.UserID && maker.Has(access.ManageUsers) && maker.Has(access.ManageRoles)) {
		p.Perms &= maker
	}
	ip = truncate(ip, 64)
	if !used.Valid || now.Sub(used.Time) >= tokenUseGranularity || lastIP != ip {
		if err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $3, last_used_ip = $4 WHERE tenant_id = $1 AND id = $2`,
				p.TenantID, p.TokenID, now, ip)
			return err
		}); err != nil {
			return nil, fmt.Errorf("touch token: %w", err)
		}
	}
	return &p, nil
}
