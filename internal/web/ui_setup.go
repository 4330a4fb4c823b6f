package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/tenant"
)

func (s *Server) setupAllowed(w http.ResponseWriter, r *http.Request) bool {
	ok, err := s.Accounts.SetupTokenValid(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !ok {
		s.renderError(w, r, http.StatusNotFound)
		return false
	}
	return true
}

func (s *Server) handleSetupForm(w http.ResponseWriter, r *http.Request) {
	if !s.setupAllowed(w, r) {
		return
	}
	pg := s.newPage(r, "setup.title")
	pg.Form["default_language"] = stateOf(r).lang
	s.render(w, r, http.StatusOK, "setup", pg)
}

func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	if !s.setupAllowed(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	password, err := confirmedPassword(r, "password")
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "setup.title"), s.show("setup"))
		return
	}
	company := tenant.CreateInput{
		Slug: f.Get("slug"), Name: f.Get("company_name"), RegistrationNumber: f.Get("registration_number"),
		DefaultLanguage: f.Get("default_language"),
	}
	admin := account.CreateUserInput{
		Login: f.Get("login"), Email: f.Get("email"), DisplayName: f.Get("display_name"),
		Language: f.Get("default_language"), Role: account.RoleAdministrator, Password: password,
	}
	t, u, err := s.Accounts.Setup(r.Context(), s.Tenants, r.PathValue("token"), company, admin)
	if err != nil {
		// The company's name is company_name on this form.
		if fields, ok := fieldErrors(err); ok && fields["name"] != "" {
			fields["company_name"] = fields["name"]
		}
		// A sign-in name or login taken is said beside it (409); a token
		// used meanwhile is the error page (404).
		s.refuse(w, r, err, s.newPage(r, "setup.title"), s.show("setup"))
		return
	}
	s.Logger.Info("first company created", "tenant_id", t.ID, "user_id", u.ID)
	token, err := s.Accounts.StartSession(r.Context(), t.ID, u.ID, client(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setSessionCookie(w, token)
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}
