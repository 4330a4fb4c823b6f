package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// passkeyUser adapts a user to the WebAuthn library. The user handle is the
// user's random id, never their login or name.
type passkeyUser struct {
	id, login, name string
	creds           []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *passkeyUser) WebAuthnName() string                       { return u.login }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// relyingParty returns the WebAuthn relying party of origin
// ("https://jobs.example.com"); its id is the origin's host name.
func relyingParty(origin string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: bad origin %q", origin)
	}
	return webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: "Kandidat", RPOrigins: []string{origin}})
}

func (s *Service) passkeyUser(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenantID, userID string) (*passkeyUser, error) {
	u := &passkeyUser{id: userID}
	if err := q.QueryRowContext(ctx, `SELECT login, display_name FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&u.login, &u.name); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT credential FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, err
		}
		u.creds = append(u.creds, c)
	}
	return u, rows.Err()
}

// ErrCeremony is returned when a passkey ceremony fails or was never begun.
var ErrCeremony = errors.New("passkey ceremony failed")

// BeginPasskeyRegistration starts registering a passkey or security key for
// the principal and returns the options for navigator.credentials.create.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *Principal, origin string) ([]byte, error) {
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	u, err := s.passkeyUser(ctx, s.db.Read, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	var exclude []webauthn.Credential
	exclude = append(exclude, u.creds...)
	options, session, err := rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(exclude).CredentialDescriptors()))
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.saveCeremony(ctx, p.TenantID, p.SessionID, session); err != nil {
		return nil, err
	}
	return json.Marshal(options)
}

func (s *Service) saveCeremony(ctx context.Context, tenantID, sessionID string, sd *webauthn.SessionData) error {
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	_, err = s.db.Write.ExecContext(ctx, `UPDATE sessions SET webauthn_ceremony = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, sessionID, string(b))
	return err
}

// takeCeremony reads and clears the ceremony of a session: a challenge is used once.
func (s *Service) takeCeremony(ctx context.Context, tx *sql.Tx, tenantID, sessionID string) (*webauthn.SessionData, error) {
	var raw sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT webauthn_ceremony FROM sessions WHERE tenant_id = $1 AND id = $2`, tenantID, sessionID).Scan(&raw); err != nil {
		return nil, err
	}
	if !raw.Valid || raw.String == "" {
		return nil, ErrCeremony
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET webauthn_ceremony = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, sessionID); err != nil {
		return nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(raw.String), &sd); err != nil {
		return nil, ErrCeremony
	}
	return &sd, nil
}

// FinishPasskeyRegistration checks the authenticator's answer in r and
// stores the new credential. Every other session of the user ends.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *Principal, origin string, r *http.Request, c Client) error {
	rp, err := relyingParty(origin)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		sd, err := s.takeCeremony(ctx, tx, p.TenantID, p.SessionID)
		if err != nil {
			return err
		}
		u, err := s.passkeyUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		cred, err := rp.FinishRegistration(u, *sd, r)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCeremony, err)
		}
		b, _ := json.Marshal(cred)
		if _, err := tx.ExecContext(ctx, `INSERT INTO webauthn_credentials (tenant_id, id, user_id, credential, created_at) VALUES ($1, $2, $3, $4, $5)`,
			p.TenantID, tenant.NewID(), p.UserID, string(b), s.now()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAEnabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "webauthn"}})
	})
}

// BeginPasskeySignIn starts the second step of a waiting sign-in with a
// passkey and returns the options for navigator.credentials.get.
func (s *Service) BeginPasskeySignIn(ctx context.Context, token, origin string) ([]byte, error) {
	p, err := s.Authenticate(ctx, token)
	if err != nil || !p.MFAPending {
		return nil, ErrNoSession
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	u, err := s.passkeyUser(ctx, s.db.Read, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, ErrCeremony
	}
	options, session, err := rp.BeginLogin(u)
	if err != nil {
		return nil, fmt.Errorf("begin login: %w", err)
	}
	if err := s.saveCeremony(ctx, p.TenantID, p.SessionID, session); err != nil {
		return nil, err
	}
	return json.Marshal(options)
}

// FinishPasskeySignIn checks the assertion in r and, on success, replaces the
// waiting session by a full one, whose secret it returns. A failed assertion
// counts as a failed second step.
func (s *Service) FinishPasskeySignIn(ctx context.Context, token, origin string, r *http.Request, c Client) (string, error) {
	p, err := s.Authenticate(ctx, token)
	if err != nil || !p.MFAPending {
		return "", ErrNoSession
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return "", err
	}
	var newToken string
	failed := false
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		sd, err := s.takeCeremony(ctx, tx, p.TenantID, p.SessionID)
		if err != nil {
			return err
		}
		u, err := s.passkeyUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		cred, err := rp.FinishLogin(u, *sd, r)
		if err != nil {
			failed = true
			return s.secondFactorFailed(ctx, tx, p, c)
		}
		// Keep the signature counter current (clone detection).
		b, _ := json.Marshal(cred)
		for _, known := range u.creds {
			if string(known.ID) == string(cred.ID) {
				if _, err := tx.ExecContext(ctx, `UPDATE webauthn_credentials SET credential = $4, last_used_at = $5
					WHERE tenant_id = $1 AND user_id = $2 AND credential = $3`, p.TenantID, p.UserID, mustJSON(known), string(b), s.now()); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = 0 WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, HashToken(token)); err != nil {
			return err
		}
		if newToken, err = s.startSession(ctx, tx, p.TenantID, p.UserID, c); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFASucceeded, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "webauthn"}})
	})
	if err == nil && failed {
		return "", ErrInvalidCode
	}
	return newToken, err
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
