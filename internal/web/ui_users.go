package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

// usersPerPage is the most users one page of the users list shows.
const usersPerPage = 50

type usersData struct {
	Users []*account.User
	// Total is the number of users of the company; NextURL and FirstURL
	// lead to the next page and back to the first ("" when there is none).
	Total             int
	NextURL, FirstURL string
	// Roles are the roles one may give: the predefined ones, then the company's custom roles.
	Roles          []roleOption
	OptionalRights []access.Permission
	Invited        bool
	Self           string
}

type roleOption struct {
	Value, Label string
}

// roleOptions lists the predefined roles (translated) and the company's
// custom roles, and a label for every role value.
func (s *Server) roleOptions(r *http.Request, pg *page) ([]roleOption, map[string]string, error) {
	custom, err := s.Accounts.ListRoles(r.Context(), stateOf(r).principal.TenantID)
	if err != nil {
		return nil, nil, err
	}
	labels := map[string]string{}
	var out []roleOption
	for _, role := range access.Roles {
		labels[role] = pg.T("role." + role)
		out = append(out, roleOption{Value: role, Label: labels[role]})
	}
	for _, c := range custom {
		labels[c.ID] = c.Name
		out = append(out, roleOption{Value: c.ID, Label: c.Name})
	}
	return out, labels, nil
}

// RoleLabel is the display name of a role value on this page: a predefined
// role's translation or a custom role's name.
func (d usersData) RoleLabel(role string) string {
	for _, o := range d.Roles {
		if o.Value == role {
			return o.Label
		}
	}
	return role
}

// defaultInviteRole is the role the invitation form starts with: the least
// privileged, so that an invitation sent in haste gives too little rather
// than the run of the company. A line manager sees only the positions
// shared with them; a case handler holds fewer rights but reaches the
// whistleblowing cases, which are more sensitive still.
const defaultInviteRole = access.LineManager

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, s.newPage(r, "users.title"))
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	p := stateOf(r).principal
	// A cursor the service did not make (edited, or from an older version)
	// shows the first page.
	after := r.URL.Query().Get("after")
	users, next, err := s.Accounts.ListUsersPage(r.Context(), p.TenantID, after, usersPerPage)
	if errors.Is(err, account.ErrBadCursor) {
		after = ""
		users, next, err = s.Accounts.ListUsersPage(r.Context(), p.TenantID, after, usersPerPage)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total, err := s.Accounts.CountUsers(r.Context(), p.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	roles, _, err := s.roleOptions(r, pg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pg.Form["role"] == "" {
		pg.Form["role"] = defaultInviteRole
	}
	d := usersData{Users: users, Total: total, Roles: roles, OptionalRights: access.OptionalRights, Invited: r.URL.Query().Get("invited") == "1", Self: p.UserID}
	if next != "" {
		d.NextURL = "/users?" + url.Values{"after": {next}}.Encode()
	}
	if after != "" {
		d.FirstURL = "/users"
	}
	pg.Data = d
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
	_, err := s.Accounts.Invite(r.Context(), p.Actor(), in)
	// A role beyond the inviter's rights is said beside the role. A login
	// taken is only ever about this company: an address another company
	// uses is invited like any other (the invitee chooses a login then).
	err = fault.Show(err, account.ErrForbidden, "role", "error.role_beyond_rights")
	err = fault.Show(err, account.ErrLoginTaken, "email", "error.invite_in_company")
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "users.title"), s.renderUsers)
		return
	}
	http.Redirect(w, r, "/users?invited=1", http.StatusSeeOther)
}

func (s *Server) handleUserStatus(status account.Status) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := s.Accounts.SetUserStatus(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), status)
		if err != nil {
			err = fault.Show(onForm(err), account.ErrForbidden, "", "error.status_beyond_rights")
			s.refuse(w, r, err, s.newPage(r, "users.title"), s.renderUsers)
			return
		}
		http.Redirect(w, r, "/users", http.StatusSeeOther)
	}
}

// inviteData is what the invitation page shows besides the password fields.
type inviteData struct {
	// ChooseLogin asks for a login of the invitee's choosing, because the
	// one they were invited with is in use.
	ChooseLogin bool
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
	next, err := confirmedPassword(r, "new_password")
	if err != nil {
		s.refuse(w, r, err, pg, s.show("invite"))
		return
	}
	// The login field appears once the invited login turned out to be
	// taken (logins are claimed only now); empty keeps the invited one.
	login := r.PostForm.Get("login")
	token, err := s.Accounts.AcceptInviteAs(r.Context(), r.PathValue("token"), login, next, client(r))
	if err != nil {
		if fields, ok := fieldErrors(err); ok && (fields["login"] != "" || login != "") {
			pg.Data = inviteData{ChooseLogin: true}
		}
		s.refuse(w, r, err, pg, s.show("invite"))
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
	token, err := s.Accounts.SetRole(r.Context(), p.Actor(), r.PathValue("id"), r.PostForm.Get("role"), client(r))
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "users.title"), s.renderUsers)
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

// handleUserRights sets an HR manager's optional rights.
func (s *Server) handleUserRights(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := stateOf(r).principal
	if err := s.Accounts.SetOptionalRights(r.Context(), p.Actor(), r.PathValue("id"), r.PostForm["right"]); err != nil {
		s.refuse(w, r, onForm(err), s.newPage(r, "users.title"), s.renderUsers)
		return
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}
