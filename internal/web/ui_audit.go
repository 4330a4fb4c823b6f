package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
)

// auditFilter reads the trail filters from the query string. Bad values
// become field errors shown beside the form, not a failed page.
func auditFilter(q url.Values) (audit.Filter, map[string]string) {
	f := audit.Filter{
		Track: audit.Track(q.Get("track")), ActorID: q.Get("actor"), Action: audit.Action(q.Get("action")),
		ObjectID: q.Get("object"), After: q.Get("after"), Limit: 50,
	}
	errs := map[string]string{}
	// Ids are compared as given; text the database would refuse (invalid
	// UTF-8, NUL) is explained instead.
	for _, p := range []struct {
		name string
		dst  *string
	}{{"actor", &f.ActorID}, {"object", &f.ObjectID}} {
		if v := *p.dst; !utf8.ValidString(v) || utf8.RuneCountInString(v) > 200 || strings.ContainsFunc(v, unicode.IsControl) {
			errs[p.name] = "error.text_field"
			*p.dst = ""
		}
	}
	// The page's links name an object as "kind:id", the key of the
	// trail's index of objects; a bare id typed in the form is looked up
	// by kind when the trail is listed.
	f.ObjectKind, f.ObjectID = audit.ParseObject(f.ObjectID)
	if f.Track != "" && !validTrack(f.Track) {
		errs["track"] = "error.audit_track"
		f.Track = ""
	}
	if f.Action != "" {
		if _, ok := audit.Catalogue[f.Action]; !ok {
			errs["action"] = "error.audit_action"
			f.Action = ""
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
		add  time.Duration
	}{{"from", &f.From, 0}, {"to", &f.To, 24 * time.Hour}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				errs[p.name] = "error.date"
				continue
			}
			*p.dst = t.Add(p.add)
		}
	}
	return f, errs
}

func validTrack(t audit.Track) bool {
	for _, tr := range audit.Tracks {
		if tr == t {
			return true
		}
	}
	return false
}

type auditRow struct {
	Record    audit.Record
	ActorName string
}

type auditData struct {
	Rows []auditRow
	// NextURL leads to older records and FirstURL back to the newest, with
	// the same filters ("" when there is none).
	NextURL, FirstURL   string
	ExportCSV, ExportJS string
	Tracks              []audit.Track
	Actions             []string
	Security            bool
}

// permitted lets through only users whose role allows perm; others, who
// know the page exists, get 403.
func (s *Server) permitted(perm access.Permission, h http.HandlerFunc) http.Handler {
	return s.staff(func(w http.ResponseWriter, r *http.Request) {
		if p := stateOf(r).principal; !p.Can(perm) {
			// The denial goes to the security log, like the services' denials on objects.
			err := s.Audit.RecordStandalone(r.Context(), audit.Event{TenantID: p.TenantID, Action: audit.AccessDecided, Actor: audit.User(p.UserID),
				Details: map[string]string{"permission": perm.Name(), "decision": access.Forbidden.String()}})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			s.renderError(w, r, http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	s.renderAudit(w, r, false)
}

func (s *Server) handleSecurityLog(w http.ResponseWriter, r *http.Request) {
	s.renderAudit(w, r, true)
}

func (s *Server) renderAudit(w http.ResponseWriter, r *http.Request, security bool) {
	st := stateOf(r)
	q := r.URL.Query()
	if security {
		q.Set("track", string(audit.Security))
	}
	f, errs := auditFilter(q)
	recs, next, err := s.Audit.List(r.Context(), st.principal.TenantID, f)
	if errors.Is(err, audit.ErrAmbiguousObject) {
		errs["object"] = "error.audit_object_ambiguous"
		err = nil
	}
	if errors.Is(err, audit.ErrInvalidEvent) {
		errs["after"] = "error.audit_cursor"
		f.After = ""
		recs, next, err = s.Audit.List(r.Context(), st.principal.TenantID, f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, _, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := auditData{Tracks: audit.Tracks, Security: security}
	filters := url.Values{}
	for _, k := range []string{"track", "actor", "action", "object", "from", "to"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	data.ExportCSV = "/audit/export/csv?" + filters.Encode()
	data.ExportJS = "/audit/export/json?" + filters.Encode()
	if next != "" {
		page := url.Values{}
		for k, v := range filters {
			page[k] = v
		}
		page.Set("after", next)
		data.NextURL = r.URL.Path + "?" + page.Encode()
	}
	if f.After != "" {
		data.FirstURL = r.URL.Path
		if len(filters) > 0 {
			data.FirstURL += "?" + filters.Encode()
		}
	}
	for a := range audit.Catalogue {
		data.Actions = append(data.Actions, string(a))
	}
	sortStrings(data.Actions)
	for _, rec := range recs {
		row := auditRow{Record: rec}
		if rec.Actor.Kind == audit.ActorUser {
			row.ActorName = names[rec.Actor.ID]
		}
		data.Rows = append(data.Rows, row)
	}
	title := "audit.title"
	if security {
		title = "audit.security_title"
	}
	pg := s.newPage(r, title)
	pg.Errors = errs
	pg.Data = data
	for _, k := range []string{"track", "actor", "action", "object", "from", "to"} {
		if v := q.Get(k); utf8.ValidString(v) {
			pg.Form[k] = v
		}
	}
	s.render(w, r, http.StatusOK, "audit", pg)
}

// handleAuditExport streams the trail as CSV or JSON. The export is
// recorded, and the record committed, before its first byte is sent: if
// the record cannot be written, the user gets an error page and no export.
func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	format := r.PathValue("format")
	if format != "csv" && format != "json" {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	f, errs := auditFilter(r.URL.Query())
	if len(errs) > 0 {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	exp, err := s.Audit.StartExport(r.Context(), audit.User(st.principal.UserID), st.principal.TenantID, f, format)
	if errors.Is(err, audit.ErrAmbiguousObject) {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "kandidat-audit-" + time.Now().UTC().Format("20060102-150405") + "." + format
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := exp.WriteTo(r.Context(), w); err != nil {
		// The headers are gone: the download ends short, and the log says why.
		s.Logger.Error("audit export", "request_id", st.requestID, "error", err.Error())
	}
}

func (s *Server) handleAlertAcknowledge(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	err := s.Audit.Acknowledge(r.Context(), audit.User(st.principal.UserID), st.principal.TenantID, r.PathValue("id"))
	if errors.Is(err, audit.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}
