package account_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// deviceEnv is a lockout env whose service throttles by an hour: any
// attempt the throttle holds back waits far longer than the test, so an
// attempt that returns was not slowed at all.
func deviceEnv(t *testing.T) (*env, *account.User) {
	t.Helper()
	e, u := lockoutEnv(t)
	key := make([]byte, 32)
	rand.Read(key)
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2,
		ThrottleBase: time.Hour, Queue: notify.NewQueue(e.db), BaseURL: "https://jobs.example", DeviceKey: key})
	e.svc.SetClock(e.clock.now)
	return e, u
}

// quick is a context for an attempt that must not wait for the throttle.
func quick(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// trusted signs a user in from a browser and returns that browser with the
// device cookie it was given.
func trusted(t *testing.T, e *env, login, password, ip string) account.Client {
	t.Helper()
	ctx := context.Background()
	c := account.Client{IP: ip, UserAgent: "Owner's browser"}
	token, p, err := e.svc.SignIn(ctx, login, password, c)
	if err != nil || p.MFAPending {
		t.Fatalf("owner's sign-in: %v", err)
	}
	dc, err := e.svc.TrustDevice(ctx, token, c)
	if err != nil || dc.Value == "" || !dc.Expires.After(e.clock.now()) {
		t.Fatalf("trust device: %+v, %v", dc, err)
	}
	c.Device = dc.Value
	return c
}

// lockFromElsewhere has an attacker send n wrong passwords at once from
// other browsers, through an instance of its own (whose throttle has not
// seen them before), enough to lock the account when n >= 5.
func lockFromElsewhere(t *testing.T, e *env, login string, n int) {
	t.Helper()
	attacker := instances(t, e, 1)[0]
	allAtOnce(n, func(i int) {
		attacker.SignIn(quick(t), login, fmt.Sprintf("guess-%d", i), account.Client{IP: fmt.Sprintf("203.0.113.%d", i%250+1)})
	})
}

func isLocked(t *testing.T, e *env, u *account.User) bool {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until > $2`, u.ID, e.clock.now()) == 1
}

// TestDeviceCookieKeepsTheOwnerIn: an attacker's wrong passwords from other
// browsers lock the account and fill the login's throttle, yet the owner's
// browser, which signed in before, neither waits nor is locked out.
func TestDeviceCookieKeepsTheOwnerIn(t *testing.T) {
	e, u := deviceEnv(t)
	owner := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	// Three wrong passwords through the owner's instance fill its throttle
	// for the login (from now on an unknown browser waits an hour there),
	// and two more through another instance lock the account.
	for i := range 3 {
		e.svc.SignIn(quick(t), "alice", "guess", account.Client{IP: fmt.Sprintf("198.51.100.%d", i+1)})
	}
	lockFromElsewhere(t, e, "alice", 2)
	if !isLocked(t, e, u) {
		t.Fatal("five wrong passwords from other browsers did not lock the account")
	}
	// An unknown browser with the right password is refused (and throttled:
	// its context runs out).
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "192.0.2.99"}); err == nil {
		t.Fatal("the right password from an unknown browser got in during the lock")
	}
	// The owner's browser: not slowed (quick would run out), not locked.
	token, p, err := e.svc.SignIn(quick(t), "alice", goodPassword, owner)
	if err != nil || p.UserID != u.ID {
		t.Fatalf("owner with the device cookie during the lock: %v", err)
	}
	// The session remembers the device, for the second step to see.
	if n := e.count(t, `SELECT count(*) FROM sessions s JOIN trusted_devices d ON d.tenant_id = s.tenant_id AND d.id = s.device_id
		WHERE s.token_hash = $1`, id.HashToken(token)); n != 1 {
		t.Fatal("the session does not name the trusted device it was started from")
	}
	// Its typos count on the device, not on the account.
	if _, _, err := e.svc.SignIn(quick(t), "alice", otherPassword, owner); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("owner's typo: %v", err)
	}
	if n := e.count(t, `SELECT failed_attempts FROM trusted_devices WHERE user_id = $1`, u.ID); n != 1 {
		t.Fatalf("device failures %d, want 1", n)
	}
	// Renewing the cookie keeps the same device.
	e.clock.advance(time.Minute)
	dc, err := e.svc.TrustDevice(context.Background(), token, owner)
	if err != nil || e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1`, u.ID) != 1 {
		t.Fatalf("renewal: %v, %d devices", err, e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1`, u.ID))
	}
	if dc.Value == owner.Device || !strings.HasPrefix(dc.Value, strings.Join(strings.Split(owner.Device, ".")[:2], ".")) {
		t.Fatalf("renewed cookie %q from %q: want the same nonce with a new expiry", dc.Value, owner.Device)
	}
}

// TestDeviceCookieNotHeldByOthersInFlight: an attacker's attempt in flight
// for the login (holding its slot in the gate) does not hold the owner's
// browser back.
func TestDeviceCookieNotHeldByOthersInFlight(t *testing.T) {
	e, _ := deviceEnv(t)
	owner := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	held, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	account.SetAfterVerify(e.svc, func(_ string, ok bool) {
		if !ok && first.CompareAndSwap(false, true) {
			close(held)
			<-release
		}
	})
	done := make(chan struct{})
	defer func() { close(release); <-done }()
	go func() {
		defer close(done)
		e.svc.SignIn(context.Background(), "alice", "guess", account.Client{IP: "203.0.113.1"})
	}()
	<-held
	// An unknown browser queues behind the held attempt...
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "192.0.2.77"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an unknown browser beside a held attempt: %v, want it to wait", err)
	}
	// ...the owner's browser does not.
	if _, _, err := e.svc.SignIn(quick(t), "alice", goodPassword, owner); err != nil {
		t.Fatalf("owner beside a held attempt: %v", err)
	}
}

// TestDeviceCookieLocksItself: five wrong passwords with one device cookie
// lock that browser only (no email: the owner is not locked out), and a
// locked device counts as an unknown browser again.
func TestDeviceCookieLocksItself(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	stolen := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	for i := range account.DefaultMaxFailures {
		if _, _, err := e.svc.SignIn(ctx, "alice", fmt.Sprintf("guess-%d", i), stolen); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1 AND locked_until > $2 AND failed_attempts = 0`, u.ID, e.clock.now()); n != 1 {
		t.Fatal("the device is not locked after five failures with it")
	}
	if isLocked(t, e, u) || e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID) != 0 {
		t.Fatal("failures with a device cookie counted on the account")
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%scope=device%'`, string(audit.AccountLocked)); n != 1 {
		t.Fatalf("%d device locks recorded, want 1", n)
	}
	if links := unlockEmails(t, e); len(links) != 0 {
		t.Fatalf("%d unlock emails for a locked device, want none", len(links))
	}
	// The locked device is an unknown browser now: its failures count on
	// the account, and once the account is locked the right password fails.
	for range account.DefaultMaxFailures {
		e.svc.SignIn(ctx, "alice", otherPassword, stolen)
	}
	if !isLocked(t, e, u) {
		t.Fatal("a locked device's failures did not count on the account")
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, stolen); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("locked device, locked account, right password: %v", err)
	}
}

// TestParallelFailuresWithOneDeviceCookie: a stolen device cookie used by
// forty parallel guesses over several instances locks that device once,
// and the right password with it never gets in after that lock.
func TestParallelFailuresWithOneDeviceCookie(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	svcs := instances(t, e, 4)
	e.svc = svcs[0]
	stolen := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	allAtOnce(41, func(i int) {
		password := fmt.Sprintf("guess-%d", i)
		if i == 20 {
			password = goodPassword
		}
		svcs[i%len(svcs)].SignIn(ctx, "alice", password, stolen)
	})
	if n := e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1 AND locked_until > $2`, u.ID, e.clock.now()); n != 1 {
		t.Fatal("the device is not locked")
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%scope=device%'`, string(audit.AccountLocked)); n != 1 {
		t.Fatalf("%d device locks, want 1", n)
	}
	// The device's own records: five counted failures, then the lock, then
	// neither a success nor a counted failure with it. (Attempts that read
	// the device as locked before they started are an unknown browser's,
	// recorded with device=false and counted on the account.)
	counted, locked := 0, false
	for _, ev := range securityTrail(t, e, u.TenantID) {
		onDevice := strings.Contains(ev.details, "device=true")
		switch {
		case ev.action == string(audit.AccountLocked) && strings.Contains(ev.details, "scope=device"):
			locked = true
			if counted != account.DefaultMaxFailures {
				t.Errorf("device locked after %d counted failures", counted)
			}
		case ev.action == string(audit.AccountLocked):
		case !onDevice:
		case ev.action == string(audit.SignInSucceeded) && locked:
			t.Error("a sign-in with the locked device succeeded")
		case ev.action == string(audit.SignInSucceeded):
			counted = 0
		case strings.Contains(ev.details, "reason=wrong_password"):
			if locked {
				t.Error("a failure counted on the locked device")
			}
			counted++
		}
	}
	if !locked {
		t.Error("no device lock recorded")
	}
}

// TestDeviceCookieThatIsNotValidGivesNothing: during a lock, a forged,
// expired, other user's, or other installation's cookie is no better than
// none.
func TestDeviceCookieThatIsNotValidGivesNothing(t *testing.T) {
	ctx := context.Background()
	e, u := deviceEnv(t)
	e.user(t, u.TenantID, "bob", otherPassword)
	alice := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	bob := trusted(t, e, "bob", otherPassword, "192.0.2.51")
	// A device made by another installation (another key).
	other := e.kit.NewAccounts(account.Options{Argon2: fastArgon2})
	other.SetClock(e.clock.now)
	tok, _, err := other.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.TrustDevice(ctx, tok, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(alice.Device, ".")
	flip := func(s string) string {
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	forged := map[string]string{
		"bad MAC":               strings.Join([]string{parts[0], parts[1], parts[2], flip(parts[3])}, "."),
		"other nonce":           strings.Join([]string{parts[0], flip(parts[1]), parts[2], parts[3]}, "."),
		"later expiry":          strings.Join([]string{parts[0], parts[1], parts[2] + "0", parts[3]}, "."),
		"bob's cookie":          bob.Device,
		"other installation":    foreign.Value,
		"garbage":               "not.a.device.cookie",
		"empty":                 "",
		"alice's id, bob's mac": strings.Join(append([]string{parts[0]}, strings.Split(bob.Device, ".")[1:]...), "."),
	}
	lockFromElsewhere(t, e, "alice", account.DefaultMaxFailures)
	if !isLocked(t, e, u) {
		t.Fatal("not locked")
	}
	for name, cookie := range forged {
		c := account.Client{IP: "192.0.2.50", Device: cookie}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, _, err := e.svc.SignIn(ctx, "alice", goodPassword, c)
		cancel()
		if err == nil {
			t.Errorf("%s: signed in during the lock", name)
		}
	}
	// Expired: the real cookie, after its lifetime.
	e.clock.advance(account.DeviceLifetime + time.Minute)
	lockFromElsewhere(t, e, "alice", account.DefaultMaxFailures)
	ctx2, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := e.svc.SignIn(ctx2, "alice", goodPassword, alice); err == nil {
		t.Error("expired cookie: signed in during the lock")
	}
}

// TestReauthAndPasswordChangeFailuresLock: a stolen session cannot guess
// the password through re-authentication or the password change: their
// failures count and lock like sign-in's, once, with one email, and the
// right password is refused during the lock, except from the owner's
// trusted browser.
func TestReauthAndPasswordChangeFailuresLock(t *testing.T) {
	for _, path := range []string{"reauth", "change"} {
		t.Run(path, func(t *testing.T) {
			ctx := context.Background()
			e, u := lockoutEnv(t)
			owner := trusted(t, e, "alice", goodPassword, "192.0.2.50")
			svcs := instances(t, e, 3)
			stolen := e.session(t, u)
			p, err := e.svc.Authenticate(ctx, stolen)
			if err != nil {
				t.Fatal(err)
			}
			try := func(svc *account.Service, password string, c account.Client) error {
				if path == "reauth" {
					return svc.Reauthenticate(ctx, p, password, c)
				}
				return svc.ChangePassword(ctx, access.Actor{TenantID: u.TenantID, UserID: u.ID}, password, "a brand new one 9", c)
			}
			allAtOnce(30, func(i int) {
				err := try(svcs[i%len(svcs)], fmt.Sprintf("guess-%d", i), account.Client{IP: fmt.Sprintf("203.0.113.%d", i+1)})
				if !errors.Is(err, account.ErrWrongPassword) && !errors.Is(err, account.ErrTooManyAttempts) {
					t.Errorf("wrong password: %v, want ErrWrongPassword", err)
				}
			})
			if !isLocked(t, e, u) {
				t.Fatal("thirty wrong passwords did not lock the account")
			}
			if links := unlockEmails(t, e); len(links) != 1 {
				t.Fatalf("%d unlock emails, want 1", len(links))
			}
			checkLockOrder(t, securityTrail(t, e, u.TenantID))
			if err := try(e.svc, goodPassword, account.Client{IP: "203.0.113.200"}); !errors.Is(err, account.ErrWrongPassword) {
				t.Fatalf("right password during the lock: %v, want ErrWrongPassword", err)
			}
			if n := e.count(t, `SELECT count(*) FROM audit_records WHERE details LIKE '%via=reauthentication%' OR details LIKE '%via=password_change%'`); n < 30 {
				t.Fatalf("%d failures recorded with where they came from, want 31", n)
			}
			// The owner's browser is not held by the lock.
			if path == "reauth" {
				owner.IP = "192.0.2.50"
				if err := try(e.svc, goodPassword, owner); err != nil {
					t.Fatalf("owner's browser: %v", err)
				}
			} else {
				if err := try(e.svc, goodPassword, owner); err != nil {
					t.Fatalf("owner's browser: %v", err)
				}
				if n := e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1`, u.ID); n != 0 {
					t.Fatalf("%d device cookies survived the password change", n)
				}
			}
		})
	}
}

// TestUnlockLinkAsksForThePassword: the emailed link signs the owner in
// only with the password; wrong ones count on the link, which dies after
// five; the right one signs in, trusts the browser, and spends the link.
func TestUnlockLinkAsksForThePassword(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	lock := func() string {
		t.Helper()
		for range account.DefaultMaxFailures {
			e.svc.SignIn(ctx, "alice", otherPassword, account.Client{IP: "203.0.113.1"})
		}
		links := unlockEmails(t, e)
		return links[len(links)-1]
	}
	link := lock()
	c := account.Client{IP: "192.0.2.60"}
	if _, err := e.svc.Unlock(ctx, link, otherPassword, c); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("wrong password at the link: %v", err)
	}
	if !e.svc.UnlockTokenValid(ctx, link) {
		t.Fatal("one wrong password spent the link")
	}
	res, err := e.svc.Unlock(ctx, link, goodPassword, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Principal.UserID != u.ID || res.Principal.MFAPending || res.Device.Value == "" {
		t.Fatalf("unlock: %+v", res)
	}
	if !isLocked(t, e, u) {
		t.Fatal("the link lifted the lock for every browser")
	}
	c.Device = res.Device.Value
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, c); err != nil {
		t.Fatalf("the browser of the link, during the lock: %v", err)
	}
	// A second lock, a second link: five wrong passwords kill it.
	e.clock.advance(2 * time.Hour)
	link = lock()
	for range 5 {
		e.svc.Unlock(ctx, link, otherPassword, account.Client{IP: "203.0.113.1"})
	}
	if _, err := e.svc.Unlock(ctx, link, goodPassword, account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("the link after five wrong passwords: %v, want ErrTokenInvalid", err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%method=unlock_link%'`, string(audit.SignInSucceeded)); n != 1 {
		t.Fatalf("%d sign-ins through the link recorded, want 1", n)
	}
}

// TestPasswordResetTrustsTheBrowser: the browser that used the reset link
// gets a device cookie (the others' die with the old password), so an
// attacker who locks the account again right after does not lock it out.
func TestPasswordResetTrustsTheBrowser(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	old := trusted(t, e, "alice", goodPassword, "192.0.2.50")
	e.svc.RequestPasswordReset(ctx, "alice", account.Client{IP: "192.0.2.60"})
	token := queuedLink(t, e, "/password/reset/")
	dc, err := e.svc.ResetPassword(ctx, token, "a brand new one 9", account.Client{IP: "192.0.2.60"})
	if err != nil || dc.Value == "" {
		t.Fatalf("reset: %+v %v", dc, err)
	}
	lockFromElsewhere(t, e, "alice", account.DefaultMaxFailures)
	if !isLocked(t, e, u) {
		t.Fatal("not locked")
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", "a brand new one 9", account.Client{IP: "192.0.2.60", Device: dc.Value}); err != nil {
		t.Fatalf("the reset link's browser during a new lock: %v", err)
	}
	old.Device = strings.TrimSpace(old.Device)
	if _, _, err := e.svc.SignIn(ctx, "alice", "a brand new one 9", old); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("a device cookie from before the reset: %v, want ErrInvalidCredentials", err)
	}
}

// TestTrustDeviceNeedsACompleteSignIn: a session still waiting for its
// second step, or none, trusts no browser.
func TestTrustDeviceNeedsACompleteSignIn(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	if _, err := e.svc.TrustDevice(ctx, "no-such-session", account.Client{}); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("no session: %v", err)
	}
	e.exec(t, `UPDATE users SET mfa_email = TRUE WHERE id = $1`, u.ID)
	token, p, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil || !p.MFAPending {
		t.Fatalf("sign-in with a second step: %v", err)
	}
	if _, err := e.svc.TrustDevice(ctx, token, account.Client{}); !errors.Is(err, account.ErrSignInIncomplete) {
		t.Fatalf("pending session: %v, want ErrSignInIncomplete", err)
	}
}

// TestDevicesPerUserBounded: each new browser adds a device; beyond ten the
// oldest go.
func TestDevicesPerUserBounded(t *testing.T) {
	e, u := lockoutEnv(t)
	var first account.Client
	for i := range 12 {
		c := trusted(t, e, "alice", goodPassword, fmt.Sprintf("192.0.2.%d", i+1))
		if i == 0 {
			first = c
		}
		e.clock.advance(time.Second)
	}
	if n := e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1`, u.ID); n != 10 {
		t.Fatalf("%d devices kept, want 10", n)
	}
	lockFromElsewhere(t, e, "alice", account.DefaultMaxFailures)
	if _, _, err := e.svc.SignIn(context.Background(), "alice", goodPassword, first); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("the oldest, forgotten device during a lock: %v", err)
	}
}

// TestInvitedUserCostsAHash: an invited user has no password hash yet; a
// sign-in against one must still compute a full argon2id hash, as for any
// other account, or its timing tells. Measured by memory, not by time:
// argon2id allocates its memory parameter for every hash.
func TestInvitedUserCostsAHash(t *testing.T) {
	h := account.NewHasher(account.Argon2Params{MemoryKiB: 16 * 1024, Iterations: 1, Parallelism: 1}, 1)
	ctx := context.Background()
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	known, err := h.Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	full := allocated(func() { h.Verify(ctx, otherPassword, known) })
	for _, stored := range []string{"", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$x$y"} {
		if got := allocated(func() { h.Verify(ctx, otherPassword, stored) }); got < full*9/10 {
			t.Errorf("stored hash %q: verification allocated %d bytes, a real one %d", stored, got, full)
		}
	}
}
