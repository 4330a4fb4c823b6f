package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

type candidatesData struct {
	Applications  []*recruit.Application
	Positions     []*recruit.Position
	Stages        []access.StageKind
	Reasons       []recruit.Reason
	Filter        url.Values
	Done, Refused int
	Full          bool
	CanMove       bool
}

var listFilterKeys = []string{"q", "position", "stage", "label", "source"}

func listFilter(v url.Values) recruit.ListFilter {
	return recruit.ListFilter{Text: v.Get("q"), PositionID: v.Get("position"), Stage: access.StageKind(v.Get("stage")),
		Label: v.Get("label"), Source: v.Get("source")}
}

// handleCandidates lists the applications the user may see, with filters
// and a form for bulk actions on a selection.
func (s *Server) handleCandidates(w http.ResponseWriter, r *http.Request) {
	s.renderCandidates(w, r, http.StatusOK, s.newPage(r, "candidates.title"))
}

func (s *Server) renderCandidates(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	a := stateOf(r).principal.Actor()
	q := r.URL.Query()
	filter := url.Values{}
	for _, k := range listFilterKeys {
		if v := q.Get(k); v != "" {
			filter.Set(k, v)
			pg.Form[k] = v
		}
	}
	apps, err := s.Recruit.ListApplications(r.Context(), a, listFilter(filter))
	if fields, ok := fieldErrors(err); ok {
		pg.Errors, status, apps, err = fields, http.StatusUnprocessableEntity, nil, nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	positions, err := s.Recruit.Positions(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reasons, err := s.Recruit.Reasons(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done, _ := strconv.Atoi(q.Get("done"))
	refused, _ := strconv.Atoi(q.Get("refused"))
	pg.Data = candidatesData{Applications: apps, Positions: positions, Stages: access.StageKinds, Reasons: reasons,
		Filter: filter, Done: done, Refused: refused, Full: len(apps) == recruit.MaxList, CanMove: a.Can(access.MoveStage)}
	s.render(w, r, status, "candidates", pg)
}

// handleBulk applies an action to the selected applications.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	act := recruit.BulkAction{Kind: f.Get("action"), Stage: access.StageKind(f.Get("stage")), Reason: f.Get("reason"), Label: f.Get("label"),
		Notify: f.Get("notify") == "yes"}
	res, err := s.Recruit.Bulk(r.Context(), stateOf(r).principal.Actor(), f["application"], act)
	back := url.Values{}
	for _, k := range listFilterKeys {
		if v := f.Get("filter_" + k); v != "" {
			back.Set(k, v)
		}
	}
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "candidates.title")
		pg.Errors = fields
		r.URL.RawQuery = back.Encode()
		s.renderCandidates(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back.Set("done", strconv.Itoa(res.Done))
	back.Set("refused", strconv.Itoa(res.Refused))
	http.Redirect(w, r, "/candidates?"+back.Encode(), http.StatusSeeOther)
}
