package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// settingsData is the company settings page: the company's profile for
// holders of company.profile, its security settings for holders of
// company.settings, and what the installation decides where the company
// decides nothing (shown as the empty fields' placeholders).
type settingsData struct {
	Profile, Security bool
	Roles             []settingsRole
	Checked           map[string]bool
	Profiles          []string
	TimeZones         []string
	Tracks            []trackRetention
	// The installation's values: session timeouts in minutes and hours,
	// alert thresholds.
	InstallIdle, InstallAbsolute int
	InstallAlerts                audit.Rules
	InstallWindow                int // minutes
	Saved                        bool
}

// trackRetention is one track of the audit trail on the page: its name,
// the least it must be kept, and the installation's period, in days.
type trackRetention struct {
	Track        string
	Min, Install int
}

// settingsRole is a role offered on the page: a predefined role (its name
// translated) or one of the company's custom roles (its own name).
type settingsRole struct {
	ID         string
	Name       string
	Predefined bool
}

// settingsAccess guards the settings page. Its security part asks for a
// recent password (as for one's own second factor), since it weakens or
// strengthens every user's sign-in; the profile part alone does not.
func (s *Server) settingsAccess(h http.HandlerFunc) http.Handler {
	profileOnly := s.permitted(access.CompanyProfile, h)
	security := s.companySettings(h)
	return s.staff(func(w http.ResponseWriter, r *http.Request) {
		if stateOf(r).principal.Can(access.CompanySettings) {
			security.ServeHTTP(w, r)
			return
		}
		profileOnly.ServeHTTP(w, r)
	})
}

// companySettings guards the security settings: the permission and a
// recent password.
func (s *Server) companySettings(h http.HandlerFunc) http.Handler {
	return s.permitted(access.CompanySettings, func(w http.ResponseWriter, r *http.Request) {
		if !s.Accounts.RecentlyAuthenticated(stateOf(r).principal) {
			http.Redirect(w, r, "/reauth?next=/settings", http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

// settingsPage is the page with the company's current values in the form.
func (s *Server) settingsPage(r *http.Request) (*page, error) {
	st := stateOf(r)
	t, p := st.tenant, st.principal
	pg := s.newPage(r, "settings.title")
	d := settingsData{Profile: p.Can(access.CompanyProfile), Security: p.Can(access.CompanySettings),
		Checked: map[string]bool{}, Profiles: tenant.PasswordProfiles, TimeZones: tenant.TimeZones}
	if d.Profile {
		fillProfile(pg, t)
	}
	if d.Security {
		if err := s.fillSecurity(r, pg, &d, t); err != nil {
			return nil, err
		}
	}
	pg.Data = d
	return pg, nil
}

func fillProfile(pg *page, t *tenant.Tenant) {
	pg.Form["name"] = t.Name
	pg.Form["default_language"] = t.DefaultLanguage
	pg.Form["time_zone"] = t.Zone()
	pg.Form["privacy_contact"] = t.Settings.PrivacyContact
	pg.Form["career_colour"] = t.Settings.CareerColour
}

// fillSecurity puts the security settings into the form and the page.
func (s *Server) fillSecurity(r *http.Request, pg *page, d *settingsData, t *tenant.Tenant) error {
	ctx := r.Context()
	custom, err := s.Accounts.ListRoles(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, name := range access.Roles {
		d.Roles = append(d.Roles, settingsRole{ID: name, Predefined: true})
	}
	for _, c := range custom {
		d.Roles = append(d.Roles, settingsRole{ID: c.ID, Name: c.Name})
	}
	idle, absolute := s.Accounts.SessionLimits()
	d.InstallIdle, d.InstallAbsolute = int(idle/time.Minute), int(absolute/time.Hour)
	d.InstallAlerts = s.Audit.Rules()
	d.InstallWindow = int(d.InstallAlerts.FailedSignInWindow / time.Minute)
	install := s.Audit.InstallationRetention()
	for _, track := range audit.Tracks {
		d.Tracks = append(d.Tracks, trackRetention{Track: string(track), Min: int(audit.MinRetention[track] / (24 * time.Hour)),
			Install: int(install[track] / (24 * time.Hour))})
	}
	st := t.Settings
	for _, role := range st.RequireMFARoles {
		d.Checked[role] = true
	}
	pg.Form["password_profile"] = st.PasswordProfile
	if st.RequireMFA {
		pg.Form["require_mfa"] = "1"
	}
	pg.Form["free_publications"] = strconv.Itoa(st.FreePublicationsPerMonth())
	pg.Form["publication_cost"] = strconv.Itoa(st.PublicationCredits())
	if st.SessionIdle > 0 {
		pg.Form["session_idle"] = strconv.Itoa(int(st.SessionIdle / time.Minute))
	}
	if st.SessionAbsolute > 0 {
		pg.Form["session_absolute"] = strconv.Itoa(int(st.SessionAbsolute / time.Hour))
	}
	rules, own, err := s.Audit.RulesOf(ctx, t.ID)
	if err != nil {
		return err
	}
	if own {
		pg.Form["alert_failed_sign_ins"] = strconv.Itoa(rules.FailedSignIns)
		pg.Form["alert_failed_sign_in_window"] = strconv.Itoa(int(rules.FailedSignInWindow / time.Minute))
		pg.Form["alert_mass_count"] = strconv.Itoa(rules.MassCount)
	}
	retention, err := s.Audit.OwnRetention(ctx, t.ID)
	if err != nil {
		return err
	}
	for track, days := range retention {
		pg.Form["retention_"+string(track)] = strconv.Itoa(days)
	}
	return nil
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request) {
	pg, err := s.settingsPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := pg.Data.(settingsData)
	d.Saved = r.URL.Query().Get("saved") == "1"
	pg.Data = d
	s.render(w, r, http.StatusOK, "settings", pg)
}

// handleProfileSave saves the company's profile.
func (s *Server) handleProfileSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := tenant.Profile{Name: f.Get("name"), DefaultLanguage: f.Get("default_language"), TimeZone: strings.TrimSpace(f.Get("time_zone")),
		PrivacyContact: f.Get("privacy_contact"), CareerColour: f.Get("career_colour")}
	err := s.Tenants.SaveProfile(r.Context(), stateOf(r).principal.Actor(), in)
	s.settingsSaved(w, r, err, nil, []string{"name", "default_language", "time_zone", "privacy_contact", "career_colour"})
}

// handleSecuritySave saves the company's security settings; tenant's
// Security.Validate checks them as the command line's `tenant settings` is
// checked, and the service records the save.
func (s *Server) handleSecuritySave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	fields := map[string]string{}
	in := tenant.Security{PasswordProfile: f.Get("password_profile"), RequireMFA: f.Get("require_mfa") == "1", Retention: map[audit.Track]int{}}
	for _, role := range f["require_mfa_role"] {
		if !slices.Contains(in.RequireMFARoles, role) {
			in.RequireMFARoles = append(in.RequireMFARoles, role)
		}
	}
	in.FreePublications = formInt(f.Get("free_publications"), "free_publications", "error.allowance", fields)
	in.PublicationCost = formInt(f.Get("publication_cost"), "publication_cost", "error.allowance", fields)
	in.SessionIdle = formDuration(f.Get("session_idle"), time.Minute, "session_idle", "error.session_idle", fields)
	in.SessionAbsolute = formDuration(f.Get("session_absolute"), time.Hour, "session_absolute", "error.session_absolute", fields)
	in.Alerts = s.formAlerts(f.Get, fields)
	for _, track := range audit.Tracks {
		name := "retention_" + string(track)
		if n := formInt(f.Get(name), name, "error.retention", fields); n != nil {
			in.Retention[track] = *n
		}
	}
	// Only roles the company has: a role it does not have protects no one.
	if len(in.RequireMFARoles) > 0 {
		custom, err := s.Accounts.ListRoles(r.Context(), stateOf(r).principal.TenantID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, role := range in.RequireMFARoles {
			if !slices.Contains(access.Roles, role) && !slices.ContainsFunc(custom, func(c *account.Role) bool { return c.ID == role }) {
				fields["require_mfa_roles"] = "error.role"
			}
		}
	}
	// The page's findings and the service's rules together, beside their fields.
	err := in.Validate()
	if err == nil && len(fields) == 0 {
		err = s.Tenants.SaveSecurity(r.Context(), stateOf(r).principal.Actor(), in)
	}
	keep := []string{"password_profile", "require_mfa", "free_publications", "publication_cost", "session_idle", "session_absolute",
		"alert_failed_sign_ins", "alert_failed_sign_in_window", "alert_mass_count"}
	for _, track := range audit.Tracks {
		keep = append(keep, "retention_"+string(track))
	}
	s.settingsSaved(w, r, err, fields, keep)
}

// settingsSaved answers a save: back to the page when it worked, the page
// again with the posted values and every field's error when it did not.
func (s *Server) settingsSaved(w http.ResponseWriter, r *http.Request, err error, fields map[string]string, keep []string) {
	if vfields, ok := fieldErrors(err); ok {
		if fields == nil {
			fields = map[string]string{}
		}
		for k, v := range vfields {
			if fields[k] == "" {
				fields[k] = v
			}
		}
		err = nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(fields) == 0 {
		http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
		return
	}
	pg, perr := s.settingsPage(r)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	pg.Errors = fields
	for _, k := range keep {
		pg.Form[k] = r.PostForm.Get(k)
	}
	d := pg.Data.(settingsData)
	if _, ok := r.PostForm["password_profile"]; ok {
		clear(d.Checked)
		for _, role := range r.PostForm["require_mfa_role"] {
			d.Checked[role] = true
		}
	}
	pg.Data = d
	s.render(w, r, http.StatusUnprocessableEntity, "settings", pg)
}

// formAlerts reads the alert thresholds: all three empty is the
// installation's; one empty takes the installation's value.
func (s *Server) formAlerts(get func(string) string, fields map[string]string) *audit.Rules {
	count, window, mass := get("alert_failed_sign_ins"), get("alert_failed_sign_in_window"), get("alert_mass_count")
	if strings.TrimSpace(count+window+mass) == "" {
		return nil
	}
	r := s.Audit.Rules()
	if n := formInt(count, "alert_failed_sign_ins", "error.alert_failed_sign_ins", fields); n != nil {
		r.FailedSignIns = *n
	}
	if d := formDuration(window, time.Minute, "alert_failed_sign_in_window", "error.alert_failed_sign_in_window", fields); d != 0 {
		r.FailedSignInWindow = d
	}
	if n := formInt(mass, "alert_mass_count", "error.alert_mass_count", fields); n != nil {
		r.MassCount = *n
	}
	return &r
}

// formInt reads a whole number of the form; empty is nil (the default), a
// non-number is a field error.
func formInt(v, field, key string, fields map[string]string) *int {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fields[field] = key
		return nil
	}
	return &n
}

// formDuration reads a whole number of units; empty is 0 (the
// installation's), anything else not a positive number a field error.
func formDuration(v string, unit time.Duration, field, key string, fields map[string]string) time.Duration {
	n := formInt(v, field, key, fields)
	if n == nil {
		return 0
	}
	if *n <= 0 || *n > 100_000 {
		fields[field] = key
		return 0
	}
	return time.Duration(*n) * unit
}

// settingsField feeds the settings page's field templates: one labelled
// input with its value, its translated error, and a type, placeholder or
// hint (Extra and Hint, as the template uses them).
type settingsField struct {
	Name, Label, Value, Error, Extra, Hint string
}

// Field gathers what a settings field shows: label is a message key.
func (p *page) Field(name, label, extra, hint string) settingsField {
	f := settingsField{Name: name, Label: p.T(label), Value: p.Form[name], Extra: extra, Hint: hint}
	if key := p.Errors[name]; key != "" {
		f.Error = p.T(key)
	}
	return f
}
