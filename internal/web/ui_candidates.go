package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

type candidatesData struct {
	Applications []*recruit.Application
	// Total counts the whole filtered list; TotalCapped: more than Total;
	// TotalEstimate: about Total.
	Total                      int
	TotalCapped, TotalEstimate bool
	// NextURL and FirstURL page the list; "" when there is none.
	NextURL, FirstURL string
	Positions         []recruit.PositionTitle
	Stages            []access.StageKind
	Reasons           []recruit.Reason
	Filter            url.Values
	Done, Refused     int
	CanMove           bool
	// QueryError says why the search could not be read ("" when it could).
	QueryError string
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
	lf := listFilter(filter)
	lf.After = q.Get("after")
	list, err := s.Recruit.ListPage(r.Context(), a, lf)
	var queryErr string
	if qe := (*search.QueryError)(nil); errors.As(err, &qe) {
		// The message of the query language, with what it names.
		queryErr, status, list, err = pg.T(qe.Key, qe.Args...), http.StatusUnprocessableEntity, &recruit.ListPage{}, nil
	}
	if fields, ok := fieldErrors(err); ok {
		pg.Errors, status, list, err = fields, http.StatusUnprocessableEntity, &recruit.ListPage{}, nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	positions, err := s.Recruit.PositionTitles(r.Context(), a, filter.Get("position"))
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
	d := candidatesData{Applications: list.Applications, Total: list.Total, TotalCapped: list.TotalCapped, TotalEstimate: list.TotalEstimate, Positions: positions,
		Stages: access.StageKinds, Reasons: reasons, Filter: filter, Done: done, Refused: refused, CanMove: a.Can(access.MoveStage), QueryError: queryErr}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, filter, list.Next, lf.After)
	pg.Data = d
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
	if err != nil {
		// The list shown again is the one the selection was made on.
		r.URL.RawQuery = back.Encode()
		s.refuse(w, r, err, s.newPage(r, "candidates.title"), s.renderCandidates)
		return
	}
	back.Set("done", strconv.Itoa(res.Done))
	back.Set("refused", strconv.Itoa(res.Refused))
	http.Redirect(w, r, "/candidates?"+back.Encode(), http.StatusSeeOther)
}

// pageLinks returns the links to the next page (after the cursor next)
// and back to the first one (when on a later page), keeping the filters.
func pageLinks(path string, filter url.Values, next, current string) (nextURL, firstURL string) {
	if next != "" {
		v := url.Values{}
		for k, vs := range filter {
			v[k] = vs
		}
		v.Set("after", next)
		nextURL = path + "?" + v.Encode()
	}
	if current != "" {
		firstURL = path
		if len(filter) > 0 {
			firstURL += "?" + filter.Encode()
		}
	}
	return nextURL, firstURL
}
