package web

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
)

// The archive system's side of the whistleblowing channel (scope
// cases.handle): the list of closed cases' archive bundles and the
// download of one. A bundle is encrypted to the company's archive
// recipient, so the server (and the network) cannot read it; its manifest
// is signed by the installation's archive signing key (GET
// /settings/whistleblowing shows it).

// apiCaseArchive describes a case's archive bundle.
type apiCaseArchive struct {
	Case   string `json:"case" doc:"The case's id."`
	Size   int64  `json:"size" doc:"The bundle's length in bytes."`
	SHA256 string `json:"sha256" doc:"The hex SHA-256 of the bundle as downloaded (age-encrypted)."`
	MadeOn string `json:"made_on" format:"date" doc:"The day the bundle was made (the case was closed)."`
}

func (s *Server) apiCases(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/cases/archives", ID: "listCaseArchives", Tag: "cases",
		Summary: "List the archive bundles of closed whistleblowing cases, newest first",
		Scope:   access.HandleCases, Result: []apiCaseArchive{}}, s.apiListCaseArchives)
	a.handle(apiOp{Method: http.MethodGet, Path: "/cases/{id}/archive", ID: "getCaseArchive", Tag: "cases",
		Summary: "Download a closed case's archive bundle: a zip (case.json, files/, manifest.json, manifest.sig) encrypted with age to the archive recipient; the export is recorded",
		Scope:   access.HandleCases, RawResult: "application/octet-stream", Long: true}, s.apiGetCaseArchive)
}

func (s *Server) apiListCaseArchives(c *apiCall) error {
	list, err := s.Whistle.Archives(c.ctx(), c.actor)
	if err != nil {
		return err
	}
	out := make([]apiCaseArchive, 0, len(list))
	for _, ai := range list {
		out = append(out, apiCaseArchive{Case: ai.ReportID, Size: ai.Size, SHA256: ai.SHA256, MadeOn: ai.MadeOn})
	}
	return c.json(out)
}

// apiGetCaseArchive streams a bundle with its length and digest first; a
// bundle that cannot be read to its end aborts the connection, so the
// archive system never takes a short file for a whole one.
func (s *Server) apiGetCaseArchive(c *apiCall) error {
	ai, rc, err := s.Whistle.ArchiveBundle(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="case-`+ai.ReportID+`.zip.age"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.FormatInt(ai.Size, 10))
	h.Set("ETag", `"`+ai.SHA256+`"`)
	if sum, err := hex.DecodeString(ai.SHA256); err == nil {
		// RFC 9530's Repr-Digest, and the older Digest (RFC 3230) some archive systems read.
		b64 := base64.StdEncoding.EncodeToString(sum)
		h.Set("Repr-Digest", "sha-256=:"+b64+":")
		h.Set("Digest", "SHA-256="+b64)
	}
	c.w.WriteHeader(http.StatusOK)
	c.wrote = true
	if n, err := io.Copy(c.w, rc); err != nil || n != ai.Size {
		s.Logger.Error("case archive download", "request_id", stateOf(c.r).requestID, "case", ai.ReportID, "error", errText(err))
		panic(http.ErrAbortHandler)
	}
	return nil
}
