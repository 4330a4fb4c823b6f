package account_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

// userWithRole creates an active user of the admin's company with a role.
func userWithRole(t *testing.T, e *env, admin *account.User, login, role string) *account.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), access.Operator(admin.TenantID), account.CreateUserInput{
		Login: login, DisplayName: "User " + login, Password: goodPassword, Role: role})
	if err != nil {
		t.Fatalf("create %s: %v", login, err)
	}
	return u
}

// TestCustomRoleAppliesOnNextRequest: a custom role's permissions, and a
// change of them, apply to its holder's very next request (the session is
// not stale); a role in use cannot be deleted.
func TestCustomRoleAppliesOnNextRequest(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	ap := e.principal(t, admin)
	var ve *fault.Invalid
	for _, in := range []account.RoleInput{
		{Name: "", Permissions: []string{"positions.view"}},
		{Name: "Reviewers", Permissions: nil},
		{Name: "Reviewers", Permissions: []string{"emperor.rule"}},
		{Name: "Bad\x00name", Permissions: []string{"positions.view"}},
	} {
		if _, err := e.svc.SaveRole(ctx, ap.Actor(), "", in); !errors.As(err, &ve) {
			t.Errorf("SaveRole(%+v) = %v, want a ValidationError", in, err)
		}
	}
	role, err := e.svc.SaveRole(ctx, ap.Actor(), "", account.RoleInput{Name: "Reviewers", Permissions: []string{"positions.view", "applications.view"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveRole(ctx, ap.Actor(), "", account.RoleInput{Name: "Reviewers", Permissions: []string{"positions.view"}}); !errors.As(err, &ve) || ve.Fields["name"] != "error.role_name_taken" {
		t.Fatalf("duplicate name: %v", err)
	}
	u := userWithRole(t, e, admin, "rita", role.ID)
	token := e.session(t, u)
	p, err := e.svc.Authenticate(ctx, token)
	if err != nil || p.Perms != access.Of(access.ViewPositions, access.ViewApplications) {
		t.Fatalf("custom role's set: %v %v", p, err)
	}
	if _, err := e.svc.SaveRole(ctx, ap.Actor(), role.ID, account.RoleInput{Name: "Reviewers", Permissions: []string{"positions.view", "applications.comment"}}); err != nil {
		t.Fatal(err)
	}
	p, err = e.svc.Authenticate(ctx, token)
	if err != nil || p.Can(access.ViewApplications) || !p.Can(access.Comment) {
		t.Fatalf("after the change, the same session: %v %v", p.Perms.Encode(), err)
	}
	if err := e.svc.DeleteRole(ctx, ap.Actor(), role.ID); !errors.Is(err, account.ErrRoleInUse) {
		t.Fatalf("deleting a role in use: %v", err)
	}
	// Without ManageRoles: forbidden.
	if _, err := e.svc.SaveRole(ctx, p.Actor(), "", account.RoleInput{Name: "Mine", Permissions: []string{"users.manage"}}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("a reviewer defines a role: %v", err)
	}
	if err := e.svc.DeleteRole(ctx, p.Actor(), role.ID); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("a reviewer deletes a role: %v", err)
	}
	// Roles of another company are unknown here.
	other := e.company(t, "other")
	otherAdmin := e.user(t, other.ID, "olga", goodPassword)
	if _, err := e.svc.SaveRole(ctx, e.principal(t, otherAdmin).Actor(), role.ID, account.RoleInput{Name: "Stolen", Permissions: []string{"users.manage"}}); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("changing another company's role: %v", err)
	}
	if err := e.svc.DeleteRole(ctx, e.principal(t, otherAdmin).Actor(), role.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("deleting another company's role: %v", err)
	}
	if _, err := e.svc.CreateUser(ctx, access.Operator(other.ID), account.CreateUserInput{Login: "sneaky", DisplayName: "S", Password: goodPassword, Role: role.ID}); !errors.As(err, &ve) {
		t.Fatalf("another company's role given to a user: %v", err)
	}
	if _, err := e.svc.SetRole(ctx, ap.Actor(), u.ID, access.Recruiter, account.Client{}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteRole(ctx, ap.Actor(), role.ID); err != nil {
		t.Fatal(err)
	}
	if roles, _ := e.svc.ListRoles(ctx, admin.TenantID); len(roles) != 0 {
		t.Fatalf("roles after delete: %v", roles)
	}
}

// TestRoleChangeAppliesOnNextRequest: a changed role ends the user's
// sessions, and the next sign-in carries the new permissions.
func TestRoleChangeAppliesOnNextRequest(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	u := userWithRole(t, e, admin, "rolf", access.Recruiter)
	token := e.session(t, u)
	if p, _ := e.svc.Authenticate(ctx, token); !p.Can(access.SpendCredits) {
		t.Fatal("a recruiter cannot spend credits")
	}
	if _, err := e.svc.SetRole(ctx, e.principal(t, admin).Actor(), u.ID, access.RecruiterWithoutCredits, account.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("the old session survived a role change: %v", err)
	}
	if p := e.principal(t, u); p.Can(access.SpendCredits) || !p.Can(access.ViewPositions) {
		t.Fatalf("after the change: %s", p.Perms.Encode())
	}
}

// TestNobodyGivesMoreThanTheyHold: an HR manager with user management may
// give roles within their own rights, never the administrator role or a
// right they lack, and cannot change a colleague who holds more.
func TestNobodyGivesMoreThanTheyHold(t *testing.T) {
	ctx := context.Background()
	e, admin := lockoutEnv(t)
	ap := e.principal(t, admin)
	hr := userWithRole(t, e, admin, "hanna", access.HRManager)
	var ve *fault.Invalid
	if err := e.svc.SetOptionalRights(ctx, ap.Actor(), hr.ID, []string{"users.manage", "roles.manage"}); !errors.As(err, &ve) {
		t.Fatalf("roles.manage as an optional right: %v", err)
	}
	if err := e.svc.SetOptionalRights(ctx, ap.Actor(), hr.ID, []string{"users.manage", "statistics.service"}); err != nil {
		t.Fatal(err)
	}
	hp := e.principal(t, hr)
	if !hp.Can(access.ManageUsers) || !hp.Can(access.ServiceStatistics) || hp.Can(access.ManageCredits) {
		t.Fatalf("HR manager's rights: %s", hp.Perms.Encode())
	}
	rec := userWithRole(t, e, admin, "robin", access.Recruiter)
	if err := e.svc.SetOptionalRights(ctx, ap.Actor(), rec.ID, []string{"users.manage"}); !errors.As(err, &ve) {
		t.Fatalf("optional rights for a recruiter: %v", err)
	}
	if _, err := e.svc.SetRole(ctx, hp.Actor(), rec.ID, access.LineManager, account.Client{}); err != nil {
		t.Fatalf("HR manager demotes a recruiter: %v", err)
	}
	if _, err := e.svc.SetRole(ctx, hp.Actor(), rec.ID, access.Administrator, account.Client{}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager makes an administrator: %v", err)
	}
	if _, err := e.svc.SetRole(ctx, hp.Actor(), admin.ID, access.Recruiter, account.Client{}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager demotes the administrator: %v", err)
	}
	if _, err := e.svc.Invite(ctx, hp.Actor(), account.InviteInput{Email: "x@acme.example", DisplayName: "X", Role: access.Administrator}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager invites an administrator: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, hp.Actor(), admin.ID, account.Disabled); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager disables the administrator: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, hp.Actor(), hr.ID, account.Disabled); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager disables themselves: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, hp.Actor(), rec.ID, account.Disabled); err != nil {
		t.Fatalf("HR manager disables a line manager: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, e.principal(t, rec).Actor(), hr.ID, account.Disabled); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("a line manager disables someone: %v", err)
	}
	second := userWithRole(t, e, admin, "otto", access.Administrator)
	if err := e.svc.SetUserStatus(ctx, e.principal(t, second).Actor(), admin.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	// ap is the now disabled administrator's principal, as a stale request
	// would carry it: the rights are read again where the change is written.
	if err := e.svc.SetUserStatus(ctx, ap.Actor(), second.ID, account.Disabled); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("a disabled administrator disables the last active one: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, e.principal(t, second).Actor(), admin.ID, account.Active); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetOptionalRights(ctx, hp.Actor(), hr.ID, []string{"users.manage", "statistics.service", "credits.manage"}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("HR manager gives themselves credit administration: %v", err)
	}
	// A role change away from HR manager drops the optional rights.
	if _, err := e.svc.SetRole(ctx, ap.Actor(), hr.ID, access.Recruiter, account.Client{}); err != nil {
		t.Fatal(err)
	}
	if p := e.principal(t, hr); p.Perms != access.RoleSet(access.Recruiter) {
		t.Fatalf("rights kept after leaving the HR manager role: %s", p.Perms.Encode())
	}
	if _, err := e.svc.SetRole(ctx, ap.Actor(), hr.ID, access.HRManager, account.Client{}); err != nil {
		t.Fatal(err)
	}
	if p := e.principal(t, hr); p.Can(access.ManageUsers) {
		t.Fatal("optional rights came back with the role")
	}
}
