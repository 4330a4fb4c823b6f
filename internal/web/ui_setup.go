package web

import (
	"errors"
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
	pg := s.newPage(r, "setup.title")
	for _, k := range []string{"company_name", "slug", "registration_number", "default_language", "display_name", "login", "email"} {
		pg.Form[k] = f.Get(k)
	}
	if f.Get("password") != f.Get("confirm_password") {
		pg.Errors["confirm_password"] = "error.password_mismatch"
		s.render(w, r, http.StatusUnprocessableEntity, "setup", pg)
		return
	}
	company := tenant.CreateInput{
		Slug: f.Get("slug"), Name: f.Get("company_name"), RegistrationNumber: f.Get("registration_number"),
		DefaultLanguage: f.Get("default_language"),
	}
	admin := account.CreateUserInput{
		Login: f.Get("login"), Email: f.Get("email"), DisplayName: f.Get("display_name"),
		Language: f.Get("default_language"), Role: account.RoleAdministrator, Password: f.Get("password"),
	}
	t, u, err := s.Accounts.Setup(r.Context(), s.Tenants, r.PathValue("token"), company, admin)
	if fields, ok := fieldErrors(err); ok {
		if fields["name"] != "" {
			fields["company_name"] = fields["name"]
		}
		pg.Errors = fields
		s.render(w, r, http.StatusUnprocessableEntity, "setup", pg)
		return
	}
	switch {
	case errors.Is(err, tenant.ErrConflict):
		pg.Errors["slug"] = "error.slug_taken"
		s.render(w, r, http.StatusConflict, "setup", pg)
		return
	case errors.Is(err, account.ErrLoginTaken):
		pg.Errors["login"] = "error.login_taken"
		s.render(w, r, http.StatusConflict, "setup", pg)
		return
	case errors.Is(err, account.ErrSetupDone):
		s.renderError(w, r, http.StatusNotFound)
		return
	case err != nil:
		s.fail(w, r, err)
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
