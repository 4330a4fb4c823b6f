package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
)

func TestInvitation(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	var ve *account.ValidationError
	for _, in := range []account.InviteInput{
		{Email: "not an email", DisplayName: "X", Role: "recruiter"},
		{Email: "bob@acme.example", DisplayName: "", Role: "recruiter"},
		{Email: "bob@acme.example", DisplayName: "Bob", Role: "emperor"},
	} {
		if _, err := e.svc.Invite(ctx, e.principal(t, admin), in); !errors.As(err, &ve) {
			t.Errorf("invite %+v: %v, want a ValidationError", in, err)
		}
	}
	u, err := e.svc.Invite(ctx, e.principal(t, admin), account.InviteInput{Email: "Bob@Acme.example", DisplayName: "Bob", Role: "recruiter"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != account.Invited || u.Login != "bob@acme.example" {
		t.Fatalf("invited user %+v", u)
	}
	if _, err := e.svc.Invite(ctx, e.principal(t, admin), account.InviteInput{Email: "bob@acme.example", DisplayName: "Bob 2", Role: "recruiter"}); !errors.Is(err, account.ErrLoginTaken) {
		t.Fatalf("second invitation: %v, want ErrLoginTaken", err)
	}
	// No sign-in before accepting.
	if _, _, err := e.svc.SignIn(ctx, "bob@acme.example", "", account.Client{}); err != account.ErrInvalidCredentials {
		t.Fatalf("sign-in of an invited user: %v", err)
	}
	token := queuedLink(t, e, "/invite/")
	if !e.svc.InviteTokenValid(ctx, token) {
		t.Fatal("the emailed invitation is not valid")
	}
	if _, err := e.svc.AcceptInvite(ctx, token, "bob", account.Client{}); !errors.As(err, &ve) {
		t.Fatalf("weak password: %v", err)
	}
	session, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.svc.Authenticate(ctx, session); err != nil || p.UserID != u.ID || p.Role != "recruiter" {
		t.Fatalf("session after accepting: %+v %v", p, err)
	}
	if _, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("second acceptance: %v", err)
	}
	if _, _, err := e.svc.SignIn(ctx, "bob@acme.example", "a good Pass phrase 1", account.Client{}); err != nil {
		t.Fatal(err)
	}
}

func TestInvitationExpires(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	if _, err := e.svc.Invite(ctx, e.principal(t, admin), account.InviteInput{Email: "carol@acme.example", DisplayName: "Carol", Role: "line_manager"}); err != nil {
		t.Fatal(err)
	}
	token := queuedLink(t, e, "/invite/")
	e.clock.advance(73 * time.Hour)
	if _, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("after 73 hours: %v", err)
	}
}
