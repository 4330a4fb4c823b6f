package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The consent pages: the company's consent texts, the consent log and its
// export (privacy.settings), requests for consent (from the card and the
// expiry list), the public page where a candidate answers one, and the
// consent entered by hand or withdrawn on the card.

type consentTextsData struct {
	Languages []privacy.ConsentLanguage
	// Saved names the language whose text was just saved ("" for none),
	// Unchanged one whose text was saved again unchanged.
	Saved, Unchanged string
	// Names are the company's users by id (who wrote each version).
	Names map[string]string
}

func (s *Server) handleConsentTexts(w http.ResponseWriter, r *http.Request) {
	s.renderConsentTexts(w, r, http.StatusOK, s.newPage(r, "consent_texts.title"))
}

func (s *Server) renderConsentTexts(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	langs, err := s.Privacy.ConsentTexts(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, _, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := consentTextsData{Languages: langs, Names: names}
	if v := q.Get("saved"); slices.Contains(i18n.Languages, v) {
		d.Saved = v
	}
	if v := q.Get("unchanged"); slices.Contains(i18n.Languages, v) {
		d.Unchanged = v
	}
	for _, l := range langs {
		if _, posted := pg.Form["body_"+l.Language]; !posted {
			pg.Form["body_"+l.Language] = l.Current.Body
		}
	}
	pg.Data = d
	s.render(w, r, status, "privacy_consent_texts", pg)
}

// handleConsentTextSave saves the text of one language (the form of that
// language posts "language" and "body_<language>").
func (s *Server) handleConsentTextSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	lang := r.PostForm.Get("language")
	_, saved, err := s.Privacy.SaveConsentText(r.Context(), stateOf(r).principal.Actor(), lang, r.PostForm.Get("body_"+lang))
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "consent_texts.title"), s.renderConsentTexts)
		return
	}
	result := "unchanged"
	if saved {
		result = "saved"
	}
	http.Redirect(w, r, "/privacy/consent-texts?"+result+"="+lang+"#text-"+lang, http.StatusSeeOther)
}

// localReturn is the local path a form asked to come back to, or def:
// only a path of this site (no scheme, host or backslash).
func localReturn(v, def string) string {
	if v == "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\\r\n") {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return def
	}
	return v
}

// withQuery adds the values to a local path, before its fragment.
func withQuery(path string, v url.Values) string {
	path, frag, hasFrag := strings.Cut(path, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	path += sep + v.Encode()
	if hasFrag {
		path += "#" + frag
	}
	return path
}

type consentRequestsData struct {
	Return string
}

// handleConsentRequests asks the selected candidates (repeated field
// "candidate") for their consent or its renewal ("kind"), and goes back to
// "return" saying how many were sent and skipped (?sent=&skipped=).
func (s *Server) handleConsentRequests(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	back := localReturn(r.PostForm.Get("return"), "/dashboard")
	sent, skipped, err := s.Privacy.RequestConsent(r.Context(), stateOf(r).principal.Actor(), r.PostForm["candidate"], r.PostForm.Get("kind"))
	if err != nil {
		pg := s.newPage(r, "consent_request.sent_title")
		pg.Data = consentRequestsData{Return: back}
		s.refuse(w, r, err, pg, s.show("consent_requests_sent"))
		return
	}
	http.Redirect(w, r, withQuery(back, url.Values{"sent": {strconv.Itoa(sent)}, "skipped": {strconv.Itoa(skipped)}}), http.StatusSeeOther)
}

type consentRequestPageData struct {
	Request *privacy.ConsentRequestView
	// Problem is the message key of a link that cannot be answered.
	Problem string
	// ValidUntil is the last day of a consent just granted, in words.
	ValidUntil string
}

// handleConsentRequestForm shows the text a request asks about, with the
// two answers as buttons: the answer is the button's POST, never the
// opening of the link (mail scanners open links too).
func (s *Server) handleConsentRequestForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.Privacy.ConsentRequest(r.Context(), r.PathValue("token"))
	s.renderConsentRequest(w, r, v, err)
}

// handleConsentRequestAnswer records the answer (answer=grant|refuse);
// the link then works no more.
func (s *Server) handleConsentRequestAnswer(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	var v *privacy.ConsentRequestView
	var err error
	switch r.PostForm.Get("answer") {
	case "grant":
		v, err = s.Privacy.AnswerConsentRequest(r.Context(), r.PathValue("token"), true)
	case "refuse":
		v, err = s.Privacy.AnswerConsentRequest(r.Context(), r.PathValue("token"), false)
	default:
		v, err = s.Privacy.ConsentRequest(r.Context(), r.PathValue("token"))
		if err == nil {
			err = fault.Field("answer", "consent_request.error.answer")
		}
	}
	s.renderConsentRequest(w, r, v, err)
}

func (s *Server) renderConsentRequest(w http.ResponseWriter, r *http.Request, v *privacy.ConsentRequestView, err error) {
	pg := s.newPage(r, "consent_request.title")
	d := consentRequestPageData{Request: v}
	status := http.StatusOK
	if err != nil {
		msgs := fault.Messages(err)
		kind := fault.KindOf(err)
		if msgs == nil && !errors.Is(err, fault.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		status = statusOf(err)
		d.Problem = msgs[""]
		if errors.Is(err, fault.ErrNotFound) && d.Problem == "" {
			d.Problem = "consent_request.unknown"
		}
		if kind == fault.ErrInvalid {
			d.Problem = msgs["answer"]
		}
	}
	if v != nil {
		pg.Lang, pg.LangFixed = v.Language, true
		if !v.ValidUntil.IsZero() {
			d.ValidUntil = i18n.Date(v.Language, v.ValidUntil)
		}
	}
	pg.Data = d
	w.Header().Set("Referrer-Policy", "no-referrer") // the address holds the secret
	s.render(w, r, status, "consent_request", pg)
}

type consentLogData struct {
	Page              *privacy.ConsentLogPage
	Names             map[string]string
	NextURL, FirstURL string
	ExportURL         string
	// Events are the events the filter offers.
	Events []string
}

// consentLogFilter reads the filter of the consent log from the query.
func consentLogFilter(q url.Values) (privacy.ConsentLogFilter, url.Values) {
	f := privacy.ConsentLogFilter{Event: q.Get("event"), From: q.Get("from"), To: q.Get("to"), After: q.Get("after")}
	keep := url.Values{}
	for k, v := range map[string]string{"event": f.Event, "from": f.From, "to": f.To} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	return f, keep
}

func (s *Server) handleConsentLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, keep := consentLogFilter(q)
	pg := s.newPage(r, "consent_log.title")
	for k := range keep {
		pg.Form[k] = keep.Get(k)
	}
	p, err := s.Privacy.ConsentLog(r.Context(), stateOf(r).principal.Actor(), f)
	if err != nil {
		if fields, ok := fieldErrors(err); ok {
			// A filter that cannot be read: the first page, unfiltered, with the message.
			pg.Errors = fields
			p, err = s.Privacy.ConsentLog(r.Context(), stateOf(r).principal.Actor(), privacy.ConsentLogFilter{})
			keep = url.Values{}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	names, _, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := consentLogData{Page: p, Names: names, ExportURL: "/privacy/consent-log/export",
		Events: []string{string(recruit.ConsentGranted), string(recruit.ConsentRefused), string(recruit.ConsentWithdrawn)}}
	if len(keep) > 0 {
		d.ExportURL += "?" + keep.Encode()
	}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, keep, p.Next, f.After)
	pg.Data = d
	s.render(w, r, http.StatusOK, "privacy_consent_log", pg)
}

// handleConsentLogExport downloads the consent log the filter selects as
// CSV; the export is recorded before its first byte.
func (s *Server) handleConsentLogExport(w http.ResponseWriter, r *http.Request) {
	f, _ := consentLogFilter(r.URL.Query())
	st := stateOf(r)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="kandidat-consent-log-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	sw := &startedWriter{w: w}
	if _, err := s.Privacy.ExportConsentLog(r.Context(), st.principal.Actor(), f, sw); err != nil {
		if sw.started {
			// The headers are gone: the download ends short, and the log says why.
			s.Logger.Error("consent log export", "request_id", st.requestID, "error", err.Error())
			return
		}
		for _, k := range []string{"Content-Type", "Content-Disposition"} {
			h.Del(k)
		}
		if _, ok := fieldErrors(err); ok {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		s.fail(w, r, err)
	}
}

// startedWriter notes whether anything was written (then the status and
// headers are sent and an error can no longer become a page).
type startedWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}

// cardCandidate reads the candidate of the card's application (404 for
// an application the user may not see).
func (s *Server) cardCandidate(r *http.Request, a access.Actor) (string, error) {
	app, err := s.Recruit.Application(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	return app.Candidate.ID, nil
}

// handleManualConsent records on the card a consent the candidate gave
// elsewhere: its date, validity and evidence.
func (s *Server) handleManualConsent(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#consent", func(a access.Actor, _ string) error {
		cid, err := s.cardCandidate(r, a)
		if err != nil {
			return err
		}
		_, err = s.Privacy.RecordManualConsent(r.Context(), a, cid, privacy.ManualConsent{Date: r.PostForm.Get("consent_date"),
			Months: r.PostForm.Get("consent_months"), Evidence: r.PostForm.Get("consent_evidence")})
		return err
	})
}

// handleConsentWithdraw records on the card that the candidate withdrew
// their consent.
func (s *Server) handleConsentWithdraw(w http.ResponseWriter, r *http.Request) {
	s.cardChange(w, r, "#consent", func(a access.Actor, _ string) error {
		cid, err := s.cardCandidate(r, a)
		if err != nil {
			return err
		}
		return fault.Show(s.Privacy.RecordWithdrawal(r.Context(), a, cid, r.PostForm.Get("withdrawal_note")),
			privacy.ErrNoConsent, "withdrawal_note", "consent.error.none_to_withdraw")
	})
}

// cardConsent is the consent section of a card (nil when the privacy
// engine is not wired, as in some tests, or the candidate is not theirs).
func (s *Server) cardConsent(r *http.Request, a access.Actor, app *recruit.Application) (*privacy.CandidateConsent, error) {
	if s.Privacy == nil {
		return nil, nil
	}
	c, err := s.Privacy.CandidateConsent(r.Context(), a, app.Candidate.ID)
	if errors.Is(err, privacy.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// ConsentDate writes a moment as a day of the company's calendar.
func (p *page) ConsentDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.DateOnly)
}
