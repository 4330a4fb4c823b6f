package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// settingsData is the company settings page: the roles a second factor
// may be required of, and which of them are.
type settingsData struct {
	Roles    []settingsRole
	Checked  map[string]bool
	Profiles []string
	Saved    bool
}

// settingsRole is a role offered on the page: a predefined role (its name
// translated) or one of the company's custom roles (its own name).
type settingsRole struct {
	ID         string
	Name       string
	Predefined bool
}

// companySettings guards the settings page: the permission, and a recent
// password (as for one's own second factor), since the page weakens or
// strengthens every user's sign-in.
func (s *Server) companySettings(h http.HandlerFunc) http.Handler {
	return s.permitted(access.CompanySettings, func(w http.ResponseWriter, r *http.Request) {
		if !s.Accounts.RecentlyAuthenticated(stateOf(r).principal) {
			http.Redirect(w, r, "/reauth?next=/settings", http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

// settingsPage is the page with t's current values in the form.
func (s *Server) settingsPage(r *http.Request, t *tenant.Tenant) (*page, error) {
	pg := s.newPage(r, "settings.title")
	custom, err := s.Accounts.ListRoles(r.Context(), t.ID)
	if err != nil {
		return nil, err
	}
	d := settingsData{Checked: map[string]bool{}, Profiles: tenant.PasswordProfiles}
	for _, name := range access.Roles {
		d.Roles = append(d.Roles, settingsRole{ID: name, Predefined: true})
	}
	for _, c := range custom {
		d.Roles = append(d.Roles, settingsRole{ID: c.ID, Name: c.Name})
	}
	st := t.Settings
	for _, role := range st.RequireMFARoles {
		d.Checked[role] = true
	}
	pg.Form["name"] = t.Name
	pg.Form["default_language"] = t.DefaultLanguage
	pg.Form["password_profile"] = st.PasswordProfile
	if st.RequireMFA {
		pg.Form["require_mfa"] = "1"
	}
	pg.Form["free_publications"] = strconv.Itoa(st.FreePublicationsPerMonth())
	pg.Form["publication_cost"] = strconv.Itoa(st.PublicationCredits())
	pg.Data = d
	return pg, nil
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request) {
	pg, err := s.settingsPage(r, stateOf(r).tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := pg.Data.(settingsData)
	d.Saved = r.URL.Query().Get("saved") == "1"
	pg.Data = d
	s.render(w, r, http.StatusOK, "settings", pg)
}

// handleSettingsSave saves the whole form; tenant.UpdateCompany checks it
// as the command line's `tenant settings` is checked, and records the save.
func (s *Server) handleSettingsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	pg, err := s.settingsPage(r, st.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	// Settings the page does not show are kept as they are.
	in := tenant.CompanyUpdate{Name: f.Get("name"), DefaultLanguage: f.Get("default_language"), Settings: st.tenant.Settings}
	in.Settings.PasswordProfile = f.Get("password_profile")
	in.Settings.RequireMFA = f.Get("require_mfa") == "1"
	in.Settings.RequireMFARoles = nil
	fields := map[string]string{}
	d := pg.Data.(settingsData)
	clear(d.Checked)
	for _, role := range f["require_mfa_role"] {
		d.Checked[role] = true
		// Only the roles offered: a role the company does not have protects no one.
		if !slices.ContainsFunc(d.Roles, func(o settingsRole) bool { return o.ID == role }) {
			fields["require_mfa_roles"] = "error.role"
			continue
		}
		if !slices.Contains(in.Settings.RequireMFARoles, role) {
			in.Settings.RequireMFARoles = append(in.Settings.RequireMFARoles, role)
		}
	}
	in.Settings.FreePublications = formInt(f.Get("free_publications"), "free_publications", fields)
	in.Settings.PublicationCost = formInt(f.Get("publication_cost"), "publication_cost", fields)
	// The service's findings and the page's own together, beside their fields.
	if vfields, ok := fieldErrors(in.Validate()); ok {
		for k, v := range vfields {
			if fields[k] == "" {
				fields[k] = v
			}
		}
	}
	if len(fields) == 0 {
		err = s.Tenants.UpdateCompany(r.Context(), audit.User(st.principal.UserID), st.principal.TenantID, in)
		if vfields, ok := fieldErrors(err); ok {
			fields, err = vfields, nil
		}
	}
	if len(fields) > 0 {
		// The posted values shown again.
		pg.Errors = fields
		for _, k := range []string{"name", "default_language", "password_profile", "require_mfa", "free_publications", "publication_cost"} {
			pg.Form[k] = f.Get(k)
		}
		pg.Data = d
		s.render(w, r, http.StatusUnprocessableEntity, "settings", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
}

// formInt reads a whole number of the form; empty is the default (nil), a
// non-number is a field error.
func formInt(v, field string, fields map[string]string) *int {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fields[field] = "error.allowance"
		return nil
	}
	return &n
}
