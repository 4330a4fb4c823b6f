package access

import (
	"fmt"
	"slices"
	"testing"
)

// TestRolePermissions states, for every predefined role, every permission
// it holds; everything else is denied. A new role or permission without a
// row here fails.
func TestRolePermissions(t *testing.T) {
	rec := []string{"positions.view", "positions.create", "positions.edit", "positions.publish", "applications.view", "applications.add",
		"applications.move", "applications.comment", "applications.rate", "interviews.invite", "pool.view", "inbox.view"}
	want := map[string][]string{
		"administrator": {"credits.manage", "users.manage", "roles.manage", "company.profile", "company.settings", "audit.view",
			"privacy.settings", "api.tokens"},
		"hr_manager":                append(slices.Clone(rec), "positions.all", "credits.spend", "company.profile", "candidates.erase"),
		"recruiter":                 append(slices.Clone(rec), "credits.spend"),
		"recruiter_without_credits": rec,
		"line_manager":              {"positions.view", "applications.view", "applications.comment", "applications.rate", "interviews.invite"},
		"case_handler":              {"cases.handle"},
		"":                          nil,
		"emperor":                   nil,
	}
	for role := range roles {
		if _, ok := want[role]; !ok {
			t.Errorf("role %q has no row in the table", role)
		}
	}
	for role, names := range want {
		for _, n := range names {
			if _, ok := Parse(n); !ok {
				t.Fatalf("unknown permission %q in the table", n)
			}
		}
		for _, p := range Permissions {
			if got, w := RoleSet(role).Has(p), slices.Contains(names, p.Name()); got != w {
				t.Errorf("role %q, %s: %v, want %v", role, p, got, w)
			}
		}
	}
	if len(Permissions) != 26 || len(Names()) != 26 {
		t.Errorf("the catalogue has %d permissions; update this table", len(Permissions))
	}
	for _, p := range Permissions {
		if p.Name() == "" {
			t.Errorf("permission %d has no name", p)
		}
	}
	if Permission(0).Name() != "" || Permission(200).Name() != "" || Of(0, 200) != 0 {
		t.Error("out-of-catalogue permissions must be nothing")
	}
}

func TestResolve(t *testing.T) {
	custom := Of(ViewPositions, AllPositions, ViewApplications).Encode()
	tests := []struct {
		name, role, custom, extra string
		want                      Set
	}{
		{"predefined", Recruiter, "", "", RoleSet(Recruiter)},
		{"HR manager with optional rights", HRManager, "", "statistics.service,credits.manage", RoleSet(HRManager) | Of(ServiceStatistics, ManageCredits)},
		{"optional rights are only the four", HRManager, "", "roles.manage,cases.handle,users.manage", RoleSet(HRManager) | Of(ManageUsers)},
		{"optional rights on another role grant nothing", Recruiter, "", "users.manage", RoleSet(Recruiter)},
		{"custom role", "0190f0e2-0000-7000-8000-000000000001", custom, "", Of(ViewPositions, AllPositions, ViewApplications)},
		{"custom role ignores unknown names", "x", "positions.view, emperor.rule,,", "", Of(ViewPositions)},
		{"unknown role", "emperor", "", "users.manage", 0},
	}
	for _, tt := range tests {
		if got := Resolve(tt.role, tt.custom, tt.extra); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got.Encode(), tt.want.Encode())
		}
	}
	if s := Of(ManageUsers, ViewPositions); Decode(s.Encode()) != s {
		t.Error("Encode and Decode do not round-trip")
	}
}

// TestPolicyTable decides every object action for every predefined role,
// for each relation of the actor to the object and for stages inside and
// outside the shared pool. Each cell is A (allow), F (forbidden, 403) or
// H (hidden, 404).
func TestPolicyTable(t *testing.T) {
	const me, boss, other = "u-me", "u-boss", "u-other"
	relations := map[string]Position{
		"own":     {TenantID: "t1", OwnerID: me},
		"shared":  {TenantID: "t1", OwnerID: boss, Members: []string{"u-x", me}},
		"other":   {TenantID: "t1", OwnerID: other, Members: []string{"u-x"}},
		"foreign": {TenantID: "t2", OwnerID: me, Members: []string{me}},
	}
	positionActions := []Permission{ViewPositions, EditPositions, PublishPositions, ViewApplications, AddCandidates}
	applicationActions := []Permission{ViewApplications, MoveStage, Comment, Rate, InviteInterview}
	// Per role and relation: position actions; application actions at a
	// pool stage (interview); application actions outside it (new).
	want := map[string]map[string][3]string{
		Administrator: {"own": {"HHHHH", "HHHHH", "HHHHH"}, "shared": {"HHHHH", "HHHHH", "HHHHH"}, "other": {"HHHHH", "HHHHH", "HHHHH"}, "foreign": {"HHHHH", "HHHHH", "HHHHH"}},
		HRManager:     {"own": {"AAAAA", "AAAAA", "AAAAA"}, "shared": {"AAAAA", "AAAAA", "AAAAA"}, "other": {"AAAAA", "AAAAA", "AAAAA"}, "foreign": {"HHHHH", "HHHHH", "HHHHH"}},
		Recruiter:     {"own": {"AAAAA", "AAAAA", "AAAAA"}, "shared": {"AFFAF", "AFAAA", "AFAAA"}, "other": {"HHHHH", "AFFFF", "HHHHH"}, "foreign": {"HHHHH", "HHHHH", "HHHHH"}},
		RecruiterWithoutCredits: {"own": {"AAAAA", "AAAAA", "AAAAA"}, "shared": {"AFFAF", "AFAAA", "AFAAA"}, "other": {"HHHHH", "AFFFF", "HHHHH"},
			"foreign": {"HHHHH", "HHHHH", "HHHHH"}},
		LineManager: {"own": {"AFFAF", "AFAAA", "AFAAA"}, "shared": {"AFFAF", "AFAAA", "AFAAA"}, "other": {"HHHHH", "HHHHH", "HHHHH"}, "foreign": {"HHHHH", "HHHHH", "HHHHH"}},
		CaseHandler: {"own": {"HHHHH", "HHHHH", "HHHHH"}, "shared": {"HHHHH", "HHHHH", "HHHHH"}, "other": {"HHHHH", "HHHHH", "HHHHH"}, "foreign": {"HHHHH", "HHHHH", "HHHHH"}},
	}
	for _, role := range Roles {
		if _, ok := want[role]; !ok {
			t.Errorf("role %q has no row in the policy table", role)
		}
	}
	letter := map[Decision]byte{Allow: 'A', Forbidden: 'F', Hidden: 'H'}
	for role, rels := range want {
		a := Actor{TenantID: "t1", UserID: me, Perms: RoleSet(role)}
		for rel, cells := range rels {
			pos := relations[rel]
			row := func(actions []Permission, decide func(Permission) Decision) string {
				b := make([]byte, len(actions))
				for i, p := range actions {
					b[i] = letter[decide(p)]
				}
				return string(b)
			}
			got := [3]string{
				row(positionActions, func(p Permission) Decision { return DecidePosition(a, p, pos) }),
				row(applicationActions, func(p Permission) Decision {
					return DecideApplication(a, p, Application{Position: pos, Stage: StageInterview})
				}),
				row(applicationActions, func(p Permission) Decision {
					return DecideApplication(a, p, Application{Position: pos, Stage: StageNew})
				}),
			}
			if got != cells {
				t.Errorf("%s on a %s position: got %v, want %v", role, rel, got, cells)
			}
		}
	}
}

// TestSharedPoolStages: the pool holds pre-selected, interviewed, offered
// and hired candidates, never new or rejected ones.
func TestSharedPoolStages(t *testing.T) {
	a := Actor{TenantID: "t1", UserID: "me", Perms: RoleSet(Recruiter)}
	for _, k := range StageKinds {
		got := DecideApplication(a, ViewApplications, Application{Position: Position{TenantID: "t1", OwnerID: "other"}, Stage: k})
		want := Hidden
		if k != StageNew && k != StageRejected {
			want = Allow
		}
		if got != want {
			t.Errorf("stage %s: %s, want %s", k, got, want)
		}
	}
}

// TestDenyByDefault: an actor without a tenant, user or permissions, and
// actions the policy does not know, are denied.
func TestDenyByDefault(t *testing.T) {
	pos := Position{TenantID: "", OwnerID: ""}
	all := Actor{Perms: ^Set(0)}
	mine := Position{TenantID: "t1", OwnerID: "me", Members: []string{"lm"}}
	if DecidePosition(Actor{TenantID: "t1", UserID: "me", Perms: RoleSet(Recruiter)}, MoveStage, mine) != Allow ||
		DecidePosition(Actor{TenantID: "t1", UserID: "lm", Perms: RoleSet(LineManager)}, MoveStage, mine) != Forbidden {
		t.Error("moving on the board: the owner may, the line manager may not")
	}
	if DecidePosition(all, ViewPositions, pos) != Hidden || DecideApplication(all, ViewApplications, Application{Position: pos}) != Hidden {
		t.Error("an actor without a company sees an object without one")
	}
	a := Actor{TenantID: "t1", UserID: "me", Perms: ^Set(0)}
	own := Position{TenantID: "t1", OwnerID: "me"}
	for _, p := range []Permission{ManageUsers, HandleCases, 0, 99} {
		if d := DecidePosition(a, p, own); d != Forbidden {
			t.Errorf("DecidePosition(%d) = %s", p, d)
		}
		if d := DecideApplication(a, p, Application{Position: own, Stage: StageNew}); d != Forbidden {
			t.Errorf("DecideApplication(%d) = %s", p, d)
		}
	}
	if (Actor{TenantID: "t1", Perms: RoleSet(Recruiter)}).sees(Position{TenantID: "t1"}) {
		t.Error("an empty owner matched an empty user")
	}
}

func BenchmarkDecideApplication(b *testing.B) {
	a := Actor{TenantID: "0190f0e2-aaaa-7000-8000-000000000001", UserID: "0190f0e2-bbbb-7000-8000-000000000002", Perms: RoleSet(LineManager)}
	o := Application{Position: Position{TenantID: a.TenantID, OwnerID: "0190f0e2-cccc-7000-8000-000000000003",
		Members: []string{"0190f0e2-dddd-7000-8000-000000000004", a.UserID}}, Stage: StageInterview}
	var d Decision
	for b.Loop() {
		d = DecideApplication(a, Comment, o)
	}
	if d != Allow {
		b.Fatal(d)
	}
}

func BenchmarkResolve(b *testing.B) {
	var s Set
	for b.Loop() {
		s = Resolve(HRManager, "", "statistics.service,credits.manage")
	}
	if !s.Has(ManageCredits) {
		b.Fatal(fmt.Sprint(s))
	}
}
