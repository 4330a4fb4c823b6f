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
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
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

// invitedLoginPrefix starts the stand-in login of a user who has not yet
// accepted an invitation. Logins are unique across the installation, and
// an invitation must not claim one: if it did, inviting a login that
// another company already uses would fail, and tell the inviting company
// that the login exists elsewhere. So the invited user's login column
// holds "invited:<user id>" (a colon is never part of a real login, see
// loginPattern), the login to be is kept in invited_login (unique per
// company only), and the login is claimed when the invitation is accepted.
const invitedLoginPrefix = "invited:"

// Invite creates a user in the invited state, whose login will be their
// email address, and emails them a single-use link (72 hours) to choose a
// password. The user cannot sign in before accepting.
//
// The actor must be allowed to give the role (authorize); it is a
// predefined role or a custom role of the company. An address already used
// in the company (by a user or an invitation) is ErrLoginTaken; one used in
// another company is invited exactly like a new one, and the invitee
// chooses another login when accepting.
func (s *Service) Invite(ctx context.Context, actor access.Actor, in InviteInput) (*User, error) {
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
		return nil, &fault.Invalid{Fields: f}
	}
	if s.queue == nil {
		return nil, errors.New("invitations need the email queue")
	}
	if !actor.Can(access.ManageUsers) {
		return nil, ErrForbidden
	}
	now := s.now()
	u := &User{TenantID: tenantID, ID: id.New(), Login: NormalizeLogin(in.Email), Email: in.Email, DisplayName: in.DisplayName,
		Language: in.Language, Role: in.Role, Status: Invited, PasswordChangedAt: now, CreatedAt: now}
	err := s.inRightsTx(ctx, tenantID, func(ctx context.Context, tx *sql.Tx) error {
		set, err := roleSet(ctx, tx, tenantID, in.Role)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, actor, change{gate: access.ManageUsers, new: set}); err != nil {
			return err
		}
		// Only the company's own users and invitations are looked at: the
		// answer is the same whether or not another company uses the login.
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND login = $2)
			OR EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND invited_login = $2)`, tenantID, u.Login).Scan(&taken); err != nil {
			return fmt.Errorf("check the company's logins: %w", err)
		}
		if taken {
			return ErrLoginTaken
		}
		// No password yet: the empty hash never verifies.
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (tenant_id, id, login, invited_login, email, display_name, language, role, status,
			must_change_password, password_hash, password_changed_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, '', $10, $10, $10)`,
			u.TenantID, u.ID, invitedLoginPrefix+u.ID, u.Login, u.Email, u.DisplayName, u.Language, u.Role, string(u.Status), now); err != nil {
			err = db.MapError(err)
			if errors.Is(err, db.ErrUniqueViolation) {
				return ErrLoginTaken // a simultaneous invitation of the same address to this company
			}
			if errors.Is(err, db.ErrForeignKeyViolation) {
				return tenant.ErrNotFound
			}
			return fmt.Errorf("insert user: %w", err)
		}
		token, hash := id.NewToken()
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, 'invite', $4, $5, $6)`, tenantID, id.New(), u.ID, hash, now, now.Add(inviteValidity)); err != nil {
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
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.UserInvited, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "user", ID: u.ID}}, Details: candidateAccess(map[string]string{"role": u.Role}, 0, set)})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// InviteTokenValid reports whether token is a usable invitation. The link
// names no company: it is looked up as the installation's.
func (s *Service) InviteTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
			WHERE t.token_hash = $1 AND t.purpose = 'invite' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'invited'`,
			id.HashToken(token), s.now()).Scan(&n)
	})
	return err == nil && n == 1
}

// AcceptInvite spends an invitation: the user gets the password chosen and
// the login they were invited with, becomes active and is signed in (the
// returned session secret).
func (s *Service) AcceptInvite(ctx context.Context, token, password string, c Client) (string, error) {
	return s.AcceptInviteAs(ctx, token, "", password, c)
}

// AcceptInviteAs is AcceptInvite with a login the invitee chooses ("" for
// the invited one). The login is claimed only now: when it is in use (in
// whatever company), the answer is a field error (fault.Invalid) on "login", nothing
// is spent, and the invitee may accept again with another login.
//
// The link is looked up as the installation's (it names no company); the
// rest runs in the company it belongs to.
func (s *Service) AcceptInviteAs(ctx context.Context, token, login, password string, c Client) (string, error) {
	var tenantID, userID, invited, email, role string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT t.tenant_id, t.user_id, COALESCE(u.invited_login, u.login), u.email, u.role FROM account_tokens t
			JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
			WHERE t.token_hash = $1 AND t.purpose = 'invite' AND t.used_at IS NULL AND t.expires_at > $2 AND u.status = 'invited'`,
			id.HashToken(token), s.now()).Scan(&tenantID, &userID, &invited, &email, &role)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrTokenInvalid
	}
	if err != nil {
		return "", fmt.Errorf("read invitation: %w", err)
	}
	if login = NormalizeLogin(login); login == "" {
		login = invited
	} else if !utf8.ValidString(login) || !loginPattern.MatchString(login) {
		return "", fault.Field("login", "error.login_format")
	}
	p, company, err := s.policyOf(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if msg := CheckPasswordPolicy(p, password, PasswordContext{Login: login, Email: email, Company: company, Name: s.displayName(ctx, tenantID, userID)}); msg != "" {
		return "", &fault.Invalid{Fields: map[string]string{"new_password": msg}}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	var session string
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, id.HashToken(token), s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
		}
		now := s.now()
		res, err = tx.ExecContext(ctx, `UPDATE users SET login = $3, invited_login = NULL, password_hash = $4, status = 'active',
			password_changed_at = $5, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND status = 'invited'`, tenantID, userID, login, hash, now)
		if err != nil {
			if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
				return fault.Field("login", "error.invite_login_taken")
			}
			return fmt.Errorf("activate invited user: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
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
var ErrLastAdministrator = fault.New(fault.ErrConflict, "the company would have no administrator left", "error.last_administrator")

// SetRole gives a user another role, on behalf of actor; handing the
// administrator role to a colleague, who then gives the former
// administrator their new role, is how the administrator right is
// transferred. The company always keeps one active administrator. The
// user's sessions end (a privilege change gets a new session); when actor
// changes their own role, the new session's secret is returned.
//
// The actor must be allowed to give the new role and to take away the
// current one (authorize): nobody hands out, or takes from a colleague,
// more than they hold themselves, unless they administer the company; and
// nobody gives themselves a right they lack. Optional rights do not
// survive a change of role.
func (s *Service) SetRole(ctx context.Context, actor access.Actor, userID, role string, c Client) (string, error) {
	if !actor.Can(access.ManageUsers) {
		return "", ErrForbidden
	}
	var token string
	err := s.inRightsTx(ctx, actor.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		previous, current, err := userSet(ctx, tx, actor.TenantID, userID)
		if err != nil {
			return err
		}
		next, err := roleSet(ctx, tx, actor.TenantID, role)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, actor, change{gate: access.ManageUsers, old: current, new: next, user: userID}); err != nil {
			return err
		}
		if previous == role {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $3, extra_permissions = '', updated_at = $4
			WHERE tenant_id = $1 AND id = $2`, actor.TenantID, userID, role, s.now()); err != nil {
			return err
		}
		if previous == RoleAdministrator {
			if err := keepAnAdministrator(ctx, tx, actor.TenantID); err != nil {
				return err
			}
		}
		if err := deleteSessions(ctx, tx, actor.TenantID, userID); err != nil {
			return err
		}
		if userID == actor.UserID {
			if token, err = s.startSession(ctx, tx, actor.TenantID, userID, c); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.UserRoleChanged, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "user", ID: userID}},
			Details: candidateAccess(map[string]string{"role": role, "previous_role": previous}, current, next)})
	})
	return token, err
}
