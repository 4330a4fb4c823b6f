package web

import "net/http"

func (s *Server) handleComment(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	_, err := s.Recruit.AddComment(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), r.PostForm.Get("body"))
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "application.title"), s.renderApplication)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+"#comments", http.StatusSeeOther)
}
