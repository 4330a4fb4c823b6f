package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// The company's users, roles and API tokens as an actor reads them (the
// API's reads): each checks the right the page of the same list demands.
// None returns a credential: users carry no password hash, second factor
// or session, tokens no secret or its hash.

// Users returns a page of the actor's company's users in the order of the
// users page (ListUsersPage), for an actor holding users.manage. A cursor
// naming a user the company no longer has is a field error (cursor).
func (s *Service) Users(ctx context.Context, a access.Actor, after string, limit int) ([]*User, string, error) {
	if !a.Can(access.ManageUsers) || a.TenantID == "" {
		return nil, "", fault.ErrForbidden
	}
	users, next, err := s.ListUsersPage(ctx, a.TenantID, after, limit)
	if errors.Is(err, ErrBadCursor) {
		return nil, "", fault.Field("cursor", "error.api_cursor")
	}
	return users, next, err
}

// User returns a user of the actor's company, for an actor holding users.manage.
func (s *Service) User(ctx context.Context, a access.Actor, userID string) (*User, error) {
	if !a.Can(access.ManageUsers) || a.TenantID == "" {
		return nil, fault.ErrForbidden
	}
	if !id.Valid(userID) {
		return nil, ErrNotFound
	}
	return s.UserByID(ctx, a.TenantID, userID)
}

// RoleInfo is a role a user may hold: a predefined one (its id is its
// name) or one of the company's custom roles.
type RoleInfo struct {
	ID          string
	Name        string
	Predefined  bool
	Permissions access.Set
	// Users holding it: counted for custom roles only (-1 for a predefined one).
	Users int
}

// Roles returns the predefined roles, in the order the UI shows them, and
// then the company's custom roles by name, for an actor holding roles.manage.
func (s *Service) Roles(ctx context.Context, a access.Actor) ([]RoleInfo, error) {
	if !a.Can(access.ManageRoles) || a.TenantID == "" {
		return nil, fault.ErrForbidden
	}
	out := make([]RoleInfo, 0, len(access.Roles))
	for _, r := range access.Roles {
		out = append(out, RoleInfo{ID: r, Name: r, Predefined: true, Permissions: access.RoleSet(r), Users: -1})
	}
	custom, err := s.ListRoles(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	for _, r := range custom {
		out = append(out, RoleInfo{ID: r.ID, Name: r.Name, Permissions: r.Permissions, Users: r.Users})
	}
	return out, nil
}

// TokensPage returns a page of the company's API tokens, newest first
// (their ids are UUIDv7: the key's order is their age), revoked ones
// included, after the token id after ("" for the first page), with the
// cursor of the next page, for an actor holding api.tokens.
func (s *Service) TokensPage(ctx context.Context, a access.Actor, after string, limit int) ([]Token, string, error) {
	if !a.Can(access.ManageAPITokens) || a.TenantID == "" {
		return nil, "", fault.ErrForbidden
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	if after != "" && !id.Valid(after) {
		return nil, "", fault.Field("cursor", "error.api_cursor")
	}
	q, args := `SELECT `+tokenColumns+` FROM api_tokens WHERE tenant_id = $1`, []any{a.TenantID}
	if after != "" {
		q += ` AND id < $2`
		args = append(args, after)
	}
	var out []Token
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q+` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
