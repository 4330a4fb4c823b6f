package account_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
)

// instances returns n account services over e's database, as n server
// processes would be: each with its own gate and throttle in memory, all
// sharing the database and the device-cookie key.
func instances(t *testing.T, e *env, n int) []*account.Service {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	out := make([]*account.Service, n)
	for i := range out {
		out[i] = e.kit.NewAccounts(account.Options{Argon2: fastArgon2,
			ThrottleBase: time.Millisecond, Queue: notify.NewQueue(e.db), BaseURL: "https://jobs.example", DeviceKey: key})
		out[i].SetClock(e.clock.now)
	}
	return out
}

// allAtOnce runs fn(i) for i in [0, n) in n goroutines released at once.
func allAtOnce(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// unlockEmails returns the unlock links queued, in order.
func unlockEmails(t *testing.T, e *env) []string {
	t.Helper()
	var links []string
	for _, raw := range e.column(t, `SELECT message FROM email_queue ORDER BY created_at`) {
		var msg notify.Message
		json.Unmarshal([]byte(raw), &msg)
		if i := strings.Index(msg.Text, "/unlock/"); i >= 0 {
			links = append(links, strings.Fields(msg.Text[i+len("/unlock/"):])[0])
		}
	}
	return links
}

// trailEvent is one record of a user's security trail.
type trailEvent struct{ action, details string }

// securityTrail returns the security records of a company in chain order.
func securityTrail(t *testing.T, e *env, tenantID string) []trailEvent {
	t.Helper()
	var out []trailEvent
	e.read(t, func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT action, details FROM audit_records WHERE tenant_id = $1 AND track = 'security' ORDER BY seq`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev trailEvent
			if err := rows.Scan(&ev.action, &ev.details); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	return out
}

// checkLockOrder walks a trail and fails unless the lock was set after
// exactly MaxFailures counted failures since the last success, and nothing
// was counted or succeeded (for unknown browsers) after it.
func checkLockOrder(t *testing.T, trail []trailEvent) {
	t.Helper()
	counted, locks := 0, 0
	for i, ev := range trail {
		switch {
		case ev.action == string(audit.AccountLocked):
			locks++
			if counted != account.DefaultMaxFailures {
				t.Errorf("record %d: locked after %d counted failures, want %d", i, counted, account.DefaultMaxFailures)
			}
		case locks > 0 && ev.action == string(audit.SignInSucceeded) && strings.Contains(ev.details, "device=false"):
			t.Errorf("record %d: a sign-in succeeded after the lock: %s", i, ev.details)
		case ev.action == string(audit.SignInSucceeded):
			counted = 0
		case ev.action == string(audit.SignInFailed) && strings.Contains(ev.details, "reason=wrong_password"):
			if locks > 0 {
				t.Errorf("record %d: a failure was counted while locked", i)
			}
			counted++
		}
	}
	if locks != 1 {
		t.Errorf("%d locks recorded, want 1", locks)
	}
}

// TestParallelWrongPasswordsLockOnce: forty wrong passwords and the right
// one at once, spread over four instances (so the gate and throttle of one
// process cannot serialise them; only the database can). The account ends
// locked after exactly five counted failures, is locked once and emails
// one unlock link, and the right password never got in after the lock.
func TestParallelWrongPasswordsLockOnce(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	svcs := instances(t, e, 4)
	const n = 40
	var succeeded atomic.Int32
	var unexpected atomic.Value
	allAtOnce(n+1, func(i int) {
		password := otherPassword
		if i == n/2 {
			password = goodPassword
		}
		c := account.Client{IP: fmt.Sprintf("198.51.100.%d", i+1)}
		_, _, err := svcs[i%len(svcs)].SignIn(ctx, "alice", password, c)
		switch {
		case err == nil && password == goodPassword:
			succeeded.Add(1)
		case errors.Is(err, account.ErrInvalidCredentials), errors.Is(err, account.ErrTooManyAttempts):
		default:
			unexpected.Store(fmt.Sprintf("attempt %d: %v", i, err))
		}
	})
	if v := unexpected.Load(); v != nil {
		t.Fatal(v)
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until > $2`, u.ID, e.clock.now()); n != 1 {
		t.Fatal("the account is not locked after forty wrong passwords")
	}
	if n := e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Errorf("%d failures counted while locked, want 0", n)
	}
	if links := unlockEmails(t, e); len(links) != 1 {
		t.Errorf("%d unlock emails queued, want exactly 1", len(links))
	}
	checkLockOrder(t, securityTrail(t, e, u.TenantID))
	// While locked, the right password from any unknown browser is refused.
	for _, svc := range svcs {
		if _, _, err := svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "203.0.113.9"}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("right password while locked: %v, want ErrInvalidCredentials", err)
		}
	}
	t.Logf("the right password got in before the lock: %v", succeeded.Load() == 1)
}

// TestRightPasswordHeldWhileLockedIsRefused holds the right password after
// its hash (and after it read the account as unlocked) until wrong ones
// lock the account: the success's own transaction must see the lock and
// refuse. Without the conditional write there, this sign-in got in.
func TestRightPasswordHeldWhileLockedIsRefused(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	svcs := instances(t, e, 2)
	held, release := make(chan struct{}), make(chan struct{})
	account.SetAfterVerify(svcs[0], func(_ string, ok bool) {
		if ok {
			close(held)
			<-release
		}
	})
	errc := make(chan error, 1)
	go func() {
		_, _, err := svcs[0].SignIn(ctx, "alice", goodPassword, account.Client{IP: "192.0.2.10"})
		errc <- err
	}()
	<-held
	for i := range account.DefaultMaxFailures {
		svcs[1].SignIn(ctx, "alice", otherPassword, account.Client{IP: fmt.Sprintf("203.0.113.%d", i+1)})
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until IS NOT NULL`, u.ID); n != 1 {
		t.Fatal("five failures did not lock")
	}
	close(release)
	if err := <-errc; !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("right password whose check straddled the lock: %v, want ErrInvalidCredentials", err)
	}
	if n := e.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 0 {
		t.Fatalf("%d sessions started while locked", n)
	}
	// The refusal is recorded, and did not count as a failure.
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%reason=locked%'`, string(audit.SignInFailed)); n != 1 {
		t.Errorf("%d refusals for the lock recorded, want 1", n)
	}
}

// TestWrongPasswordHeldWhileLockedIsNotCounted holds a wrong password after
// it read the account as unlocked, until others lock it: its failure must
// then neither count, nor lock again, nor email again.
func TestWrongPasswordHeldWhileLockedIsNotCounted(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	svcs := instances(t, e, 2)
	held, release := make(chan struct{}), make(chan struct{})
	account.SetAfterVerify(svcs[0], func(string, bool) {
		close(held)
		<-release
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		svcs[0].SignIn(ctx, "alice", otherPassword, account.Client{IP: "192.0.2.1"})
	}()
	<-held
	for i := range account.DefaultMaxFailures {
		svcs[1].SignIn(ctx, "alice", otherPassword, account.Client{IP: fmt.Sprintf("203.0.113.%d", i+1)})
	}
	readLock := func() (until time.Time) {
		t.Helper()
		if err := e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&until); err != nil {
			t.Fatal(err)
		}
		return until
	}
	until := readLock()
	e.clock.advance(time.Minute)
	close(release)
	<-done
	if after := readLock(); !after.Equal(until) {
		t.Fatalf("a failure read before the lock moved it from %v to %v", until, after)
	}
	if n := e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("%d failures counted during the lock", n)
	}
	if links := unlockEmails(t, e); len(links) != 1 {
		t.Fatalf("%d unlock emails, want 1", len(links))
	}
	checkLockOrder(t, securityTrail(t, e, u.TenantID))
}

// TestFailuresWhileLockedAreNotCounted: more wrong passwords during the lock
// neither count nor renew the lock nor send another email; when the hour is
// over the count starts from zero.
func TestFailuresWhileLockedAreNotCounted(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	for range account.DefaultMaxFailures {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	var until time.Time
	readLock := func() time.Time {
		var t0 time.Time
		if err := e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&t0); err != nil {
			t.Fatal(err)
		}
		return t0
	}
	until = readLock()
	e.clock.advance(30 * time.Minute)
	for range 12 {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	if got := readLock(); !got.Equal(until) {
		t.Fatalf("lock moved from %v to %v by failures during it", until, got)
	}
	if n := e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("%d failures counted during the lock", n)
	}
	if links := unlockEmails(t, e); len(links) != 1 {
		t.Fatalf("%d unlock emails, want 1", len(links))
	}
	e.clock.advance(31 * time.Minute)
	for range account.DefaultMaxFailures - 1 {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Fatalf("after the lock, four failures and the right password: %v", err)
	}
}

// TestGateRefusesABurstBeforeHashing: while one attempt for a login is
// being checked, at most a queue's worth more wait; the rest of a burst is
// refused at once, without a hash.
func TestGateRefusesABurstBeforeHashing(t *testing.T) {
	ctx := context.Background()
	e, _ := lockoutEnv(t)
	var hashed atomic.Int32
	first, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	account.SetAfterVerify(e.svc, func(string, bool) {
		hashed.Add(1)
		once.Do(func() { close(first); <-release })
	})
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{IP: "192.0.2.1"})
	}()
	<-first
	const burst = 200
	var refused atomic.Int32
	var wg sync.WaitGroup
	results := make(chan error, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each from its own address: only the login's bound applies.
			_, _, err := e.svc.SignIn(ctx, "alice", otherPassword, account.Client{IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)})
			if errors.Is(err, account.ErrTooManyAttempts) {
				refused.Add(1)
			}
			results <- err
		}()
	}
	// The refused ones answer while the first still holds the login's slot.
	for refused.Load() < burst-63 {
		select {
		case err := <-results:
			if !errors.Is(err, account.ErrTooManyAttempts) {
				t.Fatalf("an attempt finished while the first held the slot: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d refused, want %d", refused.Load(), burst-63)
		}
	}
	if h := hashed.Load(); h != 1 {
		t.Fatalf("%d passwords hashed while the first was held, want 1", h)
	}
	close(release)
	wg.Wait()
	<-firstDone
	if got := refused.Load(); got != burst-63 {
		t.Fatalf("%d refused, want %d (64 in flight or waiting)", got, burst-63)
	}
	if h := hashed.Load(); h != 64 {
		t.Fatalf("%d passwords hashed, want 64", h)
	}
}
