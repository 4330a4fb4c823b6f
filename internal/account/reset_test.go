package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
)

func queuedLink(t *testing.T, e *env, path string) string {
	t.Helper()
	link := ""
	for _, raw := range e.column(t, `SELECT message FROM email_queue ORDER BY created_at`) {
		var msg notify.Message
		json.Unmarshal([]byte(raw), &msg)
		if i := strings.Index(msg.Text, path); i >= 0 {
			link = strings.Fields(msg.Text[i+len(path):])[0]
		}
	}
	return link
}

func TestPasswordReset(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	old := e.session(t, u)
	// Unknown identifiers get the same (nil) answer and send nothing.
	for _, id := range []string{"nobody", "nobody@acme.example", "", strings.Repeat("x", 300)} {
		if err := e.svc.RequestPasswordReset(ctx, id, account.Client{IP: "192.0.2.9"}); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM email_queue`); n != 0 {
		t.Fatalf("%d emails queued for unknown accounts", n)
	}
	if err := e.svc.RequestPasswordReset(ctx, "ALICE@acme.example", account.Client{IP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	token := queuedLink(t, e, "/password/reset/")
	if token == "" || !e.svc.ResetTokenValid(ctx, token) {
		t.Fatal("no valid reset link emailed")
	}
	var ve *fault.Invalid
	if _, err := e.svc.ResetPassword(ctx, token, "12345678", account.Client{}); !errors.As(err, &ve) {
		t.Fatalf("weak new password: %v", err)
	}
	if _, err := e.svc.ResetPassword(ctx, token, "a brand new one 9", account.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, old); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("a session survived the reset")
	}
	if _, err := e.svc.ResetPassword(ctx, token, "another new one 10", account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("second use: %v, want ErrTokenInvalid", err)
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", "a brand new one 9", account.Client{}); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
}

func TestPasswordResetExpiresAndUnlocks(t *testing.T) {
	ctx := context.Background()
	e, u := lockoutEnv(t)
	for i := 0; i < 5; i++ {
		e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	}
	e.svc.RequestPasswordReset(ctx, "alice", account.Client{})
	token := queuedLink(t, e, "/password/reset/")
	e.clock.advance(31 * time.Minute)
	if _, err := e.svc.ResetPassword(ctx, token, "a brand new one 9", account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("after 31 minutes: %v, want ErrTokenInvalid", err)
	}
	e.svc.RequestPasswordReset(ctx, "alice", account.Client{})
	fresh := queuedLink(t, e, "/password/reset/")
	if _, err := e.svc.ResetPassword(ctx, fresh, "a brand new one 9", account.Client{}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locked_until IS NULL`, u.ID); n != 1 {
		t.Fatal("a reset did not lift the lock")
	}
}
