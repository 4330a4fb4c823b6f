package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
)

// The second step of sign-in under parallel attempts. Each race starts its
// goroutines together against the real service and database; what must
// hold holds for every interleaving, so the tests check outcomes, never
// timings.

// stepEnv is a company with alice (who has an email address) and a service
// with the keyring, the email queue and the base URL https://jobs.example.
// The clock starts at the real time: passkey ceremonies check theirs.
func stepEnv(t *testing.T, opts account.Options) (*env, *account.User) {
	t.Helper()
	e := newFastEnv(t)
	opts.Argon2, opts.ThrottleBase, opts.Cipher, opts.Queue = fastArgon2, time.Millisecond, e.keys, notify.NewQueue(e.db)
	if opts.BaseURL == "" {
		opts.BaseURL = "https://jobs.example"
	}
	e.svc = e.kit.NewAccounts(opts)
	e.clock.set(time.Now().UTC().Truncate(time.Second))
	e.svc.SetClock(e.clock.now)
	c := e.company(t, "acme")
	u, err := e.svc.CreateUser(context.Background(), access.Operator(c.ID), account.CreateUserInput{
		Login: "alice", Email: "alice@acme.example", DisplayName: "Alice", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return e, u
}

// withTOTP turns on an authenticator app for u and returns its secret and
// recovery codes; the clock then moves to the next time step, so the
// enrolment's code is history.
func withTOTP(t *testing.T, e *env, u *account.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	p, err := e.svc.Authenticate(ctx, e.session(t, u))
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginTOTP(ctx, p.Actor())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, p, code(t, en.Secret, e.clock.now()), account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(30 * time.Second)
	return en.Secret, codes
}

// withEmailCodes turns on codes by email for u.
func withEmailCodes(t *testing.T, e *env, u *account.User) {
	t.Helper()
	ctx := context.Background()
	p, err := e.svc.Authenticate(ctx, e.session(t, u))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.BeginEmailMFA(ctx, p.Actor()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmEmailMFA(ctx, p, lastCode(t, e), account.Client{}); err != nil {
		t.Fatal(err)
	}
}

// pendingSignIns signs alice in n times with her password: n sessions
// waiting for the second step.
func pendingSignIns(t *testing.T, e *env, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		token, p, err := e.svc.SignIn(context.Background(), "alice", goodPassword, account.Client{})
		if err != nil || !p.MFAPending {
			t.Fatalf("sign-in %d: %v (pending %v)", i, err, p != nil && p.MFAPending)
		}
		tokens[i] = token
	}
	return tokens
}

// race runs f(0..n-1) in goroutines released at once and returns what
// each returned. The attempts at the second step among them wait for each
// other before their transactions (account.SetStepBarrier), so all of them
// have read what they read first before any writes.
func race(t *testing.T, n int, f func(i int) (string, error)) ([]string, []error) {
	t.Helper()
	var arrived sync.WaitGroup
	arrived.Add(n)
	var stuck atomic.Bool
	defer account.SetStepBarrier(func() {
		arrived.Done()
		// An attempt refused before the barrier would hold the others for
		// ever: they give up waiting, and the test fails.
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			stuck.Store(true)
		}
	})()
	tokens, errs := make([]string, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tokens[i], errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	if stuck.Load() {
		t.Error("an attempt of the race never reached its transaction")
	}
	return tokens, errs
}

// successes counts the attempts that returned a session, and fails the
// test on any error but ErrInvalidCode and the ones allowed.
func successes(t *testing.T, tokens []string, errs []error, allowed ...error) int {
	t.Helper()
	n := 0
	for i, err := range errs {
		switch {
		case err == nil && tokens[i] != "":
			n++
		case errors.Is(err, account.ErrInvalidCode):
		default:
			ok := false
			for _, a := range allowed {
				ok = ok || errors.Is(err, a)
			}
			if !ok {
				t.Errorf("attempt %d: %v", i, err)
			}
		}
	}
	return n
}

// otherCodes returns n six-digit codes none of which the authenticator
// accepts around now (one step either side).
func otherCodes(t *testing.T, secret string, now time.Time, n int) []string {
	t.Helper()
	right := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		right[code(t, secret, now.Add(d))] = true
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		if c := fmt.Sprintf("%06d", i*7919%1_000_000); !right[c] {
			out = append(out, c)
		}
	}
	return out
}

// lockElsewhere locks alice's account as wrong passwords from another
// browser (or another instance) would.
func lockElsewhere(t *testing.T, e *env, u *account.User) {
	t.Helper()
	e.exec(t, `UPDATE users SET locked_until = $1 WHERE id = $2`, e.clock.now().Add(time.Hour), u.ID)
}

// records counts the trail's records of an action about u.
func (e *env) records(t *testing.T, u *account.User, action audit.Action) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2`, u.TenantID, string(action))
}

// unlockEmails counts the queued emails with an unlock link.
func (e *env) unlockEmails(t *testing.T) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM email_queue WHERE message LIKE '%/unlock/%'`)
}

// checkLockedOnce checks the end of a burst of wrong codes: the account is
// locked, once (one record, one unlock email), every session of it has
// ended, and nothing was counted after the lock.
func checkLockedOnce(t *testing.T, e *env, u *account.User) {
	t.Helper()
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until > $2`, u.ID, e.clock.now()); n != 1 {
		t.Fatal("the account is not locked")
	}
	if n := e.records(t, u, audit.AccountLocked); n != 1 {
		t.Fatalf("locked %d times, want once", n)
	}
	if n := e.unlockEmails(t); n != 1 {
		t.Fatalf("%d unlock emails queued, want 1", n)
	}
	if n := e.sessionsOf(t, u); n != 0 {
		t.Fatalf("%d sessions survived the lock", n)
	}
	if n := e.count(t, `SELECT mfa_failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("failures counted while locked: %d", n)
	}
}

func TestRacedTOTPCodeCompletesOneSignIn(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	secret, _ := withTOTP(t, e, u)
	const n, rounds = 8, 6
	full := func() int {
		return e.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1 AND NOT mfa_pending`, u.ID)
	}
	// One code, n sign-ins waiting (as when a phished code is relayed), in
	// several time steps: one interleaving that lets two through fails.
	for round := range rounds {
		e.clock.advance(30 * time.Second)
		tokens := pendingSignIns(t, e, n)
		before := full()
		now := code(t, secret, e.clock.now())
		got, errs := race(t, n, func(i int) (string, error) { return e.svc.VerifySecondFactor(ctx, tokens[i], now, account.Client{}) })
		if ok := successes(t, got, errs); ok != 1 {
			t.Fatalf("round %d: one TOTP code completed %d of %d sign-ins, want 1", round, ok, n)
		}
		if after := full(); after != before+1 {
			t.Fatalf("round %d: %d new full sessions, want 1", round, after-before)
		}
	}
	// One code, one waiting sign-in, n submissions of it.
	e.clock.advance(30 * time.Second)
	token := pendingSignIns(t, e, 1)[0]
	next := code(t, secret, e.clock.now())
	got, errs := race(t, n, func(int) (string, error) { return e.svc.VerifySecondFactor(ctx, token, next, account.Client{}) })
	if ok := successes(t, got, errs, account.ErrNoSession); ok != 1 {
		t.Fatalf("one waiting sign-in completed %d times, want once", ok)
	}
	if n := e.records(t, u, audit.MFASucceeded); n != rounds+1 {
		t.Fatalf("%d second steps recorded, want %d", n, rounds+1)
	}
}

func TestRacedWrongTOTPCodesLockOnce(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	secret, _ := withTOTP(t, e, u)
	// More wrong codes than twice the limit: whenever the right one runs,
	// at least five wrong ones follow it or came before it.
	const n = 13
	tokens := pendingSignIns(t, e, n)
	wrong := otherCodes(t, secret, e.clock.now(), n-1)
	right := code(t, secret, e.clock.now())
	full, errs := race(t, n, func(i int) (string, error) {
		if i == n-1 {
			return e.svc.VerifySecondFactor(ctx, tokens[i], right, account.Client{})
		}
		return e.svc.VerifySecondFactor(ctx, tokens[i], wrong[i], account.Client{})
	})
	if ok := successes(t, full, errs, account.ErrNoSession); ok > 1 {
		t.Fatalf("%d sign-ins completed", ok)
	}
	checkLockedOnce(t, e, u)
}

func TestSecondStepRefusedWhileLocked(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	secret, codes := withTOTP(t, e, u)
	token := pendingSignIns(t, e, 1)[0]
	lockElsewhere(t, e, u)
	var until time.Time
	e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&until)

	right := code(t, secret, e.clock.now())
	for _, c := range append([]string{right, codes[0]}, otherCodes(t, secret, e.clock.now(), 7)...) {
		if _, err := e.svc.VerifySecondFactor(ctx, token, c, account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("code %s while locked: %v, want ErrInvalidCode", c, err)
		}
	}
	// Nothing was counted or spent, the lock was not extended, no email went.
	if n := e.count(t, `SELECT mfa_failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("%d failures counted while locked", n)
	}
	var after time.Time
	e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&after)
	if !after.Equal(until) || e.unlockEmails(t) != 0 || e.records(t, u, audit.AccountLocked) != 0 {
		t.Fatalf("the lock moved from %v to %v, or was announced again", until, after)
	}
	if left, _ := e.svc.RecoveryCodesLeft(ctx, u.TenantID, u.ID); left != 10 {
		t.Fatalf("a recovery code was spent while locked: %d left", left)
	}
	// Once the lock is lifted, the same code completes the waiting sign-in.
	e.exec(t, `UPDATE users SET locked_until = NULL WHERE id = $1`, u.ID)
	if _, err := e.svc.VerifySecondFactor(ctx, token, right, account.Client{}); err != nil {
		t.Fatalf("the code after the lock: %v", err)
	}
}

func TestRacedEmailCodeCompletesOneSignIn(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	withEmailCodes(t, e, u)
	const n = 8
	tokens := pendingSignIns(t, e, n)
	sent := lastCode(t, e) // the newest; each sign-in retired the one before
	full, errs := race(t, n, func(i int) (string, error) { return e.svc.VerifySecondFactor(ctx, tokens[i], sent, account.Client{}) })
	if ok := successes(t, full, errs); ok != 1 {
		t.Fatalf("one emailed code completed %d of %d sign-ins, want 1", ok, n)
	}
}

func TestRacedWrongEmailCodesLockOnce(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	withEmailCodes(t, e, u)
	const n = 13
	tokens := pendingSignIns(t, e, n)
	right := lastCode(t, e)
	queued := e.count(t, `SELECT count(*) FROM email_queue`)
	full, errs := race(t, n, func(i int) (string, error) {
		c := right
		if i < n-1 {
			c = fmt.Sprintf("%06d", (i*7919+1)%1_000_000)
			if c == right {
				c = "x" + c
			}
		}
		return e.svc.VerifySecondFactor(ctx, tokens[i], c, account.Client{})
	})
	if ok := successes(t, full, errs, account.ErrNoSession); ok > 1 {
		t.Fatalf("%d sign-ins completed", ok)
	}
	checkLockedOnce(t, e, u)
	if got := e.count(t, `SELECT count(*) FROM email_queue`); got != queued+1 {
		t.Fatalf("%d emails queued by the burst, want the one unlock email", got-queued)
	}
}

func TestNewCodeRetiresTheOldAndRepeatsNoRememberedOne(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	p, _ := e.svc.Authenticate(ctx, e.session(t, u))
	e.svc.BeginEmailMFA(ctx, p.Actor())
	first := lastCode(t, e)
	e.svc.BeginEmailMFA(ctx, p.Actor())
	second := lastCode(t, e)
	if first == second {
		t.Fatal("a new code repeated the live one")
	}
	if _, err := e.svc.ConfirmEmailMFA(ctx, p, first, account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("the retired code: %v, want ErrInvalidCode", err)
	}
	if _, err := e.svc.ConfirmEmailMFA(ctx, p, second, account.Client{}); err != nil {
		t.Fatalf("the newest code: %v", err)
	}

	// A source that repeats itself: the code just used, and the code
	// retired, are drawn again and refused by the unique index.
	var mu sync.Mutex
	draws := []string{"111111", "111111", "222222", "111111", "222222", "333333"}
	restore := account.SetSixDigits(func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(draws) == 0 {
			return "999999", nil
		}
		d := draws[0]
		draws = draws[1:]
		return d, nil
	})
	defer restore()
	token := pendingSignIns(t, e, 1)[0]
	if c := lastCode(t, e); c != "111111" {
		t.Fatalf("sent %s", c)
	}
	if _, err := e.svc.VerifySecondFactor(ctx, token, "111111", account.Client{}); err != nil {
		t.Fatal(err)
	}
	pendingSignIns(t, e, 1) // draws 111111 (used), then 222222
	if c := lastCode(t, e); c != "222222" {
		t.Fatalf("sent %s after the used 111111, want 222222", c)
	}
	token = pendingSignIns(t, e, 1)[0] // 111111 used, 222222 retired: 333333
	if c := lastCode(t, e); c != "333333" {
		t.Fatalf("sent %s, want 333333", c)
	}
	if _, err := e.svc.VerifySecondFactor(ctx, token, "222222", account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("the retired code at sign-in: %v", err)
	}
	// Codes are forgotten a day after they were sent, and may then come back.
	e.clock.advance(25 * time.Hour)
	draws = []string{"111111"}
	pendingSignIns(t, e, 1)
	if c := lastCode(t, e); c != "111111" {
		t.Fatalf("sent %s a day later, want 111111", c)
	}
	if n := e.count(t, `SELECT count(*) FROM account_tokens WHERE user_id = $1`, u.ID); n != 1 {
		t.Fatalf("%d codes kept, want the live one", n)
	}
}

func TestRacedRecoveryCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	_, codes := withTOTP(t, e, u)
	const n = 8
	tokens := pendingSignIns(t, e, n)
	full, errs := race(t, n, func(i int) (string, error) {
		return e.svc.VerifySecondFactor(ctx, tokens[i], codes[4], account.Client{})
	})
	if ok := successes(t, full, errs); ok != 1 {
		t.Fatalf("one recovery code completed %d of %d sign-ins, want 1", ok, n)
	}
	if left, _ := e.svc.RecoveryCodesLeft(ctx, u.TenantID, u.ID); left != 9 {
		t.Fatalf("%d recovery codes left, want 9", left)
	}
}

// firstForm is a recovery code as Kandidat stored it before keyed hashes:
// SHA-256 bound to the user id, the code in lower case with its dash.
func firstForm(userID, code string) string {
	sum := sha256.Sum256([]byte("kandidat-recovery/v1|" + userID + "|" + code))
	return hex.EncodeToString(sum[:])
}

func storedRecoveryCodes(t *testing.T, e *env, u *account.User) []string {
	t.Helper()
	return e.column(t, `SELECT code_hash FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID)
}

func TestRecoveryCodesAreStoredUnderAKey(t *testing.T) {
	e, u := stepEnv(t, account.Options{})
	_, codes := withTOTP(t, e, u)
	stored := storedRecoveryCodes(t, e, u)
	if len(stored) != 10 {
		t.Fatalf("%d codes stored", len(stored))
	}
	for _, h := range stored {
		if !strings.HasPrefix(h, "k1:") {
			t.Errorf("stored %q, not under the user's key", h)
		}
		for _, c := range codes {
			plain := sha256.Sum256([]byte(c))
			if h == firstForm(u.ID, c) || strings.Contains(h, hex.EncodeToString(plain[:])) {
				t.Fatalf("code %s is stored as a bare SHA-256", c)
			}
		}
	}
	var key []byte
	e.row(`SELECT recovery_key FROM users WHERE id = $1`, u.ID).Scan(&key)
	if len(key) < 32 {
		t.Fatalf("recovery key of %d bytes stored", len(key))
	}
	// A new set keeps the key and replaces every code.
	p, _ := e.svc.Authenticate(context.Background(), e.session(t, u))
	if err := e.svc.DisableTOTP(context.Background(), p, codes[0], account.Client{}); err != nil {
		t.Fatal(err)
	}
	if left := storedRecoveryCodes(t, e, u); len(left) != 0 {
		t.Fatalf("%d codes left after turning the app off", len(left))
	}
}

// legacyCodes gives u recovery codes in the first form and no key, as a
// database from before keyed hashes has them.
func legacyCodes(t *testing.T, e *env, u *account.User, codes ...string) {
	t.Helper()
	e.exec(t, `DELETE FROM recovery_codes WHERE user_id = $1`, u.ID)
	e.exec(t, `UPDATE users SET recovery_key = NULL WHERE id = $1`, u.ID)
	for _, c := range codes {
		e.exec(t, `INSERT INTO recovery_codes (tenant_id, user_id, code_hash) VALUES ($1, $2, $3)`, u.TenantID, u.ID, firstForm(u.ID, c))
	}
}

func TestRecoveryCodesOfTheFirstFormStillWork(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	withTOTP(t, e, u)
	legacyCodes(t, e, u, "abcde-fghij", "klmno-pqrst", "uvwxy-z2345")

	tokens := pendingSignIns(t, e, 3)
	// As typed from paper: upper case, no dash.
	if _, err := e.svc.VerifySecondFactor(ctx, tokens[0], "ABCDEFGHIJ", account.Client{}); err != nil {
		t.Fatalf("a code of the first form: %v", err)
	}
	// The user's codes were re-hashed under a new key of theirs.
	for _, h := range storedRecoveryCodes(t, e, u) {
		if !strings.HasPrefix(h, "k1:") {
			t.Fatalf("code left in the first form: %s", h)
		}
	}
	if _, err := e.svc.VerifySecondFactor(ctx, tokens[1], "abcde-fghij", account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("a used code of the first form: %v", err)
	}
	if _, err := e.svc.VerifySecondFactor(ctx, tokens[2], "klmno-pqrst", account.Client{}); err != nil {
		t.Fatalf("a re-hashed code: %v", err)
	}
}

func TestUpgradeRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	withTOTP(t, e, u)
	legacyCodes(t, e, u, "abcde-fghij", "klmno-pqrst")
	if n, err := e.svc.UpgradeRecoveryCodes(ctx); err != nil || n != 0 {
		t.Fatalf("without the migration's task: %d re-hashed, %v", n, err)
	}
	e.exec(t, `INSERT INTO pending_backfills (name, created_at) VALUES ('recovery_codes', $1)`, e.clock.now())
	if n, err := e.svc.UpgradeRecoveryCodes(ctx); err != nil || n != 2 {
		t.Fatalf("re-hashed %d, %v; want 2", n, err)
	}
	for _, h := range storedRecoveryCodes(t, e, u) {
		if !strings.HasPrefix(h, "k1:") {
			t.Fatalf("code left in the first form: %s", h)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM pending_backfills WHERE name = 'recovery_codes'`); n != 0 {
		t.Fatal("the task stayed pending")
	}
	token := pendingSignIns(t, e, 1)[0]
	if _, err := e.svc.VerifySecondFactor(ctx, token, "klmno-pqrst", account.Client{}); err != nil {
		t.Fatalf("a re-hashed code: %v", err)
	}
}
