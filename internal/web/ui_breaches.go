package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/privacy"
)

// The breach register (Art. 33/34) for holders of privacy.settings: the
// list with each record's 72-hour deadline, the form of a record, the
// notification texts for the supervisory authority and for the data
// subjects in any of the five languages, and the button of a security
// alert that opens a record.

// breachView is a record as the pages show it: times in the company's
// zone, and the state of its deadline at the time of the request.
type breachView struct {
	B                                                       *privacy.Breach
	Occurred, Discovered, Deadline, AuthorityAt, SubjectsAt string
	Decided, Overdue, Late                                  bool
	Hours, Minutes                                          int
	SubjectsCount, RecordsCount                             string
}

func (s *Server) breachView(r *http.Request, b *privacy.Breach) breachView {
	loc := stateOf(r).tenant.Location()
	show := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	v := breachView{B: b, Occurred: show(b.OccurredAt), Discovered: show(b.DiscoveredAt), Deadline: show(b.Deadline()),
		AuthorityAt: show(b.AuthorityNotifiedAt), SubjectsAt: show(b.SubjectsNotifiedAt), Decided: b.AuthorityDecided(),
		Overdue: b.Overdue(time.Now()), Late: b.NotifiedLate()}
	left := b.TimeLeft(time.Now())
	if left < 0 {
		left = -left
	}
	v.Hours, v.Minutes = int(left/time.Hour), int(left%time.Hour/time.Minute)
	if b.SubjectsCount != nil {
		v.SubjectsCount = strconv.FormatInt(*b.SubjectsCount, 10)
	}
	if b.RecordsCount != nil {
		v.RecordsCount = strconv.FormatInt(*b.RecordsCount, 10)
	}
	return v
}

// breachesData is the register's list.
type breachesData struct {
	Rows              []breachView
	NextURL, FirstURL string
}

func (s *Server) handleBreaches(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	list, next, err := s.Privacy.Breaches(r.Context(), stateOf(r).principal.Actor(), after, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := breachesData{}
	for _, b := range list {
		d.Rows = append(d.Rows, s.breachView(r, b))
	}
	if next != "" {
		d.NextURL = "/privacy/breaches?after=" + next
	}
	if after != "" {
		d.FirstURL = "/privacy/breaches"
	}
	pg := s.newPage(r, "breach.title")
	pg.Data = d
	s.render(w, r, http.StatusOK, "breaches", pg)
}

// breachFormData is the form of a record: new (no View) or an existing one.
type breachFormData struct {
	View                  *breachView
	Statuses              []string
	SubjectCats, DataCats []string
	Subjects, Data        map[string]bool
	Decisions             []string
	Languages             []string
}

func newBreachForm() breachFormData {
	return breachFormData{Statuses: privacy.BreachStatuses, SubjectCats: privacy.SubjectCategories, DataCats: privacy.DataCategories,
		Subjects: map[string]bool{}, Data: map[string]bool{}, Decisions: []string{"", privacy.SubjectsNotify, privacy.SubjectsNotNotify},
		Languages: i18n.Languages}
}

// breachPage is the form page, filled from b (nil: a new record).
func (s *Server) breachPage(r *http.Request, b *privacy.Breach) *page {
	pg := s.newPage(r, "breach.new_title")
	d := newBreachForm()
	if b != nil {
		pg.Title = "breach.edit_title"
		v := s.breachView(r, b)
		d.View = &v
		loc := stateOf(r).tenant.Location()
		for k, val := range map[string]string{"title": b.Title, "description": b.Description, "consequences": b.Consequences,
			"measures": b.Measures, "contact": b.Contact, "status": b.Status, "authority_how": b.AuthorityHow,
			"authority_reason": b.AuthorityReason, "delay_reason": b.DelayReason, "subjects_decision": b.SubjectsDecision,
			"subjects_reason": b.SubjectsReason, "subjects_count": v.SubjectsCount, "records_count": v.RecordsCount,
			"occurred_at": privacy.FormatLocal(b.OccurredAt, loc), "discovered_at": privacy.FormatLocal(b.DiscoveredAt, loc),
			"authority_notified_at": privacy.FormatLocal(b.AuthorityNotifiedAt, loc),
			"subjects_notified_at":  privacy.FormatLocal(b.SubjectsNotifiedAt, loc), "version": strconv.Itoa(b.Version)} {
			pg.Form[k] = val
		}
		for _, c := range b.SubjectCategories {
			d.Subjects[c] = true
		}
		for _, c := range b.DataCategories {
			d.Data[c] = true
		}
	} else {
		pg.Form["status"] = privacy.BreachOpen
		pg.Form["discovered_at"] = privacy.FormatLocal(time.Now(), stateOf(r).tenant.Location())
	}
	pg.Data = d
	return pg
}

func (s *Server) handleBreachNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "breach", s.breachPage(r, nil))
}

func breachInput(r *http.Request) privacy.BreachInput {
	f := r.PostForm
	v, _ := strconv.Atoi(f.Get("version"))
	return privacy.BreachInput{Title: f.Get("title"), Description: f.Get("description"), OccurredAt: f.Get("occurred_at"),
		DiscoveredAt: f.Get("discovered_at"), SubjectCategories: f["subject_categories"], DataCategories: f["data_categories"],
		SubjectsCount: f.Get("subjects_count"), RecordsCount: f.Get("records_count"), Consequences: f.Get("consequences"),
		Measures: f.Get("measures"), Contact: f.Get("contact"), Status: f.Get("status"), AuthorityNotifiedAt: f.Get("authority_notified_at"),
		AuthorityHow: f.Get("authority_how"), AuthorityReason: f.Get("authority_reason"), DelayReason: f.Get("delay_reason"),
		SubjectsDecision: f.Get("subjects_decision"), SubjectsReason: f.Get("subjects_reason"),
		SubjectsNotifiedAt: f.Get("subjects_notified_at"), Version: v}
}

// refuseBreach shows the form again with the posted values, the
// categories ticked as posted, and the messages.
func (s *Server) refuseBreach(w http.ResponseWriter, r *http.Request, err error, pg *page) {
	d := pg.Data.(breachFormData)
	clear(d.Subjects)
	clear(d.Data)
	for _, c := range r.PostForm["subject_categories"] {
		d.Subjects[c] = true
	}
	for _, c := range r.PostForm["data_categories"] {
		d.Data[c] = true
	}
	pg.Data = d
	s.refuse(w, r, err, pg, s.show("breach"))
}

func (s *Server) handleBreachCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Privacy.CreateBreach(r.Context(), stateOf(r).principal.Actor(), breachInput(r))
	if err != nil {
		s.refuseBreach(w, r, err, s.breachPage(r, nil))
		return
	}
	http.Redirect(w, r, "/privacy/breaches/"+b.ID, http.StatusSeeOther)
}

func (s *Server) handleBreach(w http.ResponseWriter, r *http.Request) {
	b, err := s.Privacy.Breach(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.breachPage(r, b)
	if r.URL.Query().Get("saved") == "1" {
		pg.Form["saved"] = "1"
	}
	s.render(w, r, http.StatusOK, "breach", pg)
}

func (s *Server) handleBreachSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	actor := stateOf(r).principal.Actor()
	err := s.Privacy.UpdateBreach(r.Context(), actor, r.PathValue("id"), breachInput(r))
	if err != nil {
		b, rerr := s.Privacy.Breach(r.Context(), actor, r.PathValue("id"))
		if rerr != nil {
			s.fail(w, r, rerr)
			return
		}
		pg := s.breachPage(r, b)
		if errors.Is(err, privacy.ErrBreachChanged) {
			// Someone saved meanwhile: their record is shown, to be changed again.
			pg.Errors[""] = "error.breach_changed"
			s.render(w, r, http.StatusConflict, "breach", pg)
			return
		}
		s.refuseBreach(w, r, err, pg)
		return
	}
	http.Redirect(w, r, "/privacy/breaches/"+r.PathValue("id")+"?saved=1", http.StatusSeeOther)
}

// breachNoticeData is a printable notification of a breach.
type breachNoticeData struct {
	V         breachView
	Authority bool
	Company   string
	Contact   string
	RegNumber string
}

// handleBreachNotice writes the notification of a breach for the
// supervisory authority (?for=authority, Art. 33(3)) or for the data
// subjects (?for=subjects, Art. 34(2)), in the language ?lang= names.
func (s *Server) handleBreachNotice(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	b, err := s.Privacy.Breach(r.Context(), st.principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	forWhom := q.Get("for")
	if forWhom != "authority" && forWhom != "subjects" {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	pg := s.newPage(r, "breach.notice_authority_title")
	if forWhom == "subjects" {
		pg.Title = "breach.notice_subjects_title"
	}
	if lang := q.Get("lang"); slices.Contains(i18n.Languages, lang) {
		pg.Lang = lang
	}
	pg.LangFixed = true
	t := st.tenant
	reg := t.Settings.Privacy.RegistrationNumber
	if reg == "" {
		reg = t.RegistrationNumber
	}
	pg.Data = breachNoticeData{V: s.breachView(r, b), Authority: forWhom == "authority", Company: t.Name, Contact: t.Settings.PrivacyContact, RegNumber: reg}
	s.render(w, r, http.StatusOK, "breach_notice", pg)
}

// handleAlertBreach opens a breach record from a security alert (or shows
// the one it opened before).
func (s *Server) handleAlertBreach(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	b, _, err := s.Privacy.BreachFromAlert(r.Context(), st.principal.Actor(), r.PathValue("id"), s.I18n.T(st.lang, "breach.from_alert_title"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/privacy/breaches/"+b.ID, http.StatusSeeOther)
}

// BreachDeadline says where a record stands with the authority: told
// (and whether late), not told for recorded reasons, or the time left or
// overdue to the 72-hour deadline.
func (p *page) BreachDeadline(v breachView) string {
	switch {
	case !v.B.AuthorityNotifiedAt.IsZero() && v.Late:
		return p.T("breach.deadline_notified_late", "time", v.AuthorityAt)
	case !v.B.AuthorityNotifiedAt.IsZero():
		return p.T("breach.deadline_notified", "time", v.AuthorityAt)
	case v.Decided:
		return p.T("breach.deadline_not_notified")
	case v.Overdue:
		return p.T("breach.deadline_overdue", "hours", v.Hours, "minutes", v.Minutes, "deadline", v.Deadline)
	}
	return p.T("breach.deadline_left", "hours", v.Hours, "minutes", v.Minutes, "deadline", v.Deadline)
}

// BreachField feeds the form's "breach-field" template: the field name
// (its label is breach.field.<name>) and its input type, or "textarea".
func (p *page) BreachField(name, typ string) fieldArgs {
	return fieldArgs{P: p, Name: name, Type: typ}
}
