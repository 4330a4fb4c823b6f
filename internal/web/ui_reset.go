package web

import (
	"errors"
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
	pg := s.newPage(r, "reset.title")
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		pg.Errors["confirm_password"] = "error.password_mismatch"
		s.render(w, r, http.StatusUnprocessableEntity, "reset", pg)
		return
	}
	dc, err := s.Accounts.ResetPassword(r.Context(), r.PathValue("token"), next, client(r))
	if errors.Is(err, account.ErrTokenInvalid) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if fields, ok := fieldErrors(err); ok {
		pg.Errors = fields
		s.render(w, r, http.StatusUnprocessableEntity, "reset", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The browser that used the emailed link is the owner's: a trusted
	// device from now on, which a lock caused by others does not hold.
	setDeviceCookie(w, dc)
	http.Redirect(w, r, "/signin?reset=1", http.StatusSeeOther)
}
