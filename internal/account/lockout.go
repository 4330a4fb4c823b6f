package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
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

// wrongPassword counts a failure on an account and locks it at the limit,
// emailing its owner a single-use unlock link, all in one transaction.
func (s *Service) wrongPassword(ctx context.Context, tenantID, userID string, c Client) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var failures int
		var email, lang string
		if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_attempts = failed_attempts + 1 WHERE tenant_id = $1 AND id = $2
			RETURNING failed_attempts, email, language`, tenantID, userID).Scan(&failures, &email, &lang); err != nil {
			return fmt.Errorf("count failure: %w", err)
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.SignInFailed, Actor: audit.Anonymous,
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP), "reason": "wrong_password"}}); err != nil {
			return err
		}
		if failures < s.opts.MaxFailures {
			return nil
		}
		until := s.now().Add(s.opts.LockDuration)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = $3 WHERE tenant_id = $1 AND id = $2`,
			tenantID, userID, until); err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.AccountLocked, Actor: audit.System("account.lockout"),
			Objects: []audit.Ref{{Kind: "user", ID: userID}},
			Details: map[string]string{"ip": ipDetail(c.IP), "failures": strconv.Itoa(failures), "until": until.UTC().Format(time.RFC3339)}}); err != nil {
			return err
		}
		if email == "" || s.queue == nil {
			return nil
		}
		return s.mailUnlockLink(ctx, tx, tenantID, userID, email, lang)
	})
	if err != nil {
		return err
	}
	return ErrInvalidCredentials
}

func (s *Service) mailUnlockLink(ctx context.Context, tx *sql.Tx, tenantID, userID, email, lang string) error {
	token, hash := NewToken()
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, 'unlock', $4, $5, $6)`, tenantID, tenant.NewID(), userID, hash, now, now.Add(unlockValidity)); err != nil {
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
var ErrTokenInvalid = errors.New("link unknown, used or expired")

// UnlockTokenValid reports whether token is a usable unlock link.
func (s *Service) UnlockTokenValid(ctx context.Context, token string) bool {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM account_tokens WHERE token_hash = $1 AND purpose = 'unlock'
		AND used_at IS NULL AND expires_at > $2`, HashToken(token), s.now()).Scan(&n)
	return err == nil && n == 1
}

// Unlock spends an emailed unlock link: the account's lock and failure
// count are cleared at once, so an attacker cannot keep its owner out.
func (s *Service) Unlock(ctx context.Context, token string, c Client) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var tenantID, userID string
		err := tx.QueryRowContext(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'unlock'
			AND used_at IS NULL AND expires_at > $2 RETURNING tenant_id, user_id`, HashToken(token), s.now()).Scan(&tenantID, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return fmt.Errorf("spend unlock token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, userID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.AccountUnlocked, Actor: audit.User(userID),
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"ip": ipDetail(c.IP), "via": "email_link"}})
	})
}

// UnlockByOperator clears a lock from the command line.
func (s *Service) UnlockByOperator(ctx context.Context, tenantID, userID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.AccountUnlocked, Actor: audit.Operator,
			Objects: []audit.Ref{{Kind: "user", ID: userID}}, Details: map[string]string{"via": "operator"}})
	})
}
