package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
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
	if errors.Is(err, account.ErrNoSession) {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if err != nil {
		// error.current_password (401) or signin.busy (429) beside the
		// password; the next page posted is kept (and checked again).
		err = fault.Show(err, account.ErrWrongPassword, "password", "error.current_password")
		err = fault.Show(err, account.ErrTooManyAttempts, "password", "signin.busy")
		s.refuse(w, r, err, s.newPage(r, "reauth.title"), s.show("reauth"))
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
