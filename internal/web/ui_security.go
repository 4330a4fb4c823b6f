package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
)

type securityData struct {
	Sessions []account.SessionInfo
	Current  string
	Recent   []audit.Record
	Revoked  bool
}

// handleSecurity shows the user's sessions and recent sign-ins.
func (s *Server) handleSecurity(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	sessions, err := s.Accounts.ListSessions(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var recent []audit.Record
	for _, action := range []audit.Action{audit.SignInSucceeded, audit.SignInFailed} {
		recs, _, err := s.Audit.List(r.Context(), p.TenantID, audit.Filter{Track: audit.Security, Action: action, ObjectKind: "user", ObjectID: p.UserID, Limit: 10})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		recent = append(recent, recs...)
	}
	sortRecords(recent)
	if len(recent) > 10 {
		recent = recent[:10]
	}
	pg := s.newPage(r, "security.title")
	pg.Data = securityData{Sessions: sessions, Current: p.SessionID, Recent: recent, Revoked: r.URL.Query().Get("revoked") == "1"}
	s.render(w, r, http.StatusOK, "security", pg)
}

func (s *Server) handleSessionRevoke(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	id := r.PathValue("id")
	if id == st.principal.SessionID {
		// Ending this browser's own session is signing out.
		s.handleSignOut(w, r)
		return
	}
	err := s.Accounts.RevokeSession(r.Context(), st.principal.Actor(), id, client(r))
	if errors.Is(err, account.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/security?revoked=1", http.StatusSeeOther)
}

func (s *Server) handleSessionsRevokeOthers(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	if _, err := s.Accounts.RevokeOtherSessions(r.Context(), st.principal, client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/security?revoked=1", http.StatusSeeOther)
}

// browserName gives a short, recognisable name for a user agent.
func browserName(ua string) string {
	for _, b := range []string{"Edg/", "Firefox/", "Chrome/", "Safari/"} {
		if i := strings.Index(ua, b); i >= 0 {
			name := strings.TrimSuffix(b, "/")
			if name == "Edg" {
				name = "Edge"
			}
			return name
		}
	}
	if ua == "" {
		return "–"
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}
