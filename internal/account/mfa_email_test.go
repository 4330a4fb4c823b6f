package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// lastCode returns the six-digit code of the newest queued email.
func lastCode(t *testing.T, e *env) string {
	t.Helper()
	var raw string
	if err := e.row(`SELECT message FROM email_queue ORDER BY created_at DESC, id DESC LIMIT 1`).Scan(&raw); err != nil {
		t.Fatalf("no email queued: %v", err)
	}
	var msg notify.Message
	json.Unmarshal([]byte(raw), &msg)
	c := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
	if c == "" {
		t.Fatalf("no code in %q", msg.Text)
	}
	return c
}

func TestEmailCodeSecondFactor(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	token := e.session(t, u)
	p, _ := e.svc.Authenticate(ctx, token)
	if err := e.svc.BeginEmailMFA(ctx, p.Actor()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmEmailMFA(ctx, p, "000000x", account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("wrong enrolment code: %v", err)
	}
	codes, err := e.svc.ConfirmEmailMFA(ctx, p, lastCode(t, e), account.Client{})
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	// Sign-in stops at the second step and emails a code.
	pending, pp, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil || !pp.MFAPending {
		t.Fatalf("sign-in: %v", err)
	}
	code := lastCode(t, e)
	if _, err := e.svc.VerifySecondFactor(ctx, pending, "123456", account.Client{}); !errors.Is(err, account.ErrInvalidCode) && code != "123456" {
		t.Fatalf("wrong code: %v", err)
	}
	full, err := e.svc.VerifySecondFactor(ctx, pending, code, account.Client{})
	if err != nil {
		t.Fatalf("emailed code: %v", err)
	}
	if fp, err := e.svc.Authenticate(ctx, full); err != nil || fp.MFAPending || !fp.HasMFA {
		t.Fatalf("after the second step: %+v %v", fp, err)
	}
	// The code works once, and expires after ten minutes.
	again, _, _ := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if _, err := e.svc.VerifySecondFactor(ctx, again, code, account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("reused code: %v", err)
	}
	late, _, _ := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	lateCode := lastCode(t, e)
	e.clock.advance(11 * time.Minute)
	if _, err := e.svc.VerifySecondFactor(ctx, late, lateCode, account.Client{}); err == nil {
		t.Fatal("a code older than ten minutes worked")
	}
}

func TestStrictProfileRefusesEmailCodes(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	if err := e.tenants.SetSettings(ctx, audit.Operator, u.TenantID, tenant.Settings{PasswordProfile: "strict"}); err != nil {
		t.Fatal(err)
	}
	p, _ := e.svc.Authenticate(ctx, e.session(t, u))
	if err := e.svc.BeginEmailMFA(ctx, p.Actor()); !errors.Is(err, account.ErrFactorNotAllowed) {
		t.Fatalf("email codes under the strict profile: %v, want ErrFactorNotAllowed", err)
	}
}
