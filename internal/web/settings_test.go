package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
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
	bad := url.Values{"name": {" "}, "default_language": {"de"}, "password_profile": {"lax"}, "require_mfa_role": {"ghost"},
		"free_publications": {"many"}, "publication_cost": {"-1"}}
	res = f.do(request{method: "POST", path: "/settings", cookie: admin, form: bad, header: map[string]string{"Accept-Language": "sv"}})
	b := body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad settings: %d", res.StatusCode)
	}
	for field, key := range map[string]string{"name": "error.company_name", "default_language": "error.language", "password_profile": "error.password_profile",
		"require_mfa_roles": "error.role", "free_publications": "error.allowance", "publication_cost": "error.allowance"} {
		want := `<p class="field-error" id="` + field + `-error">` + f.srv.I18n.T("sv", key) + `</p>`
		if !strings.Contains(b, want) {
			t.Errorf("no Swedish error beside %s (want %s)", field, want)
		}
	}
	if !strings.Contains(b, `value="many"`) || !strings.Contains(b, `value="-1"`) {
		t.Error("the posted values are not shown again")
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

	// A good save.
	good := url.Values{"name": {"  ACME Group  "}, "default_language": {"sv"}, "password_profile": {"strict"}, "require_mfa_role": {access.Recruiter},
		"free_publications": {"5"}, "publication_cost": {"2"}}
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
		s.RequireMFARoles[0] != access.Recruiter || s.FreePublicationsPerMonth() != 5 || s.PublicationCredits() != 2 {
		t.Fatalf("saved: %+v %+v", co, s)
	}
	recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.TenantSettingsChanged})
	if err != nil || len(recs) != 1 {
		t.Fatalf("the save is not recorded: %+v %v", recs, err)
	}
	r := recs[0]
	if r.Actor.ID != root.ID || r.Details["fields"] != "name,default_language,password_profile,require_mfa_roles,free_publications,publication_cost" ||
		r.Details["password_profile"] != "strict" || r.Details["require_mfa"] != "false" {
		t.Fatalf("recorded: %+v", r)
	}
	for _, v := range r.Details {
		if strings.Contains(v, "ACME") {
			t.Fatalf("the trail holds the company name: %+v", r.Details)
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
