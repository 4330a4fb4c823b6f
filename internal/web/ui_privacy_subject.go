package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The data subject's self-service: a candidate asks on the company's
// privacy page for a link (the page answers the same whether the address
// is known), the link's button starts a short session under its own
// cookie, and the pages under /my-data show what is held and take the
// candidate's requests. The staff see the register at /privacy/requests.

// SubjectCookie holds the secret of a data subject's self-service session.
// SameSite=Strict: no other site's page can make the browser send it.
const SubjectCookie = "__Host-kandidat-subject"

func setSubjectCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SubjectCookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearSubjectCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SubjectCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

type subjectAskData struct {
	Company *tenant.Tenant
	Sent    bool
}

// handleSubjectAsk shows the company's privacy page: the form that asks
// for the self-service link, or that it was sent.
func (s *Server) handleSubjectAsk(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	pg := s.newPage(r, "subject.title")
	s.renderSubjectAsk(w, r, http.StatusOK, pg, t, r.URL.Query().Get("sent") == "1")
}

func (s *Server) renderSubjectAsk(w http.ResponseWriter, r *http.Request, status int, pg *page, t *tenant.Tenant, sent bool) {
	pg.Tenant = t
	pg.Data = subjectAskData{Company: t, Sent: sent}
	s.render(w, r, status, "subject_ask", pg)
}

// handleSubjectAskPost asks for a link for the address given, within the
// rate limits per client address and per email address, and answers with
// the same page whether the address is known or not.
func (s *Server) handleSubjectAskPost(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	if !s.applyLimit.allow("subject|" + stateOf(r).clientIP + "|" + t.ID) {
		s.tooMany(w, r, applyEvery)
		return
	}
	// An address is all this form takes (the career pages' upload limit
	// does not apply to it).
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	email := r.PostForm.Get("email")
	// Counted by the address's hash: the limiter keeps no address.
	if !s.applyLimit.allow("subject-email|" + t.ID + "|" + id.HashToken(recruit.NormalizeEmail(email))) {
		s.tooMany(w, r, applyEvery)
		return
	}
	err := s.Privacy.RequestLink(r.Context(), t.ID, email, stateOf(r).lang)
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "subject.title"), func(w http.ResponseWriter, r *http.Request, status int, pg *page) {
			s.renderSubjectAsk(w, r, status, pg, t, false)
		})
		return
	}
	http.Redirect(w, r, "/careers/"+t.Slug+"/privacy?sent=1", http.StatusSeeOther)
}

type subjectInvalidData struct {
	// Ended: a session ended (else a link did not work).
	Ended bool
}

// subjectInvalid shows the page of a link that does not work (unknown,
// used or expired) or of a session that ended.
func (s *Server) subjectInvalid(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	pg := s.newPage(r, "subject.link_invalid_title")
	switch {
	case errors.Is(err, privacy.ErrLinkInvalid):
		status = http.StatusNotFound
	case errors.Is(err, privacy.ErrSessionEnded):
		clearSubjectCookie(w)
		status, pg.Title = http.StatusUnauthorized, "subject.session_ended_title"
		pg.Data = subjectInvalidData{Ended: true}
	default:
		s.fail(w, r, err)
		return
	}
	if pg.Data == nil {
		pg.Data = subjectInvalidData{}
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, "subject_invalid", pg)
}

// handleSubjectLink shows the button of an emailed link: pressing it (a
// POST) spends the link; opening it does not, since mail scanners open links.
func (s *Server) handleSubjectLink(w http.ResponseWriter, r *http.Request) {
	info, err := s.Privacy.Link(r.Context(), r.PathValue("token"))
	if err != nil {
		s.subjectInvalid(w, r, err)
		return
	}
	pg := s.newPage(r, "subject.title")
	pg.Data = info
	w.Header().Set("Referrer-Policy", "no-referrer") // the address holds the secret
	s.render(w, r, http.StatusOK, "subject_link", pg)
}

// handleSubjectStart spends the link and starts the session.
func (s *Server) handleSubjectStart(w http.ResponseWriter, r *http.Request) {
	token, _, err := s.Privacy.StartSession(r.Context(), r.PathValue("token"))
	if err != nil {
		s.subjectInvalid(w, r, err)
		return
	}
	setSubjectCookie(w, token)
	http.Redirect(w, r, "/my-data", http.StatusSeeOther)
}

// subject returns the subject of the request's session, or shows that
// the session ended and returns nil.
func (s *Server) subject(w http.ResponseWriter, r *http.Request) *privacy.Subject {
	c, err := r.Cookie(SubjectCookie)
	if err != nil || c.Value == "" {
		s.subjectInvalid(w, r, privacy.ErrSessionEnded)
		return nil
	}
	subj, err := s.Privacy.Session(r.Context(), c.Value)
	if err != nil {
		s.subjectInvalid(w, r, err)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	return subj
}

type subjectData struct {
	Subject *privacy.Subject
	Held    *privacy.Data
	// Done names what the last action did, for its notice.
	Done string
	// ErasureApproval: the company reviews requests for erasure first.
	ErasureApproval bool
}

// handleSubjectData shows what the company holds about the candidate,
// with the forms of their requests.
func (s *Server) handleSubjectData(w http.ResponseWriter, r *http.Request) {
	subj := s.subject(w, r)
	if subj == nil {
		return
	}
	s.renderSubjectData(w, r, http.StatusOK, s.newPage(r, "subject.title"), subj)
}

func (s *Server) renderSubjectData(w http.ResponseWriter, r *http.Request, status int, pg *page, subj *privacy.Subject) {
	held, err := s.Privacy.Held(r.Context(), subj)
	if err != nil {
		s.subjectInvalid(w, r, err)
		return
	}
	approval := false
	if t, err := s.Tenants.ByID(r.Context(), subj.TenantID); err == nil {
		approval = t.Settings.Privacy.ErasureApproval
	} else {
		s.fail(w, r, err)
		return
	}
	if _, ok := pg.Form["name"]; !ok {
		pg.Form["name"], pg.Form["phone"] = held.Candidate.Name, held.Candidate.Phone
	}
	done := r.URL.Query().Get("done")
	switch done {
	case "withdrawn", "saved", "unchanged", "requested":
	default:
		done = ""
	}
	pg.Data = subjectData{Subject: subj, Held: held, Done: done, ErasureApproval: approval}
	s.render(w, r, status, "subject_data", pg)
}

// subjectAction runs a request of the session's subject: a refusal with
// a message shows the page again with it, anything else fails.
func (s *Server) subjectAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, subj *privacy.Subject) (string, error)) {
	subj := s.subject(w, r)
	if subj == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	next, err := act(r.Context(), subj)
	if errors.Is(err, privacy.ErrSessionEnded) {
		s.subjectInvalid(w, r, err)
		return
	}
	if err != nil {
		s.refuse(w, r, err, s.newPage(r, "subject.title"), func(w http.ResponseWriter, r *http.Request, status int, pg *page) {
			s.renderSubjectData(w, r, status, pg, subj)
		})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSubjectExport downloads the candidate's copy of their data.
func (s *Server) handleSubjectExport(w http.ResponseWriter, r *http.Request) {
	subj := s.subject(w, r)
	if subj == nil {
		return
	}
	ex, err := s.Privacy.ExportSubject(r.Context(), subj)
	if err != nil {
		s.subjectInvalid(w, r, err)
		return
	}
	s.sendExport(w, r, ex)
}

// handleCandidateExport downloads a candidate's data from their card, for
// a colleague who may see the application.
func (s *Server) handleCandidateExport(w http.ResponseWriter, r *http.Request) {
	ex, err := s.Privacy.ExportCandidate(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendExport(w, r, ex)
}

// sendExport streams the zip; the export was recorded before.
func (s *Server) sendExport(w http.ResponseWriter, r *http.Request, ex *privacy.Export) {
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ex.FileName()}))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	if err := ex.WriteTo(r.Context(), w); err != nil {
		// The status is sent: the broken zip ends the answer.
		s.Logger.Error("export", "request_id", stateOf(r).requestID, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) handleSubjectWithdraw(w http.ResponseWriter, r *http.Request) {
	s.subjectAction(w, r, func(ctx context.Context, subj *privacy.Subject) (string, error) {
		return "/my-data?done=withdrawn#consent", s.Privacy.WithdrawConsent(ctx, subj)
	})
}

func (s *Server) handleSubjectContact(w http.ResponseWriter, r *http.Request) {
	s.subjectAction(w, r, func(ctx context.Context, subj *privacy.Subject) (string, error) {
		changed, err := s.Privacy.Rectify(ctx, subj, privacy.Contact{Name: r.PostForm.Get("name"), Phone: r.PostForm.Get("phone")})
		if len(changed) == 0 {
			return "/my-data?done=unchanged#contact", err
		}
		return "/my-data?done=saved#contact", err
	})
}

func (s *Server) handleSubjectErase(w http.ResponseWriter, r *http.Request) {
	s.subjectAction(w, r, func(ctx context.Context, subj *privacy.Subject) (string, error) {
		if r.PostForm.Get("confirm") != "yes" {
			return "", fault.Field("confirm", "subject.error_confirm")
		}
		erased, err := s.Privacy.RequestErasure(ctx, subj)
		if err != nil || !erased {
			return "/my-data?done=requested#erase", err
		}
		clearSubjectCookie(w)
		return "/my-data/erased", nil
	})
}

// handleSubjectSignOut ends the session and goes back to the career page.
func (s *Server) handleSubjectSignOut(w http.ResponseWriter, r *http.Request) {
	subj := s.subject(w, r)
	if subj == nil {
		return
	}
	if err := s.Privacy.EndSession(r.Context(), subj); err != nil {
		s.fail(w, r, err)
		return
	}
	clearSubjectCookie(w)
	http.Redirect(w, r, "/careers/"+url.PathEscape(subj.Slug), http.StatusSeeOther)
}

// handleSubjectErased confirms an erasure; it shows nothing of the person.
func (s *Server) handleSubjectErased(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "subject_erased", s.newPage(r, "subject.erased_title"))
}

type requestsData struct {
	Register *privacy.Register
	Done     string
}

// handlePrivacyRequests shows the register of data subjects' requests.
func (s *Server) handlePrivacyRequests(w http.ResponseWriter, r *http.Request) {
	s.renderPrivacyRequests(w, r, http.StatusOK, s.newPage(r, "subject.register_title"))
}

func (s *Server) renderPrivacyRequests(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	reg, err := s.Privacy.Requests(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done := r.URL.Query().Get("done")
	if done != "approved" && done != "refused" {
		done = ""
	}
	pg.Data = requestsData{Register: reg, Done: done}
	s.render(w, r, status, "privacy_requests", pg)
}

// handlePrivacyRequestAnswer approves (erases) or refuses a waiting request.
func (s *Server) handlePrivacyRequestAnswer(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		a := stateOf(r).principal.Actor()
		var err error
		done := "refused"
		if approve {
			err, done = s.Privacy.ApproveErasure(r.Context(), a, r.PathValue("id")), "approved"
		} else {
			err = s.Privacy.RefuseErasure(r.Context(), a, r.PathValue("id"), r.PostForm.Get("note"))
		}
		if err != nil {
			s.refuse(w, r, onForm(err), s.newPage(r, "subject.register_title"), s.renderPrivacyRequests)
			return
		}
		http.Redirect(w, r, "/privacy/requests?done="+done, http.StatusSeeOther)
	}
}
