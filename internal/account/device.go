package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/id"
)

// Device cookies (OWASP, "Slow brute force attacks / device cookies"): a
// browser that fully signed in to an account, or used its unlock or reset
// link, carries a cookie that names the user and a random nonce, with an
// expiry, signed with an HMAC key of the installation. Password attempts
// that present a valid one for the account are counted on that browser
// alone: failures from other browsers neither lock nor slow them, and a
// browser's own failures lock only that browser (after MaxFailures, for
// LockDuration), after which it counts as an unknown browser again.
const (
	// DeviceLifetime is how long a device cookie is valid; every full
	// sign-in with the browser renews it.
	DeviceLifetime = 90 * 24 * time.Hour
	// maxDevices bounds the trusted browsers kept per user; the oldest go.
	maxDevices = 10
	// deviceNonceBytes is the size of a device cookie's random nonce.
	deviceNonceBytes = 16
	// deviceCookieMAC separates the cookie's HMAC from any other use of the key.
	deviceCookieMAC = "kandidat/device-cookie/v1|"
)

// DeviceCookie is the value and expiry of a browser's device cookie.
type DeviceCookie struct {
	Value   string
	Expires time.Time
}

// device is a device cookie whose signature and expiry checked out.
type device struct {
	userID string
	nonce  string
}

// id is the stored key of the device: the SHA-256 of its nonce, so the
// table alone cannot make a cookie even with the key.
func (d *device) id() string { return id.HashToken(d.nonce) }

// throttleKey is the key of the device's own gate and throttle.
func (d *device) throttleKey() string { return "device:" + d.id() }

func (s *Service) deviceMAC(userID, nonce string, expires int64) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte(deviceCookieMAC + userID + "|" + nonce + "|" + strconv.FormatInt(expires, 10)))
	return m.Sum(nil)
}

// encodeDevice returns the cookie value "user.nonce.expiry.mac".
func (s *Service) encodeDevice(userID, nonce string, expires time.Time) DeviceCookie {
	exp := expires.Unix()
	mac := base64.RawURLEncoding.EncodeToString(s.deviceMAC(userID, nonce, exp))
	return DeviceCookie{Value: userID + "." + nonce + "." + strconv.FormatInt(exp, 10) + "." + mac, Expires: time.Unix(exp, 0).UTC()}
}

// parseDevice returns the device of a cookie value when its MAC is right and
// it has not expired, else nil. It reads no database: a forged cookie costs
// one HMAC.
func (s *Service) parseDevice(value string) *device {
	if value == "" || len(value) > 200 {
		return nil
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 || !id.Valid(parts[0]) || len(parts[1]) != base64.RawURLEncoding.EncodedLen(deviceNonceBytes) {
		return nil
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return nil
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(mac, s.deviceMAC(parts[0], parts[1], exp)) {
		return nil
	}
	return &device{userID: parts[0], nonce: parts[1]}
}

// deviceUsable reports whether d is a stored, unexpired and unlocked device
// of the user. The decision is re-made by a conditional write wherever it
// matters (claim, deviceFailure); this read only picks the throttle keys.
func (s *Service) deviceUsable(ctx context.Context, tenantID, userID string, d *device) (bool, error) {
	if d == nil || d.userID != userID {
		return false, nil
	}
	now := s.now()
	var n int
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM trusted_devices WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4)`, tenantID, userID, d.id(), now).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("read device: %w", err)
	}
	return n == 1, nil
}

// trustDevice records the browser of c as one the user signed in with and
// returns its new cookie. A valid, unlocked cookie of the same user is
// renewed (same nonce, new expiry); otherwise the browser gets a new nonce,
// and the user's oldest devices beyond maxDevices are forgotten.
func (s *Service) trustDevice(ctx context.Context, tx *sql.Tx, tenantID, userID string, c Client) (DeviceCookie, error) {
	now := s.now()
	expires := now.Add(DeviceLifetime)
	if d := s.parseDevice(c.Device); d != nil && d.userID == userID {
		res, err := tx.ExecContext(ctx, `UPDATE trusted_devices SET expires_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			AND expires_at > $5 AND (locked_until IS NULL OR locked_until <= $5)`, tenantID, userID, d.id(), expires, now)
		if err != nil {
			return DeviceCookie{}, fmt.Errorf("renew device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return s.encodeDevice(userID, d.nonce, expires), nil
		}
	}
	b := make([]byte, deviceNonceBytes)
	if _, err := rand.Read(b); err != nil {
		return DeviceCookie{}, err
	}
	d := &device{userID: userID, nonce: base64.RawURLEncoding.EncodeToString(b)}
	if _, err := tx.ExecContext(ctx, `INSERT INTO trusted_devices (tenant_id, id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, d.id(), userID, now, expires); err != nil {
		return DeviceCookie{}, fmt.Errorf("store device: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trusted_devices WHERE tenant_id = $1 AND user_id = $2 AND id NOT IN
		(SELECT id FROM trusted_devices WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(maxDevices)+`)`,
		tenantID, userID); err != nil {
		return DeviceCookie{}, fmt.Errorf("forget old devices: %w", err)
	}
	return s.encodeDevice(userID, d.nonce, expires), nil
}

// ErrSignInIncomplete is returned by TrustDevice for a session that has not
// passed the second step yet.
var ErrSignInIncomplete = errors.New("sign-in not complete")

// TrustDevice marks the browser of a fully signed-in session (past the second
// step, if any) as one its user signed in with, and returns the device cookie
// to give it. It takes the session secret, not a user, so that no caller can
// trust a browser for anyone but the user who just signed in with it.
func (s *Service) TrustDevice(ctx context.Context, sessionToken string, c Client) (DeviceCookie, error) {
	p, err := s.Authenticate(ctx, sessionToken)
	if err != nil {
		return DeviceCookie{}, err
	}
	if p.MFAPending {
		return DeviceCookie{}, ErrSignInIncomplete
	}
	var dc DeviceCookie
	err = s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		dc, err = s.trustDevice(ctx, tx, p.TenantID, p.UserID, c)
		return err
	})
	return dc, err
}

// deviceFailure counts a wrong password on a trusted device, records it,
// and locks that device (and only it) at the limit, in the caller's
// transaction. A failure while the device is locked, or after it went, is
// recorded but not counted again, and of concurrent failures exactly one
// sets the lock.
func (s *Service) deviceFailure(ctx context.Context, tx *sql.Tx, a *attempt, c Client) error {
	now := s.now()
	var failures int
	err := tx.QueryRowContext(ctx, `UPDATE trusted_devices SET failed_attempts = failed_attempts + 1
		WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4)
		RETURNING failed_attempts`, a.tenantID, a.userID, a.device.id(), now).Scan(&failures)
	if errors.Is(err, sql.ErrNoRows) {
		return s.recordFailure(ctx, tx, a, "locked", c)
	}
	if err != nil {
		return fmt.Errorf("count device failure: %w", err)
	}
	if err := s.recordFailure(ctx, tx, a, "wrong_password", c); err != nil {
		return err
	}
	if failures < s.opts.MaxFailures {
		return nil
	}
	until := now.Add(s.opts.LockDuration)
	res, err := tx.ExecContext(ctx, `UPDATE trusted_devices SET failed_attempts = 0, locked_until = $4
		WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND failed_attempts >= $5 AND (locked_until IS NULL OR locked_until <= $6)`,
		a.tenantID, a.userID, a.device.id(), until, s.opts.MaxFailures, now)
	if err != nil {
		return fmt.Errorf("lock device: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil // locked by another transaction
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: a.tenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
		Objects: []audit.Ref{{Kind: "user", ID: a.userID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339), "scope": "device"}})
}

// forgetDevices ends the trust of every browser of a user, at a change of
// password: whoever held a device cookie then gets no exemption with the
// new password until they sign in again.
func forgetDevices(ctx context.Context, tx *sql.Tx, tenantID, userID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM trusted_devices WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
		return fmt.Errorf("forget devices: %w", err)
	}
	return nil
}
