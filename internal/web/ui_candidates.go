package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
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
	// Erased is how many candidates the user just erased (-1: none).
	Erased  int
	CanMove bool
	// QueryError says why the search could not be read ("" when it could).
	QueryError string
	// Snippets are the fragments, by application id, that show why the
	// search found each row.
	Snippets map[string]*recruit.Snippet
	// Chips are the search's filters, each with the link that takes it
	// out; AddChips the stages and the page's most used labels, each with
	// the link that adds it.
	Chips, AddChips []chip
	// Saved are the user's saved searches; CanSave: the user may keep them.
	Saved   []savedLink
	CanSave bool
	// JustSaved: a search was saved a moment ago.
	JustSaved bool
}

// chip is a filter of the search shown as a link.
type chip struct {
	Text, URL string
}

// savedLink is a saved search with the link that runs it.
type savedLink struct {
	recruit.SavedSearch
	URL string
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
	erased := -1
	if q.Has("erased") {
		erased, _ = strconv.Atoi(q.Get("erased"))
	}
	d := candidatesData{Applications: list.Applications, Total: list.Total, TotalCapped: list.TotalCapped, TotalEstimate: list.TotalEstimate, Positions: positions,
		Stages: access.StageKinds, Reasons: reasons, Filter: filter, Done: done, Refused: refused, Erased: erased, CanMove: a.Can(access.MoveStage), QueryError: queryErr}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, filter, list.Next, lf.After)
	// Snippets and labels are the page's extras: a file store that fails
	// to give a document's text leaves the list without them, not broken.
	details, err := s.Recruit.ListDetails(r.Context(), a, filter.Get("q"), list.Applications)
	if err != nil {
		s.Logger.Error("candidate list details", "request_id", stateOf(r).requestID, "error", err.Error())
		details = &recruit.ListDetails{Snippets: map[string]*recruit.Snippet{}}
	}
	d.Snippets = details.Snippets
	d.Chips, d.AddChips = searchChips(filter, details.Labels)
	saved, err := s.Recruit.SavedSearches(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, ss := range saved {
		d.Saved = append(d.Saved, savedLink{SavedSearch: ss, URL: "/candidates?" + url.Values{"q": {ss.Query}}.Encode()})
	}
	d.CanSave = a.UserID != ""
	d.JustSaved = q.Get("saved") == "1"
	pg.Data = d
	if q.Get("partial") == "1" {
		// Results as one types (search.js): the results region alone.
		s.renderPart(w, r, status, "candidates", "candidate-results", pg)
		return
	}
	s.render(w, r, status, "candidates", pg)
}

// renderPart renders one template defined in a page's file, without the
// layout: the part of the page a script replaces.
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, status int, page, part string, pg *page) {
	t, ok := s.pages[page]
	if !ok {
		s.serverError(w, r, errors.New("no template "+page))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, pg); err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxAddChips bounds the stages and labels offered to add.
const maxAddChips = 16

// searchChips returns the filters of the list's query, each with the link
// to the list without it, and the filters one may add (the stages when
// the query requires none, the labels of the page's rows), each with the
// link to the list with it.
// The links keep the list's other filters. A query that cannot be read
// has no chips.
func searchChips(filter url.Values, labels []recruit.LabelCount) (chips, add []chip) {
	q, err := search.Parse(filter.Get("q"))
	if err != nil {
		return nil, nil
	}
	link := func(query *search.Query) string {
		v := url.Values{}
		for k, vs := range filter {
			v[k] = vs
		}
		v.Del("q")
		if text := query.String(); text != "" {
			v.Set("q", text)
		}
		if len(v) == 0 {
			return "/candidates"
		}
		return "/candidates?" + v.Encode()
	}
	for i, fc := range q.Filters {
		chips = append(chips, chip{Text: fc.String(), URL: link(q.WithoutFilter(i))})
	}
	offer := func(f search.Filter) {
		if len(add) >= maxAddChips || q.HasFilter(f) {
			return
		}
		more := &search.Query{Text: q.Text, Filters: append(slices.Clone(q.Filters), search.FilterClause{Any: []search.Filter{f}})}
		if again, err := search.Parse(more.String()); err != nil || again.String() != more.String() {
			return // too long a query, or a label the language cannot write (one with quotes)
		}
		add = append(add, chip{Text: f.String(), URL: link(more)})
	}
	// An application stands at one stage: with a stage required, another
	// would find nothing.
	staged := slices.ContainsFunc(q.Filters, func(c search.FilterClause) bool { return !c.Not && c.Any[0].Field == search.FieldStage })
	for _, st := range access.StageKinds {
		if !staged {
			offer(search.Filter{Field: search.FieldStage, Value: string(st)})
		}
	}
	for _, l := range labels {
		offer(search.Filter{Field: search.FieldLabel, Value: l.Label})
	}
	return chips, add
}

// handleSavedSearchSave keeps the list's query under a name of the user's.
func (s *Server) handleSavedSearchSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.PostForm.Get("q")
	_, err := s.Recruit.SaveSearch(r.Context(), stateOf(r).principal.Actor(), r.PostForm.Get("saved_name"), q)
	back := url.Values{}
	if q != "" {
		back.Set("q", q)
	}
	if err != nil {
		r.URL.RawQuery = back.Encode()
		s.refuse(w, r, err, s.newPage(r, "candidates.title"), s.renderCandidates)
		return
	}
	back.Set("saved", "1")
	http.Redirect(w, r, "/candidates?"+back.Encode(), http.StatusSeeOther)
}

// handleSavedSearchDelete removes one of the user's saved searches.
func (s *Server) handleSavedSearchDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Recruit.DeleteSavedSearch(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/candidates"
	if r.ParseForm() == nil && r.PostForm.Get("q") != "" {
		back += "?" + url.Values{"q": {r.PostForm.Get("q")}}.Encode()
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
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
