package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestTenantIsolationOfEveryRoute walks every registered route as an
// administrator of company A, aiming at the objects of company B (and at
// missing and malformed ids). Routes naming an object answer 404; no answer
// carries anything of B. A route added without a case here fails the test.
func TestTenantIsolationOfEveryRoute(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)

	ctx := context.Background()
	b, err := f.tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "beta", Name: "Beta Industries Secretname", DefaultLanguage: "en"})
	if err != nil {
		t.Fatal(err)
	}
	bUser, err := f.accounts.CreateUser(ctx, audit.Operator, b.ID, account.CreateUserInput{Login: "bertil-secretlogin", DisplayName: "Bertil Secretperson", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	bToken, _, err := f.accounts.SignIn(ctx, "bertil-secretlogin", testPassword, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	bPrincipal, _ := f.accounts.Authenticate(ctx, bToken)
	bAlerts, _ := f.audit.OpenAlerts(ctx, b.ID)
	if len(bAlerts) == 0 {
		t.Fatal("company B has no alert to aim at")
	}
	secrets := []string{"Beta Industries Secretname", "bertil-secretlogin", "Bertil Secretperson", bUser.ID, bAlerts[0].ID, bPrincipal.SessionID, b.ID}

	// Per pattern: the values for its wildcards, and whether it names an
	// object of the company (then 404 is the only answer).
	ids := map[string][]string{
		"id":     {bUser.ID, bAlerts[0].ID, bPrincipal.SessionID, "00000000-0000-0000-0000-000000000000", "not-an-id", "%2e%2e", strings.Repeat("x", 300)},
		"token":  {"not-a-token", strings.Repeat("A", 43)},
		"format": {"csv", "json", "xml"},
		"lang":   {"sv", "xx"},
	}
	objectRoutes := map[string]bool{
		"POST /users/{id}/disable": true, "POST /users/{id}/enable": true, "POST /users/{id}/role": true,
		"POST /alerts/{id}/acknowledge": true, "POST /account/sessions/{id}/revoke": true,
		"GET /setup/{token}": true, "POST /setup/{token}": true, "GET /password/reset/{token}": true, "POST /password/reset/{token}": true,
		"GET /unlock/{token}": true, "POST /unlock/{token}": true, "GET /invite/{token}": true, "POST /invite/{token}": true,
	}
	// Routes without wildcards, and what each may answer (they name no object of B).
	plain := map[string]bool{}
	for _, p := range []string{
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /static/", "GET /{$}", "GET /signin", "POST /signin", "POST /signout",
		"GET /signin/mfa", "POST /signin/mfa", "POST /signin/mfa/webauthn/begin", "POST /signin/mfa/webauthn/finish",
		"GET /password/forgot", "POST /password/forgot", "GET /password", "POST /password", "GET /dashboard", "GET /profile", "POST /profile",
		"GET /account/security", "GET /reauth", "POST /reauth", "GET /account/mfa", "POST /account/mfa/totp", "POST /account/mfa/totp/confirm",
		"POST /account/mfa/totp/disable", "POST /account/mfa/email", "POST /account/mfa/sms", "POST /account/mfa/sms/confirm",
		"POST /account/mfa/sms/disable", "POST /account/mfa/webauthn/begin", "POST /account/mfa/webauthn/finish", "POST /account/mfa/email/confirm",
		"POST /account/mfa/email/disable", "POST /account/sessions/revoke-others", "GET /users", "POST /users/invite",
		"GET /audit", "GET /audit/security", "GET /dev/outbox", "/",
	} {
		plain[p] = true
	}
	patterns := f.srv.RoutePatterns()
	// Signing out ends the walk's session: do it last.
	slices.SortStableFunc(patterns, func(a, b string) int {
		if a == "POST /signout" {
			return 1
		}
		if b == "POST /signout" {
			return -1
		}
		return 0
	})
	if len(patterns) < 40 {
		t.Fatalf("only %d routes found", len(patterns))
	}
	for _, pattern := range patterns {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = "GET", pattern
		}
		var paths []string
		switch {
		case plain[pattern]:
			p := strings.TrimSuffix(strings.ReplaceAll(path, "{$}", ""), "/")
			if p == "" {
				p = "/"
			}
			if pattern == "GET /static/" {
				p = "/static/app.css"
			}
			if pattern == "/" {
				p = "/no/such/page"
			}
			paths = []string{p}
		case strings.Contains(path, "{"):
			name := path[strings.Index(path, "{")+1 : strings.Index(path, "}")]
			vals, known := ids[name]
			if !known {
				t.Errorf("route %q: no isolation case for {%s}", pattern, name)
				continue
			}
			for _, v := range vals {
				paths = append(paths, strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1))
			}
		default:
			t.Errorf("route %q has no tenant-isolation case: add it to this test", pattern)
			continue
		}
		for _, p := range paths {
			var form url.Values
			if method == "POST" {
				form = url.Values{"role": {"recruiter"}, "code": {"123456"}, "display_name": {"Ada"}, "email": {"new@acme.example"}}
			}
			res := f.do(request{method: method, path: p, cookie: tok, form: form})
			body := body(t, res)
			for _, secret := range secrets {
				// The path itself may be echoed (e.g. in the language links); that is the caller's own input.
				if strings.Contains(body, secret) && !strings.Contains(p, secret) {
					t.Errorf("%s %s as company A shows %q of company B", method, p, secret)
				}
			}
			if objectRoutes[pattern] && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as company A: %d, want 404", method, p, res.StatusCode)
			}
		}
	}
	// Company B is untouched.
	if _, err := f.accounts.Authenticate(ctx, bToken); err != nil {
		t.Fatal("company B's session was ended from company A")
	}
	if u, _ := f.accounts.UserByID(ctx, b.ID, bUser.ID); u.Status != account.Active || u.Role != account.RoleAdministrator {
		t.Fatalf("company B's user was changed from company A: %+v", u)
	}
	if open, _ := f.audit.OpenAlerts(ctx, b.ID); len(open) != len(bAlerts) {
		t.Fatal("company B's alert was acknowledged from company A")
	}
}
