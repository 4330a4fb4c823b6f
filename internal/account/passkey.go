package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/id"
)

// passkeyUser adapts a user to the WebAuthn library. The user handle is the
// user's random id, never their login or name.
type passkeyUser struct {
	id, login, name string
	creds           []webauthn.Credential
	// rows are the stored credentials, in the order of creds: their ids and
	// their text as read, which a write of the credential must still find.
	rows []passkeyRow
}

type passkeyRow struct{ id, raw string }

func (u *passkeyUser) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *passkeyUser) WebAuthnName() string                       { return u.login }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// row returns the stored row of the credential with id, if the user has it.
func (u *passkeyUser) row(id []byte) (passkeyRow, bool) {
	for i, c := range u.creds {
		if string(c.ID) == string(id) {
			return u.rows[i], true
		}
	}
	return passkeyRow{}, false
}

// ErrNoRelyingParty is returned by passkey ceremonies when the
// installation's address has no host name a browser can bind keys to.
var ErrNoRelyingParty = errors.New("passkeys need the installation's address as a host name (--base-url)")

// relyingPartyOf returns the WebAuthn relying party of the installation
// whose public address is base (--base-url, or the address serve derived
// from its listener): its id is the host name and its one origin the
// scheme, host and port. The request's Host header plays no part, so a
// forged one cannot make Kandidat accept keys of another site. An address
// on the loopback or a wildcard address, as derived when no base URL is
// set, stands for development on this machine: the party is then
// localhost on the same port (an IP address cannot be a relying party).
func relyingPartyOf(base string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, ErrNoRelyingParty
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.IsLoopback() && !ip.IsUnspecified() {
			return nil, ErrNoRelyingParty
		}
		host = "localhost"
	}
	origin := u.Scheme + "://" + host
	if port := u.Port(); port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		origin += ":" + port
	}
	rp, err := webauthn.New(&webauthn.Config{RPID: host, RPDisplayName: "Kandidat", RPOrigins: []string{origin}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRelyingParty, err)
	}
	return rp, nil
}

func (s *Service) relyingParty() (*webauthn.WebAuthn, error) { return relyingPartyOf(s.baseURL()) }

func (s *Service) passkeyUser(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenantID, userID string) (*passkeyUser, error) {
	u := &passkeyUser{id: userID}
	if err := q.QueryRowContext(ctx, `SELECT login, display_name FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&u.login, &u.name); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, credential FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r passkeyRow
		if err := rows.Scan(&r.id, &r.raw); err != nil {
			return nil, err
		}
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(r.raw), &c); err != nil {
			return nil, err
		}
		u.creds = append(u.creds, c)
		u.rows = append(u.rows, r)
	}
	return u, rows.Err()
}

// readPasskeyUser is passkeyUser in a read transaction of the company.
func (s *Service) readPasskeyUser(ctx context.Context, tenantID, userID string) (*passkeyUser, error) {
	var u *passkeyUser
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		u, err = s.passkeyUser(ctx, tx, tenantID, userID)
		return err
	})
	return u, err
}

// ErrCeremony is returned when a passkey ceremony fails or was never begun.
var ErrCeremony = errors.New("passkey ceremony failed")

// BeginPasskeyRegistration starts registering a passkey or security key for
// the principal and returns the options for navigator.credentials.create.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *Principal) ([]byte, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	u, err := s.readPasskeyUser(ctx, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	options, session, err := rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
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
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET webauthn_ceremony = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, sessionID, string(b))
		return err
	})
}

// takeCeremony reads and clears the ceremony of a session: a challenge is
// used once. The clearing is conditional on the ceremony read, so of two
// transactions that read the same one, one takes it and the other fails.
func (s *Service) takeCeremony(ctx context.Context, tx *sql.Tx, tenantID, sessionID string) (*webauthn.SessionData, error) {
	var raw sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT webauthn_ceremony FROM sessions WHERE tenant_id = $1 AND id = $2`, tenantID, sessionID).Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrCeremony
		}
		return nil, err
	}
	if !raw.Valid || raw.String == "" {
		return nil, ErrCeremony
	}
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET webauthn_ceremony = NULL WHERE tenant_id = $1 AND id = $2 AND webauthn_ceremony = $3`,
		tenantID, sessionID, raw.String)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n != 1 {
		return nil, ErrCeremony
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(raw.String), &sd); err != nil {
		return nil, ErrCeremony
	}
	return &sd, nil
}

// FinishPasskeyRegistration checks the authenticator's answer in r and
// stores the new credential. Every other session of the user ends.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *Principal, r *http.Request, c Client) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	// The answer is read before the transaction: a slow client holds no lock.
	parsed, err := protocol.ParseCredentialCreationResponse(r)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCeremony, err)
	}
	return s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		sd, err := s.takeCeremony(ctx, tx, p.TenantID, p.SessionID)
		if err != nil {
			return err
		}
		u, err := s.passkeyUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		cred, err := rp.CreateCredential(u, *sd, parsed)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCeremony, err)
		}
		b, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webauthn_credentials (tenant_id, id, user_id, credential, created_at) VALUES ($1, $2, $3, $4, $5)`,
			p.TenantID, id.New(), p.UserID, string(b), s.now()); err != nil {
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
func (s *Service) BeginPasskeySignIn(ctx context.Context, token string) ([]byte, error) {
	p, err := s.pendingPrincipal(ctx, token)
	if err != nil {
		return nil, ErrNoSession
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	u, err := s.readPasskeyUser(ctx, p.TenantID, p.UserID)
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

// FinishPasskeySignIn checks the assertion in r and, on success, turns the
// waiting session into a full one, whose new secret it returns. It is one
// attempt at the second step like VerifySecondFactor: the lock is checked
// and a failed assertion counted in the same transaction, the challenge is
// taken once, and the waiting session completes once.
func (s *Service) FinishPasskeySignIn(ctx context.Context, token string, r *http.Request, c Client) (string, error) {
	p, err := s.pendingPrincipal(ctx, token)
	if err != nil {
		return "", ErrNoSession
	}
	rp, err := s.relyingParty()
	if err != nil {
		return "", err
	}
	// The answer is read before the transaction; a malformed one is a failed attempt.
	parsed, parseErr := protocol.ParseCredentialRequestResponse(r)
	k, err := s.openFactors(ctx, p.TenantID, p.UserID)
	if err != nil {
		return "", err
	}
	return s.secondStep(ctx, p, token, k, c, func(ctx context.Context, tx *sql.Tx, _ *stepUser, now time.Time) (string, error) {
		sd, err := s.takeCeremony(ctx, tx, p.TenantID, p.SessionID)
		if err != nil {
			return "", err
		}
		if parseErr != nil {
			return "", nil
		}
		u, err := s.passkeyUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return "", err
		}
		cred, err := rp.ValidateLogin(u, *sd, parsed)
		if err != nil {
			return "", nil
		}
		row, ok := u.row(cred.ID)
		if !ok {
			return "", nil
		}
		// Keep the signature counter current (clone detection), over the
		// credential exactly as read.
		b, err := json.Marshal(cred)
		if err != nil {
			return "", err
		}
		res, err := tx.ExecContext(ctx, `UPDATE webauthn_credentials SET credential = $4, last_used_at = $5 WHERE tenant_id = $1 AND id = $2 AND credential = $3`,
			p.TenantID, row.id, row.raw, string(b), now)
		if err != nil {
			return "", fmt.Errorf("update credential: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", err
		} else if n != 1 {
			return "", nil // removed or used meanwhile
		}
		return "webauthn", nil
	})
}
