package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestPrivacyPagesNeedPrivacySettings: the hub, the policy, the records
// and the breach register answer 403 to a user without privacy.settings,
// whose navigation has no Privacy entry; an administrator has both.
func TestPrivacyPagesNeedPrivacySettings(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false) // an administrator
	admin := f.signIn("ada", testPassword)
	_, rec := f.roleUser("rita", access.Recruiter)
	_, hr := f.roleUser("hanna", access.HRManager)
	for _, p := range []struct{ method, path string }{
		{"GET", "/privacy"}, {"GET", "/privacy/settings"}, {"POST", "/privacy/settings"}, {"GET", "/privacy/records"},
		{"GET", "/privacy/breaches"}, {"GET", "/privacy/breaches/new"}, {"POST", "/privacy/breaches"},
	} {
		for _, tok := range []string{rec, hr} {
			var form url.Values
			if p.method == "POST" {
				form = url.Values{"purpose_months": {"1"}, "consent_months": {"1"}, "title": {"x"}, "discovered_at": {"2026-01-01T10:00"}}
			}
			if res := f.do(request{method: p.method, path: p.path, cookie: tok, form: form}); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s without privacy.settings: %d, want 403", p.method, p.path, res.StatusCode)
			}
		}
	}
	if pol, _ := f.srv.Tenants.ByID(context.Background(), f.company.ID); pol.Settings.Privacy != (tenant.Privacy{}) {
		t.Fatalf("a refused save changed the policy: %+v", pol.Settings.Privacy)
	}
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: rec})); strings.Contains(b, `id="nav-privacy"`) {
		t.Error("a recruiter's navigation offers Privacy")
	}
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: admin})); !strings.Contains(b, `<a href="/privacy" id="nav-privacy">`) {
		t.Error("an administrator's navigation lacks Privacy")
	}
	res := f.do(request{method: "GET", path: "/privacy", cookie: admin})
	b := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("hub: %d", res.StatusCode)
	}
	for _, link := range []string{"/privacy/settings", "/privacy/consent-texts", "/privacy/consent-log", "/privacy/requests", "/privacy/expiring",
		"/privacy/breaches", "/privacy/records", "/careers/acme/privacy-notice"} {
		if !strings.Contains(b, `href="`+link+`"`) {
			t.Errorf("the hub does not link %s", link)
		}
	}
}

// TestPrivacySettingsPage: the form shows the policy with one sentence on
// each setting, saves it (the candidates' bases follow) and explains
// values the law does not allow.
func TestPrivacySettingsPage(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	res := f.do(request{method: "GET", path: "/privacy/settings", cookie: tok})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, `name="purpose_months"`) || !strings.Contains(b, `value="6"`) ||
		!strings.Contains(b, "at most 6 months") || !strings.Contains(b, "three years") {
		t.Fatalf("settings page %d:\n%s", res.StatusCode, b)
	}
	res = f.do(request{method: "POST", path: "/privacy/settings", cookie: tok, form: url.Values{"purpose_months": {"3"}, "consent_months": {"18"},
		"erase_on_archive": {"1"}, "registration_number": {"CZ 123 45 678"}, "processors": {"Hostio, hosting, Frankfurt\r\nMailo, email, Dublin"},
		"transfers": {""}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/privacy/settings?saved=1" {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	c, _ := f.tenants.ByID(context.Background(), f.company.ID)
	want := tenant.Privacy{PurposeMonths: 3, ConsentMonths: 18, EraseOnArchive: true, RegistrationNumber: "CZ 123 45 678",
		Processors: "Hostio, hosting, Frankfurt\nMailo, email, Dublin"}
	if c.Settings.Privacy != want {
		t.Fatalf("stored %+v, want %+v", c.Settings.Privacy, want)
	}
	for _, bad := range []url.Values{{"purpose_months": {"7"}, "consent_months": {"12"}}, {"purpose_months": {"2"}, "consent_months": {"40"}},
		{"purpose_months": {"x"}, "consent_months": {"12"}}, {"purpose_months": {"0"}, "consent_months": {"12"}}} {
		res := f.do(request{method: "POST", path: "/privacy/settings", cookie: tok, form: bad})
		b := body(t, res)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Choose from 1 to") || !strings.Contains(b, `aria-invalid="true"`) {
			t.Errorf("save %v: %d, want 422 with the message", bad, res.StatusCode)
		}
	}
	if c, _ := f.tenants.ByID(context.Background(), f.company.ID); c.Settings.Privacy != want {
		t.Fatalf("refused saves changed the policy: %+v", c.Settings.Privacy)
	}
}

// TestBreachPages: record a breach, see its deadline, save it with a
// stale version (409), print the notices in two languages, and open a
// record from a security alert on the dashboard (once).
func TestBreachPages(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	discovered := time.Now().Add(-2 * time.Hour).In(f.company.Location()).Format(privacy.LocalLayout)
	form := url.Values{"title": {"Stolen laptop"}, "description": {"A recruiter's laptop was stolen."}, "discovered_at": {discovered},
		"subject_categories": {"candidates"}, "data_categories": {"contact", "documents"}, "subjects_count": {"40"}, "status": {"open"},
		"measures": {"Disk encryption confirmed; sessions revoked."}}
	res := f.do(request{method: "POST", path: "/privacy/breaches", cookie: tok, form: form})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/privacy/breaches/") {
		t.Fatalf("create: %d %s", res.StatusCode, loc)
	}
	b := body(t, f.do(request{method: "GET", path: loc, cookie: tok}))
	for _, want := range []string{"Stolen laptop", `id="breach-deadline"`, "69 h", `name="version" value="1"`, `id="data-documents" checked`} {
		if !strings.Contains(b, want) {
			t.Errorf("the record's page lacks %q", want)
		}
	}
	list := body(t, f.do(request{method: "GET", path: "/privacy/breaches", cookie: tok}))
	if !strings.Contains(list, "Stolen laptop") || !strings.Contains(list, "left") {
		t.Errorf("the register does not list the record with its time left:\n%s", list)
	}
	// A bad save keeps what was typed and says what is wrong.
	bad := url.Values{"title": {""}, "discovered_at": {discovered}, "version": {"1"}, "data_categories": {"documents"}}
	res = f.do(request{method: "POST", path: loc, cookie: tok, form: bad})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Give the breach a title.") || !strings.Contains(b, `id="data-documents" checked`) {
		t.Errorf("a save without a title: %d", res.StatusCode)
	}
	// The authority was told: the deadline is met.
	form.Set("version", "1")
	form.Set("authority_notified_at", time.Now().Add(-time.Hour).In(f.company.Location()).Format(privacy.LocalLayout))
	form.Set("authority_how", "online form")
	if res := f.do(request{method: "POST", path: loc, cookie: tok, form: form}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if b := body(t, f.do(request{method: "GET", path: loc, cookie: tok})); !strings.Contains(b, "Notified on") {
		t.Error("the record does not say the authority was notified")
	}
	// The same version again: someone saved meanwhile.
	res = f.do(request{method: "POST", path: loc, cookie: tok, form: form})
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, "Someone saved this record meanwhile") {
		t.Errorf("a stale save: %d", res.StatusCode)
	}
	// The notices, printable, in the language chosen.
	res = f.do(request{method: "GET", path: loc + "/notice?for=authority&lang=cs", cookie: tok})
	b = body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, "Ohlášení porušení zabezpečení osobních údajů dozorovému úřadu") ||
		!strings.Contains(b, "Stolen laptop") || !strings.Contains(b, "Životopisy a jiné dokumenty") || !strings.Contains(b, `lang="cs"`) {
		t.Errorf("the authority's notice in Czech: %d\n%s", res.StatusCode, b)
	}
	b = body(t, f.do(request{method: "GET", path: loc + "/notice?for=subjects&lang=nb", cookie: tok}))
	if !strings.Contains(b, "Viktig informasjon om dine personopplysninger") || !strings.Contains(b, "Disk encryption confirmed") {
		t.Errorf("the subjects' notice in Norwegian:\n%s", b)
	}
	if res := f.do(request{method: "GET", path: loc + "/notice?for=press", cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a notice for no one: %d", res.StatusCode)
	}

	// A security alert (the new administrator) opens a record from the dashboard.
	alerts, err := f.audit.OpenAlerts(context.Background(), f.company.ID)
	if err != nil || len(alerts) == 0 {
		t.Fatalf("no alert: %v", err)
	}
	dash := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: tok}))
	if !strings.Contains(dash, `action="/alerts/`+alerts[0].ID+`/breach"`) {
		t.Fatal("the dashboard's alert has no button to open a breach record")
	}
	first := f.do(request{method: "POST", path: "/alerts/" + alerts[0].ID + "/breach", cookie: tok, form: url.Values{}})
	again := f.do(request{method: "POST", path: "/alerts/" + alerts[0].ID + "/breach", cookie: tok, form: url.Values{}})
	if first.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != first.Header.Get("Location") || first.Header.Get("Location") == loc {
		t.Fatalf("from the alert: %d %s, again %s", first.StatusCode, first.Header.Get("Location"), again.Header.Get("Location"))
	}
	b = body(t, f.do(request{method: "GET", path: first.Header.Get("Location"), cookie: tok}))
	if !strings.Contains(b, `id="breach-alert"`) || !strings.Contains(b, alerts[0].ID) {
		t.Error("the record opened from the alert does not name it")
	}
	_, rec := f.roleUser("rita", access.Recruiter)
	if res := f.do(request{method: "POST", path: "/alerts/" + alerts[0].ID + "/breach", cookie: rec, form: url.Values{}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a recruiter opened a breach from an alert: %d", res.StatusCode)
	}
}

// TestRecordsAndNotice: the records of processing and the public notice
// say what the company's settings say; the career pages link the notice.
func TestRecordsAndNotice(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	f.roleUser("rita", access.Recruiter)
	if res := f.do(request{method: "POST", path: "/privacy/settings", cookie: tok, form: url.Values{"purpose_months": {"4"}, "consent_months": {"30"},
		"registration_number": {"556677-8899"}, "processors": {"Hostio AB, hosting, Stockholm"}, "transfers": {"Mailo Inc., USA, standard contractual clauses"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	res := f.do(request{method: "GET", path: "/privacy/records", cookie: tok})
	b := body(t, res)
	for _, want := range []string{"ACME Ltd", "556677-8899", "4 months", "30 months", "10 years", "Hostio AB, hosting, Stockholm",
		"standard contractual clauses", "Recruiter (1 user)", "Art. 6(1)(a)", "Encryption at rest", "/static/app.css"} {
		if !strings.Contains(b, want) {
			t.Errorf("the records of processing lack %q", want)
		}
	}
	if res.StatusCode != http.StatusOK || strings.Contains(b, "<script") {
		t.Errorf("records: %d", res.StatusCode)
	}
	css := body(t, f.do(request{method: "GET", path: "/static/app.css"}))
	if !strings.Contains(css, "@media print") || !strings.Contains(css, ".main-nav") {
		t.Error("no print stylesheet hides the navigation")
	}

	res = f.do(request{method: "GET", path: "/careers/acme/privacy-notice?lang=sv"})
	b = body(t, res)
	for _, want := range []string{"Så behandlar ACME Ltd dina personuppgifter", "4 månader", "30 månader", "Hostio AB", "klagomål till dataskyddsmyndigheten",
		`href="/careers/acme/privacy"`, "standard contractual clauses"} {
		if !strings.Contains(b, want) {
			t.Errorf("the notice in Swedish lacks %q", want)
		}
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("notice: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/careers/nope/privacy-notice"}); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown company's notice: %d", res.StatusCode)
	}
	pos, _ := f.publishedPosition(t, "Svetsare")
	if b := body(t, f.do(request{method: "GET", path: "/careers/acme"})); !strings.Contains(b, `href="/careers/acme/privacy-notice"`) {
		t.Error("the career page does not link the notice")
	}
	b = body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID}))
	if !strings.Contains(b, `id="position-privacy-notice"`) || !strings.Contains(b, `id="form-privacy-notice"`) || !strings.Contains(b, "privacy-notice?lang=sv") {
		t.Error("the position page and its form do not link the notice in the ad's language")
	}
}
