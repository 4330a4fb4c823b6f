package access

// CandidateAccess are the permissions that open candidates' data: their
// applications, the shared pool, their messages, and erasing them. The
// administrator role holds none of them (administering the company is not
// recruiting), which is why giving them is watched (an alert to the
// administrators).
var CandidateAccess = Of(ViewApplications, AddCandidates, MoveStage, Comment, Rate, InviteInterview, ViewSharedPool, Inbox, EraseCandidates)

// MayChange is the one rule for every change of what users may do: a
// user's role, optional rights or status, an invitation with a role, and a
// custom role's permission set. actor is the set of the user making the
// change; gate is the right the change needs (ManageUsers for a user or an
// invitation, ManageRoles for a custom role); old and new are the sets
// before and after the change (0 for a user who does not exist yet, is
// disabled, or a role being created or deleted); self says whether the
// actor's own rights are among those that change.
//
// The actor must hold gate and every permission of old and new: nobody
// hands out, or takes away, a right they do not hold. One exception makes
// a company work: an administrator of the company (ManageUsers and
// ManageRoles together) may give colleagues rights it lacks itself, such
// as candidate access to an HR manager, but never to itself. So no change
// ever gives anyone a right out of nothing: either the actor has it, or
// the actor administers the company and the right goes to someone else.
func MayChange(actor Set, gate Permission, old, new Set, self bool) bool {
	if (gate != ManageUsers && gate != ManageRoles) || !actor.Has(gate) {
		return false
	}
	if actor.Contains(old | new) {
		return true
	}
	return !self && administers(actor)
}

// administers reports whether a set administers the company: it manages
// both its users and its roles.
func administers(s Set) bool { return s.Has(ManageUsers) && s.Has(ManageRoles) }

// GivesCandidateAccess reports whether a change from old to new opens
// candidate data its holder did not have.
func GivesCandidateAccess(old, new Set) bool { return new&CandidateAccess&^old != 0 }
