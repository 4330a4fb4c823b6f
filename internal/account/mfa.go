package account

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/keys"
)

// FieldCipher encrypts a field with the company's data key, bound to where
// it is stored. internal/keys.Keyring is one.
type FieldCipher interface {
	Encrypt(ctx context.Context, tenantID string, ad keys.Field, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tenantID string, ad keys.Field, ciphertext []byte) ([]byte, error)
}

// Errors of the second factor.
var (
	// ErrInvalidCode is the one answer to a wrong, reused or expired code.
	ErrInvalidCode = fault.NewField(fault.ErrInvalid, "code", "invalid code", "error.mfa_code")
	// ErrNoPendingEnrolment is returned when a code confirms nothing.
	ErrNoPendingEnrolment = fault.New(fault.ErrConflict, "no authenticator enrolment in progress", "")
	// ErrMFAEnabled is returned when enrolling while a factor is already on.
	ErrMFAEnabled = fault.New(fault.ErrConflict, "two-factor sign-in is already on", "")
)

const (
	totpPeriod        = 30
	recoveryCodeCount = 10
)

func totpField(userID, column string) keys.Field {
	return keys.Field{Table: "users", Column: column, Row: userID}
}

// TOTPEnrolment is what the user needs to add Kandidat to an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32, for typing in by hand
	URL    string // otpauth:// URL, the content of the QR code
	QRPNG  []byte
}

// BeginTOTP creates a new TOTP secret for the user a, kept pending (and
// encrypted) until a code from it confirms the enrolment.
func (s *Service) BeginTOTP(ctx context.Context, a access.Actor) (*TOTPEnrolment, error) {
	if s.cipher == nil {
		return nil, errors.New("two-factor sign-in needs the keyring")
	}
	var login string
	var active []byte
	if err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT login, totp_secret FROM users WHERE tenant_id = $1 AND id = $2`, a.TenantID, a.UserID).
			Scan(&login, &active)
	}); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	if active != nil {
		return nil, ErrMFAEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Kandidat", AccountName: login, Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	sealed, err := s.cipher.Encrypt(ctx, a.TenantID, totpField(a.UserID, "totp_pending"), []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	if err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET totp_pending = $3 WHERE tenant_id = $1 AND id = $2`, a.TenantID, a.UserID, sealed)
		return err
	}); err != nil {
		return nil, fmt.Errorf("store pending secret: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// matchTOTP returns the time step whose code equals code, within one step
// either side of now and after lastStep (a used code cannot be replayed),
// or 0.
func matchTOTP(secret, code string, now time.Time, lastStep int64) int64 {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0
	}
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current - 1, current, current + 1} {
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && hmac.Equal([]byte(want), []byte(code)) {
			return step
		}
	}
	return 0
}

// ConfirmTOTP turns on two-factor sign-in with the pending secret when code
// matches it, and returns ten single-use recovery codes, shown once. Every
// other session of the user ends. The secret is switched on only if it is
// still the one pending, so two confirmations cannot both hand out codes.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string, c Client) ([]string, error) {
	var pending []byte
	if err := s.db.ReadTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT totp_pending FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).Scan(&pending)
	}); err != nil {
		return nil, fmt.Errorf("read pending secret: %w", err)
	}
	if pending == nil {
		return nil, ErrNoPendingEnrolment
	}
	secret, err := s.cipher.Decrypt(ctx, p.TenantID, totpField(p.UserID, "totp_pending"), pending)
	if err != nil {
		return nil, err
	}
	step := matchTOTP(string(secret), code, s.now(), 0)
	if step == 0 {
		return nil, ErrInvalidCode
	}
	sealed, err := s.cipher.Encrypt(ctx, p.TenantID, totpField(p.UserID, "totp_secret"), secret)
	if err != nil {
		return nil, err
	}
	codes := newRecoveryCodes()
	err = s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = $3, totp_pending = NULL, totp_last_step = $4, mfa_failed_attempts = 0
			WHERE tenant_id = $1 AND id = $2 AND totp_pending = $5 AND totp_secret IS NULL`, p.TenantID, p.UserID, sealed, step, pending)
		if err != nil {
			return fmt.Errorf("turn on the authenticator: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return ErrNoPendingEnrolment
		}
		if err := s.replaceRecoveryCodes(ctx, tx, p, codes); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAEnabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "totp"}})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Recovery codes.
//
// A code has 50 random bits, too few to survive an offline search of a
// bare hash: it is stored as HMAC-SHA256 under a key of its user's own (32
// random bytes in users.recovery_key, encrypted with the company's data key
// and bound to the row). A copy of the database without the master key
// therefore tells nothing about the codes. The key is kept under the data
// key rather than derived from the master key because the master key can
// be replaced (`kandidat keys rewrap`), which would silently void every
// code; data keys are rotated by adding keys, and old ones still open.
//
// The MAC is taken over the digest of the first form (SHA-256 of the user
// id and the code), so codes stored in that form are re-hashed under the
// key without knowing them: at their user's next second step, or all at
// once by UpgradeRecoveryCodes. Until then the first form is still accepted.

// recoveryPrefix marks a code stored under its user's key.
const recoveryPrefix = "k1:"

// recoveryKeySize is the length of a user's recovery-code key.
const recoveryKeySize = 32

// newRecoveryCodes returns a fresh set of recovery codes.
func newRecoveryCodes() []string {
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	return codes
}

// newRecoveryCode returns a code of 10 base32 characters in two groups
// (50 random bits), easy to read from paper.
func newRecoveryCode() string {
	b := make([]byte, 7)
	rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
	return s[:5] + "-" + s[5:]
}

// recoveryDigest is the first stored form of a code: SHA-256 bound to the
// user id, so equal codes of two users differ. The code is taken as typed,
// in any case, with or without its dash and spaces.
func recoveryDigest(userID, code string) string {
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	if len(code) == 10 {
		code = code[:5] + "-" + code[5:]
	}
	sum := sha256.Sum256([]byte("kandidat-recovery/v1|" + userID + "|" + code))
	return hex.EncodeToString(sum[:])
}

// recoveryMAC is the stored form of a code under its user's key.
func recoveryMAC(key []byte, digest string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kandidat-recovery/k1|" + digest))
	return recoveryPrefix + hex.EncodeToString(m.Sum(nil))
}

// factorKeys opens a user's sealed second-factor secrets and keeps what it
// opened. The second step opens them before its transaction (opening may
// read the company's key through another connection, which must not wait on
// a transaction that waits on this one) and inside it uses a plaintext only
// while the row still holds the same ciphertext.
type factorKeys struct {
	s                *Service
	tenantID, userID string
	opened           map[string][]byte // column, NUL, ciphertext -> plaintext
	// freshKey and freshSealed are a recovery key ready for a user without one.
	freshKey, freshSealed []byte
}

func (s *Service) factorKeys(tenantID, userID string) *factorKeys {
	return &factorKeys{s: s, tenantID: tenantID, userID: userID, opened: map[string][]byte{}}
}

// errNoKeyring is returned by second-factor work on a service built without
// the company keyring (every installation has one; some tests do not).
var errNoKeyring = errors.New("second factors need the keyring")

// openFactors reads and opens a user's TOTP secret and recovery key before a
// transaction, and prepares a recovery key when the user has none.
func (s *Service) openFactors(ctx context.Context, tenantID, userID string) (*factorKeys, error) {
	k := s.factorKeys(tenantID, userID)
	var secret, key []byte
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT totp_secret, recovery_key FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&secret, &key)
	})
	if err != nil {
		return nil, fmt.Errorf("read second factors: %w", err)
	}
	if _, err := k.open(ctx, "totp_secret", secret); err != nil {
		return nil, err
	}
	if _, err := k.open(ctx, "recovery_key", key); err != nil {
		return nil, err
	}
	if key == nil && s.cipher != nil {
		if err := k.prepareKey(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// open returns the plaintext of a sealed column of the user, or nil for NULL.
func (k *factorKeys) open(ctx context.Context, column string, sealed []byte) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	id := column + "\x00" + string(sealed)
	if pt, ok := k.opened[id]; ok {
		return pt, nil
	}
	if k.s.cipher == nil {
		return nil, errNoKeyring
	}
	pt, err := k.s.cipher.Decrypt(ctx, k.tenantID, totpField(k.userID, column), sealed)
	if err != nil {
		return nil, err
	}
	k.opened[id] = pt
	return pt, nil
}

// prepareKey makes a new recovery key and seals it, ready to be stored.
func (k *factorKeys) prepareKey(ctx context.Context) error {
	if k.s.cipher == nil {
		return errNoKeyring
	}
	key := make([]byte, recoveryKeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	sealed, err := k.s.cipher.Encrypt(ctx, k.tenantID, totpField(k.userID, "recovery_key"), key)
	if err != nil {
		return err
	}
	k.freshKey, k.freshSealed = key, sealed
	return nil
}

// recoveryKey returns the user's recovery key, sealed is the row's
// recovery_key as read in tx; a user without one gets one, stored only if
// the row still has none. It returns the key and the row's new ciphertext.
func (k *factorKeys) recoveryKey(ctx context.Context, tx *sql.Tx, sealed []byte) ([]byte, []byte, error) {
	if sealed != nil {
		key, err := k.open(ctx, "recovery_key", sealed)
		return key, sealed, err
	}
	if k.freshSealed == nil {
		if err := k.prepareKey(ctx); err != nil {
			return nil, nil, err
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET recovery_key = $3 WHERE tenant_id = $1 AND id = $2 AND recovery_key IS NULL`,
		k.tenantID, k.userID, k.freshSealed)
	if err != nil {
		return nil, nil, fmt.Errorf("store recovery key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, nil, err
	} else if n != 1 {
		return nil, nil, errors.New("store recovery key: the user got one meanwhile")
	}
	return k.freshKey, k.freshSealed, nil
}

// replaceRecoveryCodes stores a new set of recovery codes for the principal
// in place of the old ones. A service built without the keyring (some
// tests; every installation has one) stores them in the first form.
func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, p *Principal, codes []string) error {
	var key []byte
	if s.cipher != nil {
		var sealed []byte
		if err := tx.QueryRowContext(ctx, `SELECT recovery_key FROM users WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.UserID).Scan(&sealed); err != nil {
			return fmt.Errorf("read recovery key: %w", err)
		}
		var err error
		if key, _, err = s.factorKeys(p.TenantID, p.UserID).recoveryKey(ctx, tx, sealed); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
		return err
	}
	for _, code := range codes {
		stored := recoveryDigest(p.UserID, code)
		if key != nil {
			stored = recoveryMAC(key, stored)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (tenant_id, user_id, code_hash) VALUES ($1, $2, $3)`,
			p.TenantID, p.UserID, stored); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
	}
	return nil
}

// spendRecoveryCode marks a matching unused recovery code used, in either
// stored form (key is nil for a user without a key). The conditional write
// is the check: of two transactions given the same code, one changes the
// row and the other finds it used.
func spendRecoveryCode(ctx context.Context, tx *sql.Tx, tenantID, userID string, key []byte, code string, now time.Time) (bool, error) {
	digest := recoveryDigest(userID, code)
	keyed := digest
	if key != nil {
		keyed = recoveryMAC(key, digest)
	}
	res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND code_hash IN ($4, $5) AND used_at IS NULL`,
		tenantID, userID, now, keyed, digest)
	if err != nil {
		return false, fmt.Errorf("spend recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("spend recovery code: %w", err)
	}
	return n == 1, nil
}

// upgradeRecoveryCodes re-hashes the user's codes still stored in the first
// form under the user's key (made now if the user has none). sealed is the
// row's recovery_key as read in tx; it returns the row's new one.
func (s *Service) upgradeRecoveryCodes(ctx context.Context, tx *sql.Tx, k *factorKeys, sealed []byte) ([]byte, int, error) {
	if s.cipher == nil {
		return sealed, 0, nil // no key to re-hash under (see replaceRecoveryCodes)
	}
	rows, err := tx.QueryContext(ctx, `SELECT code_hash FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, k.tenantID, k.userID)
	if err != nil {
		return nil, 0, fmt.Errorf("read recovery codes: %w", err)
	}
	var old []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if !strings.HasPrefix(h, recoveryPrefix) {
			old = append(old, h)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(old) == 0 {
		return sealed, 0, nil
	}
	key, sealed, err := k.recoveryKey(ctx, tx, sealed)
	if err != nil {
		return nil, 0, err
	}
	for _, h := range old {
		if _, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET code_hash = $4 WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3`,
			k.tenantID, k.userID, h, recoveryMAC(key, h)); err != nil {
			return nil, 0, fmt.Errorf("re-hash recovery code: %w", err)
		}
	}
	return sealed, len(old), nil
}

// UpgradeRecoveryCodes re-hashes, under their users' keys, every recovery
// code still stored in the first form (bare SHA-256), one user per
// transaction, and then forgets the task the migration left. It returns how
// many codes it re-hashed; it does nothing when nothing is pending. The
// task and the search for its users are the installation's, each user's
// re-hash a transaction of the user's company.
func (s *Service) UpgradeRecoveryCodes(ctx context.Context) (int, error) {
	var pending int
	if err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM pending_backfills WHERE name = 'recovery_codes'`).Scan(&pending)
	}); err != nil {
		return 0, fmt.Errorf("pending backfills: %w", err)
	}
	if pending == 0 {
		return 0, nil
	}
	type owner struct{ tenantID, userID string }
	var owners []owner
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT tenant_id, user_id FROM recovery_codes WHERE code_hash NOT LIKE 'k1:%' ORDER BY tenant_id, user_id`)
		if err != nil {
			return fmt.Errorf("find recovery codes to re-hash: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var o owner
			if err := rows.Scan(&o.tenantID, &o.userID); err != nil {
				return err
			}
			owners = append(owners, o)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	done := 0
	for _, o := range owners {
		k, err := s.openFactors(ctx, o.tenantID, o.userID)
		if err != nil {
			return done, err
		}
		err = s.db.InTx(ctx, o.tenantID, func(tx *sql.Tx) error {
			u, err := holdUser(ctx, tx, o.tenantID, o.userID)
			if err != nil {
				return err
			}
			_, n, err := s.upgradeRecoveryCodes(ctx, tx, k, u.recoveryKey)
			done += n
			return err
		})
		if err != nil {
			return done, fmt.Errorf("re-hash recovery codes: %w", err)
		}
	}
	err = s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE code_hash NOT LIKE 'k1:%'`).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return nil // codes of the old form written meanwhile by an older instance: next run
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM pending_backfills WHERE name = 'recovery_codes'`)
		return err
	})
	return done, err
}

// The second step of sign-in.
//
// Every attempt is one transaction that starts by holding the user's row
// (holdUser), so the attempts of one user run one after the other on both
// engines and take their other rows in one order: user, then sessions and
// codes, then the audit chain. Inside it, each decision is also a
// conditional write that must change exactly one row: the TOTP step
// (totp_last_step < step), the recovery or emailed code (used_at IS NULL),
// the pending session (mfa_pending), the failure count and the lock
// (locked_until not in force). A lock in force refuses the step without
// counting, and only the transaction that sets the lock ends the sessions
// and emails the unlock link.

// stepUser is what the second step reads of a user, after holdUser.
type stepUser struct {
	lockedUntil  sql.NullTime
	totpSecret   []byte // sealed
	totpLastStep int64
	recoveryKey  []byte // sealed
	email, lang  string
}

func (u *stepUser) locked(now time.Time) bool {
	return u.lockedUntil.Valid && now.Before(u.lockedUntil.Time)
}

// holdUser takes the user's row for the rest of tx and reads it. On
// PostgreSQL the UPDATE, which changes nothing, holds the row's lock until
// the transaction ends, and the SELECT after it sees every transaction that
// held it before; on SQLite the write transaction holds the database.
func holdUser(ctx context.Context, tx *sql.Tx, tenantID, userID string) (*stepUser, error) {
	res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = mfa_failed_attempts WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("hold user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n != 1 {
		return nil, ErrNoSession
	}
	u := &stepUser{}
	if err := tx.QueryRowContext(ctx, `SELECT locked_until, totp_secret, totp_last_step, recovery_key, email, language FROM users
		WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&u.lockedUntil, &u.totpSecret, &u.totpLastStep, &u.recoveryKey, &u.email, &u.lang); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// stepBarrier, set by tests only, is called by every attempt at the second
// step after what it reads before its transaction: a test holds a race's
// attempts there and lets their transactions start together, the
// interleaving in which a decision made on those reads would go wrong.
var stepBarrier func()

// stepCheck decides, inside the step's transaction, whether an attempt
// proves the second factor, spending what it used with a conditional
// write. It returns the method for the trail, or "" for a failure to count.
// An error rolls the whole attempt back uncounted.
type stepCheck func(ctx context.Context, tx *sql.Tx, u *stepUser, now time.Time) (method string, err error)

// errStepLocked is the lock found in force by a write of the success path;
// holdUser makes it impossible, and the attempt rolls back if it happens.
var errStepLocked = errors.New("account locked during the second step")

// pendingPrincipal returns the principal of a session waiting for its second step.
func (s *Service) pendingPrincipal(ctx context.Context, token string) (*Principal, error) {
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if !p.MFAPending {
		return nil, ErrNoSession
	}
	return p, nil
}

// secondStep runs one attempt at the second step of the waiting session of
// token in one transaction, and returns the secret of the full session on
// success. A wrong attempt answers ErrInvalidCode and is counted; at the
// limit it locks the account. While the account is locked the attempt
// answers ErrInvalidCode too, and is recorded but not counted.
func (s *Service) secondStep(ctx context.Context, p *Principal, token string, k *factorKeys, c Client, check stepCheck) (string, error) {
	if stepBarrier != nil {
		stepBarrier()
	}
	var newToken string
	var answer error
	err := s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		newToken, answer = "", nil
		u, err := holdUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		now := s.now()
		// The browser whose password started the session, when it was one
		// the user had signed in with before: its own lock, not the
		// account's, decides (other browsers' failures cannot keep the
		// owner out at the second step either).
		var device sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT device_id FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash = $3
			AND mfa_pending AND expires_at > $4`, p.TenantID, p.UserID, id.HashToken(token), now).Scan(&device)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoSession // completed, ended or expired meanwhile
		}
		if err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		locked := u.locked(now)
		if device.Valid {
			if locked, err = deviceLocked(ctx, tx, p, device.String, now); err != nil {
				return err
			}
		}
		if locked {
			answer = ErrInvalidCode
			return s.refuseWhileLocked(ctx, tx, p, c)
		}
		if u.recoveryKey, _, err = s.upgradeRecoveryCodes(ctx, tx, k, u.recoveryKey); err != nil {
			return err
		}
		method, err := check(ctx, tx, u, now)
		if err != nil {
			return err
		}
		if method == "" {
			answer = ErrInvalidCode
			if device.Valid {
				return s.secondStepDeviceFailed(ctx, tx, p, device.String, c, now)
			}
			return s.secondStepFailed(ctx, tx, p, u, c, now)
		}
		newToken, err = s.secondStepPassed(ctx, tx, p, token, device, method, c, now)
		return err
	})
	if errors.Is(err, errStepLocked) {
		return "", ErrInvalidCode
	}
	if err != nil {
		return "", err
	}
	return newToken, answer
}

// secondStepPassed turns the waiting session into a full one with a new id
// and a new secret, which it returns. Only a session still waiting changes:
// of two attempts that both proved the factor for it, one finds it done.
func (s *Service) secondStepPassed(ctx context.Context, tx *sql.Tx, p *Principal, token string, device sql.NullString, method string, c Client, now time.Time) (string, error) {
	res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = 0 WHERE tenant_id = $1 AND id = $2
		AND (locked_until IS NULL OR locked_until <= $3)`, p.TenantID, p.UserID, now)
	if device.Valid { // the trusted browser's own lock is the one that must not be in force
		res, err = tx.ExecContext(ctx, `UPDATE trusted_devices SET failed_attempts = 0 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4)`, p.TenantID, p.UserID, device.String, now)
	}
	if err != nil {
		return "", fmt.Errorf("reset failures: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n != 1 {
		return "", errStepLocked
	}
	newToken, hash := id.NewToken()
	res, err = tx.ExecContext(ctx, `UPDATE sessions SET id = $4, token_hash = $5, mfa_pending = FALSE, expires_at = $6, last_seen_at = $7,
		authenticated_at = $7, webauthn_ceremony = NULL
		WHERE tenant_id = $1 AND user_id = $2 AND token_hash = $3 AND mfa_pending AND expires_at > $7`,
		p.TenantID, p.UserID, id.HashToken(token), id.New(), hash, now.Add(s.opts.SessionAbsolute), now)
	if err != nil {
		return "", fmt.Errorf("complete session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n != 1 {
		return "", ErrNoSession
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFASucceeded, Actor: audit.User(p.UserID),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": method}}); err != nil {
		return "", err
	}
	return newToken, nil
}

// secondStepFailed counts a failure of the second step and records it. The
// transaction whose count reaches the limit sets the lock, with a write
// only one transaction can win, ends the user's sessions and emails the
// owner an unlock link, as a lock after wrong passwords does.
func (s *Service) secondStepFailed(ctx context.Context, tx *sql.Tx, p *Principal, u *stepUser, c Client, now time.Time) error {
	var failures int
	err := tx.QueryRowContext(ctx, `UPDATE users SET mfa_failed_attempts = mfa_failed_attempts + 1 WHERE tenant_id = $1 AND id = $2
		AND (locked_until IS NULL OR locked_until <= $3) RETURNING mfa_failed_attempts`, p.TenantID, p.UserID, now).Scan(&failures)
	if errors.Is(err, sql.ErrNoRows) {
		return s.refuseWhileLocked(ctx, tx, p, c)
	}
	if err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	locked := false
	until := now.Add(s.opts.LockDuration)
	if failures >= s.opts.MaxFailures {
		res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_failed_attempts = 0, locked_until = $3 WHERE tenant_id = $1 AND id = $2
			AND (locked_until IS NULL OR locked_until <= $4)`, p.TenantID, p.UserID, until, now)
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		locked = n == 1
	}
	if locked {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if u.email != "" && s.queue != nil {
			if err := s.mailUnlockLink(ctx, tx, p.TenantID, p.UserID, u.email, u.lang); err != nil {
				return err
			}
		}
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAFailed, Actor: audit.User(p.UserID),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "reason": "invalid"}}); err != nil {
		return err
	}
	if !locked {
		return nil
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339)}})
}

// deviceLocked reports whether the trusted browser of a waiting session is
// locked, expired or forgotten (a password change forgets every browser).
func deviceLocked(ctx context.Context, tx *sql.Tx, p *Principal, deviceID string, now time.Time) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM trusted_devices WHERE tenant_id = $1 AND user_id = $2 AND id = $3
		AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4)`, p.TenantID, p.UserID, deviceID, now).Scan(&n); err != nil {
		return false, fmt.Errorf("read device: %w", err)
	}
	return n != 1, nil
}

// secondStepDeviceFailed counts a wrong code from a trusted browser against
// that browser alone, as its wrong passwords are: at the limit it locks the
// browser (one transaction wins the lock), without an email and without
// touching the account's lock, which other browsers' failures control.
func (s *Service) secondStepDeviceFailed(ctx context.Context, tx *sql.Tx, p *Principal, deviceID string, c Client, now time.Time) error {
	var failures int
	err := tx.QueryRowContext(ctx, `UPDATE trusted_devices SET failed_attempts = failed_attempts + 1
		WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4)
		RETURNING failed_attempts`, p.TenantID, p.UserID, deviceID, now).Scan(&failures)
	if errors.Is(err, sql.ErrNoRows) {
		return s.refuseWhileLocked(ctx, tx, p, c)
	}
	if err != nil {
		return fmt.Errorf("count device failure: %w", err)
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAFailed, Actor: audit.User(p.UserID),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "reason": "invalid"}}); err != nil {
		return err
	}
	if failures < s.opts.MaxFailures {
		return nil
	}
	until := now.Add(s.opts.LockDuration)
	res, err := tx.ExecContext(ctx, `UPDATE trusted_devices SET failed_attempts = 0, locked_until = $4
		WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND failed_attempts >= $5 AND (locked_until IS NULL OR locked_until <= $6)`,
		p.TenantID, p.UserID, deviceID, until, s.opts.MaxFailures, now)
	if err != nil {
		return fmt.Errorf("lock device: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil // locked by another transaction
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339), "scope": "device"}})
}

// refuseWhileLocked records an attempt at the second step of a locked
// account; it is not counted, so it neither extends the lock nor sends
// another unlock email.
func (s *Service) refuseWhileLocked(ctx context.Context, tx *sql.Tx, p *Principal, c Client) error {
	return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFAFailed, Actor: audit.User(p.UserID),
		Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "reason": "locked"}})
}

// VerifySecondFactor completes a sign-in waiting for its second step with a
// TOTP code, a recovery code or a code sent by email or SMS. On success the
// waiting session becomes a full one with a new id and secret, which is
// returned. Failures count separately from the password's; at the limit the
// account is locked as after password failures. A TOTP code is spent with
// its time step, so it completes one sign-in however many are raced with it.
func (s *Service) VerifySecondFactor(ctx context.Context, token, code string, c Client) (string, error) {
	p, err := s.pendingPrincipal(ctx, token)
	if err != nil {
		return "", err
	}
	k, err := s.openFactors(ctx, p.TenantID, p.UserID)
	if err != nil {
		return "", err
	}
	return s.secondStep(ctx, p, token, k, c, func(ctx context.Context, tx *sql.Tx, u *stepUser, now time.Time) (string, error) {
		if u.totpSecret != nil {
			secret, err := k.open(ctx, "totp_secret", u.totpSecret)
			if err != nil {
				return "", err
			}
			if step := matchTOTP(string(secret), code, now, u.totpLastStep); step > 0 {
				res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = $3 WHERE tenant_id = $1 AND id = $2 AND totp_last_step < $3`,
					p.TenantID, p.UserID, step)
				if err != nil {
					return "", fmt.Errorf("spend time step: %w", err)
				}
				if n, err := res.RowsAffected(); err != nil {
					return "", err
				} else if n == 1 {
					return "totp", nil
				}
			}
		}
		key, err := k.open(ctx, "recovery_key", u.recoveryKey)
		if err != nil {
			return "", err
		}
		if ok, err := spendRecoveryCode(ctx, tx, p.TenantID, p.UserID, key, code, now); err != nil || ok {
			return "recovery_code", err
		}
		for _, channel := range []string{"email", "sms"} {
			if ok, err := s.spendCode(ctx, tx, p.TenantID, p.UserID, "mfa_"+channel, code); err != nil || ok {
				return channel, err
			}
		}
		return "", nil
	})
}

// DisableTOTP turns two-factor sign-in off after checking a current code
// (or a recovery code); recovery codes go, and every other session ends.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal, code string, c Client) error {
	k, err := s.openFactors(ctx, p.TenantID, p.UserID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, p.TenantID, func(tx *sql.Tx) error {
		u, err := holdUser(ctx, tx, p.TenantID, p.UserID)
		if err != nil {
			return err
		}
		if u.totpSecret == nil {
			return ErrNoPendingEnrolment
		}
		secret, err := k.open(ctx, "totp_secret", u.totpSecret)
		if err != nil {
			return err
		}
		now := s.now()
		if matchTOTP(string(secret), code, now, u.totpLastStep) == 0 {
			key, err := k.open(ctx, "recovery_key", u.recoveryKey)
			if err != nil {
				return err
			}
			ok, err := spendRecoveryCode(ctx, tx, p.TenantID, p.UserID, key, code, now)
			if err != nil {
				return err
			}
			if !ok {
				return ErrInvalidCode
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE tenant_id = $1 AND id = $2`,
			p.TenantID, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, p.TenantID, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, p.TenantID, p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: p.TenantID, Action: audit.MFADisabled, Actor: audit.User(p.UserID),
			Objects: []audit.Ref{{Kind: "user", ID: p.UserID}}, Details: map[string]string{"ip": ipDetail(c.IP), "method": "totp"}})
	})
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, tenantID, userID string) (int, error) {
	var n int
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL`, tenantID, userID).Scan(&n)
	})
	return n, err
}
