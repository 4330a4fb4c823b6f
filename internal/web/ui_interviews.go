package web

import (
	"net/http"
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
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "application.title"), s.renderApplication)
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
	if _, invalid := fieldErrors(err); invalid {
		cur, cerr := s.Recruit.InterviewByToken(r.Context(), r.PathValue("token"))
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		pg := s.newPage(r, "interview.title")
		pg.Lang = cur.Language
		pg.Data = interviewAnswerData{Interview: cur, Statuses: []string{recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked}}
		s.refuse(w, r, err, pg, s.show("interview"))
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
