package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

type applicationData struct {
	Application *recruit.Application
	Documents   []recruit.Document
	Interviews  []*recruit.Interview
	Messages    []recruit.Message
	// Others are the candidate's other applications the user may see.
	Others []*recruit.Application
	Tasks  []recruit.Task
	// PositionStages is the pipeline offered for a move (to those who may move).
	PositionStages []recruit.Stage
	// Colleagues who may take part in an interview; TimeZones offered.
	Colleagues []*account.User
	TimeZones  []string
	CanInvite  bool
	Invited    bool
	// Card holds ratings, labels, the user's private notes and the history.
	Card          *recruit.CardDetails
	RatingValues  []string
	Reasons       []recruit.Reason
	RejectionName string
	CanRate       bool
	Comments      []recruit.Comment
	Names         map[string]string
	Stages        []access.StageKind
	CanMove       bool
	CanComment    bool
	// Profile is the candidate's profile, ProfileHistory its latest changes;
	// Vocabulary the company's skills (for those who may move the
	// application and so edit the profile); Codes the lists and names of
	// countries and languages.
	Profile        *recruit.Profile
	ProfileHistory []recruit.ProfileChange
	Vocabulary     []recruit.Skill
	Codes          *profileCodes
	// Consent is the candidate's talent-pool consent and its history (nil
	// without the privacy engine); ConsentSent and ConsentSkipped say how a
	// request from the card went.
	Consent                     *privacy.CandidateConsent
	ConsentSent, ConsentSkipped string
}

func (s *Server) handleApplication(w http.ResponseWriter, r *http.Request) {
	s.renderApplication(w, r, http.StatusOK, s.newPage(r, "application.title"))
}

func (s *Server) renderApplication(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	a := stateOf(r).principal.Actor()
	v, err := s.Recruit.CardView(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	app := v.Application
	rejectionName, _ := recruit.ReasonLabel(v.Reasons, app.RejectionReason)
	names, users, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Interview participants and task assignees: the colleagues who may open
	// this very card (the position is theirs or shared with them, or the
	// candidate is in the shared pool they see).
	var colleagues []*account.User
	for _, u := range users {
		if u.Status == account.Active && recruit.Decide(access.Actor{TenantID: u.TenantID, UserID: u.ID, Perms: u.Perms}, access.ViewApplications, app) {
			colleagues = append(colleagues, u)
		}
	}
	if pg.Form["time_zone"] == "" {
		pg.Form["time_zone"] = stateOf(r).tenant.Zone()
	}
	if pg.Form["minutes"] == "" {
		pg.Form["minutes"] = "60"
	}
	canMove := recruit.Decide(a, access.MoveStage, app)
	var vocabulary []recruit.Skill
	if canMove {
		if vocabulary, err = s.Recruit.Skills(r.Context(), a); err != nil {
			s.fail(w, r, err)
			return
		}
		profileForm(pg.Form, v.Profile)
	}
	consent, err := s.cardConsent(r, a, app)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, ok := pg.Form["consent_months"]; !ok && consent != nil {
		pg.Form["consent_months"] = strconv.Itoa(consent.DefaultMonths)
		pg.Form["consent_date"] = consent.Today
	}
	pg.Data = applicationData{Consent: consent, ConsentSent: r.URL.Query().Get("sent"), ConsentSkipped: r.URL.Query().Get("skipped"), Application: app, Documents: v.Documents, Interviews: v.Interviews, Messages: v.Messages, Others: v.Others,
		Tasks: v.Tasks, PositionStages: v.Stages, Colleagues: colleagues, TimeZones: zonesWith(pg.Form["time_zone"]),
		CanInvite: canInvite(a, app), Invited: r.URL.Query().Get("invited") == "1", Card: v.Details, RatingValues: recruit.RatingValues,
		Reasons: v.Reasons, RejectionName: rejectionName, CanRate: recruit.Decide(a, access.Rate, app), Comments: v.Comments, Names: names,
		Stages: access.StageKinds, CanMove: canMove, CanComment: recruit.Decide(a, access.Comment, app),
		Profile: v.Profile, ProfileHistory: v.ProfileHistory, Vocabulary: vocabulary, Codes: codesIn(pg.Lang)}
	s.render(w, r, status, "application", pg)
}

func (s *Server) handleStageMove(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := stateOf(r).principal.Actor()
	notify := r.PostForm.Get("notify") == "yes"
	var err error
	if stageID := r.PostForm.Get("stage_id"); stageID != "" {
		err = s.Recruit.Move(r.Context(), a, r.PathValue("id"), recruit.MoveInput{StageID: stageID, Reason: r.PostForm.Get("reason"), Notify: notify})
	} else {
		err = s.Recruit.Move(r.Context(), a, r.PathValue("id"), recruit.MoveInput{Kind: access.StageKind(r.PostForm.Get("stage")), Reason: r.PostForm.Get("reason"), Notify: notify})
	}
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "application.title"), s.renderApplication)
		return
	}
	if back := r.PostForm.Get("back"); back == "board" {
		// From the board (a form or its script): back to the position.
		http.Redirect(w, r, "/positions/"+r.PostForm.Get("position")+"#pipeline", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id"), http.StatusSeeOther)
}

// zonesWith is the list of time zones offered, with zone among them: a
// company may work in one the list does not name.
func zonesWith(zone string) []string {
	if slices.Contains(tenant.TimeZones, zone) {
		return tenant.TimeZones
	}
	return append([]string{zone}, tenant.TimeZones...)
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

// handleCandidateProfile saves the candidate's profile from the card.
func (s *Server) handleCandidateProfile(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#profile", func(a access.Actor, id string) error {
		return s.Recruit.SaveProfile(r.Context(), a, id, profileInput(r.PostForm))
	})
}

// cardChange runs a change on an application from its card and returns to
// the card: the section on success, the card with the messages otherwise.
func (s *Server) cardChange(w http.ResponseWriter, r *http.Request, anchor string, change func(a access.Actor, id string) error) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := change(stateOf(r).principal.Actor(), r.PathValue("id")); err != nil {
		s.refuse(w, r, err, s.newPage(r, "application.title"), s.renderApplication)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+anchor, http.StatusSeeOther)
}
