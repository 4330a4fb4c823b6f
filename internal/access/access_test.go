package access

import "testing"

// TestPolicyTable states, for every predefined role and permission, the
// decision; a new role or permission without a row fails.
func TestPolicyTable(t *testing.T) {
	want := map[string]map[Permission]bool{
		"administrator":             {ManageUsers: true, ViewAudit: true, CompanySettings: true},
		"hr_manager":                {},
		"recruiter":                 {},
		"recruiter_without_credits": {},
		"line_manager":              {},
		"case_handler":              {},
		"":                          {},
		"emperor":                   {},
	}
	for role := range roles {
		if _, ok := want[role]; !ok {
			t.Errorf("role %q has no row in the policy table", role)
		}
	}
	for role, allowed := range want {
		for _, p := range Permissions {
			if got := Allowed(role, p); got != allowed[p] {
				t.Errorf("Allowed(%q, %s) = %v, want %v", role, p, got, allowed[p])
			}
		}
	}
	if Known("emperor") || !Known("line_manager") {
		t.Error("Known is wrong")
	}
}
