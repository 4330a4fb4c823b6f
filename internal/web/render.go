package web

import (
	"bytes"
	"errors"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/tenant"
)

// page is what every template receives.
type page struct {
	Lang      string
	Nonce     string
	RequestID string
	Title     string // message key
	Principal *account.Principal
	Tenant    *tenant.Tenant
	Errors    map[string]string // field -> message key; "" for the form as a whole
	Form      map[string]string // values to show again
	Data      any
	Path      string // the current path, to come back to after choosing a language
	// LangFixed marks a page shown in its content's language (a job ad, a
	// consent): choosing a language would change nothing, so the layout
	// offers no choice.
	LangFixed bool
	i18n      *i18n.Bundle
}

// T translates a message key into the page's language.
func (p *page) T(key string, args ...any) string { return p.i18n.T(p.Lang, key, args...) }

// TN translates a message that counts things, in the plural form n asks
// for in the page's language; the text shows n as {count}.
func (p *page) TN(key string, n int, args ...any) string { return p.i18n.N(p.Lang, key, n, args...) }

// Can reports whether the signed-in user holds the permission named, for
// showing links and controls; the services decide again on every action.
func (p *page) Can(name string) bool {
	perm, ok := access.Parse(name)
	return ok && p.Principal.Can(perm)
}

// Languages lists the languages for selection lists.
func (p *page) Languages() []string { return i18n.Languages }

func (s *Server) newPage(r *http.Request, title string) *page {
	st := stateOf(r)
	return &page{
		Lang: st.lang, Nonce: st.nonce, RequestID: st.requestID, Title: title,
		Principal: st.principal, Tenant: st.tenant, Errors: map[string]string{}, Form: map[string]string{},
		Path: r.URL.Path, i18n: s.I18n,
		// The reporter's pages offer their own choice of language (?lang=),
		// never the one that sets a cookie.
		LangFixed: isReport(r),
	}
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := s.pages[name]
	if !ok {
		s.serverError(w, r, errors.New("no template "+name))
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows the translated error page of status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	if isAPI(r) {
		s.apiErrorStatus(w, r, status)
		return
	}
	p := s.newPage(r, "error.title")
	p.Data = status
	t, ok := s.pages["error"]
	var buf bytes.Buffer
	if !ok || t.Execute(&buf, p) != nil {
		http.Error(w, http.StatusText(status)+" (request "+p.RequestID+")", status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// serverError logs an internal error once, with the request id, and shows
// the 500 page; the error's text never reaches the client.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.logFor(r).Error("internal error", "request_id", stateOf(r).requestID, "route", r.Pattern, "error", err.Error())
	s.renderError(w, r, http.StatusInternalServerError)
}

// statuses is the one table from the kinds of refusal (internal/fault) to
// the status they answer with; the message comes with the error.
var statuses = map[error]int{
	fault.ErrInvalid:         http.StatusUnprocessableEntity,
	fault.ErrNotFound:        http.StatusNotFound,
	fault.ErrForbidden:       http.StatusForbidden,
	fault.ErrUnauthenticated: http.StatusUnauthorized,
	fault.ErrConflict:        http.StatusConflict,
	fault.ErrInsufficient:    http.StatusPaymentRequired,
	fault.ErrBusy:            http.StatusTooManyRequests,
	fault.ErrGone:            http.StatusGone,
	fault.ErrStale:           http.StatusPreconditionFailed,
}

// statusOf returns the status an error answers with: its kind's, 413 for
// a body over the limit, else 500.
func statusOf(err error) int {
	if status, ok := statuses[fault.KindOf(err)]; ok {
		return status
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// fail maps a service error to a response: the one place where errors
// become status codes. A refusal shows the error page of its status; any
// other error is internal.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		s.serverError(w, r, err)
		return
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	s.renderError(w, r, status)
}

// renderer shows a page with a status: the render functions of the pages
// that hold forms, or show for a template that needs nothing more.
type renderer func(w http.ResponseWriter, r *http.Request, status int, pg *page)

// show returns the renderer of the template name.
func (s *Server) show(name string) renderer {
	return func(w http.ResponseWriter, r *http.Request, status int, pg *page) { s.render(w, r, status, name, pg) }
}

// refuse answers a form whose submission was refused: when err carries
// messages for the user (a field error, or a sentinel with its message),
// the page is shown again by show, with the status of err's kind, the
// messages beside their fields and the values posted (keepPosted); any
// other error goes to fail. Handlers refuse their own findings (a
// confirmation that does not match) the same way, with a fault.Field.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error, pg *page, show renderer) {
	msgs := fault.Messages(err)
	if msgs == nil {
		s.fail(w, r, err)
		return
	}
	status := statusOf(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	keepPosted(pg, r)
	maps.Copy(pg.Errors, msgs)
	show(w, r, status, pg)
}

// keepPosted puts the values of the submitted form into the page to show
// them again, over what the page had, except secrets (passwords, codes,
// tokens), which the user types again.
func keepPosted(pg *page, r *http.Request) {
	for k, vs := range r.PostForm {
		if len(vs) == 0 || secretField(k) {
			continue
		}
		pg.Form[k] = vs[0]
	}
}

// secretField reports whether a form field holds a secret that is never
// sent back to the browser.
func secretField(name string) bool {
	name = strings.ToLower(name)
	for _, s := range []string{"password", "code", "token", "secret"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// confirmedPassword returns the new password a form's "new-password"
// block posted in the field name, or a field error when its confirmation
// differs.
func confirmedPassword(r *http.Request, name string) (string, error) {
	next := r.PostForm.Get(name)
	if next != r.PostForm.Get("confirm_password") {
		return "", fault.Field("confirm_password", "error.password_mismatch")
	}
	return next, nil
}

// fieldErrors returns the per-field message keys of a bad input.
func fieldErrors(err error) (map[string]string, bool) {
	var inv *fault.Invalid
	if errors.As(err, &inv) {
		return inv.Fields, true
	}
	return nil, false
}

// onForm moves the message of a bad input to the form as a whole, for
// row forms (one per user, say) that have no place beside their field.
func onForm(err error) error {
	fields, ok := fieldErrors(err)
	if !ok {
		return err
	}
	if keys := slices.Sorted(maps.Keys(fields)); len(keys) > 0 {
		return fault.Field("", fields[keys[0]])
	}
	return err
}

func sortStrings(s []string) { sort.Strings(s) }

func sortRecords(recs []audit.Record) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Time.After(recs[j].Time) })
}

// download answers data as a file to save, never shown in this site's
// origin: an attachment (named name), its type not sniffed, sandboxed,
// not stored by the browser.
func download(w http.ResponseWriter, contentType, name string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	w.Write(data)
}
