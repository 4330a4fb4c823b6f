package web

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// MaxUploadBytes bounds a whole application form with its documents; a
// larger request is refused with 413 before it is read.
const MaxUploadBytes = 3*recruit.MaxFileBytes + 1<<20

// applyLimit guards the career page's uploads, per client address and
// before a byte of the body is read: a few applications to one company in
// a while (enough for a person, too few for a spammer), and at most
// uploadsPerAddress uploads in flight per address and uploadsInFlight in
// all, so that bodies of MaxUploadBytes cannot be pushed in parallel until
// the memory runs out.
type applyLimit struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
	// uploads counts the uploads being read, per address and in all.
	uploads uploadSlots
}

type bucket struct {
	tokens float64
	at     time.Time
}

const (
	applyBurst = 5
	applyEvery = 2 * time.Minute // one more application per address and company every two minutes
	// uploadsPerAddress is how many applications one address may be
	// sending at once: a person sends one; a retry may overlap it.
	uploadsPerAddress = 2
	// uploadsInFlight bounds the uploads read at once from all addresses
	// (each holds up to MaxUploadBytes in memory while it is checked).
	uploadsInFlight = 32
)

func (l *applyLimit) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.buckets == nil || len(l.buckets) > 100_000 {
		l.buckets = map[string]*bucket{} // forget everyone rather than grow without bound
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: applyBurst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(applyBurst, b.tokens+now.Sub(b.at).Seconds()/applyEvery.Seconds())
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// enter takes one of the upload places of addr (uploadSlots).
func (l *applyLimit) enter(addr string) (release func(), ok bool) {
	return l.uploads.enter(addr, uploadsPerAddress, uploadsInFlight)
}

// tooMany answers 429 with the translated page, saying when to try again.
// The body was not read: the connection is closed after the answer.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
	w.Header().Set("Connection", "close")
	s.renderError(w, r, http.StatusTooManyRequests)
}

type careersData struct {
	Company   *tenant.Tenant
	Positions []recruit.PublicPosition
	Position  *recruit.PublicPosition
	// SubmissionID makes a repeated submission of the form one application.
	SubmissionID string
	Source       string
	// Consent is the talent-pool consent text in force in the form's language.
	Consent   recruit.ConsentText
	MaxFileMB int
	// Codes name the countries and currencies the profile's fields offer.
	Codes *profileCodes
}

// careerField is a field of the profile on the career form: Required
// ones carry the attribute, Optional ones say so in their label.
type careerField struct {
	P                        *page
	Name, Type, Autocomplete string
	Required, Optional       bool
}

// Field is the field name of the form, asked for as ask ("required",
// "optional", or "one_of": one of several is required).
func (d careersData) Field(p *page, name, typ, autocomplete, ask string) careerField {
	return careerField{P: p, Name: name, Type: typ, Autocomplete: autocomplete, Required: ask == "required", Optional: ask == "optional"}
}

// Ask is how the form asks for a part of the profile: "", "optional" or "required".
func (d careersData) Ask(part string) string {
	if d.Position == nil {
		return ""
	}
	return recruit.Ask(d.Position.ProfileFields, part)
}

// careerCompany finds the company of a career page: by its sign-in name,
// with the recruitment module on.
func (s *Server) careerCompany(w http.ResponseWriter, r *http.Request) *tenant.Tenant {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("company"))
	if errors.Is(err, tenant.ErrNotFound) || err == nil && !t.Enabled(tenant.Recruitment) {
		s.renderError(w, r, http.StatusNotFound)
		return nil
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return t
}

func (s *Server) handleCareers(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	positions, err := s.Recruit.PublishedPositions(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "career.title")
	pg.Tenant = t
	pg.Data = careersData{Company: t, Positions: positions, Source: sourceOf(r)}
	s.render(w, r, http.StatusOK, "careers", pg)
}

// sourceOf names the channel a visitor came from: ?source=, or the host of
// a referring site other than this one.
func sourceOf(r *http.Request) string {
	if s := r.URL.Query().Get("source"); s != "" {
		return s
	}
	if s := r.FormValue("source"); s != "" {
		return s
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host != "" && ref.Host != r.Host {
		return strings.TrimPrefix(ref.Hostname(), "www.")
	}
	return ""
}

func (s *Server) handleCareerPosition(w http.ResponseWriter, r *http.Request) {
	s.renderCareerPosition(w, r, http.StatusOK, nil)
}

func (s *Server) renderCareerPosition(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	pos, err := s.Recruit.PublishedPosition(r.Context(), t.ID, r.PathValue("position"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pg == nil {
		pg = s.newPage(r, "career.title")
		pg.Form["submission_id"] = id.New()
	}
	// The ad is shown in its own language, and so is the page around it
	// (the form, the notice, the confirmation email): a choice of language
	// would change nothing here, so none is offered.
	pg.Lang, pg.LangFixed = pos.Language, true
	pg.Tenant = t
	pg.Title = "career.apply_title"
	source := pg.Form["source"]
	if source == "" {
		source = sourceOf(r)
	}
	consent, err := s.Recruit.CurrentConsentText(r.Context(), t.ID, pg.Lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Data = careersData{Company: t, Position: pos, SubmissionID: pg.Form["submission_id"], Source: source,
		Consent: consent, MaxFileMB: recruit.MaxFileBytes >> 20, Codes: codesIn(pg.Lang)}
	s.render(w, r, status, "career", pg)
}

// handleApply reads the multipart form as a stream: each document at most
// recruit.MaxFileBytes, the whole request at most MaxUploadBytes, and only
// once the address has an upload place and an application left.
func (s *Server) handleApply(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	if _, err := s.Recruit.PublishedPosition(r.Context(), t.ID, r.PathValue("position")); err != nil {
		s.fail(w, r, err)
		return
	}
	if r.ContentLength > MaxUploadBytes {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	// The limits are counted before a byte of the body is read.
	ip := stateOf(r).clientIP
	release, ok := s.applyLimit.enter(ip)
	if !ok {
		s.tooMany(w, r, 10*time.Second)
		return
	}
	defer release()
	if !s.applyLimit.allow(ip + "|" + t.ID) {
		s.tooMany(w, r, applyEvery)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	form, in, tooLarge, err := readApplication(mr)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	pg := s.newPage(r, "career.title")
	for _, k := range []string{"name", "email", "phone", "cover_letter", "submission_id", "source"} {
		pg.Form[k] = form[k]
	}
	profile := url.Values{}
	for _, k := range profileFormFields {
		pg.Form[k] = form[k]
		profile.Set(k, form[k])
	}
	if tooLarge != "" {
		pg.Errors[tooLarge] = "error.file_too_large"
		s.renderCareerPosition(w, r, http.StatusRequestEntityTooLarge, pg)
		return
	}
	// A filled honeypot is a robot: it is thanked, and nothing is kept.
	if form["website"] != "" {
		s.thank(w, r, t)
		return
	}
	in.Name, in.Email, in.Phone, in.CoverLetter = form["name"], form["email"], form["phone"], form["cover_letter"]
	in.TalentPool = form["talent_pool"] == "yes"
	in.SubmissionID, in.Source, in.Language = form["submission_id"], form["source"], stateOf(r).lang
	in.Profile = profileInput(profile)
	_, err = s.Recruit.Apply(r.Context(), t.ID, r.PathValue("position"), in)
	if fields, ok := fieldErrors(err); ok {
		// The form's values are the page's already (read from the stream).
		pg.Errors = forCandidate(fields)
		s.renderCareerPosition(w, r, statusOf(err), pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.thank(w, r, t)
}

// candidateWording replaces the service's messages about a candidate's
// details, which are worded for the staff ("the candidate's name"), with
// messages that speak to the candidate filling in the form.
var candidateWording = map[string]string{
	"error.candidate_name": "career.error_name",
	"error.email_format":   "career.error_email",
	"error.phone":          "career.error_phone",
}

// forCandidate returns the field messages of a refused application as the
// candidate reads them.
func forCandidate(fields map[string]string) map[string]string {
	out := make(map[string]string, len(fields))
	for field, key := range fields {
		if own, ok := candidateWording[key]; ok {
			key = own
		}
		out[field] = key
	}
	return out
}

func (s *Server) thank(w http.ResponseWriter, r *http.Request, t *tenant.Tenant) {
	http.Redirect(w, r, "/careers/"+t.Slug+"/"+r.PathValue("position")+"/thanks", http.StatusSeeOther)
}

func (s *Server) handleApplyThanks(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	pos, err := s.Recruit.PublishedPosition(r.Context(), t.ID, r.PathValue("position"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "career.thanks_title")
	pg.Lang, pg.LangFixed, pg.Tenant = pos.Language, true, t
	pg.Data = careersData{Company: t, Position: pos}
	s.render(w, r, http.StatusOK, "career_thanks", pg)
}

// readApplication reads the parts of an application form: text fields (at
// most 64 KB each), the CV and attachments (at most recruit.MaxFileBytes
// each; a larger one is skipped and named in tooLarge).
func readApplication(mr *multipart.Reader) (form map[string]string, in recruit.ApplyInput, tooLarge string, err error) {
	form = map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return form, in, tooLarge, nil
		}
		if err != nil {
			return nil, in, "", err
		}
		name := part.FormName()
		if part.FileName() != "" || name == "cv" || name == "attachments" {
			data, err := io.ReadAll(io.LimitReader(part, recruit.MaxFileBytes+1))
			if err != nil {
				return nil, in, "", err
			}
			if len(data) > recruit.MaxFileBytes {
				tooLarge = name
				if _, err := io.Copy(io.Discard, part); err != nil {
					return nil, in, "", err
				}
				continue
			}
			if len(data) == 0 {
				continue
			}
			u := recruit.Upload{Name: part.FileName(), Data: data}
			if name == "cv" && in.CV == nil {
				in.CV = &u
			} else {
				in.Attachments = append(in.Attachments, u) // the service refuses too many
			}
			continue
		}
		if len(form) >= 50 {
			return nil, in, "", errTooManyParts
		}
		v, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			return nil, in, "", err
		}
		form[name] = string(v)
	}
}

var errTooManyParts = errors.New("too many parts in the form")

// handleDocument serves a candidate's document to a colleague who may see
// the application, always as a download: the browser never renders it in
// this site's origin.
func (s *Server) handleDocument(w http.ResponseWriter, r *http.Request) {
	doc, rc, err := s.Recruit.OpenDocument(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	// Read it whole first: a document that does not authenticate is an error, not a partial download.
	data, err := io.ReadAll(rc)
	if errors.Is(err, blob.ErrTampered) || err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, doc.Type.ContentType(), doc.FileName, data)
}

// handleDocumentPreview shows a PDF inside the candidate card, in this
// site's frame only; other types have no preview (they are downloads).
func (s *Server) handleDocumentPreview(w http.ResponseWriter, r *http.Request) {
	doc, rc, err := s.Recruit.OpenDocument(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	if doc.Type != filetype.PDF {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": doc.FileName}))
	// Framed by the card, nowhere else. The sandbox keeps whatever the file
	// holds away from this origin should a browser ever render it as a page
	// (Chromium's PDF viewer renders it sandboxed all the same).
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "private, no-store")
	w.Write(data)
}

type consentData struct {
	Consent   *recruit.PendingConsent
	Confirmed bool
}

// handleConsentForm shows what the link of a confirmation email confirms,
// with a button: the consent is recorded by that button's POST, never by
// opening the link (mail scanners open links too).
func (s *Server) handleConsentForm(w http.ResponseWriter, r *http.Request) {
	p, err := s.Recruit.ConsentToConfirm(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderConsent(w, r, p, false)
}

// handleConsentConfirm records the consent of the link as granted; the
// link then works no more.
func (s *Server) handleConsentConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := s.Recruit.ConfirmConsent(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderConsent(w, r, p, true)
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, p *recruit.PendingConsent, confirmed bool) {
	pg := s.newPage(r, "career.consent_title")
	pg.Lang, pg.LangFixed = p.Language, true
	pg.Data = consentData{Consent: p, Confirmed: confirmed}
	w.Header().Set("Referrer-Policy", "no-referrer") // the address holds the secret
	s.render(w, r, http.StatusOK, "career_consent", pg)
}

// handleProposal accepts (decision=accept) or dismisses (decision=dismiss)
// a change of the candidate's details proposed through the career page.
func (s *Server) handleProposal(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#proposals", func(a access.Actor, id string) error {
		decision := r.PostForm.Get("decision")
		if decision != "accept" && decision != "dismiss" {
			return fault.Field("proposal", "error.proposal")
		}
		return s.Recruit.ResolveProposal(r.Context(), a, id, r.PostForm.Get("proposal"), decision == "accept")
	})
}

// handleDocumentText shows the text read from a document, or why there is none.
func (s *Server) handleDocumentText(w http.ResponseWriter, r *http.Request) {
	dt, err := s.Recruit.TextOf(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "document_text.heading")
	pg.Data = dt
	s.render(w, r, http.StatusOK, "document_text", pg)
}
