package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
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
	if _, err := s.Accounts.SaveRole(r.Context(), p.Actor(), id, in); err != nil {
		// Bad input, or a set beyond what the rule of every change of
		// rights allows (account.SaveRole, 403): explained on the page,
		// the input kept.
		pg, perr := s.rolesPage(r, editing)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		d := pg.Data.(rolesData)
		clear(d.Checked)
		for _, n := range in.Permissions {
			d.Checked[n] = true
		}
		s.refuse(w, r, err, pg, s.show("roles"))
		return
	}
	http.Redirect(w, r, "/roles", http.StatusSeeOther)
}

func (s *Server) handleRoleDelete(w http.ResponseWriter, r *http.Request) {
	err := s.Accounts.DeleteRole(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if fault.Messages(err) != nil {
		// Held by users (409), or beyond the user's rights (403).
		pg, perr := s.rolesPage(r, nil)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.refuse(w, r, err, pg, s.show("roles"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/roles", http.StatusSeeOther)
}
