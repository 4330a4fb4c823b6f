package web

import (
	"errors"
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
)

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if stateOf(r).principal != nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	if stateOf(r).principal != nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	pg := s.newPage(r, "signin.title")
	pg.Data = r.URL.Query().Get("reset") == "1"
	s.render(w, r, http.StatusOK, "signin", pg)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	login, password := r.PostForm.Get("login"), r.PostForm.Get("password")
	token, p, err := s.Accounts.SignIn(r.Context(), login, password, client(r))
	if errors.Is(err, account.ErrInvalidCredentials) {
		pg := s.newPage(r, "signin.title")
		pg.Errors[""] = "signin.failed"
		pg.Form["login"] = login
		s.render(w, r, http.StatusUnauthorized, "signin", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A new session id at every sign-in; the one the browser had, if any, ends.
	if st.token != "" {
		_ = s.Accounts.SignOut(r.Context(), st.token, client(r))
	}
	setSessionCookie(w, token)
	switch {
	case p.MFAPending:
		http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
	case p.MustChangePassword:
		http.Redirect(w, r, "/password", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	}
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Accounts.SignOut(r.Context(), stateOf(r).token, client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	clearSessionCookie(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) handlePasswordForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", s.newPage(r, "password.title"))
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	p := st.principal
	current, next, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	pg := s.newPage(r, "password.title")
	if next != confirm {
		pg.Errors["confirm_password"] = "error.password_mismatch"
		s.render(w, r, http.StatusUnprocessableEntity, "password", pg)
		return
	}
	err := s.Accounts.ChangePassword(r.Context(), p.TenantID, p.UserID, current, next, client(r))
	if errors.Is(err, account.ErrWrongPassword) {
		pg.Errors["current_password"] = "error.current_password"
		s.render(w, r, http.StatusUnprocessableEntity, "password", pg)
		return
	}
	if fields, ok := fieldErrors(err); ok {
		pg.Errors = fields
		s.render(w, r, http.StatusUnprocessableEntity, "password", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Every session ended with the change; this browser gets a fresh one.
	token, err := s.Accounts.StartSession(r.Context(), p.TenantID, p.UserID, client(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setSessionCookie(w, token)
	http.Redirect(w, r, "/dashboard?changed=1", http.StatusSeeOther)
}

// client describes the browser of a request for the services.
func client(r *http.Request) account.Client {
	return account.Client{IP: stateOf(r).clientIP, UserAgent: r.UserAgent()}
}
