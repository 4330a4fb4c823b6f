// Package access decides who may do what inside a company. It holds the
// catalogue of permissions and the permission sets of the predefined roles;
// handlers ask it, and never decide themselves. Deny by default: a role or
// permission it does not know allows nothing.
//
// The roles module extends this with object rules (own and shared
// positions, the shared candidate pool), custom roles and optional rights.
package access

import "slices"

// Permission is one thing a user may be allowed to do.
type Permission string

// The permissions the product has today.
const (
	// ManageUsers: invite, disable, enable users and change their roles.
	ManageUsers Permission = "users.manage"
	// ViewAudit: read and export the company's audit trail and security log,
	// and acknowledge alerts.
	ViewAudit Permission = "audit.view"
	// CompanySettings: the company's settings (password profile, two-factor requirement).
	CompanySettings Permission = "company.settings"
)

// Permissions lists the catalogue.
var Permissions = []Permission{ManageUsers, ViewAudit, CompanySettings}

// roles maps each predefined role to its permissions, as the seeds define
// them: the administrator manages company users, roles and settings; the
// other roles' permissions concern positions, candidates and cases, which
// arrive with their modules.
var roles = map[string][]Permission{
	"administrator":             {ManageUsers, ViewAudit, CompanySettings},
	"hr_manager":                {},
	"recruiter":                 {},
	"recruiter_without_credits": {},
	"line_manager":              {},
	"case_handler":              {},
}

// Allowed reports whether a user of role may do p.
func Allowed(role string, p Permission) bool {
	return slices.Contains(roles[role], p)
}

// Known reports whether role is a predefined role.
func Known(role string) bool {
	_, ok := roles[role]
	return ok
}
