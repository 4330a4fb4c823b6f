package account_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
)

// TestTrustedBrowserPassesTheSecondStepDuringALock: wrong passwords from
// other browsers lock the account, but the owner's browser, trusted at an
// earlier sign-in, passes the password and the second step all the same;
// its wrong codes lock that browser only, with no unlock email, and leave
// the account's lock as it was.
func TestTrustedBrowserPassesTheSecondStepDuringALock(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	e, u := stepEnv(t, account.Options{DeviceKey: key})
	secret, _ := withTOTP(t, e, u)

	owner := account.Client{IP: "192.0.2.50", UserAgent: "Owner's browser"}
	signIn := func(c account.Client) string {
		t.Helper()
		token, p, err := e.svc.SignIn(ctx, "alice", goodPassword, c)
		if err != nil || !p.MFAPending {
			t.Fatalf("password step: %v", err)
		}
		return token
	}
	full, err := e.svc.VerifySecondFactor(ctx, signIn(owner), code(t, secret, e.clock.now()), owner)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := e.svc.TrustDevice(ctx, full, owner)
	if err != nil {
		t.Fatal(err)
	}
	owner.Device = dc.Value
	e.clock.advance(30 * time.Second)

	lockElsewhere(t, e, u)
	var until time.Time
	e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&until)
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "198.51.100.7"}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("an unknown browser during the lock: %v", err)
	}
	if _, err := e.svc.VerifySecondFactor(ctx, signIn(owner), code(t, secret, e.clock.now()), owner); err != nil {
		t.Fatalf("the owner's browser at the second step during the lock: %v", err)
	}
	e.clock.advance(30 * time.Second)

	// The owner's wrong codes count on the browser and lock it alone.
	token := signIn(owner)
	for _, c := range otherCodes(t, secret, e.clock.now(), 5) {
		if _, err := e.svc.VerifySecondFactor(ctx, token, c, owner); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM trusted_devices WHERE user_id = $1 AND locked_until > $2`, u.ID, e.clock.now()); n != 1 {
		t.Fatal("five wrong codes from the trusted browser did not lock it")
	}
	if n := e.count(t, `SELECT mfa_failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 || e.unlockEmails(t) != 0 {
		t.Fatalf("the browser's failures reached the account (%d counted, %d unlock emails)", n, e.unlockEmails(t))
	}
	var after time.Time
	e.row(`SELECT locked_until FROM users WHERE id = $1`, u.ID).Scan(&after)
	if !after.Equal(until) {
		t.Fatalf("the account's lock moved from %v to %v", until, after)
	}
	if n := e.records(t, u, audit.AccountLocked); n != 1 {
		t.Fatalf("%d lock records, want the browser's one", n)
	}
	// Locked, the browser's right code is refused too.
	if _, err := e.svc.VerifySecondFactor(ctx, token, code(t, secret, e.clock.now()), owner); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("the right code from the locked browser: %v", err)
	}
}
