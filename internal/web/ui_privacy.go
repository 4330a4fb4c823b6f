package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The company's privacy pages for holders of privacy.settings: the hub
// (/privacy) leading to every privacy section, the policy settings, the
// records of processing; and the public privacy notice of the career page.

// handlePrivacy is the hub of the privacy sections.
func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "privacy", s.newPage(r, "privacy.title"))
}

// privacySettingsData feeds the policy form: the legal limits.
type privacySettingsData struct {
	MaxPurpose, MaxConsent, DefaultConsent, ConsentLogYears int
	Saved                                                   bool
}

func (s *Server) privacySettingsPage(r *http.Request) *page {
	pg := s.newPage(r, "privacy.settings_title")
	pg.Data = privacySettingsData{MaxPurpose: tenant.MaxPurposeMonths, MaxConsent: tenant.MaxConsentMonths,
		DefaultConsent: tenant.DefaultConsentMonths, ConsentLogYears: tenant.ConsentLogYears, Saved: r.URL.Query().Get("saved") == "1"}
	return pg
}

func (s *Server) handlePrivacySettings(w http.ResponseWriter, r *http.Request) {
	p, err := s.Privacy.Policy(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.privacySettingsPage(r)
	pg.Form["purpose_months"] = strconv.Itoa(p.Purpose())
	pg.Form["consent_months"] = strconv.Itoa(p.Consent())
	if p.EraseOnArchive {
		pg.Form["erase_on_archive"] = "1"
	}
	if p.ErasureApproval {
		pg.Form["erasure_approval"] = "1"
	}
	pg.Form["registration_number"] = p.RegistrationNumber
	pg.Form["processors"] = p.Processors
	pg.Form["transfers"] = p.Transfers
	s.render(w, r, http.StatusOK, "privacy_settings", pg)
}

func (s *Server) handlePrivacySettingsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := tenant.Privacy{EraseOnArchive: f.Get("erase_on_archive") == "1", ErasureApproval: f.Get("erasure_approval") == "1",
		RegistrationNumber: f.Get("registration_number"), Processors: f.Get("processors"), Transfers: f.Get("transfers")}
	fields := map[string]string{}
	months := func(name string, lo, hi int, key string) int {
		n, err := strconv.Atoi(strings.TrimSpace(f.Get(name)))
		if err != nil || n < lo || n > hi {
			fields[name] = key
			return 0
		}
		return n
	}
	in.PurposeMonths = months("purpose_months", 1, tenant.MaxPurposeMonths, "error.purpose_months")
	in.ConsentMonths = months("consent_months", 1, tenant.MaxConsentMonths, "error.consent_months")
	var err error
	if len(fields) > 0 {
		err = &fault.Invalid{Fields: fields}
	} else {
		err = s.Privacy.SavePolicy(r.Context(), stateOf(r).principal.Actor(), in)
	}
	if err != nil {
		s.refuse(w, r, err, s.privacySettingsPage(r), s.show("privacy_settings"))
		return
	}
	http.Redirect(w, r, "/privacy/settings?saved=1", http.StatusSeeOther)
}

// recipientRole is a role whose users see candidates' data, for the
// records of processing.
type recipientRole struct {
	ID, Name   string
	Predefined bool
	Users      int
}

// privacyRecordsData is the records of processing page.
type privacyRecordsData struct {
	R          *privacy.Records
	Recipients []recipientRole
	Generated  string
}

// handlePrivacyRecords shows the records of processing (Art. 30), made to
// be printed.
func (s *Server) handlePrivacyRecords(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	ctx := r.Context()
	rec, err := s.Privacy.Records(ctx, st.principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The recipients inside the company: every role whose permissions
	// reach candidates' data, with how many users hold it.
	users, err := s.Accounts.ListUsers(ctx, st.principal.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	custom, err := s.Accounts.ListRoles(ctx, st.principal.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	holders := map[string]int{}
	for _, u := range users {
		if u.Status == account.Active {
			holders[u.Role]++
		}
	}
	d := privacyRecordsData{R: rec, Generated: i18n.Date(st.lang, rec.Generated.In(st.tenant.Location()))}
	for _, role := range access.Roles {
		if access.RoleSet(role)&access.CandidateAccess != 0 {
			d.Recipients = append(d.Recipients, recipientRole{ID: role, Predefined: true, Users: holders[role]})
		}
	}
	for _, c := range custom {
		if c.Permissions&access.CandidateAccess != 0 {
			d.Recipients = append(d.Recipients, recipientRole{ID: c.ID, Name: c.Name, Users: c.Users})
		}
	}
	pg := s.newPage(r, "privacy.records_title")
	pg.Data = d
	s.render(w, r, http.StatusOK, "privacy_records", pg)
}

// privacyNoticeData is the public privacy notice.
type privacyNoticeData struct {
	Company *tenant.Tenant
	S       privacy.Statement
}

// handlePrivacyNotice is the company's privacy notice for candidates, in
// the page's language or the one ?lang= names (the position page links it
// in the ad's language).
func (s *Server) handlePrivacyNotice(w http.ResponseWriter, r *http.Request) {
	t := s.careerCompany(w, r)
	if t == nil {
		return
	}
	pg := s.newPage(r, "privacy.notice_title")
	if lang := r.URL.Query().Get("lang"); slices.Contains(i18n.Languages, lang) {
		pg.Lang, pg.LangFixed = lang, true
	}
	pg.Tenant = t
	pg.Data = privacyNoticeData{Company: t, S: privacy.StatementOf(t)}
	s.render(w, r, http.StatusOK, "privacy_notice", pg)
}
