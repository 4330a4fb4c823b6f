package web

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// apiDocument is a document of an application as the API shows it.
type apiDocument struct {
	ID            string `json:"id"`
	ApplicationID string `json:"application_id"`
	Kind          string `json:"kind" enum:"cv,attachment"`
	FileName      string `json:"file_name" doc:"The name it was sent with, cleaned (no path, control or invisible characters)."`
	Type          string `json:"type" enum:"pdf,docx,odt,txt,jpeg,png" doc:"The type recognised by its content, whatever its name says."`
	MediaType     string `json:"media_type" doc:"The media type of its type; downloads are sent as application/octet-stream."`
	// Size is in bytes.
	Size      int64     `json:"size" doc:"Bytes."`
	CreatedAt time.Time `json:"created_at"`
}

func toAPIDocument(d *recruit.Document, applicationID string) apiDocument {
	return apiDocument{ID: d.ID, ApplicationID: applicationID, Kind: d.Kind, FileName: d.FileName, Type: string(d.Type),
		MediaType: d.Type.ContentType(), Size: d.Size, CreatedAt: d.CreatedAt}
}

// apiUploadLimit bounds the body of an upload: the body is the file.
const apiUploadLimit = recruit.MaxFileBytes

// isAPIUpload reports whether r uploads a document through the API
// (POST /api/v1/applications/{id}/documents), whose body the chain lets
// grow to apiUploadLimit.
func isAPIUpload(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix+"/applications/")
	if !ok {
		return false
	}
	id, tail, _ := strings.Cut(rest, "/")
	return id != "" && tail == "documents"
}

func (s *Server) apiDocuments(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/applications/{id}/documents", ID: "listDocuments", Tag: "documents",
		Summary: "List an application's documents (CV first)", Scope: access.ViewApplications, Result: []apiDocument{}}, s.apiListDocuments)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/documents", ID: "uploadDocument", Tag: "documents",
		Summary: "Add a document to an application: the body is the file (at most 10 MB), recognised by its content; images lose their metadata",
		Scope:   access.MoveStage, RawBody: "application/octet-stream", Result: apiDocument{}, Status: http.StatusCreated,
		Query: []apiParam{
			{Name: "filename", Doc: "The file's name (or send Content-Disposition: attachment; filename=...)."},
			{Name: "kind", Doc: "What the document is (default attachment).", Enum: []string{"cv", "attachment"}},
		}}, s.apiUploadDocument)
	a.handle(apiOp{Method: http.MethodGet, Path: "/documents/{id}", ID: "downloadDocument", Tag: "documents",
		Summary: "Download a document (streamed; the download is in the security log)", Scope: access.ViewApplications,
		RawResult: "application/octet-stream", Long: true}, s.apiDownloadDocument)
}

func (s *Server) apiListDocuments(c *apiCall) error {
	appID := c.path("id")
	docs, err := s.Recruit.Documents(c.ctx(), c.actor, appID)
	if err != nil {
		return err
	}
	out := make([]apiDocument, 0, len(docs))
	for i := range docs {
		out = append(out, toAPIDocument(&docs[i], appID))
	}
	return c.json(out)
}

func (s *Server) apiUploadDocument(c *apiCall) error {
	name, err := c.query("filename")
	if err != nil {
		return err
	}
	if name == "" {
		if _, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	kind, err := c.query("kind")
	if err != nil {
		return err
	}
	appID := c.path("id")
	d, err := s.Recruit.AddDocument(c.ctx(), c.actor, appID, recruit.DocumentUpload{Name: name, Kind: kind, Data: c.r.Body})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", location("documents", d.ID))
	return c.json(toAPIDocument(d, appID))
}

// apiDownloadDocument streams a document. Its length is sent first, and a
// file that fails to decrypt part-way aborts the connection: the client
// sees a broken download, never a short file that looks whole.
func (s *Server) apiDownloadDocument(c *apiCall) error {
	d, rc, err := s.Recruit.OpenDocument(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	c.w.WriteHeader(http.StatusOK)
	c.wrote = true
	if n, err := io.Copy(c.w, rc); err != nil || n != d.Size {
		s.Logger.Error("document download", "request_id", stateOf(c.r).requestID, "document", d.ID, "error", errText(err))
		panic(http.ErrAbortHandler)
	}
	return nil
}

// errText is an error's text, "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
