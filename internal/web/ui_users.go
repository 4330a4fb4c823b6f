package web

import (
	"errors"
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
)

type usersData struct {
	Users   []*account.User
	Roles   []string
	Invited bool
	Self    string
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, s.newPage(r, "users.title"))
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	p := stateOf(r).principal
	users, err := s.Accounts.ListUsers(r.Context(), p.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Data = usersData{Users: users, Roles: account.Roles, Invited: r.URL.Query().Get("invited") == "1", Self: p.UserID}
	s.render(w, r, status, "users", pg)
}

func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := stateOf(r).principal
	in := account.InviteInput{Email: r.PostForm.Get("email"), DisplayName: r.PostForm.Get("display_name"),
		Role: r.PostForm.Get("role"), Language: r.PostForm.Get("language")}
	_, err := s.Accounts.Invite(r.Context(), audit.User(p.UserID), p.TenantID, in)
	pg := s.newPage(r, "users.title")
	pg.Form["email"], pg.Form["display_name"], pg.Form["role"], pg.Form["language"] = in.Email, in.DisplayName, in.Role, in.Language
	if fields, ok := fieldErrors(err); ok {
		pg.Errors = fields
		s.renderUsers(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if errors.Is(err, account.ErrLoginTaken) {
		pg.Errors["email"] = "error.login_taken"
		s.renderUsers(w, r, http.StatusConflict, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/users?invited=1", http.StatusSeeOther)
}

func (s *Server) handleUserStatus(status account.Status) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := stateOf(r).principal
		id := r.PathValue("id")
		if id == p.UserID {
			s.renderError(w, r, http.StatusForbidden) // nobody disables themselves
			return
		}
		err := s.Accounts.SetStatus(r.Context(), audit.User(p.UserID), p.TenantID, id, status)
		if errors.Is(err, account.ErrNotFound) {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/users", http.StatusSeeOther)
	}
}

func (s *Server) handleInviteForm(w http.ResponseWriter, r *http.Request) {
	if !s.Accounts.InviteTokenValid(r.Context(), r.PathValue("token")) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	s.render(w, r, http.StatusOK, "invite", s.newPage(r, "invite.title"))
}

func (s *Server) handleInviteAccept(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "invite.title")
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		pg.Errors["confirm_password"] = "error.password_mismatch"
		s.render(w, r, http.StatusUnprocessableEntity, "invite", pg)
		return
	}
	token, err := s.Accounts.AcceptInvite(r.Context(), r.PathValue("token"), next, client(r))
	if errors.Is(err, account.ErrTokenInvalid) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if fields, ok := fieldErrors(err); ok {
		pg.Errors = fields
		s.render(w, r, http.StatusUnprocessableEntity, "invite", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st := stateOf(r); st.token != "" {
		_ = s.Accounts.SignOut(r.Context(), st.token, client(r))
	}
	setSessionCookie(w, token)
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

func (s *Server) handleUserRole(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := stateOf(r).principal
	token, err := s.Accounts.SetRole(r.Context(), p, r.PathValue("id"), r.PostForm.Get("role"), client(r))
	switch {
	case errors.Is(err, account.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound)
		return
	case errors.Is(err, account.ErrLastAdministrator):
		pg := s.newPage(r, "users.title")
		pg.Errors[""] = "error.last_administrator"
		s.renderUsers(w, r, http.StatusConflict, pg)
		return
	}
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "users.title")
		pg.Errors = fields
		s.renderUsers(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if token != "" {
		// The administrator changed their own role: a new session for the new privilege.
		setSessionCookie(w, token)
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}
