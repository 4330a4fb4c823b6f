package web

import (
	"context"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
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
	in := recruit.PositionInput{Title: r.PostForm.Get("title"), Department: r.PostForm.Get("department"),
		Location: r.PostForm.Get("location"), Language: r.PostForm.Get("language"), Description: r.PostForm.Get("description"),
		EmploymentType: r.PostForm.Get("employment_type")}
	// The required skills, comma-separated; a form without the field
	// leaves them as they are.
	if _, ok := r.PostForm["skills"]; ok {
		in.Skills = []string{}
		for name := range strings.SplitSeq(r.PostForm.Get("skills"), ",") {
			if name = strings.TrimSpace(name); name != "" {
				in.Skills = append(in.Skills, name)
			}
		}
	}
	in.ProfileFields = profileAsks(r.PostForm)
	return in
}

func (s *Server) handlePositionCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	pos, err := s.Recruit.CreatePosition(r.Context(), stateOf(r).principal.Actor(), positionInput(r))
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "positions.title"), s.renderPositions)
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
	// Vocabulary is the company's skills, offered by the required-skills
	// field of the edit form.
	Vocabulary []recruit.Skill
	// ProfileParts are the parts of a profile the career form may ask for.
	ProfileParts []string
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
		if d.Vocabulary, err = s.Recruit.Skills(r.Context(), a); err != nil {
			s.fail(w, r, err)
			return
		}
		if _, set := pg.Form["skills"]; !set {
			names := make([]string, len(pos.Skills))
			for i, sk := range pos.Skills {
				names[i] = sk.Name
			}
			pg.Form["skills"] = strings.Join(names, ", ")
		}
		for _, u := range users {
			if u.ID != pos.OwnerID && seesCandidates(u) {
				d.Colleagues = append(d.Colleagues, u)
			}
		}
	}
	d.ProfileParts = recruit.ProfileAskFields
	askForm(pg.Form, pos.ProfileFields)
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
	err := s.Recruit.EditPosition(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), positionInput(r))
	s.afterPositionChange(w, r, err, "")
}

// afterPositionChange answers a change of a position: back to it; the
// position with the messages and the posted values for bad input (422), a
// change its state does not allow (409) or credits that do not cover it
// (402); or the error.
func (s *Server) afterPositionChange(w http.ResponseWriter, r *http.Request, err error, query string) {
	if err != nil {
		err = fault.Show(err, recruit.ErrState, "", "error.position_state")
		s.refuse(w, r, err, s.newPage(r, "positions.position"), s.renderPosition)
		return
	}
	http.Redirect(w, r, "/positions/"+r.PathValue("id")+query, http.StatusSeeOther)
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
	// Credits short (402) or not the user's to spend (403) are said on
	// the position (credit's errors carry their messages).
	_, err := s.Recruit.Publish(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
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
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "positions.position"), s.renderPosition)
		return
	}
	http.Redirect(w, r, "/applications/"+app.ID, http.StatusSeeOther)
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
