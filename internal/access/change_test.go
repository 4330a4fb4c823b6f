package access

import "testing"

// TestMayChange: nobody gives or takes a right they lack, except an
// administrator of the company giving colleagues (never itself) what it
// does not hold; without the gate, nothing.
func TestMayChange(t *testing.T) {
	admin := RoleSet(Administrator)
	hrUsers := RoleSet(HRManager) | Of(ManageUsers)
	rolesOnly := Of(ManageRoles, ViewPositions)
	tests := []struct {
		name     string
		actor    Set
		gate     Permission
		old, new Set
		self     bool
		want     bool
	}{
		{"administrator makes a colleague HR manager", admin, ManageUsers, RoleSet(Recruiter), RoleSet(HRManager), false, true},
		{"administrator makes itself HR manager", admin, ManageUsers, admin, RoleSet(HRManager), true, false},
		{"administrator gives its own custom role candidate access", admin, ManageRoles, admin, admin | Of(ViewApplications), true, false},
		{"administrator steps down to a set it holds", admin, ManageUsers, admin, Of(ViewAudit), true, true},
		{"administrator defines a role for others", admin, ManageRoles, 0, CandidateAccess, false, true},
		{"HR manager with user management gives a recruiter", hrUsers, ManageUsers, 0, RoleSet(Recruiter), false, true},
		{"but not the administrator role", hrUsers, ManageUsers, 0, admin, false, false},
		{"nor takes it away", hrUsers, ManageUsers, admin, RoleSet(Recruiter), false, false},
		{"nor gives itself credit administration", hrUsers, ManageUsers, hrUsers, hrUsers | Of(ManageCredits), true, false},
		{"roles.manage alone adds to its own role", rolesOnly, ManageRoles, rolesOnly, rolesOnly | Of(ManageUsers), true, false},
		{"roles.manage alone adds to a colleague's role", rolesOnly, ManageRoles, Of(ViewPositions), Of(ViewPositions, ViewApplications), false, false},
		{"roles.manage alone narrows a role within its rights", rolesOnly, ManageRoles, Of(ViewPositions), Of(ViewPositions), false, true},
		{"without the gate nothing", RoleSet(HRManager), ManageUsers, 0, RoleSet(LineManager), false, false},
		{"a gate that is no gate", admin, ViewAudit, 0, Of(ViewAudit), false, false},
		{"users.manage does not open the roles path", hrUsers, ManageRoles, 0, Of(ViewPositions), false, false},
	}
	for _, tt := range tests {
		if got := MayChange(tt.actor, tt.gate, tt.old, tt.new, tt.self); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestNoChangeCreatesARightForItsActor: over every predefined role as the
// actor and every pair of predefined sets, a change the rule allows on the
// actor's own rights never leaves the actor with a permission it lacked.
func TestNoChangeCreatesARightForItsActor(t *testing.T) {
	sets := []Set{0, CandidateAccess, Of(ManageUsers, ManageRoles) | CandidateAccess}
	for _, r := range Roles {
		sets = append(sets, RoleSet(r), RoleSet(r)|Of(OptionalRights...))
	}
	for _, r := range Roles {
		actor := RoleSet(r) | Of(ManageUsers) // as if given user management
		for _, gate := range []Permission{ManageUsers, ManageRoles} {
			for _, next := range sets {
				if MayChange(actor, gate, actor, next, true) && !actor.Contains(next) {
					t.Errorf("%s gives itself %s", r, (next &^ actor).Encode())
				}
			}
		}
	}
}

func TestGivesCandidateAccess(t *testing.T) {
	if !GivesCandidateAccess(RoleSet(Administrator), RoleSet(HRManager)) || GivesCandidateAccess(RoleSet(HRManager), RoleSet(Recruiter)) ||
		GivesCandidateAccess(0, RoleSet(Administrator)) || !GivesCandidateAccess(0, Of(Inbox)) {
		t.Fatal("GivesCandidateAccess is wrong")
	}
}
