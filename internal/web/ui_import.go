package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/importer"
	"github.com/kandidat/kandidat/internal/search"
)

// The import from another ATS, for those who may work on every position
// and add candidates (an HR manager): upload a CSV or JSON Lines file
// (and a zip of its documents), map its columns, see the dry run's report,
// then start the import, which runs in the background while the page
// shows its progress (static/import.js asks for it; without JavaScript the
// page's own link shows it again).

// importUploadLimit bounds the upload's request body: the file, the zip
// and the form's few fields.
const importUploadLimit = importer.MaxUploadFileBytes + importer.MaxUploadDocsBytes + 1<<20

// importsData is the list of runs and the upload form.
type importsData struct {
	Runs    []*importer.Run
	Formats []string
}

func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	s.renderImports(w, r, http.StatusOK, s.newPage(r, "import.title"))
}

func (s *Server) renderImports(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	runs, err := s.Importer.Runs(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Data = importsData{Runs: runs, Formats: importer.Formats}
	s.render(w, r, status, "imports", pg)
}

// handleImportUpload reads the form as a stream: the format, then the file
// (into the encrypted file store as it arrives), then the zip of documents.
func (s *Server) handleImportUpload(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > importUploadLimit {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, importUploadLimit)
	mr, err := r.MultipartReader()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	a := stateOf(r).principal.Actor()
	// The body is bounded; reading it may take longer than a staff
	// request's database deadline.
	ctx := context.WithoutCancel(r.Context())
	format, runID := "", ""
	pg := s.newPage(r, "import.title")
	refuse := func(err error) {
		if fault.Messages(err) == nil {
			s.fail(w, r, err)
			return
		}
		for k, v := range fault.Messages(err) {
			if k == "" {
				k = "file"
			}
			pg.Errors[k] = v
		}
		s.renderImports(w, r, statusOf(err), pg)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		switch part.FormName() {
		case "format":
			v, _ := io.ReadAll(io.LimitReader(part, 16))
			format = string(v)
			if format != "" && !slices.Contains(importer.Formats, format) {
				refuse(importer.ErrFormat)
				return
			}
		case "file":
			if runID != "" || part.FileName() == "" {
				continue
			}
			run, err := s.Importer.Upload(ctx, a, part.FileName(), format, part, nil)
			if err != nil {
				refuse(err)
				return
			}
			runID = run.ID
		case "documents":
			if runID == "" || part.FileName() == "" {
				continue
			}
			if err := s.Importer.AttachDocuments(ctx, a, runID, part); err != nil {
				refuse(err)
				return
			}
		}
	}
	if runID == "" {
		refuse(importer.ErrNoFile)
		return
	}
	http.Redirect(w, r, "/imports/"+runID, http.StatusSeeOther)
}

// importColumn is a column of the file with the field it feeds.
type importColumn struct {
	Name, Field string
}

// importData is a run's page.
type importData struct {
	Run      *importer.Run
	Columns  []importColumn
	Fields   []string
	Mappings []*importer.Mapping
	Mapping  string
	// Stages is the stage value map as typed: "Value=kind" per line.
	Stages, DefaultBasis, DefaultBasisDate string
	StageKinds                             []access.StageKind
	Problems                               []importer.Problem
	Notes                                  []importer.Problem
	CanStart, CanContinue, Running         bool
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	s.renderImport(w, r, http.StatusOK, s.newPage(r, "import.title"), nil)
}

// renderImport shows a run; m is the mapping to show (nil: the run's, or
// the one chosen with ?mapping=, or the spreadsheet's).
func (s *Server) renderImport(w http.ResponseWriter, r *http.Request, status int, pg *page, m *importer.Mapping) {
	a := stateOf(r).principal.Actor()
	run, err := s.Importer.Run(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mappings, err := s.Importer.Mappings(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := r.URL.Query().Get("mapping")
	if m == nil && chosen != "" {
		if m, err = s.Importer.MappingByName(r.Context(), a, chosen); err != nil {
			m = nil
		}
	}
	if m == nil {
		m = run.Mapping
	}
	if m == nil {
		m = importer.Builtin["spreadsheet"]
		if slices.Contains(run.Header, "candidateID") && slices.Contains(run.Header, "email1") {
			m = importer.Builtin["opencats"]
		}
	}
	d := importData{Run: run, Fields: importer.Fields, Mappings: mappings, Mapping: m.Name, StageKinds: access.StageKinds,
		DefaultBasis: m.Defaults[importer.FieldBasis], DefaultBasisDate: m.Defaults[importer.FieldBasisDate]}
	for _, col := range run.Header {
		d.Columns = append(d.Columns, importColumn{Name: col, Field: m.Columns[col]})
	}
	var stages []string
	for v, k := range m.Stages {
		stages = append(stages, v+"="+k)
	}
	slices.Sort(stages)
	d.Stages = strings.Join(stages, "\n")
	if run.Report != nil {
		for _, p := range run.Report.Problems {
			if p.Note {
				d.Notes = append(d.Notes, p)
			} else {
				d.Problems = append(d.Problems, p)
			}
		}
	}
	d.CanStart = run.Status == importer.StatusChecked && run.Report != nil && run.Report.Accepted > 0
	d.CanContinue = run.Status == importer.StatusFailed || (run.Status == importer.StatusRunning && !run.Held)
	d.Running = (run.Status == importer.StatusRunning || run.Status == importer.StatusChecking) && run.Held
	pg.Data = d
	s.render(w, r, status, "import", pg)
}

// mappingOf reads the mapping form: a field per column, the stage values
// ("Value=kind" per line) and the defaults of the basis and its date.
func mappingOf(r *http.Request, header []string) *importer.Mapping {
	m := &importer.Mapping{Columns: map[string]string{}, Stages: map[string]string{}, Defaults: map[string]string{}}
	for i, col := range header {
		if f := r.PostForm.Get("col" + strconv.Itoa(i)); f != "" {
			m.Columns[col] = f
		}
	}
	for line := range strings.SplitSeq(r.PostForm.Get("stages"), "\n") {
		if v, k, ok := strings.Cut(line, "="); ok && strings.TrimSpace(v) != "" {
			m.Stages[search.Fold(strings.TrimSpace(v))] = strings.TrimSpace(k)
		}
	}
	m.Defaults[importer.FieldBasis] = r.PostForm.Get("default_basis")
	m.Defaults[importer.FieldBasisDate] = strings.TrimSpace(r.PostForm.Get("default_basis_date"))
	return m
}

func (s *Server) handleImportCheck(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := stateOf(r).principal.Actor()
	run, err := s.Importer.Run(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m := mappingOf(r, run.Header)
	if err := s.Importer.StartCheck(r.Context(), a, run.ID, m, strings.TrimSpace(r.PostForm.Get("save_as"))); err != nil {
		if fault.Messages(err) == nil {
			s.fail(w, r, err)
			return
		}
		pg := s.newPage(r, "import.title")
		keepPosted(pg, r)
		for k, v := range fault.Messages(err) {
			if k == "" {
				k = "mapping"
			}
			pg.Errors[k] = v
		}
		s.renderImport(w, r, statusOf(err), pg, m)
		return
	}
	http.Redirect(w, r, "/imports/"+run.ID, http.StatusSeeOther)
}

func (s *Server) handleImportStart(w http.ResponseWriter, r *http.Request) {
	err := s.Importer.Start(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, importer.ErrNotFound) || fault.Messages(err) == nil {
			s.fail(w, r, err)
			return
		}
		pg := s.newPage(r, "import.title")
		for _, v := range fault.Messages(err) {
			pg.Errors["start"] = v
		}
		s.renderImport(w, r, statusOf(err), pg, nil)
		return
	}
	http.Redirect(w, r, "/imports/"+r.PathValue("id"), http.StatusSeeOther)
}

// handleImportProgress answers the page's script: the run's state and counts.
func (s *Server) handleImportProgress(w http.ResponseWriter, r *http.Request) {
	run, err := s.Importer.Run(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"status": run.Status, "done": run.RowsDone, "total": run.TotalRows, "percent": run.Percent(),
		"created": run.Created, "merged": run.Merged, "skipped": run.Skipped, "problems": run.Problems, "held": run.Held})
}
