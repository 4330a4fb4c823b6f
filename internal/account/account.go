// Package account holds the people who sign in to the staff application:
// users of a company, their passwords and their sessions, and the one-time
// setup of an empty installation.
//
// Callers come in one shape. A method that acts on someone's behalf takes
// the access.Actor first after the context: a signed-in user (from
// Principal.Actor), the operator (access.Operator) or a job
// (access.System). It acts in the actor's company, decides with the
// actor's permissions, and records the actor in the audit trail
// (audit.ActorOf). The exceptions are few and each has its reason:
//
//   - Whoever has no identity yet proves one with a token or a secret:
//     SignIn, Authenticate, SignOut, the reset, unlock and invitation
//     links, the second step of sign-in with its pending token, passkey
//     sign-in, setup; and StartSession, which gives a session to a user
//     the caller has just identified. These take what they are given.
//   - A method that reads or keeps the caller's session takes the
//     *Principal, which carries the session id: re-authentication, the
//     confirmation and removal of a second factor and a passkey's
//     registration (they end the user's other sessions and keep this
//     one, or hold the ceremony with the session), RevokeOtherSessions.
//   - A lookup (UserByID, ListUsers, ListRoles, ListSessions, Principal,
//     the counts and "is enabled" questions) acts for nobody and records
//     nothing: it takes the company, and the user, it reads. Whoever calls
//     it has decided already that the caller may see the answer.
package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Status of a user account.
type Status string

// Statuses.
const (
	Active   Status = "active"
	Disabled Status = "disabled"
)

// RoleAdministrator is the role of a company's first user.
const RoleAdministrator = access.Administrator

// User is a person who signs in to the staff application of one company.
type User struct {
	TenantID    string
	ID          string
	Login       string
	Email       string
	DisplayName string
	Language    string
	Role        string
	// OptionalRights are an HR manager's rights on top of the role.
	OptionalRights access.Set
	// Perms is the user's resolved permission set.
	Perms              access.Set
	Status             Status
	MustChangePassword bool
	PasswordChangedAt  time.Time
	CreatedAt          time.Time
	// Service marks a service user: API tokens act as it, it never signs in
	// (service_users.go).
	Service bool
}

// Errors of this package.
var (
	ErrNotFound = fault.New(fault.ErrNotFound, "user not found", "")
	// ErrLoginTaken is returned when the login identifier is in use anywhere in the installation.
	ErrLoginTaken = fault.NewField(fault.ErrConflict, "login", "login already in use", "error.login_taken")
	// ErrInvalidCredentials is the one answer to a wrong password, an
	// unknown login and a disabled account, so none can be told apart.
	ErrInvalidCredentials = fault.New(fault.ErrUnauthenticated, "invalid login or password", "signin.failed")
	// ErrNoSession is returned for a missing, expired or revoked session.
	ErrNoSession = fault.New(fault.ErrUnauthenticated, "no valid session", "")
	// ErrWrongPassword is returned when the current password given to change it is wrong.
	ErrWrongPassword = fault.NewField(fault.ErrUnauthenticated, "current_password", "current password is wrong", "error.current_password")
	// ErrSetupDone is returned when the one-time setup token is unknown or used.
	ErrSetupDone = fault.New(fault.ErrNotFound, "setup token unknown or already used", "")
)

// Options tune the service.
type Options struct {
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	Argon2          Argon2Params
	HashConcurrency int
	// MaxFailures consecutive wrong passwords lock password sign-in for LockDuration.
	MaxFailures  int
	LockDuration time.Duration
	// Queue receives the emails the service sends (unlock links); nil sends none.
	Queue *notify.Queue
	// I18n translates those emails.
	I18n *i18n.Bundle
	// BaseURL starts the links in emails.
	BaseURL string
	// ThrottleBase is the first delay of the sign-in throttle (default 250 ms).
	ThrottleBase time.Duration
	// Cipher encrypts second-factor secrets with the company's data key.
	Cipher FieldCipher
	// DeviceKey signs device cookies (at least 32 bytes; the application
	// derives it from the master key, so every instance shares it). Without
	// one, a random key of this process is used: device cookies then last
	// until it stops.
	DeviceKey []byte
}

// Service holds the rules about users, passwords and sessions.
type Service struct {
	db       *db.DB
	audit    *audit.Log
	hasher   *Hasher
	opts     Options
	now      func() time.Time
	throttle *throttle
	queue    *notify.Queue
	i18n     *i18n.Bundle
	cipher   FieldCipher
	base     atomic.Value // string
	// gate bounds the password attempts in flight per login, device and address.
	gate *gate
	// deviceKey signs device cookies.
	deviceKey []byte
	// activity keeps the exact time of each session's last request.
	activity *activity
	// passwordWork bounds the password checks in progress (their database
	// work and hash) across the installation: twice the hashing slots.
	passwordWork chan struct{}
	// passwordHook runs inside the transaction of a password change with the
	// current and the new password (the whistleblowing channel seals the
	// handler's case key under the new one).
	passwordHook PasswordHook
	// afterVerify, when set by a test, runs after a password was hashed and
	// before the attempt is decided, to hold it at that point.
	afterVerify func(userID string, ok bool)
}

// PasswordHook is told of a password change before its transaction (its
// slow work, such as deriving keys, happens there, holding no lock) and
// returns what to write inside it (nil for nothing); an error from either
// stops the change.
type PasswordHook func(ctx context.Context, tenantID, userID, current, next string) (apply func(ctx context.Context, tx *sql.Tx) error, err error)

// SetPasswordHook sets the hook every password change calls (once, when
// the application is put together).
func (s *Service) SetPasswordHook(h PasswordHook) { s.passwordHook = h }

// NewService returns a Service. Every change it makes is recorded in log,
// in the change's own transaction.
func NewService(d *db.DB, log *audit.Log, opts Options) *Service {
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 30 * time.Minute
	}
	if opts.SessionAbsolute == 0 {
		opts.SessionAbsolute = 12 * time.Hour
	}
	if opts.Argon2 == (Argon2Params{}) {
		opts.Argon2 = DefaultArgon2
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.LockDuration <= 0 {
		opts.LockDuration = DefaultLockDuration
	}
	s := &Service{db: d, audit: log, hasher: NewHasher(opts.Argon2, opts.HashConcurrency), opts: opts, now: db.Now,
		throttle: newThrottle(opts.ThrottleBase), queue: opts.Queue, i18n: opts.I18n, cipher: opts.Cipher,
		gate: newGate(), deviceKey: opts.DeviceKey, activity: newActivity()}
	s.passwordWork = make(chan struct{}, 2*cap(s.hasher.sem))
	switch {
	case len(s.deviceKey) == 0:
		s.deviceKey = make([]byte, 32)
		if _, err := rand.Read(s.deviceKey); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
	case len(s.deviceKey) < 32:
		panic("account: Options.DeviceKey is shorter than 32 bytes")
	}
	if s.i18n == nil {
		s.i18n, _ = i18n.Load()
	}
	s.base.Store(opts.BaseURL)
	return s
}

// SetBaseURL sets the start of links in emails, once the server knows its address.
func (s *Service) SetBaseURL(u string) { s.base.Store(u) }

func (s *Service) baseURL() string { return s.base.Load().(string) }

// SetClock replaces the clock, for tests of expiry.
func (s *Service) SetClock(now func() time.Time) { s.now = func() time.Time { return db.Time(now()) } }

// CreateUserInput is what it takes to create a user.
type CreateUserInput struct {
	Login       string
	Email       string
	DisplayName string
	Language    string
	Role        string
	Password    string
	// MustChangePassword marks an initial password set by someone else.
	MustChangePassword bool
	// Via says how the user was created, for the trail: setup, cli, demo or web.
	Via string
	// ID is normally empty (a new random id); `kandidat seed` gives its own.
	ID string
}

// maxLoginRunes is the longest login, in characters.
const maxLoginRunes = 100

// maxPasswordBytes bounds a password as typed, before normalisation: 128
// characters in normal form D take at most this many bytes.
const maxPasswordBytes = 4096

var loginPattern = regexp.MustCompile(`^[\p{L}\p{N}._@+-]{3,100}$`)

// NormalizeLogin returns the stored form of a login identifier.
func NormalizeLogin(login string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(login)))
}

func (in *CreateUserInput) validate(p Profile, company string) error {
	f := map[string]string{}
	in.Login = NormalizeLogin(in.Login)
	in.Email = strings.TrimSpace(in.Email)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if !utf8.ValidString(in.Login) || !loginPattern.MatchString(in.Login) {
		f["login"] = "error.login_format"
	}
	if in.Email != "" {
		a, err := mail.ParseAddress(in.Email)
		if err != nil || a.Address != in.Email || len(in.Email) > 254 {
			f["email"] = "error.email_format"
		}
	}
	if in.DisplayName == "" || !utf8.ValidString(in.DisplayName) || utf8.RuneCountInString(in.DisplayName) > 200 || hasControl(in.DisplayName) {
		f["display_name"] = "error.display_name"
	}
	if in.Language != "" && !slices.Contains(tenant.Languages, in.Language) {
		f["language"] = "error.language"
	}
	if in.Role == "" {
		in.Role = RoleAdministrator
	}
	if msg := CheckPasswordPolicy(p, in.Password, PasswordContext{Login: in.Login, Email: in.Email, Company: company, Name: in.DisplayName}); msg != "" {
		f["password"] = msg
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SessionLimits returns the installation's session timeouts, which a
// company may shorten for its users.
func (s *Service) SessionLimits() (idle, absolute time.Duration) {
	return s.opts.SessionIdle, s.opts.SessionAbsolute
}

// policyOf returns a company's password profile and name, read in a
// transaction of the company.
func (s *Service) policyOf(ctx context.Context, tenantID string) (Profile, string, error) {
	var p Profile
	var name string
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		p, name, err = policy(ctx, tx, tenantID)
		return err
	})
	return p, name, err
}

// policy returns a company's password profile and name.
func policy(ctx context.Context, q queryer, tenantID string) (Profile, string, error) {
	var name, settings string
	err := q.QueryRowContext(ctx, `SELECT name, settings FROM tenants WHERE id = $1`, tenantID).Scan(&name, &settings)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", tenant.ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("read password policy: %w", err)
	}
	if tenant.ParseSettings(settings).PasswordProfile == string(Strict) {
		return Strict, name, nil
	}
	return Standard, name, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

// CreateUser creates a user in a's company on a's behalf: the operator at
// the command line, the seed or the first run (company users add colleagues
// through Invite, which checks their rights).
func (s *Service) CreateUser(ctx context.Context, a access.Actor, in CreateUserInput) (*User, error) {
	actor, tenantID := audit.ActorOf(a), a.TenantID
	p, company, err := s.policyOf(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if err := in.validate(p, company); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var u *User
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		u, err = s.insertUser(ctx, tx, actor, tenantID, in, hash)
		return err
	})
	return u, err
}

// CreateUserTx validates and creates a user inside the caller's
// transaction, so a user can be created together with other changes.
func (s *Service) CreateUserTx(ctx context.Context, tx *sql.Tx, a access.Actor, in CreateUserInput) (*User, error) {
	actor, tenantID := audit.ActorOf(a), a.TenantID
	p, company, err := policy(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	if err := in.validate(p, company); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	return s.insertUser(ctx, tx, actor, tenantID, in, hash)
}

// ImportUser creates a user whose password hash comes from another system
// (argon2id, PBKDF2-HMAC-SHA256 or bcrypt, within bounds); it is replaced by
// argon2id at the user's first successful sign-in. Like CreateUser, it is
// for the operator and the installation's own work.
func (s *Service) ImportUser(ctx context.Context, a access.Actor, in CreateUserInput, hash string) (*User, error) {
	actor, tenantID := audit.ActorOf(a), a.TenantID
	if err := CheckImportedHash(hash); err != nil {
		return nil, fault.Field("password_hash", "error.password_hash")
	}
	p, company, err := s.policyOf(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	in.Password = "imported-Placeholder-7" // the hash stands in for the password; the policy checks the other fields
	in.MustChangePassword = false
	if err := in.validate(p, company); err != nil {
		var ve *fault.Invalid
		if errors.As(err, &ve) {
			delete(ve.Fields, "password")
			if len(ve.Fields) > 0 {
				return nil, ve
			}
		} else {
			return nil, err
		}
	}
	var u *User
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		u, err = s.insertUser(ctx, tx, actor, tenantID, in, hash)
		return err
	})
	return u, err
}

// ValidateUser checks a user input without creating anything.
func ValidateUser(in CreateUserInput) error { return in.validate(Standard, "") }

const insertUser = `INSERT INTO users (tenant_id, id, login, email, display_name, language, role, status,
	must_change_password, password_hash, password_changed_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)`

func (s *Service) insertUser(ctx context.Context, tx *sql.Tx, actor audit.Actor, tenantID string, in CreateUserInput, hash string) (*User, error) {
	if _, err := roleSet(ctx, tx, tenantID, in.Role); err != nil {
		return nil, err
	}
	now := s.now()
	userID := in.ID
	if userID == "" {
		userID = id.New()
	} else if !id.Valid(userID) {
		return nil, fmt.Errorf("user id %q is not valid", userID)
	}
	u := &User{
		TenantID: tenantID, ID: userID, Login: in.Login, Email: in.Email, DisplayName: in.DisplayName,
		Language: in.Language, Role: in.Role, Status: Active, MustChangePassword: in.MustChangePassword,
		PasswordChangedAt: now, CreatedAt: now,
	}
	_, err := tx.ExecContext(ctx, insertUser, u.TenantID, u.ID, u.Login, u.Email, u.DisplayName, u.Language, u.Role,
		string(u.Status), u.MustChangePassword, hash, now)
	if err != nil {
		err = db.MapError(err)
		switch {
		case errors.Is(err, db.ErrUniqueViolation):
			return nil, ErrLoginTaken
		case errors.Is(err, db.ErrForeignKeyViolation):
			return nil, tenant.ErrNotFound
		}
		return nil, fmt.Errorf("insert user: %w", err)
	}
	via := in.Via
	if via == "" {
		via = "cli"
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.UserCreated, Actor: actor,
		Objects: []audit.Ref{{Kind: "user", ID: u.ID}},
		Details: map[string]string{"role": u.Role, "must_change_password": strconv.FormatBool(u.MustChangePassword), "via": via}}); err != nil {
		return nil, err
	}
	return u, nil
}

const selectUser = `SELECT tenant_id, id, login, email, display_name, language, role, status, must_change_password,
	password_changed_at, created_at, extra_permissions,
	COALESCE((SELECT r.permissions FROM roles r WHERE r.tenant_id = users.tenant_id AND r.id = users.role), ''), service FROM users`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var status, extra, custom string
	err := row.Scan(&u.TenantID, &u.ID, &u.Login, &u.Email, &u.DisplayName, &u.Language, &u.Role, &status,
		&u.MustChangePassword, &u.PasswordChangedAt, &u.CreatedAt, &extra, &custom, &u.Service)
	u.OptionalRights = access.Decode(extra)
	u.Perms = access.Resolve(u.Role, custom, extra)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	u.Status = Status(status)
	return &u, nil
}

// readUser returns the one user selectUser+where finds, in a read
// transaction declared for scope. An empty company has no users: the
// answer is ErrNotFound, as the statement would give, not a refused scope.
func (s *Service) readUser(ctx context.Context, scope, where string, args ...any) (*User, error) {
	if scope == "" {
		return nil, ErrNotFound
	}
	var u *User
	err := s.db.ReadTx(ctx, scope, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, selectUser+where, args...))
		return err
	})
	return u, err
}

// UserByID returns a user of a company.
func (s *Service) UserByID(ctx context.Context, tenantID, id string) (*User, error) {
	return s.readUser(ctx, tenantID, ` WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// UserByLogin returns a user of a company by login identifier.
func (s *Service) UserByLogin(ctx context.Context, tenantID, login string) (*User, error) {
	return s.readUser(ctx, tenantID, ` WHERE tenant_id = $1 AND login = $2`, tenantID, NormalizeLogin(login))
}

// ListUsers returns the users of a company by display name.
func (s *Service) ListUsers(ctx context.Context, tenantID string) ([]*User, error) {
	var out []*User
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectUser+` WHERE tenant_id = $1 ORDER BY display_name, login`, tenantID)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
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
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrBadCursor is returned for a page cursor this package did not make, or
// one naming a user the company no longer has; the caller shows the first
// page instead.
var ErrBadCursor = errors.New("bad page cursor")

// ListUsersPage returns at most limit users of a company in the order of
// ListUsers (display name, login, id), starting after the cursor after
// ("" for the first page), and the cursor of the next page ("" on the last
// page). The cursor is the last row's user id and nothing else, so no name
// or email ends up in a URL: the next page reads that user's sort key
// again, in the same transaction as the page. Users added or removed
// meanwhile neither repeat nor skip a row of the walk; a cursor whose user
// is gone (or was never the company's) is ErrBadCursor.
func (s *Service) ListUsersPage(ctx context.Context, tenantID, after string, limit int) ([]*User, string, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	if after != "" && !id.Valid(after) {
		return nil, "", ErrBadCursor // never reaches the database
	}
	q := selectUser + ` WHERE tenant_id = $1`
	args := []any{tenantID}
	if after != "" {
		q += ` AND (display_name, login, id) > ($2, $3, $4)`
	}
	q += ` ORDER BY display_name, login, id LIMIT ` + strconv.Itoa(limit+1)
	var out []*User
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		if after != "" {
			var name, login string
			err := tx.QueryRowContext(ctx, `SELECT display_name, login FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, after).Scan(&name, &login)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrBadCursor
			}
			if err != nil {
				return fmt.Errorf("read the users page cursor: %w", err)
			}
			args = append(args, name, login, after)
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
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

// SetStatus disables or re-enables a user of a's company on a's behalf, without the
// checks of a company user's request (SetUserStatus makes those): it is
// for the operator at the command line and for the installation's own
// work. Disabling ends every session of the user. Only the operator may
// disable a company's last active administrator; the write, and that
// check, run in one transaction under the company's rights lock
// (setStatus in roles.go).
func (s *Service) SetStatus(ctx context.Context, a access.Actor, userID string, st Status) error {
	if st != Active && st != Disabled {
		return fault.Field("status", "error.status")
	}
	return s.inRightsTx(ctx, a.TenantID, func(ctx context.Context, tx *sql.Tx) error {
		return s.setStatus(ctx, tx, audit.ActorOf(a), a.TenantID, userID, st)
	})
}

// ChangePassword replaces a's own password after checking the current one,
// ends all the user's sessions and device cookies and clears the
// must-change flag. The caller starts a fresh session afterwards. The
// current password is checked as at sign-in (counted towards the lockout,
// refused while the account is locked unless the browser is a trusted
// device, gated and throttled with the login), so a stolen session cannot
// serve to guess it; every refusal is ErrWrongPassword.
func (s *Service) ChangePassword(ctx context.Context, a access.Actor, current, next string, c Client) error {
	tenantID, userID := a.TenantID, a.UserID
	var login, email string
	var forced bool
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT login, email, must_change_password FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'active'`,
			tenantID, userID).Scan(&login, &email, &forced)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	att, _, err := s.checkPassword(ctx, passwordTarget{tenantID: tenantID, userID: userID}, current, viaPasswordChange, c)
	if errors.Is(err, ErrInvalidCredentials) {
		return ErrWrongPassword
	}
	if err != nil {
		return err
	}
	p, company, err := s.policyOf(ctx, tenantID)
	if err != nil {
		return err
	}
	if msg := CheckPasswordPolicy(p, next, PasswordContext{Login: login, Email: email, Company: company, Name: s.displayName(ctx, tenantID, userID)}); msg != "" {
		return &fault.Invalid{Fields: map[string]string{"new_password": msg}}
	}
	if next == current {
		return fault.Field("new_password", "error.password_reused")
	}
	newHash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var apply func(context.Context, *sql.Tx) error
	if s.passwordHook != nil {
		if apply, err = s.passwordHook(ctx, tenantID, userID, current, next); err != nil {
			return err
		}
	}
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		if err := s.claim(ctx, tx, att); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, must_change_password = FALSE,
			password_changed_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, newHash, now); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if err := deleteSessions(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		if err := forgetDevices(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		if apply != nil {
			if err := apply(ctx, tx); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.PasswordChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP), "forced": strconv.FormatBool(forced)}})
	})
	if errors.Is(err, errLocked) {
		if err := s.failAttempt(ctx, att, "locked", c); !errors.Is(err, ErrInvalidCredentials) {
			return err
		}
		return ErrWrongPassword
	}
	return err
}

// UserByAnyLogin returns the user with a login, in whatever company: logins
// are unique across the installation. For operators at the command line;
// the lookup is the installation's, since no company is known yet.
func (s *Service) UserByAnyLogin(ctx context.Context, login string) (*User, error) {
	return s.readUser(ctx, db.Installation, ` WHERE login = $1`, NormalizeLogin(login))
}

// ProfileInput is what users may change about themselves.
type ProfileInput struct {
	DisplayName string
	// Language is one of tenant.Languages, or "" to follow the browser.
	Language string
}

// UpdateProfile changes a's own name and language.
func (s *Service) UpdateProfile(ctx context.Context, a access.Actor, in ProfileInput) error {
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error { return s.updateProfile(ctx, tx, a.TenantID, a.UserID, in) })
}

func (s *Service) updateProfile(ctx context.Context, tx *sql.Tx, tenantID, userID string, in ProfileInput) error {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	f := map[string]string{}
	if in.DisplayName == "" || !utf8.ValidString(in.DisplayName) || utf8.RuneCountInString(in.DisplayName) > 200 || hasControl(in.DisplayName) {
		f["display_name"] = "error.display_name"
	}
	if in.Language != "" && !slices.Contains(tenant.Languages, in.Language) {
		f["language"] = "error.language"
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $3, language = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
		tenantID, userID, in.DisplayName, in.Language, s.now())
	if err != nil {
		return fmt.Errorf("update profile: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ProfileChanged, Actor: audit.User(userID),
		Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"language": in.Language}})
}

// CountUsers returns the number of users of a company.
func (s *Service) CountUsers(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1`, tenantID).Scan(&n)
	})
	return n, err
}
