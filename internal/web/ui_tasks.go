package web

import (
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// handleTaskAdd adds a task to an application.
func (s *Server) handleTaskAdd(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#tasks", func(a access.Actor, id string) error {
		return s.Recruit.AddTask(r.Context(), a, id, recruit.TaskInput{Title: r.PostForm.Get("task_title"), DueOn: r.PostForm.Get("due_on"),
			AssigneeID: r.PostForm.Get("assignee")})
	})
}

// handleTaskDone marks a task done (done=1) or open again.
func (s *Server) handleTaskDone(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Recruit.SetTaskDone(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), r.PostForm.Get("done") == "1"); err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/dashboard"
	if app := r.PostForm.Get("application"); app != "" && len(app) <= 64 {
		back = "/applications/" + url.PathEscape(app) + "#tasks"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
