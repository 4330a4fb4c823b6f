package web

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The handlers here parse and render; the recruit service decides who may
// do what (404 for what the user may not know exists, 403 for the rest).

type positionsData struct {
	Positions []*recruit.Position
	Stages    []access.StageKind
	CanCreate bool
	Names     map[string]string
	// Status filters the list; Statuses are the choices.
	Status            string
	Statuses          []string
	NextURL, FirstURL string
	Total             int
}

// userNames maps the company's user ids to display names, for showing owners
// and authors (the trail and the tables hold ids only).
func (s *Server) userNames(r *http.Request) (map[string]string, []*account.User, error) {
	users, err := s.Accounts.ListUsers(r.Context(), stateOf(r).principal.TenantID)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.DisplayName
	}
	return names, users, nil
}

func (s *Server) handlePositions(w http.ResponseWriter, r *http.Request) {
	s.renderPositions(w, r, http.StatusOK, s.newPage(r, "positions.title"))
}

func (s *Server) renderPositions(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	p := stateOf(r).principal
	f := recruit.PositionFilter{Status: r.URL.Query().Get("status"), After: r.URL.Query().Get("after")}
	list, err := s.Recruit.PositionsPage(r.Context(), p.Actor(), f)
	if fields, ok := fieldErrors(err); ok {
		pg.Errors, status, list, err = fields, http.StatusUnprocessableEntity, &recruit.PositionPage{}, nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	filter := url.Values{}
	if f.Status != "" {
		filter.Set("status", f.Status)
	}
	names, _, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pg.Form["language"] == "" {
		pg.Form["language"] = stateOf(r).tenant.DefaultLanguage
	}
	d := positionsData{Positions: list.Positions, Stages: access.StageKinds, CanCreate: p.Can(access.CreatePositions), Names: names,
		Status: f.Status, Statuses: []string{recruit.Published, recruit.Draft, recruit.Closed, recruit.Archived}, Total: list.Total}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, filter, list.Next, f.After)
	pg.Data = d
	s.render(w, r, status, "positions", pg)
}

func positionInput(r *http.Request) recruit.PositionInput {
	return recruit.PositionInput{Title: r.PostForm.Get("title"), Department: r.PostForm.Get("department"),
		Location: r.PostForm.Get("location"), Language: r.PostForm.Get("language"), Description: r.PostForm.Get("description"),
		EmploymentType: r.PostForm.Get("employment_type")}
}

func (s *Server) handlePositionCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in := positionInput(r)
	pos, err := s.Recruit.CreatePosition(r.Context(), stateOf(r).principal.Actor(), in)
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "positions.title")
		pg.Errors = fields
		pg.Form["title"], pg.Form["department"], pg.Form["location"], pg.Form["language"] = in.Title, in.Department, in.Location, in.Language
		pg.Form["description"], pg.Form["employment_type"] = in.Description, in.EmploymentType
		s.renderPositions(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/positions/"+pos.ID, http.StatusSeeOther)
}

type positionData struct {
	Position     *recruit.Position
	Applications []*recruit.Application
	Stages       []access.StageKind
	ByStage      map[string][]*recruit.Application
	Names        map[string]string
	// Colleagues the position may be shared with: active users but the owner.
	Colleagues          []*account.User
	Interviews          []*recruit.Interview
	CanEdit, CanPublish bool
	CanAdd, CanSeeApps  bool
	// CanMove: the user moves this position's candidates on the board.
	CanMove bool
	// StageLabels are the stages' names as shown (translated once, not per
	// card); MoveOptions, per stage, the options of the move form of its
	// cards (the same for every card of a column: written once, escaped).
	StageLabels map[string]string
	MoveOptions map[string]template.HTML
	// Quote is what publishing would cost the user now and what they have
	// to pay with, shown beside Publish (nil when there is nothing to publish).
	Quote *recruit.Quote
}

func (s *Server) handlePosition(w http.ResponseWriter, r *http.Request) {
	s.renderPosition(w, r, http.StatusOK, s.newPage(r, "positions.title"))
}

func (s *Server) renderPosition(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	a := stateOf(r).principal.Actor()
	pos, err := s.Recruit.Position(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, users, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := positionData{Position: pos, Stages: access.StageKinds, Names: names, ByStage: map[string][]*recruit.Application{},
		CanEdit: recruit.DecideOnPosition(a, access.EditPositions, pos), CanPublish: recruit.DecideOnPosition(a, access.PublishPositions, pos),
		CanAdd: recruit.DecideOnPosition(a, access.AddCandidates, pos), CanSeeApps: recruit.DecideOnPosition(a, access.ViewApplications, pos),
		CanMove: recruit.DecideOnPosition(a, access.MoveStage, pos)}
	if d.CanPublish && pos.Status != recruit.Published && pos.Status != recruit.Archived {
		if d.Quote, err = s.Recruit.PublicationQuote(r.Context(), a, pos.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.StageLabels = make(map[string]string, len(pos.Stages))
	for _, st := range pos.Stages {
		d.StageLabels[st.ID] = st.Name
		if st.Name == "" {
			d.StageLabels[st.ID] = pg.T("stage." + string(st.Kind))
		}
	}
	d.MoveOptions = make(map[string]template.HTML, len(pos.Stages))
	for _, col := range pos.Stages {
		var b strings.Builder
		for _, st := range pos.Stages {
			if st.Kind == access.StageRejected {
				continue
			}
			b.WriteString(`<option value="` + html.EscapeString(st.ID) + `"`)
			if st.ID == col.ID {
				b.WriteString(" selected")
			}
			b.WriteString(">" + html.EscapeString(d.StageLabels[st.ID]) + "</option>")
		}
		d.MoveOptions[col.ID] = template.HTML(b.String()) // every part escaped above
	}
	if d.CanSeeApps {
		if d.Applications, err = s.Recruit.Applications(r.Context(), a, pos.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, app := range d.Applications {
			d.ByStage[app.StageID] = append(d.ByStage[app.StageID], app)
		}
		if d.Interviews, err = s.Recruit.PositionInterviews(r.Context(), a, pos.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.CanEdit {
		for _, u := range users {
			if u.ID != pos.OwnerID && seesCandidates(u) {
				d.Colleagues = append(d.Colleagues, u)
			}
		}
	}
	for k, v := range map[string]string{"title": pos.Title, "department": pos.Department, "location": pos.Location, "language": pos.Language,
		"description": pos.Description, "employment_type": pos.EmploymentType} {
		if _, set := pg.Form[k]; !set {
			pg.Form[k] = v
		}
	}
	pg.Title = "positions.position"
	pg.Data = d
	s.render(w, r, status, "position", pg)
}

// seesCandidates reports whether u is an active colleague whose role lets
// them see the candidates of a position shared with them: only such a
// colleague is offered for sharing a position. An administrator or a case
// handler would be given something they can never open.
func seesCandidates(u *account.User) bool {
	return u.Status == account.Active && u.Perms.Has(access.ViewPositions) && u.Perms.Has(access.ViewApplications)
}

// Member reports whether user id is among the position's members (for the share form).
func (d positionData) Member(id string) bool { return slices.Contains(d.Position.Members, id) }

func (s *Server) handlePositionEdit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in := positionInput(r)
	err := s.Recruit.EditPosition(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), in)
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "positions.position")
		pg.Errors = fields
		pg.Form["title"], pg.Form["department"], pg.Form["location"], pg.Form["language"] = in.Title, in.Department, in.Location, in.Language
		pg.Form["description"], pg.Form["employment_type"] = in.Description, in.EmploymentType
		s.renderPosition(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	s.afterPositionChange(w, r, err, "")
}

// afterPositionChange answers a change of a position: back to it; the
// position with the messages for bad input (422) or a change its state
// does not allow (409); or the error.
func (s *Server) afterPositionChange(w http.ResponseWriter, r *http.Request, err error, query string) {
	fields, invalid := fieldErrors(err)
	switch {
	case invalid:
		pg := s.newPage(r, "positions.position")
		pg.Errors = fields
		s.renderPosition(w, r, http.StatusUnprocessableEntity, pg)
	case errors.Is(err, recruit.ErrState):
		pg := s.newPage(r, "positions.position")
		pg.Errors[""] = "error.position_state"
		s.renderPosition(w, r, http.StatusConflict, pg)
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/positions/"+r.PathValue("id")+query, http.StatusSeeOther)
	}
}

func (s *Server) handlePositionShare(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.Recruit.SharePosition(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), r.PostForm["member"])
	s.afterPositionChange(w, r, err, "")
}

func (s *Server) handlePositionPublish(w http.ResponseWriter, r *http.Request) {
	_, err := s.Recruit.Publish(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	pg := s.newPage(r, "positions.position")
	switch {
	case errors.Is(err, credit.ErrInsufficient):
		pg.Errors[""] = "error.credits_insufficient"
		s.renderPosition(w, r, http.StatusPaymentRequired, pg)
		return
	case errors.Is(err, credit.ErrLimitReached):
		pg.Errors[""] = "error.credits_limit_reached"
		s.renderPosition(w, r, http.StatusPaymentRequired, pg)
		return
	case errors.Is(err, credit.ErrForbidden):
		pg.Errors[""] = "error.credits_not_allowed"
		s.renderPosition(w, r, http.StatusForbidden, pg)
		return
	}
	s.afterPositionChange(w, r, err, "")
}

// handlePositionStatus runs a change of a position's status (close, archive).
func (s *Server) handlePositionStatus(change func(ctx context.Context, a access.Actor, id string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.afterPositionChange(w, r, change(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id")), "")
	}
}

func (s *Server) handleCandidateAdd(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in := recruit.CandidateInput{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Phone: r.PostForm.Get("phone")}
	app, err := s.Recruit.AddCandidate(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), in, access.StageNew, recruit.ViaStaff)
	// The address of a candidate the user may not see comes back as a
	// field error (error.email_known): the form shows what the user typed
	// and nothing of what is stored.
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "positions.position")
		pg.Errors = fields
		pg.Form["name"], pg.Form["email"], pg.Form["phone"] = r.PostForm.Get("name"), r.PostForm.Get("email"), r.PostForm.Get("phone")
		s.renderPosition(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+app.ID, http.StatusSeeOther)
}

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
		pg.Form["time_zone"] = recruit.DefaultTimeZone(stateOf(r).tenant.DefaultLanguage)
	}
	if pg.Form["minutes"] == "" {
		pg.Form["minutes"] = "60"
	}
	pg.Data = applicationData{Application: app, Documents: v.Documents, Interviews: v.Interviews, Messages: v.Messages, Others: v.Others,
		Tasks: v.Tasks, PositionStages: v.Stages, Colleagues: colleagues, TimeZones: recruit.TimeZones,
		CanInvite: canInvite(a, app), Invited: r.URL.Query().Get("invited") == "1", Card: v.Details, RatingValues: recruit.RatingValues,
		Reasons: v.Reasons, RejectionName: rejectionName, CanRate: recruit.Decide(a, access.Rate, app), Comments: v.Comments, Names: names,
		Stages: access.StageKinds, CanMove: recruit.Decide(a, access.MoveStage, app), CanComment: recruit.Decide(a, access.Comment, app)}
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
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "application.title")
		pg.Errors = fields
		s.renderApplication(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if back := r.PostForm.Get("back"); back == "board" {
		// From the board (a form or its script): back to the position.
		http.Redirect(w, r, "/positions/"+r.PostForm.Get("position")+"#pipeline", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id"), http.StatusSeeOther)
}

func (s *Server) handleComment(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	_, err := s.Recruit.AddComment(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), r.PostForm.Get("body"))
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "application.title")
		pg.Errors = fields
		pg.Form["body"] = r.PostForm.Get("body")
		s.renderApplication(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+"#comments", http.StatusSeeOther)
}

type poolData struct {
	Applications      []*recruit.Application
	Total             int
	TotalCapped       bool
	NextURL, FirstURL string
}

func (s *Server) handlePool(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	list, err := s.Recruit.PoolPage(r.Context(), stateOf(r).principal.Actor(), after, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "pool.title")
	d := poolData{Applications: list.Applications, Total: list.Total, TotalCapped: list.TotalCapped}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, url.Values{}, list.Next, after)
	pg.Data = d
	s.render(w, r, http.StatusOK, "pool", pg)
}

// stageEdits reads a pipeline form: rows stage_id, stage_name, stage_kind,
// stage_order, stage_keep and stage_remove, numbered 0..n; a row with no
// id, no name and no stage_keep is the empty row for a new stage.
func stageEdits(f url.Values) []recruit.StageEdit {
	type row struct {
		edit  recruit.StageEdit
		order int
	}
	var rows []row
	for i := 0; i < 40; i++ {
		n := strconv.Itoa(i)
		id, name, kind := f.Get("stage_id_"+n), f.Get("stage_name_"+n), f.Get("stage_kind_"+n)
		if id == "" && strings.TrimSpace(name) == "" && f.Get("stage_keep_"+n) != "1" || f.Get("stage_remove_"+n) == "1" {
			continue
		}
		order, err := strconv.Atoi(f.Get("stage_order_" + n))
		if err != nil {
			order = i + 1
		}
		rows = append(rows, row{recruit.StageEdit{ID: id, Name: name, Kind: access.StageKind(kind)}, order})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.order - b.order })
	out := make([]recruit.StageEdit, len(rows))
	for i, r := range rows {
		out[i] = r.edit
	}
	return out
}

// handlePositionStages saves a position's pipeline.
func (s *Server) handlePositionStages(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.Recruit.SetStages(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), stageEdits(r.PostForm))
	s.afterPositionChange(w, r, err, "#stages")
}

// PositionData helpers for templates.

// EmploymentTypes lists the kinds of employment for the position form.
func (p *page) EmploymentTypes() []string { return recruit.EmploymentTypes }
