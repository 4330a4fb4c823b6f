package web

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// expiringData feeds the list of candidates whose bases end soon.
type expiringData struct {
	List *recruit.ExpiringList
	// Horizon is the last day of the notice period, in the company's calendar.
	Horizon string
	// CanRequest: the user may ask the listed candidates to renew their consent.
	CanRequest        bool
	NextURL, FirstURL string
	// Sent and Skipped say how the last renewal requests went (from the
	// redirect of POST /privacy/consent-requests).
	Sent, Skipped int
}

// handlePrivacyExpiring lists the candidates the user may see whose data
// is kept on bases that end within the notice period, soonest first, with
// a form asking the selected ones to renew their consent.
func (s *Server) handlePrivacyExpiring(w http.ResponseWriter, r *http.Request) {
	a := stateOf(r).principal.Actor()
	q := r.URL.Query()
	after := q.Get("after")
	list, err := s.Recruit.ExpiringCandidates(r.Context(), a, after, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "privacy.expiring.title")
	d := expiringData{List: list, Horizon: localDate(list.Horizon, list.Location),
		CanRequest: a.Can(access.MoveStage) || a.Can(access.PrivacySettings)}
	d.Sent, _ = strconv.Atoi(q.Get("sent"))
	d.Skipped, _ = strconv.Atoi(q.Get("skipped"))
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, url.Values{}, list.Next, after)
	pg.Data = d
	s.render(w, r, http.StatusOK, "privacy_expiring", pg)
}

// localDate is t's day on the calendar of loc, as 2006-01-02.
func localDate(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02")
}

// basisBadge is what the card and the candidate lists say of a
// candidate's processing bases.
type basisBadge struct {
	// Basis is recruit.BasisPurpose or recruit.BasisConsent: the one that
	// keeps the data longest.
	Basis string
	// Date is the day the data is kept until, on the company's calendar.
	Date string
	// Soon: the bases end within the notice period (tenant.NoticeMonths),
	// after which the data is erased.
	Soon bool
}

// Basis is the badge of a candidate's bases for the page, in the
// company's time zone (nil when they are not known yet).
func (p *page) Basis(b recruit.Bases) *basisBadge {
	if b.Until.IsZero() {
		return nil
	}
	loc := time.UTC
	if p.Tenant != nil {
		loc = zone(p.Tenant.Zone())
	}
	return &basisBadge{Basis: b.Basis(), Date: localDate(b.Until, loc), Soon: b.EndsWithin(time.Now(), loc)}
}

// zones keeps the time zones loaded, so that a list's badges do not read
// the zone database once a row.
var zones sync.Map

// zone is the named time zone (UTC when it cannot be loaded).
func zone(name string) *time.Location {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zones.Store(name, loc)
	return loc
}
