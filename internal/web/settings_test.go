package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestCompanySettingsPage: an administrator saves the company's settings on
// /settings; the save is recorded with what changed; a bad input is
// explained beside its fields in the user's language with the input kept
// and nothing saved; a recruiter neither sees the link nor reaches the page;
// the requirement of a second factor applies to a required role at once.
func TestCompanySettingsPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	root := f.user("root", false)
	admin := f.signIn("root", testPassword)

	res := f.do(request{method: "GET", path: "/settings", cookie: admin})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="settings-form"`) || !strings.Contains(b, `value="ACME Ltd"`) ||
		!strings.Contains(b, `id="password_profile-standard" value="standard" checked`) {
		t.Fatalf("settings page: %d\n%s", res.StatusCode, b)
	}
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: admin})); !strings.Contains(b, `id="nav-settings"`) {
		t.Fatal("the administrator's menu has no settings link")
	}

	// A bad input, in Swedish: every field explained, the input kept, nothing saved.
	bad := url.Values{"password_profile": {"lax"}, "require_mfa_role": {"ghost"},
		"free_publications": {"many"}, "publication_cost": {"-1"}, "session_idle": {"2"}, "session_absolute": {"9999"},
		"alert_failed_sign_ins": {"x"}, "alert_failed_sign_in_window": {"0"}, "retention_security": {"30"}, "retention_consent": {"365"}}
	res = f.do(request{method: "POST", path: "/settings", cookie: admin, form: bad, header: map[string]string{"Accept-Language": "sv"}})
	b := body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad settings: %d", res.StatusCode)
	}
	for field, key := range map[string]string{"password_profile": "error.password_profile",
		"require_mfa_roles": "error.role", "free_publications": "error.allowance", "publication_cost": "error.allowance",
		"session_idle": "error.session_idle", "session_absolute": "error.session_absolute", "alert_failed_sign_ins": "error.alert_failed_sign_ins",
		"alert_failed_sign_in_window": "error.alert_failed_sign_in_window", "retention_security": "error.retention", "retention_consent": "error.retention"} {
		want := `<p class="field-error" id="` + field + `-error">` + f.srv.I18n.T("sv", key) + `</p>`
		if !strings.Contains(b, want) {
			t.Errorf("no Swedish error beside %s (want %s)", field, want)
		}
	}
	if !strings.Contains(b, `value="many"`) || !strings.Contains(b, `value="-1"`) || !strings.Contains(b, `value="9999"`) {
		t.Error("the posted values are not shown again")
	}
	badProfile := url.Values{"name": {" "}, "default_language": {"de"}, "time_zone": {"Mars/Olympus"}, "privacy_contact": {"not an address"},
		"career_colour": {"red;}body{display:none"}}
	res = f.do(request{method: "POST", path: "/settings/profile", cookie: admin, form: badProfile, header: map[string]string{"Accept-Language": "sv"}})
	b = body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad profile: %d", res.StatusCode)
	}
	for field, key := range map[string]string{"name": "error.company_name", "default_language": "error.language", "time_zone": "error.time_zone",
		"privacy_contact": "error.email_format", "career_colour": "error.colour"} {
		want := `<p class="field-error" id="` + field + `-error">` + f.srv.I18n.T("sv", key) + `</p>`
		if !strings.Contains(b, want) {
			t.Errorf("no Swedish error beside %s (want %s)", field, want)
		}
	}
	if recs, _, _ := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.TenantSettingsChanged}); len(recs) != 0 {
		t.Fatalf("a refused save was recorded: %+v", recs)
	}
	if co, _ := f.tenants.ByID(ctx, f.company.ID); co.Name != "ACME Ltd" || co.Settings.PasswordProfile != "standard" {
		t.Fatalf("a refused save changed the company: %+v", co)
	}

	// A recruiter: no link, 403 on both methods, the denial in the security log.
	_, rec := f.roleUser("rolf", access.Recruiter)
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: rec})); strings.Contains(b, `id="nav-settings"`) {
		t.Fatal("the recruiter's menu has the settings link")
	}
	for _, m := range []string{"GET", "POST"} {
		var form url.Values
		if m == "POST" {
			form = url.Values{"name": {"Hijacked"}, "default_language": {"en"}, "password_profile": {"standard"}}
		}
		if res := f.do(request{method: m, path: "/settings", cookie: rec, form: form}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("recruiter %s /settings: %d", m, res.StatusCode)
		}
	}
	if recs, _, _ := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.AccessDecided}); len(recs) != 2 || recs[0].Details["permission"] != "company.settings" {
		t.Fatalf("the denials are not in the security log: %+v", recs)
	}

	// A good save of each part.
	profile := url.Values{"name": {"  ACME Group  "}, "default_language": {"sv"}, "time_zone": {"Europe/Helsinki"},
		"privacy_contact": {"privacy@acme.example"}, "career_colour": {"#1F5F8B"}}
	res = f.do(request{method: "POST", path: "/settings/profile", cookie: admin, form: profile})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings?saved=1" {
		t.Fatalf("save the profile: %d %s", res.StatusCode, body(t, res))
	}
	// The page shows the saved values again.
	b = body(t, f.do(request{method: "GET", path: "/settings", cookie: admin}))
	for _, v := range []string{`value="Europe/Helsinki"`, `value="#1f5f8b"`, `value="privacy@acme.example"`} {
		if !strings.Contains(b, v) {
			t.Errorf("the page does not show %s", v)
		}
	}
	good := url.Values{"password_profile": {"strict"}, "require_mfa_role": {access.Recruiter},
		"free_publications": {"5"}, "publication_cost": {"2"}, "session_idle": {"15"}, "session_absolute": {"8"},
		"alert_failed_sign_ins": {"3"}, "alert_failed_sign_in_window": {"5"}, "alert_mass_count": {""}, "retention_security": {"400"}}
	res = f.do(request{method: "POST", path: "/settings", cookie: admin, form: good})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings?saved=1" {
		t.Fatalf("save: %d %s", res.StatusCode, body(t, res))
	}
	co, err := f.tenants.ByID(ctx, f.company.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := co.Settings
	if co.Name != "ACME Group" || co.DefaultLanguage != "sv" || s.PasswordProfile != "strict" || s.RequireMFA || len(s.RequireMFARoles) != 1 ||
		s.RequireMFARoles[0] != access.Recruiter || s.FreePublicationsPerMonth() != 5 || s.PublicationCredits() != 2 ||
		s.SessionIdle != 15*time.Minute || s.SessionAbsolute != 8*time.Hour || co.Zone() != "Europe/Helsinki" ||
		s.PrivacyContact != "privacy@acme.example" || s.CareerColour != "#1f5f8b" {
		t.Fatalf("saved: %+v %+v", co, s)
	}
	rules, own, err := f.audit.RulesOf(ctx, f.company.ID)
	if err != nil || !own || rules.FailedSignIns != 3 || rules.FailedSignInWindow != 5*time.Minute || rules.MassCount != f.audit.Rules().MassCount {
		t.Fatalf("alert thresholds: %+v %v %v", rules, own, err)
	}
	if ret, err := f.audit.OwnRetention(ctx, f.company.ID); err != nil || len(ret) != 1 || ret[audit.Security] != 400 {
		t.Fatalf("retention: %v %v", ret, err)
	}
	recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.TenantSettingsChanged})
	if err != nil || len(recs) != 2 {
		t.Fatalf("the saves are not recorded: %+v %v", recs, err)
	}
	want := map[string]bool{"career_colour,default_language,name,privacy_contact,time_zone": true,
		"alerts,free_publications,password_profile,publication_cost,require_mfa_roles,retention,session_absolute,session_idle": true}
	for _, r := range recs {
		if r.Actor.ID != root.ID || !want[r.Details["fields"]] {
			t.Fatalf("recorded: %+v", r)
		}
	}
	r := recs[0]
	if r.Details["password_profile"] != "strict" || r.Details["require_mfa"] != "false" {
		t.Fatalf("recorded: %+v", r)
	}
	for _, r := range recs {
		for _, v := range r.Details {
			if strings.Contains(v, "ACME") || strings.Contains(v, "privacy@") {
				t.Fatalf("the trail holds the company's values: %+v", r.Details)
			}
		}
	}

	// The recruiter, of the required role, is sent to set up a second factor
	// on the next request; the administrator (strict profile) to add a passkey.
	for who, tok := range map[string]string{"recruiter": rec, "administrator": admin} {
		res := f.do(request{method: "GET", path: "/dashboard", cookie: tok})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/mfa" {
			t.Errorf("%s after the save: %d %q", who, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

// TestProfileSettingsForHRManagers: an HR manager keeps the company profile
// without a password prompt and sees nothing of the security settings,
// which refuse their save.
func TestProfileSettingsForHRManagers(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	_, hr := f.roleUser("helga", access.HRManager)
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: hr})); !strings.Contains(b, `id="nav-settings"`) {
		t.Fatal("the HR manager's menu has no settings link")
	}
	res := f.do(request{method: "GET", path: "/settings", cookie: hr})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, `id="profile-form"`) || strings.Contains(b, `id="settings-form"`) {
		t.Fatalf("HR manager's settings page: %d\n%s", res.StatusCode, b)
	}
	res = f.do(request{method: "POST", path: "/settings", cookie: hr, form: url.Values{"password_profile": {"standard"}}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("HR manager saves security settings: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/settings/profile", cookie: hr, form: url.Values{"name": {"ACME People"}, "default_language": {"en"},
		"time_zone": {""}, "privacy_contact": {""}, "career_colour": {""}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("HR manager saves the profile: %d %s", res.StatusCode, body(t, res))
	}
	if co, _ := f.tenants.ByID(ctx, f.company.ID); co.Name != "ACME People" || co.Settings.PasswordProfile != "standard" {
		t.Fatalf("after the profile save: %+v", co)
	}
}

// TestCompanySessionTimeout: a company's shorter idle timeout signs its
// users out sooner, sessions already open included.
func TestCompanySessionTimeout(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	co, err := f.tenants.ByID(ctx, f.company.ID)
	if err != nil {
		t.Fatal(err)
	}
	root := f.user("root", false)
	admin := access.Actor{TenantID: co.ID, UserID: root.ID, Perms: access.Of(access.CompanySettings)}
	sec := tenant.Security{PasswordProfile: co.Settings.PasswordProfile, SessionIdle: 10 * time.Minute}
	if err := f.tenants.SaveSecurity(ctx, admin, sec); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.accounts.SetClock(func() time.Time { return start.Add(9 * time.Minute) })
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusOK {
		t.Fatalf("within the company's idle timeout: %d", res.StatusCode)
	}
	f.accounts.SetClock(func() time.Time { return start.Add(20 * time.Minute) })
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("after the company's idle timeout (the installation's is 30 minutes): %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestCompanySessionLifetime: a company's shorter absolute timeout ends a
// session that is in use.
func TestCompanySessionLifetime(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	root := f.user("root", false)
	admin := access.Actor{TenantID: f.company.ID, UserID: root.ID, Perms: access.Of(access.CompanySettings)}
	if err := f.tenants.SaveSecurity(ctx, admin, tenant.Security{PasswordProfile: "standard", SessionAbsolute: time.Hour}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, after := range []time.Duration{25 * time.Minute, 50 * time.Minute} {
		f.accounts.SetClock(func() time.Time { return start.Add(after) })
		if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusOK {
			t.Fatalf("%s after sign-in, in use: %d", after, res.StatusCode)
		}
	}
	f.accounts.SetClock(func() time.Time { return start.Add(61 * time.Minute) })
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("past the company's absolute timeout: %d", res.StatusCode)
	}
}

// TestInterviewFormProposesTheCompanyTimeZone: the card's interview form
// starts in the company's time zone, also one the list does not name.
func TestInterviewFormProposesTheCompanyTimeZone(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Ivan", Email: "ivan@example.org"}, access.StageInterview, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	root := f.user("root", false)
	admin := access.Actor{TenantID: f.company.ID, UserID: root.ID, Perms: access.Of(access.CompanyProfile)}
	recTok := f.signIn("rolf", testPassword)
	for _, zone := range []string{"Europe/Helsinki", "America/Sao_Paulo"} {
		if err := f.tenants.SaveProfile(ctx, admin, tenant.Profile{Name: "ACME Ltd", DefaultLanguage: "en", TimeZone: zone}); err != nil {
			t.Fatal(err)
		}
		b := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
		if want := `<option value="` + zone + `" selected>`; !strings.Contains(b, want) {
			i := strings.Index(b, `id="time_zone"`)
			t.Errorf("the interview form does not start in %s: %s", zone, b[i:min(len(b), i+300)])
		}
	}
}
