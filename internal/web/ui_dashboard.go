package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

type dashboardData struct {
	Alerts         []audit.Alert
	CanManageUsers bool
	CanViewAudit   bool
	User           *account.User
	Modules        []tenant.Module
	Changed        bool
	AllUsers       int
	RoleLabel      string
	Tasks          []recruit.Task
	// Cases is a case handler's panel (ui_case_admin.go); nil for others.
	Cases *casePanel
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	u, err := s.Accounts.UserByID(r.Context(), st.principal.TenantID, st.principal.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.Accounts.CountUsers(r.Context(), st.principal.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var alerts []audit.Alert
	if st.principal.Can(access.ViewAudit) {
		if alerts, err = s.Audit.OpenAlerts(r.Context(), st.principal.TenantID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var tasks []recruit.Task
	if st.tenant.Enabled(tenant.Recruitment) && st.principal.Can(access.ViewApplications) {
		if tasks, err = s.Recruit.MyTasks(r.Context(), st.principal.Actor()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	cases, err := s.casePanelOf(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "dashboard.title")
	label := pg.T("role." + u.Role)
	if !access.Predefined(u.Role) {
		if role, err := s.Accounts.RoleByID(r.Context(), u.TenantID, u.Role); err == nil {
			label = role.Name
		}
	}
	pg.Data = dashboardData{Alerts: alerts, CanManageUsers: st.principal.Can(access.ManageUsers),
		CanViewAudit: st.principal.Can(access.ViewAudit), User: u, Modules: st.tenant.Modules, Changed: r.URL.Query().Get("changed") == "1", AllUsers: users, RoleLabel: label, Tasks: tasks,
		Cases: cases}
	s.render(w, r, http.StatusOK, "dashboard", pg)
}
