package web

import (
	"bytes"
	"errors"
	"net/http"
	"sort"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/recruit"
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
	s.Logger.Error("internal error", "request_id", stateOf(r).requestID, "route", r.Pattern, "error", err.Error())
	s.renderError(w, r, http.StatusInternalServerError)
}

// fail maps a service error to a response: the one place where errors
// become status codes.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, account.ErrNotFound), errors.Is(err, tenant.ErrNotFound), errors.Is(err, recruit.ErrNotFound), errors.Is(err, credit.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound)
	case errors.Is(err, account.ErrForbidden), errors.Is(err, recruit.ErrForbidden), errors.Is(err, credit.ErrForbidden):
		s.renderError(w, r, http.StatusForbidden)
	case errors.Is(err, account.ErrNoSession):
		s.renderError(w, r, http.StatusUnauthorized)
	default:
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		s.serverError(w, r, err)
	}
}

// fieldErrors extracts per-field message keys from a validation error.
func fieldErrors(err error) (map[string]string, bool) {
	var ae *account.ValidationError
	if errors.As(err, &ae) {
		return ae.Fields, true
	}
	var te *tenant.ValidationError
	if errors.As(err, &te) {
		return te.Fields, true
	}
	var re *recruit.ValidationError
	if errors.As(err, &re) {
		return re.Fields, true
	}
	var ce *credit.ValidationError
	if errors.As(err, &ce) {
		return ce.Fields, true
	}
	return nil, false
}

func sortStrings(s []string) { sort.Strings(s) }

func sortRecords(recs []audit.Record) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Time.After(recs[j].Time) })
}
