package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
)

// Session is a signed-in browser.
type Session struct {
	TenantID   string
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// Principal is who a request acts for: one user of one company.
type Principal struct {
	TenantID           string
	UserID             string
	SessionID          string
	Role               string
	DisplayName        string
	Language           string
	MustChangePassword bool
	// MFAPending: the password was right, the second step is still due.
	MFAPending bool
	// HasMFA: the user has a second factor.
	HasMFA bool
	// HasPasskey: the user has a passkey or security key (WebAuthn).
	HasPasskey bool
	// AuthenticatedAt is when the user last proved who they are in this session.
	AuthenticatedAt time.Time
	// Perms is the user's permission set, read afresh with every request, so
	// a change of role or of a custom role applies on the next one.
	Perms access.Set
}

// Can reports whether the principal holds permission p.
func (p *Principal) Can(perm access.Permission) bool { return p != nil && p.Perms.Has(perm) }

// Actor is the principal as the access policy sees it.
func (p *Principal) Actor() access.Actor {
	return access.Actor{TenantID: p.TenantID, UserID: p.UserID, Perms: p.Perms}
}

// Client describes the browser signing in; it is kept with the session so
// the user can recognise and revoke it later.
type Client struct {
	IP        string
	UserAgent string
	// Device is the browser's device cookie, "" for none: a valid one for
	// the account makes its password attempts count apart from others'.
	Device string
}

// SignIn checks a login and password and starts a session. It answers
// ErrInvalidCredentials, after the same work, whether the login is unknown,
// the password wrong, the account locked or disabled; the security log
// records which it was. ErrTooManyAttempts means the attempt was refused
// before any hashing because too many for the same login, browser or
// address were in flight.
func (s *Service) SignIn(ctx context.Context, login, password string, c Client) (token string, p *Principal, err error) {
	login = NormalizeLogin(login)
	if len(password) > maxPasswordBytes || !utf8.ValidString(login) || len(login) > 4*maxLoginRunes {
		s.hasher.Burn(ctx, "")
		return "", nil, s.failSignIn(ctx, "", "", "unknown_login", c)
	}
	a, newHash, err := s.checkPassword(ctx, passwordTarget{login: login}, password, viaSignIn, c)
	if err != nil {
		return "", nil, err
	}
	err = s.db.InTx(ctx, a.tenantID, func(tx *sql.Tx) error {
		if err := s.claim(ctx, tx, a); err != nil {
			return err
		}
		token, err = s.completePassword(ctx, tx, a, newHash, "password", c)
		return err
	})
	if errors.Is(err, errLocked) {
		return "", nil, s.failAttempt(ctx, a, "locked", c)
	}
	if err != nil {
		return "", nil, err
	}
	p, err = s.Authenticate(ctx, token)
	return token, p, err
}

// passwordTarget names the account a password is checked against: by login
// at sign-in (it may name no account), by company and id otherwise.
type passwordTarget struct {
	login            string
	tenantID, userID string
}

// byID reports whether the target names an account by id (a signed-in user).
func (t passwordTarget) byID() bool { return t.userID != "" }

// scope is the scope of the transaction that reads the target's account:
// its company when named by id, the installation for a login (logins are
// unique across the installation, and the company is not known yet).
func (t passwordTarget) scope() string {
	if t.byID() {
		return t.tenantID
	}
	return db.Installation
}

// checkPassword runs a password through what every check of one shares, in
// this order: the browser's device cookie decides whose failures the attempt
// counts with (its own device's, or the account's for unknown browsers) and
// so its gate and throttle keys; the gate bounds the attempts in flight per
// key; the throttle waits; then the account is read and the password hashed
// (an unknown login costs the same hash). A wrong password is counted and
// may lock; a locked account (for unknown browsers) or disabled one is
// refused after the same work. Refusals are ErrInvalidCredentials, recorded
// in the security log. A right password returns the attempt and, when the
// stored hash is weaker than today's, its replacement: the caller's
// transaction must begin with claim, which re-checks the lock.
func (s *Service) checkPassword(ctx context.Context, t passwordTarget, password, via string, c Client) (*attempt, string, error) {
	dev := s.parseDevice(c.Device)
	login := t.login
	var trusted bool
	if t.byID() || dev != nil {
		tenantID, userID, l, err := s.lookup(ctx, t)
		switch {
		case errors.Is(err, ErrNotFound) && t.byID():
			return nil, "", ErrNotFound
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, "", err
		default:
			login = l
			if trusted, err = s.deviceUsable(ctx, tenantID, userID, dev); err != nil {
				return nil, "", err
			}
		}
	}
	keys := throttleKeys(ipDetail(c.IP), login)
	if trusted {
		// Failures of other browsers neither lock nor slow this one.
		keys = []string{dev.throttleKey()}
	}
	release, err := s.gate.enter(ctx, keys)
	if err != nil {
		return nil, "", err
	}
	defer release()
	if err := s.wait(ctx, keys); err != nil {
		return nil, "", err
	}
	// The attempt's database work (the lookup, the failure it records) and
	// its hash run under one installation-wide bound: a flood of sign-ins
	// from many addresses and logins queues here, in memory, instead of
	// taking every database connection from the users already signed in.
	select {
	case s.passwordWork <- struct{}{}:
		defer func() { <-s.passwordWork }()
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	a := &attempt{via: via}
	var hash, status string
	var lockedUntil sql.NullTime
	var service bool
	q, args := `SELECT tenant_id, id, password_hash, status, locked_until, service FROM users WHERE login = $1`, []any{t.login}
	if t.byID() {
		q, args = `SELECT tenant_id, id, password_hash, status, locked_until, service FROM users WHERE tenant_id = $1 AND id = $2`, []any{t.tenantID, t.userID}
	}
	err = s.db.ReadTx(ctx, t.scope(), func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, args...).Scan(&a.tenantID, &a.userID, &hash, &status, &lockedUntil, &service)
	})
	if errors.Is(err, sql.ErrNoRows) {
		s.hasher.Burn(ctx, password)
		s.throttle.fail(time.Now(), keys...)
		if t.byID() {
			return nil, "", ErrNotFound
		}
		return nil, "", s.failSignIn(ctx, "", "", "unknown_login", c)
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up login: %w", err)
	}
	if trusted && dev.userID == a.userID {
		a.device = dev
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil && !errors.Is(err, ErrUnsupportedHash) {
		return nil, "", err
	}
	if s.afterVerify != nil {
		s.afterVerify(a.userID, ok)
	}
	// A locked account answers exactly like a wrong password, after the same work.
	switch {
	case service:
		// A service user never signs in (its hash is empty anyway): only
		// API tokens act as it.
		return nil, "", s.failAttempt(ctx, a, "service_user", c)
	case a.device == nil && lockedUntil.Valid && s.now().Before(lockedUntil.Time):
		s.throttle.fail(time.Now(), keys...)
		return nil, "", s.failAttempt(ctx, a, "locked", c)
	case !ok:
		s.throttle.fail(time.Now(), keys...)
		return nil, "", s.wrongPassword(ctx, a, c)
	case status != string(Active):
		return nil, "", s.failAttempt(ctx, a, "disabled_account", c)
	}
	s.throttle.forget(keys[0])
	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, password); err != nil {
			return nil, "", err
		}
	}
	return a, newHash, nil
}

// lookup finds the account of a target before the gate: its company, id
// and login (the gate's and throttle's key).
func (s *Service) lookup(ctx context.Context, t passwordTarget) (tenantID, userID, login string, err error) {
	q, args := `SELECT tenant_id, id, login FROM users WHERE login = $1`, []any{t.login}
	if t.byID() {
		q, args = `SELECT tenant_id, id, login FROM users WHERE tenant_id = $1 AND id = $2`, []any{t.tenantID, t.userID}
	}
	err = s.db.ReadTx(ctx, t.scope(), func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, args...).Scan(&tenantID, &userID, &login)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", ErrNotFound
	}
	if err != nil {
		return "", "", "", fmt.Errorf("look up account: %w", err)
	}
	return tenantID, userID, login, nil
}

// completePassword starts the session a right password (or an unlock link
// with it) earns, inside the caller's transaction: the stored hash
// replaced if it was weak, a session pending the second step when the user
// has one (its code sent now, without an app or a key), and the record.
func (s *Service) completePassword(ctx context.Context, tx *sql.Tx, a *attempt, newHash, method string, c Client) (string, error) {
	if newHash != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, a.tenantID, a.userID, newHash); err != nil {
			return "", fmt.Errorf("re-hash password: %w", err)
		}
	}
	var hasTOTP, emailMFA, smsMFA, hasPasskey bool
	var phone string
	if err := tx.QueryRowContext(ctx, `SELECT totp_secret IS NOT NULL, mfa_email, mfa_sms, phone,
		EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.tenant_id = users.tenant_id AND w.user_id = users.id)
		FROM users WHERE tenant_id = $1 AND id = $2`, a.tenantID, a.userID).Scan(&hasTOTP, &emailMFA, &smsMFA, &phone, &hasPasskey); err != nil {
		return "", fmt.Errorf("read second factors: %w", err)
	}
	token, err := s.startSessionStage(ctx, tx, a.tenantID, a.userID, c, hasTOTP || emailMFA || smsMFA || hasPasskey, a.device)
	if err != nil {
		return "", err
	}
	// Without an app or a key, the second step's code is sent now.
	if !hasTOTP && !hasPasskey {
		switch {
		case smsMFA && phone != "":
			if err := s.sendSMSCode(ctx, tx, a.tenantID, a.userID, "mfa_sms", phone); err != nil {
				return "", err
			}
		case emailMFA:
			if err := s.sendEmailCode(ctx, tx, a.tenantID, a.userID, "mfa_email"); err != nil {
				return "", err
			}
		}
	}
	return token, s.audit.Record(ctx, tx, audit.Event{TenantID: a.tenantID, Action: audit.SignInSucceeded, Actor: audit.User(a.userID),
		Objects: []audit.Ref{{Kind: "user", ID: a.userID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "method": method, "device": strconv.FormatBool(a.device != nil)}})
}

// failSignIn records a failed sign-in in the security log of the user's
// company (or of the installation for an unknown login) and returns
// ErrInvalidCredentials, or the error of writing the record.
func (s *Service) failSignIn(ctx context.Context, tenantID, userID, reason string, c Client) error {
	e := audit.Event{TenantID: tenantID, Action: audit.SignInFailed, Actor: audit.Anonymous,
		Details: map[string]string{"ip": ipDetail(c.IP), "reason": reason}}
	if userID != "" {
		e.Objects = []audit.Ref{{Kind: "user", ID: userID}}
	}
	scope := tenantID
	if scope == "" {
		scope = db.Installation // the installation's own security log
	}
	if err := s.db.InTx(ctx, scope, func(tx *sql.Tx) error { return s.audit.Record(ctx, tx, e) }); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// ipDetail returns a client address fit for the trail, or "".
func ipDetail(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.Unmap().String()
	}
	return ""
}

// StartSession creates a new session for a user and returns its secret.
// The callers record why (a password change, the first setup).
func (s *Service) StartSession(ctx context.Context, tenantID, userID string, c Client) (string, error) {
	var token string
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		token, err = s.startSession(ctx, tx, tenantID, userID, c)
		return err
	})
	return token, err
}

func (s *Service) startSession(ctx context.Context, tx *sql.Tx, tenantID, userID string, c Client) (string, error) {
	return s.startSessionStage(ctx, tx, tenantID, userID, c, false, nil)
}

// startSessionStage starts a session; a pending one only allows the second
// step of sign-in, and lives at most a few minutes. dev is the trusted
// device whose password attempt started it, or nil: the session keeps its
// id (sessions.device_id), so that the second step can tell a browser the
// account's lock does not hold.
func (s *Service) startSessionStage(ctx context.Context, tx *sql.Tx, tenantID, userID string, c Client, mfaPending bool, dev *device) (string, error) {
	token, hash := id.NewToken()
	now := s.now()
	expires := now.Add(s.opts.SessionAbsolute)
	if mfaPending {
		expires = now.Add(10 * time.Minute)
	}
	var deviceID sql.NullString
	if dev != nil {
		deviceID = sql.NullString{String: dev.id(), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (tenant_id, id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, mfa_pending, authenticated_at, device_id)
		VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $5, $10)`,
		tenantID, id.New(), hash, userID, now, expires, truncate(c.IP, 64), truncate(c.UserAgent, 300), mfaPending, deviceID)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		return ""
	}
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

const selectPrincipal = `SELECT s.tenant_id, s.id, s.user_id, s.last_seen_at, s.expires_at, u.role, u.display_name, u.language,
	u.must_change_password, u.status, s.mfa_pending, (u.totp_secret IS NOT NULL OR u.mfa_email OR u.mfa_sms), EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.tenant_id = u.tenant_id AND w.user_id = u.id),
	s.authenticated_at, s.created_at, u.extra_permissions, COALESCE(r.permissions, ''),
	COALESCE(t.session_idle_seconds, 0), COALESCE(t.session_absolute_seconds, 0)
FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
JOIN tenants t ON t.id = s.tenant_id
LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
WHERE s.token_hash = $1`

// lastSeenGranularity limits the writes that keep a session alive to one a
// minute; the idle timeout itself is exact (activity).
const lastSeenGranularity = time.Minute

// Authenticate returns the principal of a session secret, or ErrNoSession.
// It extends the idle timeout, never the absolute one. The secret is looked
// up as the installation's (it names no company); the session is then
// ended or touched in its company.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	hash := id.HashToken(token)
	var p Principal
	var lastSeen, expires, created time.Time
	var authenticated sql.NullTime
	var status, extra, custom string
	var companyIdle, companyAbsolute int64
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, selectPrincipal, hash).Scan(&p.TenantID, &p.SessionID, &p.UserID, &lastSeen, &expires,
			&p.Role, &p.DisplayName, &p.Language, &p.MustChangePassword, &status, &p.MFAPending, &p.HasMFA, &p.HasPasskey, &authenticated, &created,
			&extra, &custom, &companyIdle, &companyAbsolute)
	})
	p.Perms = access.Resolve(p.Role, custom, extra)
	p.HasMFA = p.HasMFA || p.HasPasskey
	// Sessions from before re-authentication existed count from their start.
	p.AuthenticatedAt = created.UTC()
	if authenticated.Valid {
		p.AuthenticatedAt = authenticated.Time.UTC()
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := s.now()
	// A company may shorten the installation's timeouts for its users; the
	// shorter applies, to sessions already open too.
	idle := s.opts.SessionIdle
	if d := time.Duration(companyIdle) * time.Second; d > 0 && d < idle {
		idle = d
	}
	if d := time.Duration(companyAbsolute) * time.Second; d > 0 && created.Add(d).Before(expires) {
		expires = created.Add(d)
	}
	// The idle timeout runs from the last request exactly: the stored time
	// is to the minute, this process remembers the rest.
	lastRequest := s.activity.seen(hash, lastSeen, now, idle)
	if status != string(Active) || !now.Before(expires) || !now.Before(lastRequest.Add(idle)) {
		s.activity.forget(hash)
		_ = s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
			return err
		})
		return nil, ErrNoSession
	}
	s.activity.touch(hash, now)
	if now.Sub(lastSeen) >= lastSeenGranularity {
		if err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, hash, now)
			return err
		}); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &p, nil
}

// SignOut ends the session of a secret on the server. The transaction is
// the installation's: the secret names no company, the statement finds it
// and the record goes to the company it returns.
func (s *Service) SignOut(ctx context.Context, token string, c Client) error {
	if token == "" {
		return nil
	}
	return s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		var tenantID, userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING tenant_id, user_id`, id.HashToken(token)).Scan(&tenantID, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already gone
		}
		if err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.SignedOut, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
	})
}

func deleteSessions(ctx context.Context, tx *sql.Tx, tenantID, userID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// PruneSessions deletes expired sessions and returns how many. It sweeps
// every company: its transactions are the installation's.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.now()
	// The stored last request may be up to a minute older than the real one
	// (Authenticate): prune only what is idle beyond that doubt.
	var pruned int64
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-s.opts.SessionIdle-lastSeenGranularity))
		if err != nil {
			return err
		}
		pruned, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	// Expired device cookies go with them; their rows only held a count.
	if err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM trusted_devices WHERE expires_at <= $1`, now)
		return err
	}); err != nil {
		return 0, fmt.Errorf("prune devices: %w", err)
	}
	return pruned, nil
}

// SessionInfo describes one of a user's sessions, for the user to recognise.
type SessionInfo struct {
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string
	UserAgent  string
}

// ListSessions returns a user's live sessions, most recently used first.
func (s *Service) ListSessions(ctx context.Context, tenantID, userID string) ([]SessionInfo, error) {
	now := s.now()
	var out []SessionInfo
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions
			WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3 AND last_seen_at > $4 ORDER BY last_seen_at DESC`,
			tenantID, userID, now, now.Add(-s.opts.SessionIdle))
		if err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var si SessionInfo
			if err := rows.Scan(&si.ID, &si.CreatedAt, &si.LastSeenAt, &si.IP, &si.UserAgent); err != nil {
				return err
			}
			out = append(out, si)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeSession ends one of a's own sessions. Another user's
// session, or an unknown id, is ErrNotFound.
func (s *Service) RevokeSession(ctx context.Context, a access.Actor, sessionID string, c Client) error {
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, a.TenantID, a.UserID, sessionID)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.SessionRevoked, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: a.UserID}, {Kind: "session", ID: sessionID}}, Details: map[string]string{"ip": ipDetail(c.IP), "scope": "one"}})
	})
}

// RevokeOtherSessions ends every session of the principal but the current one.
func (s *Service) RevokeOtherSessions(ctx context.Context, p *Principal, c Client) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.SessionRevoked, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "scope": "others"}})
	})
	return n, err
}

// ReauthWindow is how long a proof of identity lets a session change
// sensitive settings (second factor, later API tokens) without asking again.
const ReauthWindow = 10 * time.Minute

// RecentlyAuthenticated reports whether p proved who they are within ReauthWindow.
func (s *Service) RecentlyAuthenticated(p *Principal) bool {
	return s.now().Sub(p.AuthenticatedAt) < ReauthWindow
}

// Reauthenticate checks the principal's password again and marks the
// session as freshly authenticated. The check is sign-in's: a wrong password
// counts towards the lockout, a locked account (unless this browser is a
// trusted device of the user) is refused even with the right password, and
// attempts are gated and throttled with the login's, so a stolen session
// cannot serve to guess the password. Every refusal is ErrWrongPassword.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password string, c Client) error {
	a, newHash, err := s.checkPassword(ctx, passwordTarget{tenantID: p.TenantID, userID: p.UserID}, password, viaReauth, c)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNoSession
	case errors.Is(err, ErrInvalidCredentials):
		return ErrWrongPassword
	case err != nil:
		return err
	}
	err = s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		if err := s.claim(ctx, tx, a); err != nil {
			return err
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID, newHash); err != nil {
				return fmt.Errorf("re-hash password: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET authenticated_at = $3 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.SessionID, s.now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.Reauthenticated, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
	})
	if errors.Is(err, errLocked) {
		if err := s.failAttempt(ctx, a, "locked", c); !errors.Is(err, ErrInvalidCredentials) {
			return err
		}
		return ErrWrongPassword
	}
	return err
}
