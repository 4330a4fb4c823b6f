package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
)

func (s *Server) handleProfileForm(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	u, err := s.Accounts.UserByID(r.Context(), st.principal.TenantID, st.principal.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "profile.title")
	pg.Form["display_name"] = u.DisplayName
	pg.Form["language"] = u.Language
	pg.Data = r.URL.Query().Get("saved") == "1"
	s.render(w, r, http.StatusOK, "profile", pg)
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	in := account.ProfileInput{DisplayName: r.PostForm.Get("display_name"), Language: r.PostForm.Get("language")}
	err := s.Accounts.UpdateProfile(r.Context(), st.principal.Actor(), in)
	if err != nil {
		pg := s.newPage(r, "profile.title")
		pg.Data = false
		s.refuse(w, r, err, pg, s.show("profile"))
		return
	}
	http.Redirect(w, r, "/profile?saved=1", http.StatusSeeOther)
}
