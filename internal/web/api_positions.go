package web

import (
	"net/http"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// apiPosition is a position as the API shows it.
type apiPosition struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	Department     string `json:"department"`
	Location       string `json:"location"`
	Language       string `json:"language" enum:"@languages" doc:"The language of the ad and the career form."`
	Description    string `json:"description" doc:"The ad's text, in Markdown."`
	EmploymentType string `json:"employment_type" enum:"@employment"`
	Status         string `json:"status" enum:"@positionStatuses"`
	OwnerID        string `json:"owner_id" doc:"The user who owns it."`
	// Members are the colleagues it is shared with.
	Members     []string   `json:"members" doc:"The users it is shared with."`
	PublishedAt *time.Time `json:"published_at" doc:"Since when it is on the career page; null when it is not."`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// Counts are the applications per stage kind.
	Counts map[string]int `json:"counts" doc:"Applications per stage kind."`
	// Skills are the required skills (read by the single position only).
	Skills []string `json:"skills,omitempty" doc:"The skills it requires (on GET /positions/{id} only)."`
	// Stages is the pipeline (read by the single position only).
	Stages []apiStage `json:"stages,omitempty" doc:"Its pipeline, in order (on GET /positions/{id} only)."`
}

// apiStage is one stage of a position's pipeline.
type apiStage struct {
	ID   string `json:"id"`
	Name string `json:"name" doc:"The company's name for it; empty for a standard stage, named by its kind."`
	Kind string `json:"kind" enum:"@stages"`
	// Applications is the number of applications at the stage.
	Applications int `json:"applications"`
}

// apiPositionInput creates a position.
type apiPositionInput struct {
	Title          string   `json:"title"`
	Department     string   `json:"department,omitempty"`
	Location       string   `json:"location,omitempty"`
	Language       string   `json:"language" enum:"@languages"`
	Description    string   `json:"description,omitempty" doc:"Markdown."`
	EmploymentType string   `json:"employment_type,omitempty" enum:"@employment"`
	Skills         []string `json:"skills,omitempty"`
}

// apiPositionPatch changes a position: absent fields keep their value.
type apiPositionPatch struct {
	Title          *string   `json:"title,omitempty"`
	Department     *string   `json:"department,omitempty"`
	Location       *string   `json:"location,omitempty"`
	Language       *string   `json:"language,omitempty" enum:"@languages"`
	Description    *string   `json:"description,omitempty"`
	EmploymentType *string   `json:"employment_type,omitempty" enum:"@employment"`
	Skills         *[]string `json:"skills,omitempty" doc:"Replaces the required skills."`
}

func toAPIPosition(p *recruit.Position, full bool) apiPosition {
	out := apiPosition{ID: p.ID, Title: p.Title, Department: p.Department, Location: p.Location, Language: p.Language,
		Description: p.Description, EmploymentType: p.EmploymentType, Status: p.Status, OwnerID: p.OwnerID,
		Members: nonNil(p.Members), PublishedAt: p.PublishedAt, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Counts: map[string]int{}}
	for k, n := range p.Counts {
		out.Counts[string(k)] = n
	}
	if full {
		out.Skills = []string{}
		for _, sk := range p.Skills {
			out.Skills = append(out.Skills, sk.Name)
		}
		out.Stages = toAPIStages(p)
	}
	return out
}

func toAPIStages(p *recruit.Position) []apiStage {
	out := make([]apiStage, 0, len(p.Stages))
	for _, st := range p.Stages {
		out = append(out, apiStage{ID: st.ID, Name: st.Name, Kind: string(st.Kind), Applications: p.StageCounts[st.ID]})
	}
	return out
}

// nonNil makes a nil slice an empty one, which JSON shows as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) apiPositions(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/positions", ID: "listPositions", Tag: "positions", Summary: "List positions",
		Scope: access.ViewPositions, Result: apiPosition{}, Page: true,
		Query: []apiParam{{Name: "status", Doc: "Only positions of this status.", Enum: []string{recruit.Draft, recruit.Published, recruit.Closed, recruit.Archived}},
			apiLimitParam, apiCursorParam}}, s.apiListPositions)
	a.handle(apiOp{Method: http.MethodPost, Path: "/positions", ID: "createPosition", Tag: "positions", Summary: "Create a draft position",
		Scope: access.CreatePositions, Body: apiPositionInput{}, Result: apiPosition{}, Status: http.StatusCreated}, s.apiCreatePosition)
	a.handle(apiOp{Method: http.MethodGet, Path: "/positions/{id}", ID: "getPosition", Tag: "positions", Summary: "Get a position with its pipeline",
		Scope: access.ViewPositions, Result: apiPosition{}}, s.apiGetPosition)
	a.handle(apiOp{Method: http.MethodPatch, Path: "/positions/{id}", ID: "updatePosition", Tag: "positions", Summary: "Change a position",
		Scope: access.EditPositions, Body: apiPositionPatch{}, Result: apiPosition{}, IfMatch: true}, s.apiUpdatePosition)
	a.handle(apiOp{Method: http.MethodPost, Path: "/positions/{id}/publish", ID: "publishPosition", Tag: "positions",
		Summary: "Publish a position on the career page (may spend credits)", Scope: access.PublishPositions, Result: apiPosition{},
		Errors: []int{402}}, s.apiPositionAction("publish"))
	a.handle(apiOp{Method: http.MethodPost, Path: "/positions/{id}/close", ID: "closePosition", Tag: "positions",
		Summary: "Close a position: it leaves the career page", Scope: access.PublishPositions, Result: apiPosition{}}, s.apiPositionAction("close"))
	a.handle(apiOp{Method: http.MethodPost, Path: "/positions/{id}/archive", ID: "archivePosition", Tag: "positions",
		Summary: "Archive a position", Scope: access.EditPositions, Result: apiPosition{}}, s.apiPositionAction("archive"))
	a.handle(apiOp{Method: http.MethodGet, Path: "/positions/{id}/stages", ID: "listStages", Tag: "positions", Summary: "List a position's pipeline stages",
		Scope: access.ViewPositions, Result: []apiStage{}}, s.apiListStages)
}

func (s *Server) apiListPositions(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	status, err := c.query("status")
	if err != nil {
		return err
	}
	page, err := s.Recruit.PositionsPage(c.ctx(), c.actor, recruit.PositionFilter{Status: status, After: after, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]apiPosition, 0, len(page.Positions))
	for _, p := range page.Positions {
		out = append(out, toAPIPosition(p, false))
	}
	return writePage(c, out, page.Next)
}

func (s *Server) apiCreatePosition(c *apiCall) error {
	var in apiPositionInput
	if err := c.decode(&in); err != nil {
		return err
	}
	p, err := s.Recruit.CreatePosition(c.ctx(), c.actor, recruit.PositionInput{Title: in.Title, Department: in.Department, Location: in.Location,
		Language: in.Language, Description: in.Description, EmploymentType: in.EmploymentType, Skills: nonNil(in.Skills)})
	if err != nil {
		return err
	}
	return s.apiWritePosition(c, p.ID, location("positions", p.ID))
}

// apiWritePosition answers with a position as it is now (with its ETag),
// and its Location when it was just made.
func (s *Server) apiWritePosition(c *apiCall, id, loc string) error {
	p, err := s.Recruit.Position(c.ctx(), c.actor, id)
	if err != nil {
		return err
	}
	return c.object(p.UpdatedAt, loc, toAPIPosition(p, true))
}

func (s *Server) apiGetPosition(c *apiCall) error {
	return s.apiWritePosition(c, c.path("id"), "")
}

func (s *Server) apiUpdatePosition(c *apiCall) error {
	version, err := c.ifMatch()
	if err != nil {
		return err
	}
	var in apiPositionPatch
	if err := c.decode(&in); err != nil {
		return err
	}
	p, err := s.Recruit.Position(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	edit := recruit.PositionInput{Title: p.Title, Department: p.Department, Location: p.Location, Language: p.Language,
		Description: p.Description, EmploymentType: p.EmploymentType, ProfileFields: nil}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&edit.Title, in.Title)
	set(&edit.Department, in.Department)
	set(&edit.Location, in.Location)
	set(&edit.Language, in.Language)
	set(&edit.Description, in.Description)
	set(&edit.EmploymentType, in.EmploymentType)
	if in.Skills != nil {
		edit.Skills = nonNil(*in.Skills)
	}
	if err := s.Recruit.EditPositionIf(c.ctx(), c.actor, p.ID, edit, version); err != nil {
		return err
	}
	return s.apiWritePosition(c, p.ID, "")
}

func (s *Server) apiPositionAction(action string) apiHandler {
	return func(c *apiCall) error {
		id := c.path("id")
		var err error
		switch action {
		case "publish":
			_, err = s.Recruit.Publish(c.ctx(), c.actor, id)
		case "close":
			err = s.Recruit.Close(c.ctx(), c.actor, id)
		case "archive":
			err = s.Recruit.Archive(c.ctx(), c.actor, id)
		}
		if err != nil {
			return err
		}
		return s.apiWritePosition(c, id, "")
	}
}

func (s *Server) apiListStages(c *apiCall) error {
	p, err := s.Recruit.Position(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(toAPIStages(p))
}
