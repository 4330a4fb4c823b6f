package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Service users. An integration (an HR system, a job board, an archive)
// calls the API with a token that acts as a service user rather than as
// the person who set it up, so that the integration outlives that person's
// account and the trail tells its work apart. A service user is a user of
// the company with a role, no email and no usable password (users.service
// is true): it never signs in, SignIn refuses it whatever the password, and
// the users list marks it.
//
// Making one takes two rights: managing API tokens (what it is for) and
// managing users, under the rule of every change of rights
// (access.MayChange: nobody gives a role holding more than they hold
// themselves unless they administer the company). A role that manages
// users or roles is refused: an integration has no use for it through the
// API, and a service user must never count as the company's administrator.
// The operator makes one from the command line as it makes users.

// ErrServiceUserRole is the refusal of a role that manages users or roles.
var ErrServiceUserRole = fault.NewField(fault.ErrInvalid, "role", "a service user may not manage users or roles", "error.service_user_role")

// serviceLoginPrefix starts every service user's login: logins are unique
// across the installation, and a service user's is made, never typed.
const serviceLoginPrefix = "svc-"

// CreateServiceUser makes a service user named name with role in the
// actor's company. Its login, made from the name and a random suffix, is
// what `kandidat token create --user` names it by.
func (s *Service) CreateServiceUser(ctx context.Context, actor access.Actor, name, role string) (*User, error) {
	if !actor.Can(access.ManageAPITokens) || actor.Kind != access.KindUser && actor.Kind != access.KindOperator {
		return nil, ErrForbidden
	}
	name = strings.TrimSpace(name)
	f := map[string]string{}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 || hasControl(name) {
		f["display_name"] = "error.display_name"
	}
	if role == "" {
		f["role"] = "error.role"
	}
	if len(f) > 0 {
		return nil, &fault.Invalid{Fields: f}
	}
	tenantID := actor.TenantID
	now := s.now()
	u := &User{TenantID: tenantID, ID: id.New(), DisplayName: name, Role: role, Status: Active, Service: true,
		PasswordChangedAt: now, CreatedAt: now}
	err := s.inRightsTx(ctx, tenantID, func(ctx context.Context, tx *sql.Tx) error {
		set, err := roleSet(ctx, tx, tenantID, role)
		if err != nil {
			return err
		}
		if set.Privileged() {
			return ErrServiceUserRole
		}
		if actor.Kind == access.KindUser {
			if err := authorize(ctx, tx, actor, change{gate: access.ManageUsers, new: set}); err != nil {
				return err
			}
		}
		u.Perms = set
		// A clash of the random suffix is as good as impossible; the
		// unique login turns one into an error rather than a shared login.
		u.Login = serviceLogin(name)
		// No email, and the empty hash never verifies: no password sign-in,
		// no reset link, no unlock link.
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (tenant_id, id, login, email, display_name, language, role, status,
			must_change_password, password_hash, password_changed_at, created_at, updated_at, service)
			VALUES ($1, $2, $3, '', $4, '', $5, $6, FALSE, '', $7, $7, $7, TRUE)`,
			u.TenantID, u.ID, u.Login, u.DisplayName, u.Role, string(u.Status), now); err != nil {
			err = db.MapError(err)
			switch {
			case errors.Is(err, db.ErrUniqueViolation):
				return ErrLoginTaken
			case errors.Is(err, db.ErrForeignKeyViolation):
				return tenant.ErrNotFound
			}
			return fmt.Errorf("insert service user: %w", err)
		}
		via := "web"
		if actor.Kind == access.KindOperator {
			via = "cli"
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.UserCreated, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "user", ID: u.ID}},
			Details: candidateAccess(map[string]string{"role": u.Role, "must_change_password": "false", "via": via, "service": "true"}, 0, set)})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ServiceUsers lists the company's active service users by name, for the
// choice of whom a new token acts as.
func (s *Service) ServiceUsers(ctx context.Context, actor access.Actor) ([]*User, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	var out []*User
	err := s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectUser+` WHERE tenant_id = $1 AND service AND status = 'active' ORDER BY display_name, id LIMIT 200`, actor.TenantID)
		if err != nil {
			return fmt.Errorf("list service users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// serviceLogin makes a service user's login from its name: "svc-", the
// name's letters and digits (at most 40), and six random characters.
func serviceLogin(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.TrimSuffix(b.String(), "-")
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	var rnd [6]byte
	rand.Read(rnd[:])
	for i := range rnd {
		rnd[i] = alphabet[int(rnd[i])%len(alphabet)]
	}
	if slug == "" {
		return NormalizeLogin(serviceLoginPrefix + string(rnd[:]))
	}
	return NormalizeLogin(serviceLoginPrefix + slug + "-" + string(rnd[:]))
}
