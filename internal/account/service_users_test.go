package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
)

// TestServiceUser: an administrator (API tokens and users) makes a service
// user, which the users list marks, has no email and never signs in, even
// with a password planted on it; tokens may act as it.
func TestServiceUser(t *testing.T) {
	e := newFastEnv(t)
	ctx := context.Background()
	c := e.company(t, "acme")
	admin := e.user(t, c.ID, "ada", goodPassword)
	adminActor := e.principal(t, admin).Actor()

	su, err := e.svc.CreateServiceUser(ctx, adminActor, "  HR Sync ", access.Recruiter)
	if err != nil {
		t.Fatal(err)
	}
	if !su.Service || su.DisplayName != "HR Sync" || su.Email != "" || !strings.HasPrefix(su.Login, "svc-hr-sync-") || su.Role != access.Recruiter {
		t.Fatalf("service user: got %+v", su)
	}
	got, err := e.svc.UserByID(ctx, c.ID, su.ID)
	if err != nil || !got.Service || got.Login != su.Login || got.Status != account.Active {
		t.Fatalf("read back: got %+v %v", got, err)
	}
	all, err := e.svc.ListUsers(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, u := range all {
		if u.Service {
			marked++
			if u.ID != su.ID {
				t.Errorf("user %s marked as a service user", u.Login)
			}
		}
	}
	if marked != 1 {
		t.Fatalf("users list marks %d service users, want 1", marked)
	}
	list, err := e.svc.ServiceUsers(ctx, adminActor)
	if err != nil || len(list) != 1 || list[0].ID != su.ID {
		t.Fatalf("ServiceUsers: got %v %v", list, err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%service=true%' AND actor_id = $2`, string(audit.UserCreated), admin.ID); n != 1 {
		t.Fatalf("user.created records of the service user: %d, want 1", n)
	}

	// No sign-in: not with an empty password, not even with a real
	// password's hash planted on the row.
	for _, pw := range []string{"", goodPassword} {
		if _, _, err := e.svc.SignIn(ctx, su.Login, pw, account.Client{IP: "192.0.2.1"}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("sign-in as the service user with %q: got %v, want ErrInvalidCredentials", pw, err)
		}
	}
	e.exec(t, `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $1) WHERE id = $2`, admin.ID, su.ID)
	if _, _, err := e.svc.SignIn(ctx, su.Login, goodPassword, account.Client{IP: "192.0.2.1"}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("sign-in as the service user with a planted password: got %v, want ErrInvalidCredentials", err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND details LIKE '%reason=service_user%'`, string(audit.SignInFailed)); n != 3 {
		t.Fatalf("sign_in.failed records naming a service user: %d, want 3", n)
	}
	// The same password signs its owner in: the refusal is the service flag's.
	if _, _, err := e.svc.SignIn(ctx, "ada", goodPassword, account.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("the administrator's own sign-in: %v", err)
	}

	// A token acts as it, with the scopes it and the token's maker hold.
	tok, secret, err := e.svc.CreateToken(ctx, adminActor, account.TokenInput{Name: "sync", UserID: su.ID, Scopes: access.Of(access.ViewPositions)})
	if err != nil {
		t.Fatal(err)
	}
	if tok.UserID != su.ID || tok.CreatedBy != admin.ID {
		t.Fatalf("token: got user %s made by %s", tok.UserID, tok.CreatedBy)
	}
	p, err := e.svc.AuthenticateToken(ctx, secret, "192.0.2.9")
	if err != nil || p.UserID != su.ID || p.Perms != access.Of(access.ViewPositions) {
		t.Fatalf("token principal: got %+v %v", p, err)
	}
	// Not beyond the maker's own permissions for itself, named or not.
	for _, self := range []string{"", admin.ID} {
		if _, _, err := e.svc.CreateToken(ctx, adminActor, account.TokenInput{Name: "x", UserID: self, Scopes: access.Of(access.ViewPositions)}); !errors.Is(err, account.ErrScopeNotHeld) {
			t.Fatalf("a token for the administrator itself (user %q) with positions.view: got %v", self, err)
		}
	}
	// Not beyond the service user's role.
	if _, _, err := e.svc.CreateToken(ctx, adminActor, account.TokenInput{Name: "x", UserID: su.ID, Scopes: access.Of(access.ViewAudit)}); !errors.Is(err, account.ErrScopeNotHeld) {
		t.Fatalf("a scope the service user lacks: got %v", err)
	}
	// A maker who does not administer the company gives only what it holds.
	auditor, err := e.svc.SaveRole(ctx, adminActor, "", account.RoleInput{Name: "Auditor", Permissions: []string{access.ViewAudit.Name(), access.ViewPositions.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	su2, err := e.svc.CreateServiceUser(ctx, adminActor, "Archive", auditor.ID)
	if err != nil {
		t.Fatal(err)
	}
	hr := e.kit.Actor(t, c.ID, "hanna", access.HRManager)
	hr.Perms |= access.Of(access.ManageAPITokens)
	if _, _, err := e.svc.CreateToken(ctx, hr, account.TokenInput{Name: "x", UserID: su2.ID, Scopes: access.Of(access.ViewAudit)}); !errors.Is(err, account.ErrScopeNotHeld) {
		t.Fatalf("an HR manager giving audit.view: got %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, hr, account.TokenInput{Name: "x", UserID: su2.ID, Scopes: access.Of(access.ViewPositions)}); err != nil {
		t.Fatalf("an HR manager giving positions.view, which it holds: %v", err)
	}
	// The maker stops administering the company: its service user's token
	// shrinks to what the maker holds, at the next call.
	e.exec(t, `UPDATE users SET role = $1 WHERE id = $2`, access.CaseHandler, admin.ID)
	if p, err := e.svc.AuthenticateToken(ctx, secret, "192.0.2.9"); err != nil || p.Perms != 0 {
		t.Fatalf("after the maker's demotion: got %+v %v", p, err)
	}
}

// TestServiceUserRefusals: who may make one, and with which role.
func TestServiceUserRefusals(t *testing.T) {
	e := newFastEnv(t)
	ctx := context.Background()
	c := e.company(t, "acme")
	admin := e.principal(t, e.user(t, c.ID, "ada", goodPassword)).Actor()
	recruiter := e.kit.Actor(t, c.ID, "rita", access.Recruiter)
	// An HR manager given the right to manage tokens, without managing users.
	hr := e.kit.Actor(t, c.ID, "hanna", access.HRManager)
	hr.Perms |= access.Of(access.ManageAPITokens)
	custom, err := e.svc.SaveRole(ctx, admin, "", account.RoleInput{Name: "Roles", Permissions: []string{access.ManageRoles.Name(), access.ViewPositions.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	invalid := func(field string) func(error) bool {
		return func(err error) bool {
			var ve *fault.Invalid
			return errors.As(err, &ve) && ve.Fields[field] != ""
		}
	}
	cases := []struct {
		name       string
		actor      access.Actor
		user, role string
		want       func(error) bool
	}{
		{"a recruiter", recruiter, "Bot", access.Recruiter, func(err error) bool { return errors.Is(err, fault.ErrForbidden) }},
		{"tokens without managing users", hr, "Bot", access.Recruiter, func(err error) bool { return errors.Is(err, fault.ErrForbidden) }},
		{"a job", access.System("job", c.ID, access.ManageAPITokens, access.ManageUsers), "Bot", access.Recruiter, func(err error) bool { return errors.Is(err, fault.ErrForbidden) }},
		{"no name", admin, "  ", access.Recruiter, invalid("display_name")},
		{"a control character", admin, "Bot\x07", access.Recruiter, invalid("display_name")},
		{"no role", admin, "Bot", "", invalid("role")},
		{"an unknown role", admin, "Bot", "00000000-0000-0000-0000-000000000000", invalid("role")},
		{"the administrator role", admin, "Bot", access.Administrator, func(err error) bool { return errors.Is(err, account.ErrServiceUserRole) }},
		{"a custom role managing roles", admin, "Bot", custom.ID, func(err error) bool { return errors.Is(err, account.ErrServiceUserRole) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := e.svc.CreateServiceUser(ctx, tc.actor, tc.user, tc.role)
			if !tc.want(err) {
				t.Fatalf("got %v %v", u, err)
			}
		})
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE service`); n != 0 {
		t.Fatalf("%d service users made by refused requests", n)
	}
	// The operator makes one from the command line.
	u, err := e.svc.CreateServiceUser(ctx, access.Operator(c.ID, access.ManageAPITokens), "Archive", access.LineManager)
	if err != nil || !u.Service {
		t.Fatalf("operator: got %+v %v", u, err)
	}
}

// TestOperatorToken: `kandidat token create` makes a token for a service
// user, bounded by that user's permissions and recorded as the operator's.
func TestOperatorToken(t *testing.T) {
	e := newFastEnv(t)
	ctx := context.Background()
	c := e.company(t, "acme")
	human := e.user(t, c.ID, "ada", goodPassword)
	op := access.Operator(c.ID, access.ManageAPITokens)
	su, err := e.svc.CreateServiceUser(ctx, op, "Job board", access.Recruiter)
	if err != nil {
		t.Fatal(err)
	}
	expires := start.Add(90 * 24 * time.Hour)
	tok, secret, err := e.svc.CreateToken(ctx, op, account.TokenInput{Name: "board", UserID: su.ID, Scopes: access.Of(access.ViewPositions, access.CreatePositions), ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if tok.CreatedBy != "" || tok.UserID != su.ID || !tok.ExpiresAt.Equal(expires) {
		t.Fatalf("operator's token: got %+v", tok)
	}
	p, err := e.svc.AuthenticateToken(ctx, secret, "192.0.2.9")
	if err != nil || p.UserID != su.ID || p.Perms != access.Of(access.ViewPositions, access.CreatePositions) {
		t.Fatalf("operator's token principal: got %+v %v", p, err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE action = $1 AND actor_kind = 'operator'`, string(audit.APITokenCreated)); n != 1 {
		t.Fatalf("api_token.created records by the operator: %d, want 1", n)
	}
	// Beyond the service user's permissions, as a human user, without a user.
	if _, _, err := e.svc.CreateToken(ctx, op, account.TokenInput{Name: "x", UserID: su.ID, Scopes: access.Of(access.ManageUsers)}); !errors.Is(err, account.ErrScopeNotHeld) {
		t.Fatalf("a scope the service user lacks: got %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, op, account.TokenInput{Name: "x", UserID: human.ID, Scopes: access.Of(access.ViewPositions)}); !errors.Is(err, account.ErrNotServiceUser) {
		t.Fatalf("a human user: got %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, op, account.TokenInput{Name: "x", Scopes: access.Of(access.ViewPositions)}); !errors.Is(err, account.ErrNotServiceUser) {
		t.Fatalf("no user: got %v", err)
	}
	// The service user's role shrinks: so does the token, at once.
	e.exec(t, `UPDATE users SET role = $1 WHERE id = $2`, access.LineManager, su.ID)
	if p, err := e.svc.AuthenticateToken(ctx, secret, "192.0.2.9"); err != nil || p.Perms.Has(access.CreatePositions) {
		t.Fatalf("after the role change: got %+v %v", p, err)
	}
	// Disabled: the token stops.
	if err := e.svc.SetStatus(ctx, op, su.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret, "192.0.2.9"); !errors.Is(err, account.ErrNoToken) {
		t.Fatalf("service user disabled: got %v, want ErrNoToken", err)
	}
}
