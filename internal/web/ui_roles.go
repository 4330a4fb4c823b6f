package web

import (
	"errors"
	"net/http"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

// rolesData is the permission matrix: the predefined roles and the
// company's custom roles as columns, the permissions as rows.
type rolesData struct {
	Permissions []access.Permission
	Predefined  []predefinedRole
	Custom      []*account.Role
	// Editing is the custom role being edited, nil for a new one.
	Editing *account.Role
	Checked map[string]bool
}

type predefinedRole struct {
	Name  string
	Perms access.Set
}

func (s *Server) rolesPage(r *http.Request, editing *account.Role) (*page, error) {
	pg := s.newPage(r, "roles.title")
	custom, err := s.Accounts.ListRoles(r.Context(), stateOf(r).principal.TenantID)
	if err != nil {
		return nil, err
	}
	d := rolesData{Permissions: access.Permissions, Custom: custom, Editing: editing, Checked: map[string]bool{}}
	for _, name := range access.Roles {
		d.Predefined = append(d.Predefined, predefinedRole{Name: name, Perms: access.RoleSet(name)})
	}
	if editing != nil {
		pg.Form["name"] = editing.Name
		for _, p := range editing.Permissions.List() {
			d.Checked[p.Name()] = true
		}
	}
	pg.Data = d
	return pg, nil
}

func (s *Server) handleRoles(w http.ResponseWriter, r *http.Request) {
	pg, err := s.rolesPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "roles", pg)
}

func (s *Server) handleRole(w http.ResponseWriter, r *http.Request) {
	role, err := s.Accounts.RoleByID(r.Context(), stateOf(r).principal.TenantID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.rolesPage(r, role)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Title = "roles.edit_title"
	s.render(w, r, http.StatusOK, "roles", pg)
}

// handleRoleSave creates a custom role (POST /roles) or changes one (POST /roles/{id}).
func (s *Server) handleRoleSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := stateOf(r).principal
	id := r.PathValue("id")
	var editing *account.Role
	if id != "" {
		var err error
		if editing, err = s.Accounts.RoleByID(r.Context(), p.TenantID, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	in := account.RoleInput{Name: r.PostForm.Get("name"), Permissions: r.PostForm["permission"]}
	_, err := s.Accounts.SaveRole(r.Context(), p, id, in)
	status := http.StatusUnprocessableEntity
	if errors.Is(err, account.ErrForbidden) {
		// A set beyond what the rule of every change of rights allows
		// (account.SaveRole): explained on the page, the input kept.
		err, status = &account.ValidationError{Fields: map[string]string{"": "error.role_beyond_rights"}}, http.StatusForbidden
	}
	if fields, ok := fieldErrors(err); ok {
		pg, perr := s.rolesPage(r, editing)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		pg.Errors = fields
		pg.Form["name"] = in.Name
		d := pg.Data.(rolesData)
		clear(d.Checked)
		for _, n := range in.Permissions {
			d.Checked[n] = true
		}
		s.render(w, r, status, "roles", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/roles", http.StatusSeeOther)
}

func (s *Server) handleRoleDelete(w http.ResponseWriter, r *http.Request) {
	err := s.Accounts.DeleteRole(r.Context(), stateOf(r).principal, r.PathValue("id"))
	if errors.Is(err, account.ErrRoleInUse) || errors.Is(err, account.ErrForbidden) {
		pg, perr := s.rolesPage(r, nil)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		status, msg := http.StatusConflict, "error.role_in_use"
		if errors.Is(err, account.ErrForbidden) {
			status, msg = http.StatusForbidden, "error.role_beyond_rights"
		}
		pg.Errors[""] = msg
		s.render(w, r, status, "roles", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/roles", http.StatusSeeOther)
}
