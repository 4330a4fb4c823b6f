package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

// apiCandidate is a candidate's contact details.
type apiCandidate struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email" format:"email"`
	Phone string `json:"phone"`
	// KeptUntil is the end of the candidate's processing bases.
	KeptUntil *time.Time `json:"kept_until" doc:"Until when a processing basis (purpose or consent) keeps the candidate's data; null when none is recorded."`
}

// apiCandidateDetail is a candidate with the applications the token sees.
type apiCandidateDetail struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Email        string           `json:"email" format:"email"`
	Phone        string           `json:"phone"`
	KeptUntil    *time.Time       `json:"kept_until" doc:"Until when a processing basis (purpose or consent) keeps the candidate's data; null when none is recorded."`
	Applications []apiApplication `json:"applications" doc:"Their applications the token may see, newest first."`
}

func toAPICandidate(c *recruit.Candidate) apiCandidate {
	out := apiCandidate{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone}
	if !c.Bases.Until.IsZero() {
		t := c.Bases.Until
		out.KeptUntil = &t
	}
	return out
}

func (s *Server) apiCandidates(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/candidates", ID: "listCandidates", Tag: "candidates",
		Summary: "List and search the candidates' applications the token may see, newest first (one item per application)",
		Scope:   access.ViewApplications, Result: apiApplication{}, Page: true,
		Query: []apiParam{
			{Name: "q", Doc: "A query in the search language: words (each a prefix), \"phrases\", -exclusions, OR, and the filters stage:, label:, position:, source:, applied:, consent: (as the candidate list's search box takes it)."},
			{Name: "position", Doc: "Only applications to this position (its id)."},
			{Name: "stage", Doc: "Only applications at stages of this kind.", Enum: apiEnums["stages"]()},
			{Name: "label", Doc: "Only applications with this label."},
			{Name: "source", Doc: "Only applications from this source."},
			apiLimitParam, apiCursorParam}}, s.apiListCandidates)
	a.handle(apiOp{Method: http.MethodGet, Path: "/candidates/{id}", ID: "getCandidate", Tag: "candidates",
		Summary: "Get a candidate with their applications the token may see", Scope: access.ViewApplications,
		Result: apiCandidateDetail{}}, s.apiGetCandidate)
}

func (s *Server) apiListCandidates(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	var f recruit.ListFilter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"q", &f.Text}, {"position", &f.PositionID}, {"label", &f.Label}, {"source", &f.Source}} {
		if *p.dst, err = c.query(p.name); err != nil {
			return err
		}
	}
	stage, err := c.query("stage")
	if err != nil {
		return err
	}
	f.Stage, f.After, f.Limit = access.StageKind(stage), after, limit
	page, err := s.Recruit.ListPage(c.ctx(), c.actor, f)
	if qe := (*search.QueryError)(nil); errors.As(err, &qe) {
		// The query language's own message, with what it names.
		return &apiError{status: http.StatusUnprocessableEntity, slug: "validation", field: "q", key: qe.Key,
			detail: s.I18n.T(c.lang, qe.Key, qe.Args...)}
	}
	if err != nil {
		return err
	}
	return writePage(c, toAPIApplications(page.Applications), page.Next)
}

func (s *Server) apiGetCandidate(c *apiCall) error {
	v, err := s.Recruit.CandidateByID(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	cand := toAPICandidate(v.Candidate)
	return c.json(apiCandidateDetail{ID: cand.ID, Name: cand.Name, Email: cand.Email, Phone: cand.Phone, KeptUntil: cand.KeptUntil,
		Applications: toAPIApplications(v.Applications)})
}
