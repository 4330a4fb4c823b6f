// Package access decides who may do what inside a company. It holds the
// catalogue of permissions, the permission sets of the predefined roles,
// the optional rights an HR manager may be given, and one pure policy
// function per kind of object (positions, applications). Services ask it
// before every read or write; handlers never decide. Deny by default: a role
// or permission it does not know allows nothing.
//
// The package has no dependencies beyond the standard library, so that a
// decision costs nanoseconds and is tested exhaustively as a table.
package access

import (
	"slices"
	"strings"
)

// Permission is one thing a user may be allowed to do.
type Permission uint8

// The catalogue. The order is the order of the permission matrix; the
// names (see Name) are what custom roles store, so they never change.
const (
	// ViewPositions: see positions (which ones depends on AllPositions,
	// ownership and sharing) and their pipelines.
	ViewPositions Permission = iota + 1
	// AllPositions: every position of the company, not only one's own and
	// those shared with one.
	AllPositions
	// CreatePositions: create positions, owned by oneself.
	CreatePositions
	// EditPositions: edit positions one may see and owns (or all, with AllPositions), and share them.
	EditPositions
	// PublishPositions: publish positions to the career page and close them.
	PublishPositions
	// ViewApplications: see the candidates who applied to the positions one may see.
	ViewApplications
	// AddCandidates: add a candidate to a position by hand.
	AddCandidates
	// MoveStage: move an application through the pipeline.
	MoveStage
	// Comment: comment on an application.
	Comment
	// Rate: rate an application (to invite, not suitable, later).
	Rate
	// InviteInterview: invite a candidate to an interview.
	InviteInterview
	// ViewSharedPool: the company's shared pool of candidates who were
	// pre-selected, interviewed or hired for any position.
	ViewSharedPool
	// Inbox: incoming messages from candidates.
	Inbox
	// SpendCredits: take actions that cost credits (publishing beyond the free allowance).
	SpendCredits
	// ManageCredits: the credit balance and ledger; grant and refund.
	ManageCredits
	// ManageUsers: invite, disable and enable users and change their roles.
	ManageUsers
	// ManageRoles: define custom roles.
	ManageRoles
	// CompanyProfile: the company's profile settings (templates, headers).
	CompanyProfile
	// CompanySettings: the company's security settings (password profile, two-factor requirement).
	CompanySettings
	// ServiceStatistics: statistics of the service's use.
	ServiceStatistics
	// RecruitmentStatistics: statistics of the company's recruitment.
	RecruitmentStatistics
	// ViewAudit: read and export the audit trail and security log; acknowledge alerts.
	ViewAudit
	// PrivacySettings: retention periods, consent texts and other privacy settings.
	PrivacySettings
	// EraseCandidates: erase a candidate's data for good.
	EraseCandidates
	// HandleCases: whistleblowing cases of the company.
	HandleCases
	// ManageAPITokens: API tokens and webhooks.
	ManageAPITokens

	lastPermission = ManageAPITokens
)

var names = [...]string{
	ViewPositions: "positions.view", AllPositions: "positions.all", CreatePositions: "positions.create",
	EditPositions: "positions.edit", PublishPositions: "positions.publish", ViewApplications: "applications.view",
	AddCandidates: "applications.add", MoveStage: "applications.move", Comment: "applications.comment",
	Rate: "applications.rate", InviteInterview: "interviews.invite", ViewSharedPool: "pool.view", Inbox: "inbox.view",
	SpendCredits: "credits.spend", ManageCredits: "credits.manage", ManageUsers: "users.manage", ManageRoles: "roles.manage",
	CompanyProfile: "company.profile", CompanySettings: "company.settings", ServiceStatistics: "statistics.service",
	RecruitmentStatistics: "statistics.recruitment", ViewAudit: "audit.view", PrivacySettings: "privacy.settings",
	EraseCandidates: "candidates.erase", HandleCases: "cases.handle", ManageAPITokens: "api.tokens",
}

// Name is the stable name of p, e.g. "positions.view"; the UI translates
// "permission.<name>".
func (p Permission) Name() string {
	if p == 0 || p > lastPermission {
		return ""
	}
	return names[p]
}

func (p Permission) String() string { return p.Name() }

// Permissions lists the catalogue in matrix order.
var Permissions = func() []Permission {
	ps := make([]Permission, 0, lastPermission)
	for p := Permission(1); p <= lastPermission; p++ {
		ps = append(ps, p)
	}
	return ps
}()

// Names lists the names of the catalogue.
func Names() []string {
	out := make([]string, len(Permissions))
	for i, p := range Permissions {
		out[i] = p.Name()
	}
	return out
}

// Parse returns the permission of a name.
func Parse(name string) (Permission, bool) {
	for p := Permission(1); p <= lastPermission; p++ {
		if names[p] == name {
			return p, true
		}
	}
	return 0, false
}

// Set is a set of permissions, one bit each: a check is one AND.
type Set uint64

// Of returns the set of ps.
func Of(ps ...Permission) Set {
	var s Set
	for _, p := range ps {
		if p != 0 && p <= lastPermission {
			s |= 1 << p
		}
	}
	return s
}

// Has reports whether s holds p.
func (s Set) Has(p Permission) bool { return p != 0 && s&(1<<p) != 0 }

// Contains reports whether every permission of o is in s.
func (s Set) Contains(o Set) bool { return o&^s == 0 }

// List returns the permissions of s in catalogue order.
func (s Set) List() []Permission {
	var out []Permission
	for _, p := range Permissions {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// Encode is the stored form of s: names joined by commas.
func (s Set) Encode() string {
	ns := make([]string, 0, 8)
	for _, p := range s.List() {
		ns = append(ns, p.Name())
	}
	return strings.Join(ns, ",")
}

// Decode parses a stored set; names it does not know (from a newer
// version, or tampering) grant nothing.
func Decode(stored string) Set {
	var s Set
	for n := range strings.SplitSeq(stored, ",") {
		if p, ok := Parse(strings.TrimSpace(n)); ok {
			s |= Of(p)
		}
	}
	return s
}

// The predefined roles.
const (
	Administrator           = "administrator"
	HRManager               = "hr_manager"
	Recruiter               = "recruiter"
	RecruiterWithoutCredits = "recruiter_without_credits"
	LineManager             = "line_manager"
	CaseHandler             = "case_handler"
)

// Roles lists the predefined roles in the order the UI shows them.
var Roles = []string{Administrator, HRManager, Recruiter, RecruiterWithoutCredits, LineManager, CaseHandler}

var recruiter = Of(ViewPositions, CreatePositions, EditPositions, PublishPositions, ViewApplications, AddCandidates,
	MoveStage, Comment, Rate, InviteInterview, ViewSharedPool, Inbox, SpendCredits)

// roles maps each predefined role to its permissions, as the seeds define
// them (Teamio, "Authorization (Roles)").
var roles = map[string]Set{
	// Company users, roles and settings; the audit trail; the company's account.
	Administrator: Of(ManageUsers, ManageRoles, CompanySettings, CompanyProfile, ViewAudit, PrivacySettings, ManageAPITokens, ManageCredits),
	// All positions of the company and all responses to them; company
	// profile settings. Optional rights come on top (OptionalRights).
	HRManager: recruiter | Of(AllPositions, CompanyProfile, EraseCandidates),
	// Own positions and their responses, the shared pool, incoming messages.
	Recruiter: recruiter,
	// As a recruiter, without spending credits.
	RecruiterWithoutCredits: recruiter &^ Of(SpendCredits),
	// Only candidates of positions shared with them: comment, rate, invite.
	LineManager: Of(ViewPositions, ViewApplications, Comment, Rate, InviteInterview),
	// Whistleblowing cases only; the company requires a second factor of them.
	CaseHandler: Of(HandleCases),
}

// OptionalRights are the rights an HR manager may be given in any
// combination on top of the role.
var OptionalRights = []Permission{ServiceStatistics, RecruitmentStatistics, ManageCredits, ManageUsers}

// Predefined reports whether role is a predefined role.
func Predefined(role string) bool {
	_, ok := roles[role]
	return ok
}

// RoleSet is the permission set of a predefined role; nothing for any other.
func RoleSet(role string) Set { return roles[role] }

// Resolve is the permission set of a user: the predefined role's, or the
// custom role's stored set, plus the optional rights of an HR manager.
// Optional rights on any other role grant nothing.
func Resolve(role, customRole, extra string) Set {
	if s, ok := roles[role]; ok {
		if role == HRManager {
			s |= Decode(extra) & Of(OptionalRights...)
		}
		return s
	}
	return Decode(customRole)
}

// RequiresMFA reports whether a set holds a right for which a second
// factor is always required, whatever the company's settings: handling
// whistleblowing cases.
func (s Set) RequiresMFA() bool { return s.Has(HandleCases) }

// Privileged reports whether a set administers the company (users or
// roles); the strict profile asks a passkey of such users.
func (s Set) Privileged() bool { return s.Has(ManageUsers) || s.Has(ManageRoles) }

// Known reports whether role is a predefined role (kept for callers that
// only deal with predefined roles).
func Known(role string) bool { return slices.Contains(Roles, role) }
