package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/whistle"
)

// The case handler's pages (whistleblowing, cases.handle): the list of the
// handler's cases (metadata only, no key needed), and a case opened with
// the handler's unlocked key: the report, the thread with the reporter, the
// private notes, redacted copies, the deadlines and the forms that act on
// it. The handler's key lives in a cookie envelope of the session
// (CasesCookie), renewed on every request; the key pages are in
// ui_case_keys.go.

// CasesCookie holds the envelope of the handler's unlocked case key, bound
// to the session (whistle.Service.Handler opens it only with the session
// it was made for). It has no Max-Age: it ends with the browser, and the
// envelope itself expires after whistle.HandlerSession without a request.
const CasesCookie = "__Host-kandidat-cases"

// MaxCaseUploadBytes bounds a handler's reply with its files: each file at
// most whistle.MaxAttachmentBytes, the whole request at most four of them.
const MaxCaseUploadBytes = 4*whistle.MaxAttachmentBytes + 1<<20

func setCasesCookie(w http.ResponseWriter, envelope string) {
	http.SetCookie(w, &http.Cookie{Name: CasesCookie, Value: envelope, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearCasesCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CasesCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// caseToday is the day deadlines are compared with.
func caseToday() string { return whistle.Day(time.Now()) }

func casesEnvelope(r *http.Request) string {
	if c, err := r.Cookie(CasesCookie); err == nil {
		return c.Value
	}
	return ""
}

// caseHandler opens the signed-in handler's key from the session's
// envelope and writes the renewed envelope back. When the key is locked
// (no envelope, an expired one, one of another session, or a replaced key)
// it answers with a redirect to the key page, which brings the handler
// back afterwards (to the page itself for a GET, to the page the form was
// on for a POST), and returns false; so it does when no key is enrolled.
// Every page that reads a case's content calls it first.
func (s *Server) caseHandler(w http.ResponseWriter, r *http.Request) (*whistle.Handler, bool) {
	p := stateOf(r).principal
	env := casesEnvelope(r)
	h, renewed, err := s.Whistle.Handler(r.Context(), p.Actor(), p.SessionID, env)
	switch {
	case errors.Is(err, whistle.ErrLocked):
		if env != "" {
			clearCasesCookie(w)
		}
		http.Redirect(w, r, "/cases/key?next="+url.QueryEscape(casesReturn(r)), http.StatusSeeOther)
		return nil, false
	case errors.Is(err, whistle.ErrNoKey):
		http.Redirect(w, r, "/cases/key", http.StatusSeeOther)
		return nil, false
	case err != nil:
		s.fail(w, r, err)
		return nil, false
	}
	setCasesCookie(w, renewed)
	return h, true
}

// casesReturn is where the key page sends the handler once unlocked: a
// GET's own page; for a form, the page it was posted from (a POST to
// /cases/{id}/reply returns to /cases/{id}), which a GET can show.
func casesReturn(r *http.Request) string {
	if r.Method == http.MethodGet {
		return localPath(r.URL.RequestURI())
	}
	return localPath(path.Dir(r.URL.Path))
}

// caseKeyState tells the list and key pages where the handler stands:
// enrolled, and unlocked in this session (renewing the envelope then).
func (s *Server) caseKeyState(w http.ResponseWriter, r *http.Request) (ks whistle.KeyStatus, unlocked bool, err error) {
	p := stateOf(r).principal
	if ks, err = s.Whistle.KeyStatus(r.Context(), p.Actor()); err != nil || !ks.Enrolled {
		return ks, false, err
	}
	env := casesEnvelope(r)
	if env == "" {
		return ks, false, nil
	}
	_, renewed, err := s.Whistle.Handler(r.Context(), p.Actor(), p.SessionID, env)
	if errors.Is(err, whistle.ErrLocked) {
		clearCasesCookie(w)
		return ks, false, nil
	}
	if err != nil {
		return ks, false, err
	}
	setCasesCookie(w, renewed)
	return ks, true, nil
}

// shortID is the first eight characters of a case's id, as lists show it.
func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// caseRow is one case of the list.
type caseRow struct {
	Info                  *whistle.CaseInfo
	Short                 string
	AckLate, FeedbackLate bool
}

// casesData is the case list.
type casesData struct {
	Cases    []caseRow
	Status   string
	Channel  string
	Statuses []string
	Channels []*whistle.Channel
	// Next is the link to the following page ("" on the last).
	Next               string
	Enrolled, Unlocked bool
	Today              string
}

// casesPage is how many cases a page of the list shows (a variable so
// that a test pages through a few).
var casesPage = 50

// handleCases lists the handler's cases (no content: no key needed), open
// ones by default, newest first, in keyset pages.
func (s *Server) handleCases(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	ctx := r.Context()
	q := r.URL.Query()
	pg := s.newPage(r, "cases.title")
	d := casesData{Status: q.Get("status"), Channel: q.Get("channel"), Statuses: whistle.Statuses, Today: caseToday()}
	if d.Status == "" {
		d.Status = "open"
	}
	ks, unlocked, err := s.caseKeyState(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Enrolled, d.Unlocked = ks.Enrolled, unlocked
	if d.Channels, err = s.Whistle.HandlerChannels(ctx, p.Actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Form["status"], pg.Form["channel"] = d.Status, d.Channel
	status := http.StatusOK
	f := whistle.CaseFilter{Status: d.Status, ChannelID: d.Channel, AfterDay: q.Get("after_day"), AfterID: q.Get("after_id"), Limit: casesPage + 1}
	switch {
	case d.Status != "open" && d.Status != "all" && !slices.Contains(whistle.Statuses, d.Status):
		pg.Errors["status"], status = "whistle.error.status", http.StatusUnprocessableEntity
	case d.Channel != "" && !id.Valid(d.Channel):
		pg.Errors["channel"], status = "cases.error.channel", http.StatusUnprocessableEntity
	case f.AfterDay != "" && (whistle.ParseDay(f.AfterDay).IsZero() || !id.Valid(f.AfterID)):
		pg.Errors[""], status = "cases.error.cursor", http.StatusUnprocessableEntity
	}
	if status == http.StatusOK {
		cases, err := s.Whistle.Cases(ctx, p.Actor(), f)
		if msgs := fault.Messages(err); msgs != nil {
			for k, v := range msgs {
				pg.Errors[k] = v
			}
			status = statusOf(err)
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(cases) > casesPage {
			last := cases[casesPage-1]
			v := url.Values{"status": {d.Status}, "after_day": {last.ReceivedOn}, "after_id": {last.ID}}
			if d.Channel != "" {
				v.Set("channel", d.Channel)
			}
			d.Next = "/cases?" + v.Encode()
			cases = cases[:casesPage]
		}
		for _, c := range cases {
			d.Cases = append(d.Cases, caseRow{Info: c, Short: shortID(c.ID), AckLate: c.AckLate(d.Today), FeedbackLate: c.FeedbackLate(d.Today)})
		}
	}
	pg.Data = d
	s.render(w, r, status, "cases_list", pg)
}

// caseUser is a user as the case page names them.
type caseUser struct {
	ID, Name string
}

// caseHandlerRow is a handler of the case.
type caseHandlerRow struct {
	caseUser
	Excluded, HasCopy bool
}

// caseEntryOption is an entry a redacted copy may be made of.
type caseEntryOption struct {
	Seq        int
	Kind       string
	AuthorKind string
	Day        string
}

// caseData is a case opened.
type caseData struct {
	Info   *whistle.CaseInfo
	Short  string
	Report *whistle.EntryView
	// Thread holds the messages between reporter and handlers, Notes the
	// handlers' private notes, Redactions the redacted copies; in order.
	Thread, Notes, Redactions []whistle.EntryView
	Handlers                  []caseHandlerRow
	// Assignable: enrolled users not (yet) holding a copy; Excludable:
	// the case's handlers not excluded.
	Assignable, Excludable []caseUser
	Sources                []caseEntryOption
	Names                  map[string]string
	Me                     string
	Archived               bool
	Today                  string
	AckLate, FeedbackLate  bool
	// Statuses the case may be moved to by the status form.
	Statuses []string
	Outcomes []string
	Closed   bool
	// Done names the action just done (the notice after a redirect).
	Done string
	// Redacted is the entry number of the redacted copy just made.
	Redacted int
	page     *page
}

// caseFilesArgs feed the block that lists an entry's files.
type caseFilesArgs struct {
	P      *page
	CaseID string
	Entry  whistle.EntryView
}

// Files returns the arguments of the files block of entry e (an
// EntryView or a pointer to one).
func (d caseData) Files(e any) caseFilesArgs {
	a := caseFilesArgs{P: d.page, CaseID: d.Info.ID}
	switch e := e.(type) {
	case whistle.EntryView:
		a.Entry = e
	case *whistle.EntryView:
		a.Entry = *e
	}
	return a
}

// caseActions are the forms of the case page, by the last segment of
// their path (POST /cases/{id}/{action}).
var caseActions = map[string]func(s *Server, w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error){
	"acknowledge": (*Server).caseAcknowledge,
	"reply":       (*Server).caseReply,
	"note":        (*Server).caseNote,
	"status":      (*Server).caseStatus,
	"hold":        (*Server).caseHold,
	"assign":      (*Server).caseAssign,
	"exclude":     (*Server).caseExclude,
	"redact":      (*Server).caseRedact,
}

// CaseActions lists the actions of the case page's forms (for tests and docs).
func CaseActions() []string {
	var out []string
	for k := range caseActions {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// handleCase opens a case (recorded in the trail as opened).
func (s *Server) handleCase(w http.ResponseWriter, r *http.Request) {
	caseID := r.PathValue("id")
	if !id.Valid(caseID) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	h, ok := s.caseHandler(w, r)
	if !ok {
		return
	}
	pg := s.newPage(r, "cases.case_title")
	done := r.URL.Query().Get("done")
	if _, known := caseActions[done]; known {
		pg.Form["done"] = done
	}
	redacted, _ := strconv.Atoi(r.URL.Query().Get("redacted"))
	s.showCase(w, r, h, caseID, http.StatusOK, pg, redacted)
}

// showCase renders the case page with pg's messages (a refused form's).
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string, status int, pg *page, redacted int) {
	ctx := r.Context()
	c, err := s.Whistle.Case(ctx, h, caseID)
	if errors.Is(err, whistle.ErrNoCopy) {
		p := s.newPage(r, "cases.no_copy_title")
		p.Data = shortID(caseID)
		s.render(w, r, http.StatusConflict, "cases_nocopy", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	enrolled, err := s.Whistle.EnrolledHandlers(ctx, h.Actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	day := caseToday()
	d := caseData{Info: c.Info, Short: shortID(c.Info.ID), Archived: c.Archived, Today: day, Me: h.Actor.UserID,
		AckLate: c.Info.AckLate(day), FeedbackLate: c.Info.FeedbackLate(day), Outcomes: whistle.Outcomes,
		Closed: c.Info.Status == whistle.Closed, Done: pg.Form["done"], Redacted: redacted, Names: map[string]string{}, page: pg}
	switch c.Info.Status {
	case whistle.Acknowledged, whistle.Investigating, whistle.Concluded:
		d.Statuses = []string{whistle.Investigating, whistle.Concluded, whistle.Closed}
	}
	name := func(userID string) string {
		if n, ok := d.Names[userID]; ok {
			return n
		}
		n := shortID(userID)
		if u, err := s.Accounts.UserByID(ctx, h.Actor.TenantID, userID); err == nil {
			n = u.DisplayName
		}
		d.Names[userID] = n
		return n
	}
	for i := range c.Entries {
		e := &c.Entries[i]
		if e.AuthorKind == "handler" && e.AuthorID != "" {
			name(e.AuthorID)
		}
		switch e.Kind {
		case whistle.KindReport:
			d.Report = e
		case whistle.KindMessage:
			d.Thread = append(d.Thread, *e)
		case whistle.KindNote:
			d.Notes = append(d.Notes, *e)
		case whistle.KindRedaction:
			d.Redactions = append(d.Redactions, *e)
		}
		if e.Kind != whistle.KindRedaction {
			d.Sources = append(d.Sources, caseEntryOption{Seq: e.Seq, Kind: e.Kind, AuthorKind: e.AuthorKind, Day: e.Day})
		}
	}
	holding := map[string]bool{}
	for _, hv := range c.Handlers {
		row := caseHandlerRow{caseUser: caseUser{ID: hv.UserID, Name: name(hv.UserID)}, Excluded: hv.Excluded, HasCopy: hv.HasCopy}
		d.Handlers = append(d.Handlers, row)
		if hv.HasCopy || hv.Excluded {
			holding[hv.UserID] = true
		}
		if !hv.Excluded {
			d.Excludable = append(d.Excludable, row.caseUser)
		}
	}
	for _, u := range enrolled {
		if !holding[u] {
			d.Assignable = append(d.Assignable, caseUser{ID: u, Name: name(u)})
		}
	}
	if pg.Form["status"] == "" {
		pg.Form["status"] = c.Info.Status
	}
	if pg.Form["outcome"] == "" {
		pg.Form["outcome"] = c.Info.Outcome
	}
	pg.Data = d
	s.render(w, r, status, "cases_case", pg)
}

// handleCaseAction runs one of the case page's forms and returns to the
// case (303), or shows the case again with the refusal's message.
func (s *Server) handleCaseAction(w http.ResponseWriter, r *http.Request) {
	caseID, action := r.PathValue("id"), r.PathValue("action")
	do, known := caseActions[action]
	if !id.Valid(caseID) || !known {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	h, ok := s.caseHandler(w, r)
	if !ok {
		return
	}
	extra, err := do(s, w, r, h, caseID)
	if err != nil {
		msgs := fault.Messages(err)
		if msgs == nil {
			s.fail(w, r, err)
			return
		}
		pg := s.newPage(r, "cases.case_title")
		if r.PostForm != nil {
			keepPosted(pg, r)
		}
		for k, v := range msgs {
			pg.Errors[k] = v
		}
		pg.Form["action"] = action
		s.showCase(w, r, h, caseID, statusOf(err), pg, 0)
		return
	}
	http.Redirect(w, r, "/cases/"+caseID+"?done="+action+extra+"#"+action, http.StatusSeeOther)
}

func (s *Server) caseAcknowledge(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return "", s.Whistle.Acknowledge(r.Context(), h, caseID, r.PostForm.Get("message"))
}

func (s *Server) caseReply(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if r.ContentLength > MaxCaseUploadBytes {
		return "", fault.Field("files", "cases.error.upload_too_large")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxCaseUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", fault.Field("", "cases.error.form")
	}
	form, files, err := readCaseReply(mr)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return "", fault.Field("files", "cases.error.upload_too_large")
	}
	if err != nil && !errors.As(err, new(*fault.Invalid)) {
		return "", fault.Field("", "cases.error.form")
	}
	r.PostForm = url.Values{"text": {form["text"]}}
	if form["feedback"] != "" {
		r.PostForm.Set("feedback", "1")
	}
	if err != nil {
		return "", err
	}
	return "", s.Whistle.Reply(r.Context(), h, caseID, form["text"], files, form["feedback"] != "")
}

// readCaseReply reads a reply's parts: text fields (at most
// whistle.MaxTextBytes each) and files (at most whistle.MaxAttachmentBytes
// each, at most whistle.MaxAttachments of them).
func readCaseReply(mr *multipart.Reader) (map[string]string, []whistle.Upload, error) {
	form := map[string]string{}
	var files []whistle.Upload
	var refusal error
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return form, files, refusal
		}
		if err != nil {
			return nil, nil, err
		}
		name := part.FormName()
		if part.FileName() != "" || name == "files" {
			data, err := io.ReadAll(io.LimitReader(part, whistle.MaxAttachmentBytes+1))
			if err != nil {
				return nil, nil, err
			}
			switch {
			case len(data) > whistle.MaxAttachmentBytes:
				refusal = fault.Field("files", "cases.error.file_too_large")
				if _, err := io.Copy(io.Discard, part); err != nil {
					return nil, nil, err
				}
			case len(files) >= whistle.MaxAttachments:
				refusal = fault.Field("files", "whistle.error.too_many_files")
			case len(data) > 0:
				files = append(files, whistle.Upload{Name: part.FileName(), Data: data})
			}
			continue
		}
		if len(form) >= 10 {
			return nil, nil, errTooManyParts
		}
		v, err := io.ReadAll(io.LimitReader(part, whistle.MaxTextBytes+1))
		if err != nil {
			return nil, nil, err
		}
		form[name] = string(v)
	}
}

func (s *Server) caseNote(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return "", s.Whistle.Note(r.Context(), h, caseID, r.PostForm.Get("note"))
}

func (s *Server) caseStatus(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil {
		return "", fault.Field("", "cases.error.form")
	}
	err = s.Whistle.SetStatus(r.Context(), h, caseID, r.PostForm.Get("status"), r.PostForm.Get("outcome"), version)
	return "", fault.Show(err, whistle.ErrStale, "", "cases.error.stale")
}

func (s *Server) caseHold(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	var hold bool
	switch r.PostForm.Get("hold") {
	case "on":
		hold = true
	case "off":
	default:
		return "", fault.Field("", "cases.error.form")
	}
	return "", s.Whistle.SetLegalHold(r.Context(), h, caseID, hold)
}

func (s *Server) caseAssign(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	user := r.PostForm.Get("user")
	if !id.Valid(user) {
		return "", fault.Field("user", "whistle.error.assignee")
	}
	return "", s.Whistle.Assign(r.Context(), h, caseID, user)
}

func (s *Server) caseExclude(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	user := r.PostForm.Get("excluded_user")
	if !id.Valid(user) {
		return "", fault.Field("excluded_user", "whistle.error.assignee")
	}
	if r.PostForm.Get("confirm") != "yes" {
		return "", fault.Field("confirm", "cases.error.confirm_exclude")
	}
	err := s.Whistle.Exclude(r.Context(), h, caseID, user)
	if msgs, ok := fieldErrors(err); ok && msgs["user"] != "" {
		// The form's select is excluded_user (the assign form has user).
		return "", fault.Field("excluded_user", msgs["user"])
	}
	return "", err
}

func (s *Server) caseRedact(w http.ResponseWriter, r *http.Request, h *whistle.Handler, caseID string) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	seq, err := strconv.Atoi(r.PostForm.Get("entry"))
	if err != nil {
		return "", fault.Field("entry", "whistle.error.entry")
	}
	terms := strings.Split(strings.ReplaceAll(r.PostForm.Get("terms"), "\r\n", "\n"), "\n")
	n, err := s.Whistle.Redact(r.Context(), h, caseID, seq, terms)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("&redacted=%d", n), nil
}

// handleCaseRedaction serves a redacted copy's text as a download
// (GET /cases/{id}/redactions/{seq}, seq written "N.txt").
func (s *Server) handleCaseRedaction(w http.ResponseWriter, r *http.Request) {
	caseID := r.PathValue("id")
	num, isText := strings.CutSuffix(r.PathValue("seq"), ".txt")
	seq, err := strconv.Atoi(num)
	if !id.Valid(caseID) || !isText || err != nil || seq <= 0 {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	h, ok := s.caseHandler(w, r)
	if !ok {
		return
	}
	c, err := s.Whistle.Case(r.Context(), h, caseID)
	if errors.Is(err, whistle.ErrNoCopy) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(c.Entries, func(e whistle.EntryView) bool { return e.Kind == whistle.KindRedaction && e.Seq == seq })
	if i < 0 {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	download(w, "text/plain; charset=utf-8", fmt.Sprintf("case-%s-redacted-%d.txt", shortID(caseID), seq), []byte(c.Entries[i].Content.Text))
}

// handleCaseFile serves one of the case's files, always as a download
// (the browser never renders it in this site's origin).
func (s *Server) handleCaseFile(w http.ResponseWriter, r *http.Request) {
	caseID, fileID := r.PathValue("id"), r.PathValue("file")
	if !id.Valid(caseID) || !id.Valid(fileID) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	h, ok := s.caseHandler(w, r)
	if !ok {
		return
	}
	f, err := s.Whistle.Attachment(r.Context(), h, caseID, fileID)
	if errors.Is(err, whistle.ErrNoCopy) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, "application/octet-stream", f.Name, f.Data)
}
