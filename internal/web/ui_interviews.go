package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// handleInterviewInvite invites the candidate of an application.
func (s *Server) handleInterviewInvite(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	minutes, _ := strconv.Atoi(f.Get("minutes"))
	in := recruit.InterviewInput{Date: f.Get("date"), Time: f.Get("time"), TimeZone: f.Get("time_zone"), Minutes: minutes,
		Location: f.Get("location"), VideoLink: f.Get("video_link"), Participants: f["participant"], Note: f.Get("note")}
	_, err := s.Recruit.InviteInterview(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), in)
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "application.title")
		pg.Errors = fields
		for _, k := range []string{"date", "time", "time_zone", "minutes", "location", "video_link", "note"} {
			pg.Form[k] = f.Get(k)
		}
		s.renderApplication(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+"?invited=1#interviews", http.StatusSeeOther)
}

type interviewAnswerData struct {
	Interview *recruit.PublicInterview
	Answered  bool
	Statuses  []string
}

func (s *Server) handleInterviewAnswerForm(w http.ResponseWriter, r *http.Request) {
	iv, err := s.Recruit.InterviewByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "interview.title")
	pg.Lang = iv.Language
	pg.Data = interviewAnswerData{Interview: iv, Statuses: []string{recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked}}
	w.Header().Set("Referrer-Policy", "no-referrer") // the address holds the secret
	s.render(w, r, http.StatusOK, "interview", pg)
}

func (s *Server) handleInterviewAnswer(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	iv, err := s.Recruit.RespondToInterview(r.Context(), r.PathValue("token"), r.PostForm.Get("answer"), r.PostForm.Get("note"))
	if fields, ok := fieldErrors(err); ok {
		cur, cerr := s.Recruit.InterviewByToken(r.Context(), r.PathValue("token"))
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		pg := s.newPage(r, "interview.title")
		pg.Lang, pg.Errors = cur.Language, fields
		pg.Form["note"] = r.PostForm.Get("note")
		pg.Data = interviewAnswerData{Interview: cur, Statuses: []string{recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked}}
		s.render(w, r, http.StatusUnprocessableEntity, "interview", pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "interview.title")
	pg.Lang = iv.Language
	pg.Data = interviewAnswerData{Interview: iv, Answered: true, Statuses: []string{recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked}}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "interview", pg)
}

// canInvite reports whether the actor may invite the application's candidate.
func canInvite(a access.Actor, app *recruit.Application) bool {
	return recruit.Decide(a, access.InviteInterview, app)
}

// handleRate sets the user's rating of an application.
func (s *Server) handleRate(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#ratings", func(a access.Actor, id string) error {
		return s.Recruit.Rate(r.Context(), a, id, r.PostForm.Get("rating"))
	})
}

// handleLabel adds (or with remove=1 removes) a label.
func (s *Server) handleLabel(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#labels", func(a access.Actor, id string) error {
		if r.PostForm.Get("remove") == "1" {
			return s.Recruit.RemoveLabel(r.Context(), a, id, r.PostForm.Get("label"))
		}
		return s.Recruit.AddLabel(r.Context(), a, id, r.PostForm.Get("label"))
	})
}

// handleNote keeps a private note.
func (s *Server) handleNote(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#notes", func(a access.Actor, id string) error {
		return s.Recruit.AddNote(r.Context(), a, id, r.PostForm.Get("note_body"))
	})
}

// cardChange runs a change on an application from its card and returns to
// the card: the section on success, the card with the messages otherwise.
func (s *Server) cardChange(w http.ResponseWriter, r *http.Request, anchor string, change func(a access.Actor, id string) error) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	err := change(stateOf(r).principal.Actor(), r.PathValue("id"))
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "application.title")
		pg.Errors = fields
		for _, k := range []string{"label", "note_body"} {
			pg.Form[k] = r.PostForm.Get(k)
		}
		s.renderApplication(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+anchor, http.StatusSeeOther)
}

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
