package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Role is a custom role: a named permission set a company defines.
type Role struct {
	TenantID    string
	ID          string
	Name        string
	Permissions access.Set
	// Users is how many users hold the role.
	Users int
}

// Errors of roles.
var (
	// ErrForbidden is returned when the actor may not do what they asked.
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "error.role_beyond_rights")
	// ErrRoleInUse is returned when a custom role to delete is still held by users.
	ErrRoleInUse = fault.New(fault.ErrConflict, "the role is held by users", "error.role_in_use")
)

// roleSet returns the permission set of role in a company without optional
// rights: a predefined role's, or a custom role's of that company. Any
// other role is a validation error.
func roleSet(ctx context.Context, q queryer, tenantID, role string) (access.Set, error) {
	if access.Predefined(role) {
		return access.RoleSet(role), nil
	}
	if !id.Valid(role) {
		return 0, fault.Field("role", "error.role")
	}
	var perms string
	err := q.QueryRowContext(ctx, `SELECT permissions FROM roles WHERE tenant_id = $1 AND id = $2`, tenantID, role).Scan(&perms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fault.Field("role", "error.role")
	}
	if err != nil {
		return 0, fmt.Errorf("read role: %w", err)
	}
	return access.Decode(perms), nil
}

// userSet is the current permission set of a user, with optional rights.
func userSet(ctx context.Context, q queryer, tenantID, userID string) (role string, set access.Set, err error) {
	var extra, custom string
	err = q.QueryRowContext(ctx, `SELECT u.role, u.extra_permissions, COALESCE(r.permissions, '')
		FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
		WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, userID).Scan(&role, &extra, &custom)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("read user's role: %w", err)
	}
	return role, access.Resolve(role, custom, extra), nil
}

// Principal returns the principal of a user without a session, e.g. for a
// command-line action or a background job acting for them.
func (s *Service) Principal(ctx context.Context, tenantID, userID string) (*Principal, error) {
	u, err := s.UserByID(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	var set access.Set
	err = s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		_, set, err = userSet(ctx, tx, tenantID, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Principal{TenantID: tenantID, UserID: userID, Role: u.Role, DisplayName: u.DisplayName, Language: u.Language, Perms: set}, nil
}

// RoleInput is a custom role as a company user defines it.
type RoleInput struct {
	Name        string
	Permissions []string
}

func (in *RoleInput) validate() (access.Set, error) {
	f := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 80 || hasControl(in.Name) {
		f["name"] = "error.role_name"
	}
	var set access.Set
	for _, n := range in.Permissions {
		p, ok := access.Parse(n)
		if !ok {
			f["permissions"] = "error.permission"
			continue
		}
		set |= access.Of(p)
	}
	if set == 0 && f["permissions"] == "" {
		f["permissions"] = "error.permissions_empty"
	}
	if len(f) > 0 {
		return 0, &fault.Invalid{Fields: f}
	}
	return set, nil
}

// ListRoles returns a company's custom roles by name, with how many users hold each.
func (s *Service) ListRoles(ctx context.Context, tenantID string) ([]*Role, error) {
	var out []*Role
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.name, r.permissions,
			(SELECT count(*) FROM users u WHERE u.tenant_id = r.tenant_id AND u.role = r.id)
			FROM roles r WHERE r.tenant_id = $1 ORDER BY r.name`, tenantID)
		if err != nil {
			return fmt.Errorf("list roles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r := &Role{TenantID: tenantID}
			var perms string
			if err := rows.Scan(&r.ID, &r.Name, &perms, &r.Users); err != nil {
				return err
			}
			r.Permissions = access.Decode(perms)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RoleByID returns a custom role of the company.
func (s *Service) RoleByID(ctx context.Context, tenantID, roleID string) (*Role, error) {
	if !id.Valid(roleID) {
		return nil, ErrNotFound
	}
	r := &Role{TenantID: tenantID, ID: roleID}
	var perms string
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT name, permissions, (SELECT count(*) FROM users u WHERE u.tenant_id = $1 AND u.role = $2)
			FROM roles WHERE tenant_id = $1 AND id = $2`, tenantID, roleID).Scan(&r.Name, &perms, &r.Users)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read role: %w", err)
	}
	r.Permissions = access.Decode(perms)
	return r, nil
}

// SaveRole creates a custom role (id "") or changes one. The actor must
// hold ManageRoles and may only write a set the rule of every change of
// rights allows (authorize): every permission of the old and the new set,
// unless the actor administers the company and does not hold the role
// itself. The change applies to every holder on their next request, since
// permissions are read with the session.
func (s *Service) SaveRole(ctx context.Context, actor access.Actor, roleID string, in RoleInput) (*Role, error) {
	if !actor.Can(access.ManageRoles) {
		return nil, ErrForbidden
	}
	set, err := in.validate()
	if err != nil {
		return nil, err
	}
	if roleID != "" && !id.Valid(roleID) {
		return nil, ErrNotFound
	}
	r := &Role{TenantID: actor.TenantID, ID: roleID, Name: in.Name, Permissions: set}
	err = s.inRightsTx(ctx, actor.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		var old access.Set
		var holders int
		if roleID != "" {
			var err error
			if old, holders, err = customRole(ctx, tx, actor.TenantID, roleID); err != nil {
				return err
			}
		}
		if err := authorize(ctx, tx, actor, change{gate: access.ManageRoles, old: old, new: set, role: roleID}); err != nil {
			return err
		}
		now := s.now()
		action := audit.RoleChanged
		var err error
		if roleID == "" {
			r.ID = id.New()
			action = audit.RoleCreated
			_, err = tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, id, name, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
				r.TenantID, r.ID, r.Name, set.Encode(), now)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE roles SET name = $3, permissions = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
				r.TenantID, r.ID, r.Name, set.Encode(), now)
		}
		if err != nil {
			if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
				return fault.Field("name", "error.role_name_taken")
			}
			return fmt.Errorf("save role: %w", err)
		}
		details := map[string]string{"permissions": set.Encode()}
		if holders > 0 {
			details = candidateAccess(details, old, set)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: r.TenantID, Action: action, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "role", ID: r.ID}}, Details: details})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// customRole returns the permission set of a custom role of the company
// and how many users hold it, or ErrNotFound.
func customRole(ctx context.Context, tx *sql.Tx, tenantID, id string) (access.Set, int, error) {
	var perms string
	var holders int
	err := tx.QueryRowContext(ctx, `SELECT permissions, (SELECT count(*) FROM users u WHERE u.tenant_id = $1 AND u.role = $2)
		FROM roles WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&perms, &holders)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read role: %w", err)
	}
	return access.Decode(perms), holders, nil
}

// DeleteRole deletes a custom role no user holds; the actor must be
// allowed to take away its whole set (authorize).
func (s *Service) DeleteRole(ctx context.Context, actor access.Actor, roleID string) error {
	if !actor.Can(access.ManageRoles) {
		return ErrForbidden
	}
	if !id.Valid(roleID) {
		return ErrNotFound
	}
	return s.inRightsTx(ctx, actor.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		old, holders, err := customRole(ctx, tx, actor.TenantID, roleID)
		if err != nil {
			return err
		}
		if holders > 0 {
			return ErrRoleInUse
		}
		if err := authorize(ctx, tx, actor, change{gate: access.ManageRoles, old: old, role: roleID}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE tenant_id = $1 AND id = $2`, actor.TenantID, roleID); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.RoleDeleted, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "role", ID: roleID}}})
	})
}

// SetOptionalRights gives an HR manager a combination of the optional
// rights (access.OptionalRights), replacing the previous ones. The actor
// must be allowed to make the change (authorize); the user's sessions end,
// as for any privilege change.
func (s *Service) SetOptionalRights(ctx context.Context, actor access.Actor, userID string, rights []string) error {
	var set access.Set
	for _, n := range rights {
		p, ok := access.Parse(n)
		if !ok || !slices.Contains(access.OptionalRights, p) {
			return fault.Field("rights", "error.permission")
		}
		set |= access.Of(p)
	}
	if !actor.Can(access.ManageUsers) {
		return ErrForbidden
	}
	return s.inRightsTx(ctx, actor.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		role, current, err := userSet(ctx, tx, actor.TenantID, userID)
		if err != nil {
			return err
		}
		if role != access.HRManager {
			return fault.Field("rights", "error.rights_hr_only")
		}
		next := access.RoleSet(role) | set
		if err := authorize(ctx, tx, actor, change{gate: access.ManageUsers, old: current, new: next, user: userID}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET extra_permissions = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
			actor.TenantID, userID, set.Encode(), s.now()); err != nil {
			return err
		}
		if userID != actor.UserID {
			if err := deleteSessions(ctx, tx, actor.TenantID, userID); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.UserRightsChanged, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: candidateAccess(map[string]string{"rights": set.Encode()}, current, next)})
	})
}

// SetUserStatus disables or enables a colleague on behalf of actor, who
// must manage users and be allowed to take away (or give back) every right
// of the colleague (authorize). Nobody changes their own status, and the
// company keeps one active administrator.
func (s *Service) SetUserStatus(ctx context.Context, actor access.Actor, userID string, st Status) error {
	if st != Active && st != Disabled {
		return fault.Field("status", "error.status")
	}
	if !actor.Can(access.ManageUsers) {
		return ErrForbidden
	}
	return s.inRightsTx(ctx, actor.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		_, set, err := userSet(ctx, tx, actor.TenantID, userID)
		if err != nil {
			return err
		}
		if userID == actor.UserID {
			return ErrForbidden
		}
		c := change{gate: access.ManageUsers, old: set, user: userID}
		if st == Active {
			c.old, c.new = 0, set
		}
		if err := authorize(ctx, tx, actor, c); err != nil {
			return err
		}
		return s.setStatus(ctx, tx, audit.ActorOf(actor), actor.TenantID, userID, st)
	})
}

// setStatus writes a user's status inside tx, which holds the company's
// rights lock (inRightsTx). Disabling ends every session of the user and,
// unless the operator does it, may not leave the company without an active
// administrator. An invitation disabled and enabled again is an invitation
// again: the invitee has neither a password nor a login yet.
func (s *Service) setStatus(ctx context.Context, tx *sql.Tx, by audit.Actor, tenantID, userID string, st Status) error {
	var role, was string
	err := tx.QueryRowContext(ctx, `SELECT role, status FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&role, &was)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read user status: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET status = CASE WHEN $3 = 'active' AND invited_login IS NOT NULL THEN 'invited' ELSE $3 END,
		updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, string(st), s.now()); err != nil {
		return fmt.Errorf("update user status: %w", err)
	}
	action := audit.UserEnabled
	if st == Disabled {
		action = audit.UserDisabled
		if err := deleteSessions(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		// The operator stands outside the company's rules: it may shut
		// out a company's last administrator (and create another).
		if role == RoleAdministrator && Status(was) == Active && by.Kind != audit.ActorOperator {
			if err := keepAnAdministrator(ctx, tx, tenantID); err != nil {
				return err
			}
		}
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: action, Actor: by, Objects: []audit.Ref{{Kind: "user", ID: userID}}})
}
