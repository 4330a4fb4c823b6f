package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
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
}

// NewToken returns a random 256-bit secret, URL-safe, and its storage hash.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the stored form of a secret token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SignIn checks a login and password and starts a session. It answers
// ErrInvalidCredentials, after the same work, whether the login is unknown,
// the password wrong or the account disabled; the security log records
// which it was.
func (s *Service) SignIn(ctx context.Context, login, password string, c Client) (token string, p *Principal, err error) {
	login = NormalizeLogin(login)
	if len(password) > maxPasswordBytes || !utf8.ValidString(login) || len(login) > 4*maxLoginRunes {
		s.hasher.Burn(ctx, "")
		return "", nil, s.failSignIn(ctx, "", "", "unknown_login", c)
	}
	keys := throttleKeys(ipDetail(c.IP), login)
	if err := s.wait(ctx, keys); err != nil {
		return "", nil, err
	}
	var tenantID, userID, hash, status string
	var lockedUntil sql.NullTime
	var hasTOTP, emailMFA, smsMFA, hasPasskey bool
	var phone string
	err = s.db.Read.QueryRowContext(ctx, `SELECT tenant_id, id, password_hash, status, locked_until, totp_secret IS NOT NULL, mfa_email, mfa_sms, phone,
		EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.tenant_id = users.tenant_id AND w.user_id = users.id) FROM users WHERE login = $1`, login).
		Scan(&tenantID, &userID, &hash, &status, &lockedUntil, &hasTOTP, &emailMFA, &smsMFA, &phone, &hasPasskey)
	if errors.Is(err, sql.ErrNoRows) {
		s.hasher.Burn(ctx, password)
		s.throttle.fail(time.Now(), keys...)
		return "", nil, s.failSignIn(ctx, "", "", "unknown_login", c)
	}
	if err != nil {
		return "", nil, fmt.Errorf("look up login: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil && !errors.Is(err, ErrUnsupportedHash) {
		return "", nil, err
	}
	// A locked account answers exactly like a wrong password, after the same work.
	switch {
	case lockedUntil.Valid && s.now().Before(lockedUntil.Time):
		s.throttle.fail(time.Now(), keys...)
		return "", nil, s.failSignIn(ctx, tenantID, userID, "locked", c)
	case !ok:
		s.throttle.fail(time.Now(), keys...)
		return "", nil, s.wrongPassword(ctx, tenantID, userID, c)
	case status != string(Active):
		return "", nil, s.failSignIn(ctx, tenantID, userID, "disabled_account", c)
	}
	s.throttle.forget(keys[0])
	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, password); err != nil {
			return "", nil, err
		}
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, newHash); err != nil {
				return fmt.Errorf("re-hash password: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2
			AND (failed_attempts <> 0 OR locked_until IS NOT NULL)`, tenantID, userID); err != nil {
			return fmt.Errorf("reset failures: %w", err)
		}
		if token, err = s.startSessionStage(ctx, tx, tenantID, userID, c, hasTOTP || emailMFA || smsMFA || hasPasskey); err != nil {
			return err
		}
		// Without an app or a key, the second step's code is sent now.
		if !hasTOTP && !hasPasskey {
			switch {
			case smsMFA && phone != "":
				if err := s.sendSMSCode(ctx, tx, tenantID, userID, "mfa_sms", phone); err != nil {
					return err
				}
			case emailMFA:
				if err := s.sendEmailCode(ctx, tx, tenantID, userID, "mfa_email"); err != nil {
					return err
				}
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.SignInSucceeded, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "password"}})
	})
	if err != nil {
		return "", nil, err
	}
	p, err = s.Authenticate(ctx, token)
	return token, p, err
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
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return s.audit.Record(ctx, tx, e) }); err != nil {
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
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		token, err = s.startSession(ctx, tx, tenantID, userID, c)
		return err
	})
	return token, err
}

func (s *Service) startSession(ctx context.Context, tx *sql.Tx, tenantID, userID string, c Client) (string, error) {
	return s.startSessionStage(ctx, tx, tenantID, userID, c, false)
}

// startSessionStage starts a session; a pending one only allows the second
// step of sign-in, and lives at most a few minutes.
func (s *Service) startSessionStage(ctx context.Context, tx *sql.Tx, tenantID, userID string, c Client, mfaPending bool) (string, error) {
	token, hash := NewToken()
	now := s.now()
	expires := now.Add(s.opts.SessionAbsolute)
	if mfaPending {
		expires = now.Add(10 * time.Minute)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (tenant_id, id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, mfa_pending, authenticated_at)
		VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $5)`,
		tenantID, tenant.NewID(), hash, userID, now, expires, truncate(c.IP, 64), truncate(c.UserAgent, 300), mfaPending)
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
	s.authenticated_at, s.created_at, u.extra_permissions, COALESCE(r.permissions, '')
FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
WHERE s.token_hash = $1`

// lastSeenGranularity limits the writes that keep a session alive to one a minute.
const lastSeenGranularity = time.Minute

// Authenticate returns the principal of a session secret, or ErrNoSession.
// It extends the idle timeout, never the absolute one.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	hash := HashToken(token)
	var p Principal
	var lastSeen, expires, created time.Time
	var authenticated sql.NullTime
	var status, extra, custom string
	err := s.db.Read.QueryRowContext(ctx, selectPrincipal, hash).Scan(&p.TenantID, &p.SessionID, &p.UserID, &lastSeen, &expires,
		&p.Role, &p.DisplayName, &p.Language, &p.MustChangePassword, &status, &p.MFAPending, &p.HasMFA, &p.HasPasskey, &authenticated, &created,
		&extra, &custom)
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
	if status != string(Active) || !now.Before(expires) || !now.Before(lastSeen.Add(s.opts.SessionIdle)) {
		_, _ = s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
		return nil, ErrNoSession
	}
	if now.Sub(lastSeen) >= lastSeenGranularity {
		if _, err := s.db.Write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, hash, now); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &p, nil
}

// SignOut ends the session of a secret on the server.
func (s *Service) SignOut(ctx context.Context, token string, c Client) error {
	if token == "" {
		return nil
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var tenantID, userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING tenant_id, user_id`, HashToken(token)).Scan(&tenantID, &userID)
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

// PruneSessions deletes expired sessions and returns how many.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-s.opts.SessionIdle))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return res.RowsAffected()
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
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions
		WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3 AND last_seen_at > $4 ORDER BY last_seen_at DESC`,
		tenantID, userID, now, now.Add(-s.opts.SessionIdle))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []SessionInfo
	for rows.Next() {
		var si SessionInfo
		if err := rows.Scan(&si.ID, &si.CreatedAt, &si.LastSeenAt, &si.IP, &si.UserAgent); err != nil {
			return nil, err
		}
		out = append(out, si)
	}
	return out, rows.Err()
}

// RevokeSession ends one of the principal's own sessions. Another user's
// session, or an unknown id, is ErrNotFound.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, sessionID string, c Client) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, p.TenantID, p.UserID, sessionID)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.SessionRevoked, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}, {Kind: "session", ID: sessionID}}, Details: map[string]string{"ip": ipDetail(c.IP), "scope": "one"}})
	})
}

// RevokeOtherSessions ends every session of the principal but the current one.
func (s *Service) RevokeOtherSessions(ctx context.Context, p *Principal, c Client) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
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
// session as freshly authenticated. A wrong password counts towards the
// lockout like any other.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password string, c Client) error {
	var hash string
	if err := s.db.Read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'active'`,
		p.TenantID, p.UserID).Scan(&hash); err != nil {
		return ErrNoSession
	}
	ok, _, err := s.hasher.Verify(ctx, password, hash)
	if err != nil && !errors.Is(err, ErrUnsupportedHash) {
		return err
	}
	if !ok {
		if err := s.wrongPassword(ctx, p.TenantID, p.UserID, c); !errors.Is(err, ErrInvalidCredentials) {
			return err
		}
		return ErrWrongPassword
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET authenticated_at = $3 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.SessionID, s.now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.Reauthenticated, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP)}})
	})
}
