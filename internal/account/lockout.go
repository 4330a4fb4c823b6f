package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// Defaults of the lockout promised by the seeds: five consecutive failures
// lock password sign-in for an hour.
const (
	DefaultMaxFailures  = 5
	DefaultLockDuration = time.Hour
	// unlockValidity is how long an emailed unlock link works.
	unlockValidity = 24 * time.Hour
)

// throttle slows repeated failures per client address and per login before
// the lock: from the third failure within a quarter of an hour each attempt
// waits 250 ms, doubling up to 5 s. It lives in memory: each instance
// throttles what it sees, and the lock in the database holds across them.
type throttle struct {
	mu      sync.Mutex
	base    time.Duration
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	last     time.Time
}

const (
	throttleWindow  = 15 * time.Minute
	throttleEntries = 100_000
)

func newThrottle(base time.Duration) *throttle {
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	return &throttle{base: base, entries: map[string]*throttleEntry{}}
}

// delay returns how long an attempt with these keys must wait.
func (t *throttle) delay(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	worst := 0
	for _, k := range keys {
		if e, ok := t.entries[k]; ok && now.Sub(e.last) < throttleWindow {
			worst = max(worst, e.failures)
		}
	}
	if worst < 3 {
		return 0
	}
	return min(t.base<<min(worst-3, 5), 20*t.base)
}

func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= throttleEntries {
		for k, e := range t.entries {
			if now.Sub(e.last) >= throttleWindow {
				delete(t.entries, k)
			}
		}
		if len(t.entries) >= throttleEntries {
			t.entries = map[string]*throttleEntry{} // under a flood, forget rather than grow
		}
	}
	for _, k := range keys {
		e, ok := t.entries[k]
		if !ok || now.Sub(e.last) >= throttleWindow {
			e = &throttleEntry{}
			t.entries[k] = e
		}
		e.failures++
		e.last = now
	}
}

func (t *throttle) forget(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.entries, k)
	}
}

// throttleKeys are the keys an attempt from an unknown browser is gated and
// throttled by: the login it names and the address it comes from.
func throttleKeys(ip, login string) []string {
	keys := []string{"login:" + login}
	if ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	return keys
}

func (s *Service) wait(ctx context.Context, keys []string) error {
	d := s.throttle.delay(time.Now(), keys...)
	if d == 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// ErrTooManyAttempts is returned, before any password is hashed, when too
// many attempts for the same login, browser or address are already in
// flight. It says nothing about the account: unknown logins get it too.
var ErrTooManyAttempts = fault.New(fault.ErrBusy, "too many sign-in attempts at once", "signin.busy")

// gate bounds the password attempts in flight per key (login, device,
// address) in this process. An attempt takes a slot for each of its keys
// before the throttle's wait and the hash, so a burst is served one (or a
// few) at a time and the throttle sees each failure before the next attempt
// starts; attempts beyond a key's queue, or beyond the map's size, are
// refused at once. Entries exist only while attempts hold or wait for them,
// so the map never holds more keys than attempts in flight.
type gate struct {
	mu      sync.Mutex
	entries map[string]*gateEntry
}

type gateEntry struct {
	slots chan struct{}
	users int // attempts holding or waiting for a slot
}

// Gate sizes: in flight per login or device, per address, the attempts a
// key may hold or queue, and the keys tracked at once.
const (
	gateSlotsPerAccount = 1
	gateSlotsPerAddress = 4
	gateQueue           = 64
	gateAddressQueue    = 256
	gateMaxKeys         = 10_000
)

func newGate() *gate { return &gate{entries: map[string]*gateEntry{}} }

func gateLimits(key string) (slots, queue int) {
	if strings.HasPrefix(key, "ip:") {
		return gateSlotsPerAddress, gateAddressQueue
	}
	return gateSlotsPerAccount, gateQueue
}

// enter takes a slot of every key and returns the function that gives them
// back. Keys are taken in one order (an account's before an address's, then
// by name), so two attempts never wait for each other's slots, and attempts
// queued behind one login hold no slot of their address meanwhile: a burst
// against one account does not hold up the other people behind the same
// address.
func (g *gate) enter(ctx context.Context, keys []string) (release func(), err error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b string) int {
		if ia, ib := strings.HasPrefix(a, "ip:"), strings.HasPrefix(b, "ip:"); ia != ib {
			if ia {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	keys = slices.Compact(keys)
	g.mu.Lock()
	for _, k := range keys {
		e := g.entries[k]
		_, queue := gateLimits(k)
		if (e == nil && len(g.entries) >= gateMaxKeys) || (e != nil && e.users >= queue) {
			g.mu.Unlock()
			return nil, ErrTooManyAttempts
		}
	}
	entries := make([]*gateEntry, len(keys))
	for i, k := range keys {
		e := g.entries[k]
		if e == nil {
			slots, _ := gateLimits(k)
			e = &gateEntry{slots: make(chan struct{}, slots)}
			g.entries[k] = e
		}
		e.users++
		entries[i] = e
	}
	g.mu.Unlock()
	held := 0
	release = func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, k := range keys {
			if i < held {
				<-entries[i].slots
			}
			if entries[i].users--; entries[i].users == 0 {
				delete(g.entries, k)
			}
		}
	}
	for _, e := range entries {
		select {
		case e.slots <- struct{}{}:
			held++
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

// attempt is a password check for one account, from sign-in,
// re-authentication, a password change or an unlock link.
type attempt struct {
	tenantID, userID string
	// device is the browser's trusted device for this user, or nil: the
	// attempt is then one of an unknown browser, under the account's lock.
	device *device
	// via says where the password was typed, for the trail.
	via string
}

// Where a password is checked, as the trail records it.
const (
	viaSignIn         = "sign_in"
	viaReauth         = "reauthentication"
	viaPasswordChange = "password_change"
	viaUnlockLink     = "unlock_link"
)

// failAttempt records a refused password attempt on a known account without
// counting it (the account or device is locked, or disabled) and returns
// ErrInvalidCredentials.
func (s *Service) failAttempt(ctx context.Context, a *attempt, reason string, c Client) error {
	err := s.db.InTx(ctx, a.tenantID, func(tx *sql.Tx) error { return s.recordFailure(ctx, tx, a, reason, c) })
	if err != nil {
		return err
	}
	return ErrInvalidCredentials
}

func (s *Service) recordFailure(ctx context.Context, tx *sql.Tx, a *attempt, reason string, c Client) error {
	return s.audit.Record(ctx, tx, audit.Event{TenantID: a.tenantID, Action: audit.SignInFailed, Actor: audit.Anonymous,
		Objects: []audit.Ref{{Kind: "user", ID: a.userID}},
		Details: map[string]string{"ip": ipDetail(c.IP), "reason": reason, "via": a.via, "device": strconv.FormatBool(a.device != nil)}})
}

// wrongPassword counts a failure, on the trusted device of the attempt or
// else on the account, and locks at the limit, all in one transaction. The
// count and the lock are conditional writes: a failure while locked is not
// counted (nor does it reset the count), and of concurrent failures exactly
// one sets the lock, so the owner gets one unlock email per lock.
func (s *Service) wrongPassword(ctx context.Context, a *attempt, c Client) error {
	err := s.db.InTx(ctx, a.tenantID, func(tx *sql.Tx) error {
		if a.device != nil {
			return s.deviceFailure(ctx, tx, a, c)
		}
		now := s.now()
		var failures int
		var email, lang string
		err := tx.QueryRowContext(ctx, `UPDATE users SET failed_attempts = failed_attempts + 1 WHERE tenant_id = $1 AND id = $2
			AND (locked_until IS NULL OR locked_until <= $3) RETURNING failed_attempts, email, language`, a.tenantID, a.userID, now).
			Scan(&failures, &email, &lang)
		if errors.Is(err, sql.ErrNoRows) {
			return s.recordFailure(ctx, tx, a, "locked", c) // locked meanwhile: not a new failure
		}
		if err != nil {
			return fmt.Errorf("count failure: %w", err)
		}
		if err := s.recordFailure(ctx, tx, a, "wrong_password", c); err != nil {
			return err
		}
		if failures < s.opts.MaxFailures {
			return nil
		}
		until := now.Add(s.opts.LockDuration)
		res, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = $3 WHERE tenant_id = $1 AND id = $2
			AND failed_attempts >= $4 AND (locked_until IS NULL OR locked_until <= $5)`, a.tenantID, a.userID, until, s.opts.MaxFailures, now)
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another transaction set the lock and sent the email
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: a.tenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
			Objects: []audit.Ref{{Kind: "user", ID: a.userID}},
			Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339), "scope": "account"}}); err != nil {
			return err
		}
		if email == "" || s.queue == nil {
			return nil
		}
		return s.mailUnlockLink(ctx, tx, a.tenantID, a.userID, email, lang)
	})
	if err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// errLocked is returned inside a success transaction whose conditional
// write found the account (or the device) locked meanwhile.
var errLocked = errors.New("locked meanwhile")

// claim is the first write of every successful password check, in the
// transaction of what the check allows: it clears the failure count only
// if no lock holds at this moment, and must touch exactly one row. It
// touches none when a concurrent failure locked the account (or the
// device) after the password was read and hashed; the caller then answers
// as for a wrong password. A trusted device's success clears that device's
// count and leaves the account's (other browsers') count alone.
func (s *Service) claim(ctx context.Context, tx *sql.Tx, a *attempt) error {
	now := s.now()
	var row *sql.Row
	if a.device != nil {
		row = tx.QueryRowContext(ctx, `UPDATE trusted_devices SET failed_attempts = 0 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			AND expires_at > $4 AND (locked_until IS NULL OR locked_until <= $4) RETURNING id`, a.tenantID, a.userID, a.device.id(), now)
	} else {
		row = tx.QueryRowContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2
			AND status = 'active' AND (locked_until IS NULL OR locked_until <= $3) RETURNING id`, a.tenantID, a.userID, now)
	}
	var id string
	err := row.Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return errLocked
	}
	if err != nil {
		return fmt.Errorf("clear failures: %w", err)
	}
	return nil
}

// mailUnlockLink emails the owner of an account just locked (after wrong
// passwords or wrong codes at the second step) a single-use unlock link.
// Links of earlier locks stop working: one live link per account.
func (s *Service) mailUnlockLink(ctx context.Context, tx *sql.Tx, tenantID, userID, email, lang string) error {
	token, hash := id.NewToken()
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND purpose = 'unlock'
		AND used_at IS NULL`, tenantID, userID, now); err != nil {
		return fmt.Errorf("retire earlier unlock links: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, 'unlock', $4, $5, $6)`, tenantID, id.New(), userID, hash, now, now.Add(unlockValidity)); err != nil {
		return fmt.Errorf("create unlock token: %w", err)
	}
	lang, company, err := s.recipient(ctx, tx, tenantID, lang)
	if err != nil {
		return err
	}
	link := strings.TrimSuffix(s.baseURL(), "/") + "/unlock/" + token
	return s.queue.Enqueue(ctx, tx, tenantID, notify.Message{
		To:      []string{email},
		Subject: s.i18n.T(lang, "unlock.email.subject", "company", company),
		Text: s.i18n.T(lang, "unlock.email.body", "company", company, "url", link,
			"minutes", strconv.Itoa(int(s.opts.LockDuration.Minutes())), "hours", strconv.Itoa(int(unlockValidity.Hours()))),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	})
}

// ErrTokenInvalid is returned for an unknown, used or expired emailed link.
var ErrTokenInvalid = fault.New(fault.ErrNotFound, "link unknown, used or expired", "")

// unlockMaxFailures is how many wrong passwords an unlock link takes before
// it is spent.
const unlockMaxFailures = 5

// UnlockTokenValid reports whether token is a usable unlock link. The link
// names no company: it is looked up as the installation's.
func (s *Service) UnlockTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens WHERE token_hash = $1 AND purpose = 'unlock'
			AND used_at IS NULL AND expires_at > $2`, id.HashToken(token), s.now()).Scan(&n)
	})
	return err == nil && n == 1
}

// UnlockResult is what a successful unlock link gives the browser.
type UnlockResult struct {
	// Session is the new session's secret; Principal its user (MFAPending
	// when the second step is still due).
	Session   string
	Principal *Principal
	// Device is the browser's device cookie: it signed in through the
	// owner's email, so from now on the account's lock does not hold it.
	Device DeviceCookie
}

// Unlock signs the owner of an emailed unlock link in with their password,
// despite the lock, and makes the browser a trusted device. The lock
// itself stays for every other browser until it expires: lifting it would
// give whoever caused it a fresh series of guesses. The link is spent by
// the sign-in; wrong passwords are counted on the link, which dies after
// unlockMaxFailures of them. Answers: ErrTokenInvalid for a link that is
// unknown, used, expired or whose account cannot sign in;
// ErrInvalidCredentials for a wrong password. The link is looked up as the
// installation's (it names no company); what follows runs in the company
// of its account.
func (s *Service) Unlock(ctx context.Context, token, password string, c Client) (*UnlockResult, error) {
	hash := id.HashToken(token)
	keys := []string{"unlock:" + hash}
	if ip := ipDetail(c.IP); ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	release, err := s.gate.enter(ctx, keys)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := s.wait(ctx, keys); err != nil {
		return nil, err
	}
	a := &attempt{via: viaUnlockLink}
	var pwHash, status string
	err = s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT t.tenant_id, t.user_id, u.password_hash, u.status FROM account_tokens t
			JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
			WHERE t.token_hash = $1 AND t.purpose = 'unlock' AND t.used_at IS NULL AND t.expires_at > $2`, hash, s.now()).
			Scan(&a.tenantID, &a.userID, &pwHash, &status)
	})
	if errors.Is(err, sql.ErrNoRows) || err == nil && status != string(Active) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("read unlock token: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, pwHash)
	if err != nil && !errors.Is(err, ErrUnsupportedHash) {
		return nil, err
	}
	if !ok {
		s.throttle.fail(time.Now(), keys...)
		err := s.db.InTx(ctx, a.tenantID, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE account_tokens SET failed_attempts = failed_attempts + 1,
				used_at = CASE WHEN failed_attempts + 1 >= $3 THEN $2 ELSE used_at END
				WHERE token_hash = $1 AND purpose = 'unlock' AND used_at IS NULL`, hash, s.now(), unlockMaxFailures); err != nil {
				return fmt.Errorf("count unlock failure: %w", err)
			}
			return s.recordFailure(ctx, tx, a, "wrong_password", c)
		})
		if err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	s.throttle.forget(keys[0])
	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, password); err != nil {
			return nil, err
		}
	}
	r := &UnlockResult{}
	err = s.db.InTx(ctx, a.tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'unlock'
			AND used_at IS NULL AND expires_at > $2`, hash, s.now())
		if err != nil {
			return fmt.Errorf("spend unlock token: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid // spent meanwhile
		}
		if r.Device, err = s.trustDevice(ctx, tx, a.tenantID, a.userID, c); err != nil {
			return err
		}
		r.Session, err = s.completePassword(ctx, tx, a, newHash, "unlock_link", c)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.Principal, err = s.Authenticate(ctx, r.Session)
	return r, err
}

// UnlockByOperator clears the lock of a user of a's company on a's behalf;
// a is the operator at the command line (access.Operator).
func (s *Service) UnlockByOperator(ctx context.Context, a access.Actor, userID string) error {
	tenantID := a.TenantID
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.AccountUnlocked, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"via": "operator"}})
	})
}
