package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Invited is the status of a user who has not yet accepted an invitation.
const Invited Status = "invited"

// inviteValidity is how long an invitation link works.
const inviteValidity = 72 * time.Hour

// InviteInput is what an administrator gives to invite a colleague.
type InviteInput struct {
	Email       string
	DisplayName string
	Role        string
	Language    string
}

// Invite creates a user in the invited state, whose login is their email
// address, and emails them a single-use link (72 hours) to choose a
// password. The user cannot sign in before accepting.
//
// The actor must be allowed to give the role (access.CanAssign); it is a
// predefined role or a custom role of the company.
func (s *Service) Invite(ctx context.Context, actor *Principal, in InviteInput) (*User, error) {
	tenantID := actor.TenantID
	in.Email = strings.TrimSpace(in.Email)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	f := map[string]string{}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 || !loginPattern.MatchString(NormalizeLogin(in.Email)) {
		f["email"] = "error.email_format"
	}
	if in.DisplayName == "" || !utf8.ValidString(in.DisplayName) || utf8.RuneCountInString(in.DisplayName) > 200 || hasControl(in.DisplayName) {
		f["display_name"] = "error.display_name"
	}
	if in.Language != "" && !slices.Contains(tenant.Languages, in.Language) {
		f["language"] = "error.language"
	}
	if len(f) > 0 {
		return nil, &ValidationError{Fields: f}
	}
	if s.queue == nil {
		return nil, errors.New("invitations need the email queue")
	}
	now := s.now()
	u := &User{TenantID: tenantID, ID: tenant.NewID(), Login: NormalizeLogin(in.Email), Email: in.Email, DisplayName: in.DisplayName,
		Language: in.Language, Role: in.Role, Status: Invited, PasswordChangedAt: now, CreatedAt: now}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		set, err := roleSet(ctx, tx, tenantID, in.Role)
		if err != nil {
			return err
		}
		if !access.CanAssign(actor.Perms, set) {
			return ErrForbidden
		}
		// No password yet: the empty hash never verifies.
		if _, err := tx.ExecContext(ctx, insertUser, u.TenantID, u.ID, u.Login, u.Email, u.DisplayName, u.Language, u.Role,
			string(u.Status), false, "", now); err != nil {
			err = db.MapError(err)
			if errors.Is(err, db.ErrUniqueViolation) {
				return ErrLoginTaken
			}
			if errors.Is(err, db.ErrForeignKeyViolation) {
				return tenant.ErrNotFound
			}
			return fmt.Errorf("insert user: %w", err)
		}
		token, hash := NewToken()
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, 'invite', $4, $5, $6)`, tenantID, tenant.NewID(), u.ID, hash, now, now.Add(inviteValidity)); err != nil {
			return err
		}
		lang, company, err := s.recipient(ctx, tx, tenantID, in.Language)
		if err != nil {
			return err
		}
		link := strings.TrimSuffix(s.baseURL(), "/") + "/invite/" + token
		if err := s.queue.Enqueue(ctx, tx, tenantID, notify.Message{
			To:      []string{u.Email},
			Subject: s.i18n.T(lang, "invite.email.subject", "company", company),
			Text: s.i18n.T(lang, "invite.email.body", "company", company, "url", link, "login", u.Login,
				"hours", strconv.Itoa(int(inviteValidity.Hours()))),
		}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.UserInvited, Actor: audit.User(actor.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: u.ID}}, Details: map[string]string{"role": u.Role}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// InviteTokenValid reports whether token is a usable invitation.
func (s *Service) InviteTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = 'invite' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'invited'`,
		HashToken(token), s.now()).Scan(&n)
	return err == nil && n == 1
}

// AcceptInvite spends an invitation: the user gets the password chosen,
// becomes active and is signed in (the returned session secret).
func (s *Service) AcceptInvite(ctx context.Context, token, password string, c Client) (string, error) {
	var tenantID, userID, login, email, role string
	err := s.db.Read.QueryRowContext(ctx, `SELECT t.tenant_id, t.user_id, u.login, u.email, u.role FROM account_tokens t
		JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = 'invite' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'invited'`,
		HashToken(token), s.now()).Scan(&tenantID, &userID, &login, &email, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrTokenInvalid
	}
	if err != nil {
		return "", fmt.Errorf("read invitation: %w", err)
	}
	p, company, err := policy(ctx, s.db.Read, tenantID)
	if err != nil {
		return "", err
	}
	if msg := CheckPasswordPolicy(p, password, PasswordContext{Login: login, Email: email, Company: company}); msg != "" {
		return "", &ValidationError{Fields: map[string]string{"new_password": msg}}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	var session string
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, HashToken(token), s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, status = 'active', password_changed_at = $4, updated_at = $4
			WHERE tenant_id = $1 AND id = $2 AND status = 'invited'`, tenantID, userID, hash, now); err != nil {
			return err
		}
		if session, err = s.startSession(ctx, tx, tenantID, userID, c); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.InvitationAccepted, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"role": role}})
	})
	if err != nil {
		return "", err
	}
	return session, nil
}

// ErrLastAdministrator is returned when a change would leave the company
// without an active administrator.
var ErrLastAdministrator = errors.New("the company would have no administrator left")

// SetRole gives a user another role, on behalf of actor; handing the
// administrator role to a colleague and then taking it from oneself is how
// the administrator right is transferred. The company always keeps one
// active administrator. The user's sessions end (a privilege change gets a
// new session); when actor changes their own role, the new session's
// secret is returned.
//
// The actor must be allowed to give the new role and to take away the
// current one (access.CanAssign): nobody hands out, or takes from a
// colleague, more than they hold themselves. Optional rights are kept
// only by an HR manager.
func (s *Service) SetRole(ctx context.Context, actor *Principal, userID, role string, c Client) (string, error) {
	var token string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		previous, current, err := userSet(ctx, tx, actor.TenantID, userID)
		if err != nil {
			return err
		}
		next, err := roleSet(ctx, tx, actor.TenantID, role)
		if err != nil {
			return err
		}
		if !access.CanAssign(actor.Perms, next) || !access.CanAssign(actor.Perms, current) {
			return ErrForbidden
		}
		if previous == role {
			return nil
		}
		if previous == RoleAdministrator {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND id <> $2 AND role = $3 AND status = 'active'`,
				actor.TenantID, userID, RoleAdministrator).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return ErrLastAdministrator
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $3, extra_permissions = CASE WHEN $3 = 'hr_manager' THEN extra_permissions ELSE '' END, updated_at = $4
			WHERE tenant_id = $1 AND id = $2`, actor.TenantID, userID, role, s.now()); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, actor.TenantID, userID); err != nil {
			return err
		}
		if userID == actor.UserID {
			if token, err = s.startSession(ctx, tx, actor.TenantID, userID, c); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.UserRoleChanged, Actor: audit.User(actor.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"role": role, "previous_role": previous}})
	})
	return token, err
}
