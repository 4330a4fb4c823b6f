package account_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kandidat/kandidat/internal/account"
)

func mfaEnv(t *testing.T) (*env, *account.User, *account.Principal, string) {
	t.Helper()
	e := newFastEnv(t)
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2, ThrottleBase: time.Millisecond, Cipher: e.keys})
	e.clock.set(time.Now())
	e.svc.SetClock(e.clock.now)
	c := e.company(t, "acme")
	u := e.user(t, c.ID, "alice", goodPassword)
	token := e.session(t, u)
	p, err := e.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return e, u, p, token
}

// code returns the TOTP code of secret at t, from Debian's oathtool when it
// is installed (an independent implementation), else from the library.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	if path, err := exec.LookPath("oathtool"); err == nil {
		out, err := exec.Command(path, "--totp", "-b", "--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
		if err != nil {
			t.Fatalf("oathtool: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPAgainstOathtool(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed (make test installs Debian's oathtool); TestTOTPEnrolmentAndSignIn checks codes against the library")
	}
	ctx := context.Background()
	e, _, p, _ := mfaEnv(t)
	en, err := e.svc.BeginTOTP(ctx, p.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, p, code(t, en.Secret, e.clock.now()), account.Client{}); err != nil {
		t.Fatalf("code from oathtool refused: %v", err)
	}
}

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	ctx := context.Background()
	e, u, p, _ := mfaEnv(t)
	en, err := e.svc.BeginTOTP(ctx, p.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/Kandidat:alice?") || len(en.QRPNG) < 100 {
		t.Fatalf("enrolment %q, %d bytes of QR", en.URL, len(en.QRPNG))
	}
	// The secret is stored encrypted, never in the clear.
	var stored []byte
	e.row(`SELECT totp_pending FROM users WHERE id = $1`, u.ID).Scan(&stored)
	if strings.Contains(string(stored), en.Secret) {
		t.Fatal("the TOTP secret is stored in the clear")
	}
	if _, err := e.svc.ConfirmTOTP(ctx, p, "000000", account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, p, code(t, en.Secret, e.clock.now()), account.Client{})
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	// Sign-in now stops at the second step.
	e.clock.advance(time.Minute)
	token, pending, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil || !pending.MFAPending {
		t.Fatalf("sign-in: %v, pending %v", err, pending != nil && pending.MFAPending)
	}
	now := code(t, en.Secret, e.clock.now())
	full, err := e.svc.VerifySecondFactor(ctx, token, now, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if full == token {
		t.Fatal("the session id was not rotated after the second step")
	}
	if fp, err := e.svc.Authenticate(ctx, full); err != nil || fp.MFAPending || !fp.HasMFA {
		t.Fatalf("full session: %+v %v", fp, err)
	}
	if _, err := e.svc.Authenticate(ctx, token); err == nil {
		t.Fatal("the waiting session survived")
	}
	// The same code cannot be used twice (replay).
	token2, _, _ := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if _, err := e.svc.VerifySecondFactor(ctx, token2, now, account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("replayed code: %v, want ErrInvalidCode", err)
	}
	// A recovery code works once.
	if _, err := e.svc.VerifySecondFactor(ctx, token2, strings.ToUpper(codes[3]), account.Client{}); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	token3, _, _ := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if _, err := e.svc.VerifySecondFactor(ctx, token3, codes[3], account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("reused recovery code: %v", err)
	}
	if left, _ := e.svc.RecoveryCodesLeft(ctx, u.TenantID, u.ID); left != 9 {
		t.Fatalf("%d recovery codes left, want 9", left)
	}
}

func TestSecondFactorFailuresLock(t *testing.T) {
	ctx := context.Background()
	e, u, p, _ := mfaEnv(t)
	en, _ := e.svc.BeginTOTP(ctx, p.Actor())
	e.svc.ConfirmTOTP(ctx, p, code(t, en.Secret, e.clock.now()), account.Client{})
	token, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := e.svc.VerifySecondFactor(ctx, token, "123456", account.Client{}); err == nil {
			t.Fatal("a wrong code passed")
		}
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until IS NOT NULL`, u.ID); n != 1 {
		t.Fatal("five wrong codes did not lock the account")
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != account.ErrInvalidCredentials {
		t.Fatalf("sign-in while locked: %v", err)
	}
	// The password counter was untouched by the code failures.
	if n := e.count(t, `SELECT failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("password failures %d, want 0: the counters are separate", n)
	}
}

func TestDisableTOTP(t *testing.T) {
	ctx := context.Background()
	e, _, p, _ := mfaEnv(t)
	en, _ := e.svc.BeginTOTP(ctx, p.Actor())
	codes, _ := e.svc.ConfirmTOTP(ctx, p, code(t, en.Secret, e.clock.now()), account.Client{})
	if err := e.svc.DisableTOTP(ctx, p, "999999", account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("disable with a wrong code: %v", err)
	}
	if err := e.svc.DisableTOTP(ctx, p, codes[0], account.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, pr, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil || pr.MFAPending {
		t.Fatalf("after disabling: %v", err)
	}
}
