package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
)

func TestInvitation(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	var ve *fault.Invalid
	for _, in := range []account.InviteInput{
		{Email: "not an email", DisplayName: "X", Role: "recruiter"},
		{Email: "bob@acme.example", DisplayName: "", Role: "recruiter"},
		{Email: "bob@acme.example", DisplayName: "Bob", Role: "emperor"},
	} {
		if _, err := e.svc.Invite(ctx, e.principal(t, admin).Actor(), in); !errors.As(err, &ve) {
			t.Errorf("invite %+v: %v, want a ValidationError", in, err)
		}
	}
	u, err := e.svc.Invite(ctx, e.principal(t, admin).Actor(), account.InviteInput{Email: "Bob@Acme.example", DisplayName: "Bob", Role: "recruiter"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != account.Invited || u.Login != "bob@acme.example" {
		t.Fatalf("invited user %+v", u)
	}
	if _, err := e.svc.Invite(ctx, e.principal(t, admin).Actor(), account.InviteInput{Email: "bob@acme.example", DisplayName: "Bob 2", Role: "recruiter"}); !errors.Is(err, account.ErrLoginTaken) {
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
	if _, err := e.svc.Invite(ctx, e.principal(t, admin).Actor(), account.InviteInput{Email: "carol@acme.example", DisplayName: "Carol", Role: "line_manager"}); err != nil {
		t.Fatal(err)
	}
	token := queuedLink(t, e, "/invite/")
	e.clock.advance(73 * time.Hour)
	if _, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{}); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("after 73 hours: %v", err)
	}
}

// tracedInviteEnv is lockoutEnv's company on a database that records every
// statement, with a second company whose user holds the login
// taken@example.org.
func tracedInviteEnv(t *testing.T) (*env, *dbtest.Recorder, *account.User) {
	t.Helper()
	rec := &dbtest.Recorder{}
	d := dbtest.OpenTraced(t, rec.Trace)
	e := newEnvOn(t, d, account.Options{Argon2: fastArgon2, Queue: notify.NewQueue(d), BaseURL: "https://jobs.example"})
	admin := e.user(t, e.company(t, "acme").ID, "alice", goodPassword)
	e.user(t, e.company(t, "other").ID, "taken@example.org", goodPassword)
	return e, rec, admin
}

// TestInvitingAnotherCompanysLogin: inviting an address that another
// company uses as a login answers exactly as for a new address (the same
// result, the same statements in the same order, so the same time), and
// claims nothing; the invitee, finding the login taken when accepting,
// chooses another. An address of the company itself is "already in use".
func TestInvitingAnotherCompanysLogin(t *testing.T) {
	ctx := context.Background()
	e, rec, admin := tracedInviteEnv(t)
	ap := e.principal(t, admin)
	invite := func(email string) (*account.User, []string, error) {
		rec.Reset()
		u, err := e.svc.Invite(ctx, ap.Actor(), account.InviteInput{Email: email, DisplayName: "Someone", Role: "recruiter"})
		var queries []string
		for _, s := range rec.Take() {
			queries = append(queries, s.Query)
		}
		return u, queries, err
	}
	fresh, freshQueries, freshErr := invite("fresh@example.org")
	taken, takenQueries, takenErr := invite("taken@example.org")
	if freshErr != nil || takenErr != nil {
		t.Fatalf("invitations: %v, %v", freshErr, takenErr)
	}
	if fresh.Status != taken.Status || fresh.Role != taken.Role || taken.Login != "taken@example.org" {
		t.Fatalf("different answers: %+v, %+v", fresh, taken)
	}
	if !slices.Equal(freshQueries, takenQueries) {
		t.Fatalf("different work for a new and another company's login:\n%q\n%q", freshQueries, takenQueries)
	}
	// The other company's user is untouched and still signs in.
	if _, _, err := e.svc.SignIn(ctx, "taken@example.org", goodPassword, account.Client{}); err != nil {
		t.Fatalf("the other company's user: %v", err)
	}
	// Already in the company: a user, or a pending invitation.
	e.user(t, admin.TenantID, "carol@acme.example", goodPassword)
	for _, email := range []string{"carol@acme.example", "Fresh@example.org"} {
		if _, _, err := invite(email); !errors.Is(err, account.ErrLoginTaken) {
			t.Errorf("inviting %s again: %v, want ErrLoginTaken", email, err)
		}
	}
	// Accepting: the login is taken, so the invitee chooses another.
	token := ""
	for _, raw := range e.column(t, `SELECT message FROM email_queue`) {
		var msg notify.Message
		json.Unmarshal([]byte(raw), &msg)
		if msg.To[0] == "taken@example.org" {
			token = strings.Fields(msg.Text[strings.Index(msg.Text, "/invite/")+len("/invite/"):])[0]
		}
	}
	var ve *fault.Invalid
	if _, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{}); !errors.As(err, &ve) || ve.Fields["login"] != "error.invite_login_taken" {
		t.Fatalf("accepting with a taken login: %v", err)
	}
	if _, err := e.svc.AcceptInviteAs(ctx, token, "no spaces allowed", "a good Pass phrase 1", account.Client{}); !errors.As(err, &ve) || ve.Fields["login"] != "error.login_format" {
		t.Fatalf("accepting with a bad login: %v", err)
	}
	if !e.svc.InviteTokenValid(ctx, token) {
		t.Fatal("a refused acceptance spent the invitation")
	}
	if _, err := e.svc.AcceptInviteAs(ctx, token, "Taken.Acme", "a good Pass phrase 1", account.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, p, err := e.svc.SignIn(ctx, "taken.acme", "a good Pass phrase 1", account.Client{}); err != nil || p.UserID != taken.ID {
		t.Fatalf("signing in with the chosen login: %v", err)
	}
}

// TestDisabledInvitation: a disabled invitation cannot be accepted;
// enabled again, it is an invitation again (not an active account without
// a password or login).
func TestDisabledInvitation(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	ap := e.principal(t, admin)
	u, err := e.svc.Invite(ctx, ap.Actor(), account.InviteInput{Email: "dan@acme.example", DisplayName: "Dan", Role: "recruiter"})
	if err != nil {
		t.Fatal(err)
	}
	token := queuedLink(t, e, "/invite/")
	if err := e.svc.SetUserStatus(ctx, ap.Actor(), u.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	if e.svc.InviteTokenValid(ctx, token) {
		t.Fatal("a disabled invitation is still valid")
	}
	if err := e.svc.SetUserStatus(ctx, ap.Actor(), u.ID, account.Active); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.UserByID(ctx, admin.TenantID, u.ID); got.Status != account.Invited {
		t.Fatalf("re-enabled invitation: %s", got.Status)
	}
	if _, err := e.svc.AcceptInvite(ctx, token, "a good Pass phrase 1", account.Client{}); err != nil {
		t.Fatal(err)
	}
}
