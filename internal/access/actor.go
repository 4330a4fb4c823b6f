package access

// Kind is the kind of caller an Actor stands for.
type Kind uint8

// Kinds of caller. The zero value is a signed-in user, so that an Actor
// built from a session needs no kind spelled out.
const (
	// KindUser is a user of the company, signed in to the staff application.
	KindUser Kind = iota
	// KindOperator is the person at the command line of the installation.
	KindOperator
	// KindSystem is a background job (or the installation's own start-up
	// work, such as the first run's demo company).
	KindSystem
	// KindToken is an API token acting as its user (UserID) in the company.
	KindToken
)

// Actor is who asks: a user, the operator or a job, acting in one company
// with a permission set. It is the one caller shape of the domain services:
// every method that acts on someone's behalf takes one, decides through the
// policy with Perms, and records the action in the audit trail as done by
// the user, the operator or the named job (audit.ActorOf).
//
// A user's Perms are their resolved role. The operator and a job are not
// people of the company, so no role applies to them: they hold exactly the
// permissions of what they are asked to do, which their constructor names
// (a command that reads a company's credit ledger passes ManageCredits, and
// nothing else). The policy then treats them as it would a user holding
// those permissions who owns nothing, and no permission they were not given
// (such as handling whistleblowing cases) comes with them.
type Actor struct {
	Kind     Kind
	TenantID string
	// UserID is the user; "" for the operator and a job.
	UserID string
	// Job names the background job of a KindSystem actor.
	Job string
	// TokenID is the API token of a KindToken actor, which the trail names.
	TokenID string
	Perms   Set
}

// Operator returns the operator acting in a company with the permissions
// the command needs.
func Operator(tenantID string, perms ...Permission) Actor {
	return Actor{Kind: KindOperator, TenantID: tenantID, Perms: Of(perms...)}
}

// System returns the background job named job acting in a company with the
// permissions its work needs.
func System(job, tenantID string, perms ...Permission) Actor {
	return Actor{Kind: KindSystem, TenantID: tenantID, Job: job, Perms: Of(perms...)}
}

// Can reports whether the actor holds p, whatever the object.
func (a Actor) Can(p Permission) bool { return a.Perms.Has(p) }
