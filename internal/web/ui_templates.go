package web

import (
	"net/http"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

type templatesData struct {
	Templates []recruit.Template
	Variables map[string][]string
	Saved     bool
}

// handleTemplates shows the company's emails to candidates, each kind in
// each language, for editing.
func (s *Server) handleTemplates(w http.ResponseWriter, r *http.Request) {
	s.renderTemplates(w, r, http.StatusOK, s.newPage(r, "templates.title"))
}

func (s *Server) renderTemplates(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	list, err := s.Recruit.Templates(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Data = templatesData{Templates: list, Variables: recruit.TemplateVariables, Saved: r.URL.Query().Get("saved") == "1"}
	s.render(w, r, status, "templates", pg)
}

func (s *Server) handleTemplateSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	err := s.Recruit.SaveTemplate(r.Context(), stateOf(r).principal.Actor(), f.Get("kind"), f.Get("language"), f.Get("subject"), f.Get("body"))
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "templates.title"), s.renderTemplates)
		return
	}
	http.Redirect(w, r, "/settings/templates?saved=1", http.StatusSeeOther)
}

type stageTemplateData struct {
	Stages []recruit.StageInput
	Kinds  []access.StageKind
	Saved  bool
}

// handleStageTemplate shows the company's pipeline for new positions.
func (s *Server) handleStageTemplate(w http.ResponseWriter, r *http.Request) {
	s.renderStageTemplate(w, r, http.StatusOK, s.newPage(r, "stages.template_title"))
}

func (s *Server) renderStageTemplate(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	stages, err := s.Recruit.StageTemplate(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Data = stageTemplateData{Stages: stages, Kinds: access.StageKinds, Saved: r.URL.Query().Get("saved") == "1"}
	s.render(w, r, status, "stage_template", pg)
}

func (s *Server) handleStageTemplateSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	var in []recruit.StageInput
	for _, e := range stageEdits(r.PostForm) {
		in = append(in, recruit.StageInput{Name: e.Name, Kind: e.Kind})
	}
	err := s.Recruit.SetStageTemplate(r.Context(), stateOf(r).principal.Actor(), in)
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "stages.template_title"), s.renderStageTemplate)
		return
	}
	http.Redirect(w, r, "/settings/stages?saved=1", http.StatusSeeOther)
}

type reasonsData struct {
	Text  string
	Saved bool
}

// handleReasons shows the company's reasons for rejecting, one a line.
func (s *Server) handleReasons(w http.ResponseWriter, r *http.Request) {
	reasons, err := s.Recruit.Reasons(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "reasons.title")
	var lines []string
	for _, x := range reasons {
		if x.Name == "" {
			lines = append(lines, pg.T("rejection."+x.ID))
		} else {
			lines = append(lines, x.Name)
		}
	}
	pg.Data = reasonsData{Text: strings.Join(lines, "\n"), Saved: r.URL.Query().Get("saved") == "1"}
	s.render(w, r, http.StatusOK, "reasons", pg)
}

func (s *Server) handleReasonsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	text := r.PostForm.Get("reasons")
	err := s.Recruit.SetReasons(r.Context(), stateOf(r).principal.Actor(), strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"))
	if err != nil {
		pg := s.newPage(r, "reasons.title")
		pg.Data = reasonsData{Text: text}
		s.refuse(w, r, err, pg, s.show("reasons"))
		return
	}
	http.Redirect(w, r, "/settings/reasons?saved=1", http.StatusSeeOther)
}
