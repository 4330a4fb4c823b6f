package account_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// rightsEnv is a company with an email queue (invitations need one) and
// its first administrator.
func rightsEnv(t *testing.T) (*env, *tenant.Tenant, *account.User) {
	t.Helper()
	e := newFastEnv(t)
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2,
		Queue: notify.NewQueue(e.db), BaseURL: "https://jobs.example"})
	e.svc.SetClock(e.clock.now)
	c := e.company(t, "acme")
	return e, c, userWithRoleIn(t, e, c.ID, "ada", access.Administrator)
}

// userWithRoleIn creates an active user of a company with a role.
func userWithRoleIn(t *testing.T, e *env, tenantID, login, role string) *account.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), access.Operator(tenantID), account.CreateUserInput{
		Login: login, DisplayName: "User " + login, Password: goodPassword, Role: role})
	if err != nil {
		t.Fatalf("create %s: %v", login, err)
	}
	return u
}

// customRole defines a custom role as the operator would find it (written
// by an administrator).
func customRole(t *testing.T, e *env, admin *account.User, name string, perms ...access.Permission) string {
	t.Helper()
	var names []string
	for _, p := range perms {
		names = append(names, p.Name())
	}
	r, err := e.svc.SaveRole(context.Background(), e.principal(t, admin).Actor(), "", account.RoleInput{Name: name, Permissions: names})
	if err != nil {
		t.Fatalf("role %s: %v", name, err)
	}
	return r.ID
}

// holdings is what every user of a company may do: the resolved set of an
// active or invited user, nothing for a disabled one.
func holdings(t *testing.T, e *env, tenantID string) map[string]access.Set {
	t.Helper()
	users, err := e.svc.ListUsers(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]access.Set{}
	for _, u := range users {
		if u.Status != account.Disabled {
			out[u.ID] = u.Perms
		}
	}
	return out
}

// TestNoPathYieldsAPermissionTheActorLacks tries, for every path that
// changes what users may do and for actors of every kind, to create rights
// out of nothing. After each attempt, every permission anyone gained must
// be one the actor held, or the actor administers the company (users and
// roles) and the gain went to someone else. The cases that must be refused
// are named as such.
func TestNoPathYieldsAPermissionTheActorLacks(t *testing.T) {
	ctx := context.Background()
	e, c, ada := rightsEnv(t)
	userWithRoleIn(t, e, c.ID, "bert", access.Administrator) // so that nobody is the last administrator
	rolesOnly := customRole(t, e, ada, "Role editors", access.ManageRoles, access.ViewPositions)
	usersRoles := customRole(t, e, ada, "Deputies", access.ManageRoles, access.ManageUsers, access.ViewAudit)
	reviewers := customRole(t, e, ada, "Reviewers", access.ViewPositions)
	roger := userWithRoleIn(t, e, c.ID, "roger", rolesOnly)
	dora := userWithRoleIn(t, e, c.ID, "dora", usersRoles)
	rita := userWithRoleIn(t, e, c.ID, "rita", reviewers)
	hanna := userWithRoleIn(t, e, c.ID, "hanna", access.HRManager)
	if err := e.svc.SetOptionalRights(ctx, e.principal(t, ada).Actor(), hanna.ID, []string{access.ManageUsers.Name()}); err != nil {
		t.Fatal(err)
	}
	holly := userWithRoleIn(t, e, c.ID, "holly", access.HRManager)
	rex := userWithRoleIn(t, e, c.ID, "rex", access.Recruiter)
	gone := userWithRoleIn(t, e, c.ID, "gone", access.Administrator)
	if err := e.svc.SetStatus(ctx, access.Operator(c.ID), gone.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	everything := customRole(t, e, ada, "Everything", access.Permissions...)
	all := make([]string, 0, len(access.Permissions))
	for _, p := range access.Permissions {
		all = append(all, p.Name())
	}

	type attempt struct {
		name   string
		actor  *account.User
		refuse bool // the attempt must be refused (ErrForbidden)
		do     func(p *account.Principal) error
	}
	setRole := func(u *account.User, role string) func(*account.Principal) error {
		return func(p *account.Principal) error {
			_, err := e.svc.SetRole(ctx, p.Actor(), u.ID, role, account.Client{})
			return err
		}
	}
	saveRole := func(id string, perms ...string) func(*account.Principal) error {
		return func(p *account.Principal) error {
			_, err := e.svc.SaveRole(ctx, p.Actor(), id, account.RoleInput{Name: fmt.Sprintf("Role %d", len(perms)), Permissions: perms})
			return err
		}
	}
	rights := func(u *account.User, names ...string) func(*account.Principal) error {
		return func(p *account.Principal) error { return e.svc.SetOptionalRights(ctx, p.Actor(), u.ID, names) }
	}
	invited := 0
	invite := func(role string) func(*account.Principal) error {
		return func(p *account.Principal) error {
			invited++
			_, err := e.svc.Invite(ctx, p.Actor(), account.InviteInput{Email: fmt.Sprintf("new%d@acme.example", invited), DisplayName: "New", Role: role})
			return err
		}
	}
	status := func(u *account.User, st account.Status) func(*account.Principal) error {
		return func(p *account.Principal) error { return e.svc.SetUserStatus(ctx, p.Actor(), u.ID, st) }
	}
	attempts := []attempt{
		// roles.manage alone.
		{"roles.manage alone adds to its own role", roger, true, saveRole(rolesOnly, "roles.manage", "positions.view", "users.manage", "applications.view")},
		{"roles.manage alone adds to a colleague's role", roger, true, saveRole(reviewers, "positions.view", "applications.view")},
		{"roles.manage alone defines a role beyond its rights", roger, true, saveRole("", "applications.view")},
		{"roles.manage alone gives itself a role", roger, true, setRole(roger, everything)},
		{"roles.manage alone narrows a role within its rights", roger, false, saveRole(reviewers, "positions.view")},
		// users.manage as an HR manager's optional right.
		{"HR manager gives itself credit administration", hanna, true, rights(hanna, "users.manage", "credits.manage")},
		{"HR manager gives a colleague credit administration", hanna, true, rights(holly, "credits.manage")},
		{"HR manager makes itself administrator", hanna, true, setRole(hanna, access.Administrator)},
		{"HR manager makes a colleague administrator", hanna, true, setRole(rex, access.Administrator)},
		{"HR manager gives a role beyond its rights", hanna, true, setRole(rex, everything)},
		{"HR manager invites an administrator", hanna, true, invite(access.Administrator)},
		{"HR manager enables a disabled administrator", hanna, true, status(gone, account.Active)},
		{"HR manager invites a recruiter", hanna, false, invite(access.Recruiter)},
		// Users and roles without candidate access (a deputy administrator).
		{"deputy adds candidate access to its own role", dora, true, saveRole(usersRoles, "roles.manage", "users.manage", "audit.view", "applications.view")},
		{"deputy gives itself a role with candidate access", dora, true, setRole(dora, access.HRManager)},
		{"deputy gives itself everything", dora, true, setRole(dora, everything)},
		{"deputy gives a colleague candidate access", dora, false, setRole(rita, access.Recruiter)},
		// The administrator.
		{"administrator makes itself HR manager", ada, true, setRole(ada, access.HRManager)},
		{"administrator gives itself everything", ada, true, setRole(ada, everything)},
		{"administrator defines a role with every right", ada, false, saveRole("", all...)},
		{"administrator gives a colleague everything", ada, false, setRole(rita, everything)},
		{"administrator invites an HR manager", ada, false, invite(access.HRManager)},
		{"administrator gives optional rights", ada, false, rights(holly, "statistics.service", "credits.manage")},
		// No right to manage anything.
		{"recruiter gives itself a role", rex, true, setRole(rex, access.Administrator)},
		{"recruiter edits a role", rex, true, saveRole(reviewers, all...)},
		{"recruiter invites", rex, true, invite(access.Recruiter)},
	}
	for _, a := range attempts {
		before := holdings(t, e, c.ID)
		held := before[a.actor.ID]
		administers := held.Has(access.ManageUsers) && held.Has(access.ManageRoles)
		err := a.do(e.principal(t, a.actor))
		if a.refuse && !errors.Is(err, account.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", a.name, err)
		}
		if !a.refuse && err != nil {
			t.Errorf("%s: %v", a.name, err)
		}
		for id, set := range holdings(t, e, c.ID) {
			gained := set &^ before[id]
			if gained == 0 || held.Contains(gained) || (administers && id != a.actor.ID) {
				continue
			}
			t.Errorf("%s: user %s gained %s, which the actor lacks", a.name, id, (gained &^ held).Encode())
		}
	}
}

// TestAdministratorGivesCandidateAccessToOthersOnly: an administrator, who
// sees no candidate, may give colleagues roles that do, never itself; each
// such gift raises the candidate-access alert for the administrators,
// whichever path it takes.
func TestAdministratorGivesCandidateAccessToOthersOnly(t *testing.T) {
	ctx := context.Background()
	e, c, ada := rightsEnv(t)
	bert := userWithRoleIn(t, e, c.ID, "bert", access.Administrator)
	log := e.kit.Audit
	alerts := func() int {
		t.Helper()
		open, err := log.OpenAlerts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range open {
			if a.Rule == audit.RuleCandidateAccess {
				n++
			}
		}
		return n
	}
	ap := e.principal(t, ada)
	if _, err := e.svc.SetRole(ctx, ap.Actor(), ada.ID, access.HRManager, account.Client{}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("administrator makes itself HR manager: %v", err)
	}
	lina := userWithRoleIn(t, e, c.ID, "lina", access.CaseHandler)
	steps := []struct {
		name string
		do   func() error
		// raises: whether this step gives candidate access.
		raises bool
	}{
		{"role", func() error {
			_, err := e.svc.SetRole(ctx, ap.Actor(), lina.ID, access.LineManager, account.Client{})
			return err
		}, true},
		{"the same role again", func() error {
			_, err := e.svc.SetRole(ctx, ap.Actor(), lina.ID, access.LineManager, account.Client{})
			return err
		}, false},
		{"a role with more", func() error {
			_, err := e.svc.SetRole(ctx, ap.Actor(), lina.ID, access.HRManager, account.Client{})
			return err
		}, true},
		{"invitation", func() error {
			_, err := e.svc.Invite(ctx, ap.Actor(), account.InviteInput{Email: "rut@acme.example", DisplayName: "Rut", Role: access.Recruiter})
			return err
		}, true},
		{"invitation without candidate access", func() error {
			_, err := e.svc.Invite(ctx, ap.Actor(), account.InviteInput{Email: "kim@acme.example", DisplayName: "Kim", Role: access.CaseHandler})
			return err
		}, false},
	}
	for _, s := range steps {
		n := alerts()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := alerts() - n; (got == 1) != s.raises || got > 1 {
			t.Errorf("%s: %d candidate-access alerts, want raised=%v", s.name, got, s.raises)
		}
	}
	// A custom role held by a colleague gains candidate access.
	watchers := customRole(t, e, ada, "Watchers", access.ViewPositions)
	userWithRoleIn(t, e, c.ID, "wera", watchers)
	n := alerts()
	if _, err := e.svc.SaveRole(ctx, ap.Actor(), watchers, account.RoleInput{Name: "Watchers", Permissions: []string{"positions.view", "applications.view"}}); err != nil {
		t.Fatal(err)
	}
	if alerts()-n != 1 {
		t.Fatal("a held role that gained candidate access raised no alert")
	}
	// Nor through a role it holds itself: Bert moves to a custom role
	// without candidate access, and may not then widen it.
	deputies := customRole(t, e, ada, "Deputies", access.ManageUsers, access.ManageRoles)
	bp := e.principal(t, bert)
	if _, err := e.svc.SetRole(ctx, bp.Actor(), bert.ID, deputies, account.Client{}); err != nil {
		t.Fatalf("stepping down to a narrower role: %v", err)
	}
	bp = e.principal(t, bert)
	if _, err := e.svc.SaveRole(ctx, bp.Actor(), deputies, account.RoleInput{Name: "Deputies", Permissions: []string{"users.manage", "roles.manage", "applications.view"}}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("widening one's own role: %v", err)
	}
	// Ada, who does not hold it, may widen it for Bert: that is a gift to
	// someone else, and raised.
	n = alerts()
	if _, err := e.svc.SaveRole(ctx, ap.Actor(), deputies, account.RoleInput{Name: "Deputies", Permissions: []string{"users.manage", "roles.manage", "applications.view"}}); err != nil {
		t.Fatal(err)
	}
	if alerts()-n != 1 {
		t.Fatal("widening a colleague's role raised no alert")
	}
}

// TestRightsAreReadWhereTheChangeIsWritten: a principal whose rights were
// taken away meanwhile (a request begun before) changes nothing.
func TestRightsAreReadWhereTheChangeIsWritten(t *testing.T) {
	ctx := context.Background()
	e, c, ada := rightsEnv(t)
	hanna := userWithRoleIn(t, e, c.ID, "hanna", access.HRManager)
	if err := e.svc.SetOptionalRights(ctx, e.principal(t, ada).Actor(), hanna.ID, []string{"users.manage"}); err != nil {
		t.Fatal(err)
	}
	stale := e.principal(t, hanna)
	rex := userWithRoleIn(t, e, c.ID, "rex", access.Recruiter)
	if err := e.svc.SetOptionalRights(ctx, e.principal(t, ada).Actor(), hanna.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetRole(ctx, stale.Actor(), rex.ID, access.LineManager, account.Client{}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("role change with rights taken away: %v", err)
	}
	if _, err := e.svc.Invite(ctx, stale.Actor(), account.InviteInput{Email: "x@acme.example", DisplayName: "X", Role: access.Recruiter}); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("invitation with rights taken away: %v", err)
	}
	if err := e.svc.SetUserStatus(ctx, stale.Actor(), rex.ID, account.Disabled); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("disabling with rights taken away: %v", err)
	}
}

// together runs fns at once (released together) and returns their errors.
func together(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// TestSelfGrantRace: an administrator both widens a custom role (allowed:
// nobody holds it) and moves itself to it (allowed: it is still narrow),
// at the same time. Taken one after the other, the second is refused;
// interleaved without the company's rights lock, both passed their checks
// and the administrator ended up with candidate access.
func TestSelfGrantRace(t *testing.T) {
	ctx := context.Background()
	e, c, ada := rightsEnv(t)
	userWithRoleIn(t, e, c.ID, "bert", access.Administrator)
	narrow := []string{"users.manage", "roles.manage"}
	wide := append([]string{"applications.view", "pool.view"}, narrow...)
	for round := range 12 {
		ap := e.principal(t, ada)
		role, err := e.svc.SaveRole(ctx, ap.Actor(), "", account.RoleInput{Name: fmt.Sprintf("Deputies %d", round), Permissions: narrow})
		if err != nil {
			t.Fatal(err)
		}
		errs := together(
			func() error {
				_, err := e.svc.SaveRole(ctx, ap.Actor(), role.ID, account.RoleInput{Name: role.Name, Permissions: wide})
				return err
			},
			func() error { _, err := e.svc.SetRole(ctx, ap.Actor(), ada.ID, role.ID, account.Client{}); return err },
		)
		for _, err := range errs {
			if err != nil && !errors.Is(err, account.ErrForbidden) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if p := e.principal(t, ada); p.Perms&access.CandidateAccess != 0 {
			t.Fatalf("round %d: the administrator gave itself %s (errors %v)", round, (p.Perms & access.CandidateAccess).Encode(), errs)
		}
		// Back to the administrator role for the next round (Bert does it).
		if p := e.principal(t, ada); p.Role != access.Administrator {
			bert, _ := e.svc.UserByLogin(ctx, c.ID, "bert")
			if _, err := e.svc.SetRole(ctx, e.principal(t, bert).Actor(), ada.ID, access.Administrator, account.Client{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestOneActiveAdministratorUnderRaces: two administrators disable or
// demote each other, or both step down, at the same moment, many times
// over: every time exactly one change passes and the company keeps an
// active administrator.
func TestOneActiveAdministratorUnderRaces(t *testing.T) {
	ctx := context.Background()
	e, c, first := rightsEnv(t)
	auditors := customRole(t, e, first, "Auditors", access.ViewAudit) // a narrower role an administrator may take itself
	kinds := []struct {
		name string
		op   func(p *account.Principal, self, other *account.User) error
	}{
		{"disable each other", func(p *account.Principal, _, other *account.User) error {
			return e.svc.SetUserStatus(ctx, p.Actor(), other.ID, account.Disabled)
		}},
		{"demote each other", func(p *account.Principal, _, other *account.User) error {
			_, err := e.svc.SetRole(ctx, p.Actor(), other.ID, access.Recruiter, account.Client{})
			return err
		}},
		{"both step down", func(p *account.Principal, self, _ *account.User) error {
			_, err := e.svc.SetRole(ctx, p.Actor(), self.ID, auditors, account.Client{})
			return err
		}},
	}
	// The first administrator steps aside for the races.
	n := 0
	pair := func() (*account.User, *account.User) {
		n++
		return userWithRoleIn(t, e, c.ID, fmt.Sprintf("admin-a%d", n), access.Administrator), userWithRoleIn(t, e, c.ID, fmt.Sprintf("admin-b%d", n), access.Administrator)
	}
	a, b := pair()
	if err := e.svc.SetUserStatus(ctx, e.principal(t, a).Actor(), first.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		for round := range 8 {
			pa, pb := e.principal(t, a), e.principal(t, b)
			errs := together(func() error { return k.op(pa, a, b) }, func() error { return k.op(pb, b, a) })
			passed := 0
			for _, err := range errs {
				switch {
				case err == nil:
					passed++
				case errors.Is(err, account.ErrForbidden), errors.Is(err, account.ErrLastAdministrator):
				default:
					t.Fatalf("%s, round %d: %v", k.name, round, err)
				}
			}
			active := e.count(t, `SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'administrator' AND status = 'active'`, c.ID)
			if active != 1 || passed != 1 {
				t.Fatalf("%s, round %d: %d active administrators, %d changes passed (%v)", k.name, round, active, passed, errs)
			}
			// The next round: a fresh pair, with the survivor stepping aside.
			survivor := a
			if u, _ := e.svc.UserByID(ctx, c.ID, b.ID); u.Role == access.Administrator && u.Status == account.Active {
				survivor = b
			}
			a, b = pair()
			if err := e.svc.SetUserStatus(ctx, e.principal(t, a).Actor(), survivor.ID, account.Disabled); err != nil {
				t.Fatal(err)
			}
		}
	}
}
