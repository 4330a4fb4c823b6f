package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/testkit"
)

var secretOnPage = regexp.MustCompile(`<code id="token-secret-value">(kdt_[^<]+)</code>`)

// TestTokenPages: an administrator makes a service user and a token acting
// as it on the tokens page (re-authenticated), reads the secret once,
// calls the API with it, and revokes it; the form's refusals, the guards
// (permission, module, re-authentication) and the users list's mark.
func TestTokenPages(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	admin := f.user("ada", false)
	colleague := f.user("bob", false)
	tok := f.signIn("ada", testPassword)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res := f.do(request{method: "GET", path: path, cookie: tok})
		return res, body(t, res)
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		res := f.do(request{method: "POST", path: path, cookie: tok, form: form})
		return res, body(t, res)
	}
	if _, b := get("/dashboard"); !strings.Contains(b, `id="nav-api-tokens"`) {
		t.Fatal("the navigation has no link to the tokens page")
	}
	if res, b := get("/settings/api-tokens"); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="token-empty"`) {
		t.Fatalf("empty list: %d", res.StatusCode)
	}

	// A service user: refused with a role that manages users, then made.
	if res, b := post("/settings/api-tokens/service-users", url.Values{"display_name": {"HR Sync"}, "role": {access.Administrator}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(b, f.srv.I18n.T("en", "error.service_user_role")) {
		t.Fatalf("administrator role: %d, want 422 with its message", res.StatusCode)
	}
	res, _ := post("/settings/api-tokens/service-users", url.Values{"display_name": {"HR Sync"}, "role": {access.Recruiter}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/settings/api-tokens?service=svc-hr-sync-") {
		t.Fatalf("service user: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, b := get(res.Header.Get("Location")); !strings.Contains(b, `id="service-created"`) {
		t.Fatal("no notice of the new service user")
	}
	adminP, err := f.accounts.Principal(ctx, f.company.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	services, err := f.accounts.ServiceUsers(ctx, adminP.Actor())
	if err != nil || len(services) != 1 {
		t.Fatalf("service users: %v %v", services, err)
	}
	svc := services[0]
	if _, b := get("/users"); !strings.Contains(b, `id="service-`+svc.ID+`"`) {
		t.Fatal("the users list does not mark the service user")
	}

	// The form: every scope for an administrator, the service user to act as.
	res, b := get("/settings/api-tokens/new")
	if res.StatusCode != http.StatusOK || !strings.Contains(b, `id="token-form"`) || !strings.Contains(b, `value="positions.view"`) || !strings.Contains(b, `value="`+svc.ID+`"`) {
		t.Fatalf("new token form: %d", res.StatusCode)
	}
	good := url.Values{"name": {"Job board"}, "user": {svc.ID}, "scopes": {"positions.view"}, "expires": {"90"}}
	with := func(k string, v ...string) url.Values {
		out := url.Values{}
		for key, vals := range good {
			out[key] = vals
		}
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		key    string
	}{
		{"no name", with("name", " "), http.StatusUnprocessableEntity, "error.api_token_name_required"},
		{"no scope", with("scopes"), http.StatusUnprocessableEntity, "error.api_scopes_required"},
		{"an unknown scope", with("scopes", "everything.all"), http.StatusUnprocessableEntity, "error.api_scopes_required"},
		{"an expiry not offered", with("expires", "7000"), http.StatusUnprocessableEntity, "error.api_token_expiry"},
		{"a scope the service user lacks", with("scopes", "users.manage"), http.StatusForbidden, "error.api_scope_not_held"},
		{"a colleague to act as", with("user", colleague.ID), http.StatusUnprocessableEntity, "error.api_token_user"},
	} {
		res, b := post("/settings/api-tokens", tc.form)
		if res.StatusCode != tc.status || !strings.Contains(b, f.srv.I18n.T("en", tc.key)) || secretOnPage.MatchString(b) {
			t.Errorf("%s: got %d, want %d with %s", tc.name, res.StatusCode, tc.status, tc.key)
		}
	}
	if list, _ := f.accounts.Tokens(ctx, adminP.Actor()); len(list) != 0 {
		t.Fatalf("refused forms made %d tokens", len(list))
	}

	// Made: the secret is on this answer only.
	res, b = post("/settings/api-tokens", good)
	m := secretOnPage.FindStringSubmatch(b)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d, secret shown: %v", res.StatusCode, m != nil)
	}
	secret := m[1]
	if r := f.call(secret, "GET", "/api/v1/positions", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("the new token's call: %d %s", r.StatusCode, r.Body)
	}
	list, err := f.accounts.Tokens(ctx, adminP.Actor())
	if err != nil || len(list) != 1 || list[0].UserID != svc.ID || list[0].CreatedBy != admin.ID || list[0].ExpiresAt.IsZero() {
		t.Fatalf("tokens: %+v %v", list, err)
	}
	created := list[0]
	if res, b := get("/settings/api-tokens"); res.StatusCode != http.StatusOK || strings.Contains(b, secret) || !strings.Contains(b, created.Prefix) ||
		!strings.Contains(b, "Job board") || !strings.Contains(b, `id="revoke-`+created.ID+`"`) || !strings.Contains(b, "192.0.2.1") ||
		!strings.Contains(b, f.srv.I18n.T("en", "permission.positions.view")) {
		t.Fatalf("list after creating: %d, or it shows the secret or misses the token", res.StatusCode)
	}

	// Revoked: the next call gets 401; an unknown token is 404.
	if res, _ := post("/settings/api-tokens/"+created.ID+"/revoke", url.Values{}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/api-tokens?revoked=1" {
		t.Fatalf("revoke: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if r := f.call(secret, "GET", "/api/v1/positions", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked token's call: %d, want 401", r.StatusCode)
	}
	if _, b := get("/settings/api-tokens?revoked=1"); !strings.Contains(b, `id="token-revoked"`) || strings.Contains(b, `id="revoke-`+created.ID+`"`) {
		t.Fatal("the list after revoking shows no notice, or still a revoke button")
	}
	if res, _ := post("/settings/api-tokens/00000000-0000-0000-0000-000000000000/revoke", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke an unknown token: %d, want 404", res.StatusCode)
	}

	// Eleven minutes on: a new token and a service user ask for the password again.
	start := time.Now()
	f.accounts.SetClock(func() time.Time { return start.Add(11 * time.Minute) })
	for _, tc := range []struct{ method, path, next string }{
		{"GET", "/settings/api-tokens/new", "/settings/api-tokens/new"},
		{"POST", "/settings/api-tokens", "/settings/api-tokens/new"},
		{"POST", "/settings/api-tokens/service-users", "/settings/api-tokens"},
	} {
		var form url.Values
		if tc.method == "POST" {
			form = good
		}
		res := f.do(request{method: tc.method, path: tc.path, cookie: tok, form: form})
		if want := "/reauth?next=" + url.QueryEscape(tc.next); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("%s %s eleven minutes after signing in: %d to %q, want %s", tc.method, tc.path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	if list, _ := f.accounts.Tokens(ctx, adminP.Actor()); len(list) != 1 {
		t.Fatalf("a form without re-authentication made a token: %d", len(list))
	}
	// The list itself needs no fresh password.
	if res, _ := get("/settings/api-tokens"); res.StatusCode != http.StatusOK {
		t.Fatalf("list eleven minutes on: %d", res.StatusCode)
	}
}

// TestTokenPagesGuards: the right to manage tokens, and the api module.
func TestTokenPagesGuards(t *testing.T) {
	f := newAPIFixture(t)
	f.kit.Actor(t, f.company.ID, "rita", access.Recruiter)
	rita := f.signIn("rita", testkit.Password)
	for _, path := range []string{"/settings/api-tokens", "/settings/api-tokens/new"} {
		if res := f.do(request{method: "GET", path: path, cookie: rita}); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as a recruiter: %d, want 403", path, res.StatusCode)
		}
	}
	if res := f.do(request{method: "POST", path: "/settings/api-tokens", cookie: rita, form: url.Values{"name": {"x"}, "scopes": {"positions.view"}, "expires": {"30"}}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST as a recruiter: %d, want 403", res.StatusCode)
	}
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: rita})); strings.Contains(b, `id="nav-api-tokens"`) {
		t.Error("a recruiter's navigation links to the tokens page")
	}
	// Without the api module the pages do not exist.
	g := newFixture(t, Options{})
	g.user("ada", false)
	tok := g.signIn("ada", testPassword)
	if res := g.do(request{method: "GET", path: "/settings/api-tokens", cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Errorf("without the api module: %d, want 404", res.StatusCode)
	}
	if b := body(t, g.do(request{method: "GET", path: "/dashboard", cookie: tok})); strings.Contains(b, `id="nav-api-tokens"`) {
		t.Error("the navigation links to the tokens page without the api module")
	}
}
