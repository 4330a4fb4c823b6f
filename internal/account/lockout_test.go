package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

func lockoutEnv(t *testing.T) (*env, *account.User) {
	t.Helper()
	e := newFastEnv(t)
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2, ThrottleBase: time.Millisecond,
		Queue: notify.NewQueue(e.db), BaseURL: "https://jobs.example"})
	e.svc.SetClock(e.clock.now)
	c := e.company(t, "acme")
	u, err := e.svc.CreateUser(context.Background(), access.Operator(c.ID), account.CreateUserInput{
		Login: "alice", Email: "alice@acme.example", DisplayName: "Alice", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return e, u
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	fail := func() {
		t.Helper()
		if _, _, err := e.svc.SignIn(ctx, "alice", otherPassword, account.Client{IP: "198.51.100.4"}); err != account.ErrInvalidCredentials {
			t.Fatalf("wrong password: %v", err)
		}
	}
	for i := 0; i < 4; i++ {
		fail()
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until IS NOT NULL`, u.ID); n != 0 {
		t.Fatal("locked after four failures")
	}
	fail()
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until IS NOT NULL`, u.ID); n != 1 {
		t.Fatal("not locked after five failures")
	}
	// The right password now gets the same answer as a wrong one.
	_, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "203.0.113.8"})
	if err != account.ErrInvalidCredentials {
		t.Fatalf("locked account with the right password: %v, want ErrInvalidCredentials", err)
	}
	// The owner was emailed a link.
	var raw string
	if err := e.row(`SELECT message FROM email_queue`).Scan(&raw); err != nil {
		t.Fatalf("no unlock email queued: %v", err)
	}
	var msg notify.Message
	json.Unmarshal([]byte(raw), &msg)
	if len(msg.To) != 1 || msg.To[0] != "alice@acme.example" || !strings.Contains(msg.Text, "https://jobs.example/unlock/") {
		t.Fatalf("unlock email: %+v", msg)
	}
	token := msg.Text[strings.Index(msg.Text, "/unlock/")+len("/unlock/"):]
	token = strings.Fields(token)[0]
	if !e.svc.UnlockTokenValid(ctx, token) {
		t.Fatal("the emailed link is not valid")
	}
	// The link asks for the password, then signs the owner in and makes
	// the browser a trusted device.
	owner := account.Client{IP: "203.0.113.8"}
	res, err := e.svc.Unlock(ctx, token, goodPassword, owner)
	if err != nil {
		t.Fatal(err)
	}
	if res.Principal == nil || res.Principal.UserID != u.ID || !e.sessionExists(t, res.Session) || res.Device.Value == "" {
		t.Fatalf("unlock link: %+v, want a session of alice and a device cookie", res)
	}
	if _, err := e.svc.Unlock(ctx, token, goodPassword, owner); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("second use of the link: %v, want ErrTokenInvalid", err)
	}
	// That browser signs in despite the lock; any other is still locked out.
	owner.Device = res.Device.Value
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, owner); err != nil {
		t.Fatalf("after the unlock link, with its device cookie: %v", err)
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "203.0.113.8"}); err != account.ErrInvalidCredentials {
		t.Fatalf("another browser during the lock: %v, want ErrInvalidCredentials", err)
	}
	// The trail says what happened, by id only.
	for action, want := range map[audit.Action]int{audit.AccountLocked: 1, audit.SignInSucceeded: 2, audit.AccountUnlocked: 0} {
		if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1`, string(action)); n != want {
			t.Errorf("%d %s records, want %d", n, action, want)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE details LIKE '%alice%'`); n != 0 {
		t.Error("a record holds the login")
	}
}

func TestLockExpiresAndSuccessResetsTheCount(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	for i := 0; i < 4; i++ {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("failures after a success: %d, want 0", n)
	}
	for i := 0; i < 5; i++ {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	e.clock.advance(59 * time.Minute)
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != account.ErrInvalidCredentials {
		t.Fatalf("within the hour: %v", err)
	}
	e.clock.advance(2 * time.Minute)
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
}

func TestExpiredUnlockLink(t *testing.T) {
	ctx := context.Background()
	e, _ := lockoutEnv(t)
	for i := 0; i < 5; i++ {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	var raw string
	e.row(`SELECT message FROM email_queue`).Scan(&raw)
	var msg notify.Message
	json.Unmarshal([]byte(raw), &msg)
	token := strings.Fields(msg.Text[strings.Index(msg.Text, "/unlock/")+len("/unlock/"):])[0]
	e.clock.advance(25 * time.Hour)
	if _, err := e.svc.Unlock(ctx, token, goodPassword, account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("expired link: %v, want ErrTokenInvalid", err)
	}
}

func TestPasswordPolicyProfiles(t *testing.T) {
	c := account.PasswordContext{Login: "alice", Email: "alice.smith@acme.example", Company: "Acme Industries"}
	tests := []struct {
		profile  account.Profile
		password string
		want     string
	}{
		{account.Standard, "correct horse 1", ""},
		{account.Standard, "12345678", "error.password_classes"},
		{account.Standard, "password1", "error.password_common"},
		{account.Standard, "Password123!", "error.password_common"},
		{account.Standard, "!Qwerty2026", "error.password_common"},
		{account.Standard, "kwfhzjqx1", ""},
		{account.Standard, "abcdefghi", "error.password_classes"},
		{account.Standard, "a1a1a1a1", "error.password_trivial"},
		{account.Standard, "abc1abc1abc1", "error.password_trivial"},
		{account.Standard, "0987654321", "error.password_classes"},
		{account.Standard, "mnbvcxz!", "error.password_trivial"},
		{account.Standard, "Smith-alice-7", "error.password_contains_login"},
		{account.Standard, "alice.smith#1", "error.password_contains_login"},
		{account.Standard, "acme industries 7", "error.password_contains_company"},
		{account.Standard, "AcmeIndustries!9", "error.password_contains_company"},
		{account.Strict, "correct horse", "error.password_short_strict"},
		{account.Strict, "correcthorsebatterystaple", ""},
		{account.Strict, "aaaaaaaaaaaaaaaa", "error.password_trivial"},
		{account.Strict, "qwertyuiopqwertyuiop", "error.password_trivial"},
	}
	for _, tt := range tests {
		if got := account.CheckPasswordPolicy(tt.profile, tt.password, c); got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.profile, tt.password, got, tt.want)
		}
	}
}

func TestStrictProfileAppliesToTheCompany(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	if err := e.tenants.SetSettings(ctx, audit.Operator, c.ID, tenant.Settings{PasswordProfile: "strict"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "bob", DisplayName: "Bob", Password: "Short-but-ok-1"})
	var ve *fault.Invalid
	if !errors.As(err, &ve) || ve.Fields["password"] != "error.password_short_strict" {
		t.Fatalf("strict company, 14 characters: %v", err)
	}
	if _, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "bob", DisplayName: "Bob", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	if err := e.tenants.SetSettings(ctx, audit.Operator, c.ID, tenant.Settings{PasswordProfile: "lax"}); err == nil {
		t.Fatal("an unknown profile was accepted")
	}
}

func FuzzCheckPasswordPolicy(f *testing.F) {
	f.Add("correct horse 1", "alice")
	f.Add("aaaa", "")
	f.Add("\xff\xfe", "x")
	f.Fuzz(func(t *testing.T, password, login string) {
		for _, p := range []account.Profile{account.Standard, account.Strict} {
			msg := account.CheckPasswordPolicy(p, password, account.PasswordContext{Login: login, Company: login})
			if msg != "" && !strings.HasPrefix(msg, "error.password_") {
				t.Fatalf("message key %q", msg)
			}
		}
	})
}

// TestThrottlePerAddress: from the third failure, attempts from the same
// address wait before their password is even checked; other addresses do not.
func TestThrottlePerAddress(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	const base = 150 * time.Millisecond
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2, ThrottleBase: base})
	e.svc.SetClock(e.clock.now)
	c := e.company(t, "acme")
	e.user(t, c.ID, "alice", goodPassword)
	attacker := account.Client{IP: "203.0.113.66"}
	for i := 0; i < 3; i++ {
		e.svc.SignIn(ctx, "nobody-"+strconv.Itoa(i), "x", attacker)
	}
	t0 := time.Now()
	e.svc.SignIn(ctx, "alice", otherPassword, attacker)
	if waited := time.Since(t0); waited < base {
		t.Fatalf("fourth failure from one address answered after %v, want at least %v", waited, base)
	}
	// The right password from another address is not held back, and succeeds.
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "198.51.100.2"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// TestOneLiveUnlockLink: a new lock's link retires the links of earlier
// locks, so at most one unlock link of an account works at a time.
func TestOneLiveUnlockLink(t *testing.T) {
	ctx := context.Background()
	e, _ := lockoutEnv(t)
	links := func() []string {
		t.Helper()
		var out []string
		for _, raw := range e.column(t, `SELECT message FROM email_queue ORDER BY created_at, id`) {
			var msg notify.Message
			json.Unmarshal([]byte(raw), &msg)
			if i := strings.Index(msg.Text, "/unlock/"); i >= 0 {
				out = append(out, strings.Fields(msg.Text[i+len("/unlock/"):])[0])
			}
		}
		return out
	}
	for lock := range 2 {
		for i := 0; i < 5; i++ {
			e.svc.SignIn(ctx, "alice", otherPassword, account.Client{IP: fmt.Sprintf("203.0.113.%d", lock*10+i+1)})
		}
		e.clock.advance(61 * time.Minute) // the lock ends; the first link would still be valid for a day
	}
	got := links()
	if len(got) != 2 {
		t.Fatalf("%d unlock links, want one per lock", len(got))
	}
	if e.svc.UnlockTokenValid(ctx, got[0]) || !e.svc.UnlockTokenValid(ctx, got[1]) {
		t.Fatal("the earlier lock's link still works, or the newest does not")
	}
}
