package account_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

func lastSMSCode(t *testing.T, e *env) (to, code string) {
	t.Helper()
	var raw string
	if err := e.row(`SELECT message FROM email_queue WHERE message LIKE '%sms_to%' ORDER BY created_at DESC, id DESC LIMIT 1`).Scan(&raw); err != nil {
		t.Fatalf("no SMS queued: %v", err)
	}
	to = regexp.MustCompile(`"sms_to":"([^"]+)"`).FindStringSubmatch(raw)[1]
	code = regexp.MustCompile(`\b\d{6}\b`).FindString(raw)
	return to, code
}

func TestSMSCodeSecondFactor(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	p, _ := e.svc.Authenticate(ctx, e.session(t, u))
	var ve *fault.Invalid
	if err := e.svc.BeginSMSMFA(ctx, p.Actor(), "0701234567"); !errors.As(err, &ve) {
		t.Fatalf("number without country code: %v", err)
	}
	if err := e.svc.BeginSMSMFA(ctx, p.Actor(), "+46 70 123 45 67"); err != nil {
		t.Fatal(err)
	}
	to, code := lastSMSCode(t, e)
	if to != "+46701234567" {
		t.Fatalf("texted %q", to)
	}
	if _, err := e.svc.ConfirmSMSMFA(ctx, p, code, account.Client{}); err != nil {
		t.Fatal(err)
	}
	pending, pp, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil || !pp.MFAPending {
		t.Fatalf("sign-in: %v", err)
	}
	_, code = lastSMSCode(t, e)
	if _, err := e.svc.VerifySecondFactor(ctx, pending, code, account.Client{}); err != nil {
		t.Fatalf("texted code: %v", err)
	}
}
