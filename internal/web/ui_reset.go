package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
)

func (s *Server) handleForgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", s.newPage(r, "forgot.title"))
}

// handleForgot answers the same whether or not the account exists.
func (s *Server) handleForgot(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.RequestPasswordReset(r.Context(), r.PostForm.Get("identifier"), client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "forgot.title")
	pg.Data = true
	s.render(w, r, http.StatusOK, "forgot", pg)
}

func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) {
	if !s.Accounts.ResetTokenValid(r.Context(), r.PathValue("token")) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	s.render(w, r, http.StatusOK, "reset", s.newPage(r, "reset.title"))
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	next, err := confirmedPassword(r, "new_password")
	var dc account.DeviceCookie
	if err == nil {
		dc, err = s.Accounts.ResetPassword(r.Context(), r.PathValue("token"), next, client(r))
	}
	if err != nil {
		// An unknown, used or expired link is the error page (404).
		s.refuse(w, r, err, s.newPage(r, "reset.title"), s.show("reset"))
		return
	}
	// The browser that used the emailed link is the owner's: a trusted
	// device from now on, which a lock caused by others does not hold.
	setDeviceCookie(w, dc)
	http.Redirect(w, r, "/signin?reset=1", http.StatusSeeOther)
}
