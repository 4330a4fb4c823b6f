package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/account"
)

// recentAuth guards sensitive settings: if the user last proved who they
// are more than ten minutes ago, they confirm their password first.
func (s *Server) recentAuth(next string, h http.HandlerFunc) http.Handler {
	return s.staff(func(w http.ResponseWriter, r *http.Request) {
		if !s.Accounts.RecentlyAuthenticated(stateOf(r).principal) {
			http.Redirect(w, r, "/reauth?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

func (s *Server) handleReauthForm(w http.ResponseWriter, r *http.Request) {
	pg := s.newPage(r, "reauth.title")
	pg.Form["next"] = localPath(r.URL.Query().Get("next"))
	s.render(w, r, http.StatusOK, "reauth", pg)
}

func (s *Server) handleReauth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	next := localPath(r.PostForm.Get("next"))
	err := s.Accounts.Reauthenticate(r.Context(), stateOf(r).principal, r.PostForm.Get("password"), client(r))
	if errors.Is(err, account.ErrWrongPassword) || errors.Is(err, account.ErrTooManyAttempts) {
		pg := s.newPage(r, "reauth.title")
		pg.Form["next"] = next
		pg.Errors["password"] = "error.current_password"
		status := http.StatusUnauthorized
		if errors.Is(err, account.ErrTooManyAttempts) {
			pg.Errors["password"], status = "signin.busy", http.StatusTooManyRequests
		}
		s.render(w, r, status, "reauth", pg)
		return
	}
	if errors.Is(err, account.ErrNoSession) {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
