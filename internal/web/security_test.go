package web

import (
	"context"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSecurityPageSessions(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	f.user("bob", false)
	laptop := f.signIn("ada", testPassword)
	phone := f.signIn("ada", testPassword)
	bobs := f.signIn("bob", testPassword)
	res := f.do(request{method: "GET", path: "/account/security", cookie: laptop})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || strings.Count(b, "/revoke\"") != 2 || !strings.Contains(b, "This browser") {
		t.Fatalf("security page: %d, sessions listed %d", res.StatusCode, strings.Count(b, "/revoke\""))
	}
	if !strings.Contains(b, "Signed in") {
		t.Error("recent sign-ins missing")
	}
	ada, _ := f.accounts.Authenticate(context.Background(), phone)
	bob, _ := f.accounts.Authenticate(context.Background(), bobs)
	// Another user's session is not ours to end.
	if res := f.do(request{method: "POST", path: "/account/sessions/" + bob.SessionID + "/revoke", cookie: laptop, form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking another user's session: %d, want 404", res.StatusCode)
	}
	if _, err := f.accounts.Authenticate(context.Background(), bobs); err != nil {
		t.Fatal("another user's session ended")
	}
	res = f.do(request{method: "POST", path: "/account/sessions/" + ada.SessionID + "/revoke", cookie: laptop, form: url.Values{}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if _, err := f.accounts.Authenticate(context.Background(), phone); err == nil {
		t.Fatal("the revoked session still works")
	}
	if _, err := f.accounts.Authenticate(context.Background(), laptop); err != nil {
		t.Fatal("revoking the phone ended the laptop's session")
	}
	tablet := f.signIn("ada", testPassword)
	f.do(request{method: "POST", path: "/account/sessions/revoke-others", cookie: laptop, form: url.Values{}})
	if _, err := f.accounts.Authenticate(context.Background(), tablet); err == nil {
		t.Fatal("revoke-others left a session")
	}
	if _, err := f.accounts.Authenticate(context.Background(), laptop); err != nil {
		t.Fatal("revoke-others ended the current session")
	}
}

func TestUnlockPages(t *testing.T) {
	f := newFixture(t, Options{})
	if res := f.do(request{method: "GET", path: "/unlock/not-a-token"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link: %d, want 404", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/unlock/not-a-token", form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link, posted: %d, want 404", res.StatusCode)
	}
}

func TestWeakPasswordMessages(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", true)
	tok := f.signIn("ada", testPassword)
	for pw, want := range map[string]string{
		"Password123!":     "too common",
		"a1a1a1a1a1":       "simple sequence or repetition",
		"ACME Ltd rocks 1": "company",
	} {
		res := f.do(request{method: "POST", path: "/password", cookie: tok, form: url.Values{"current_password": {testPassword}, "new_password": {pw}, "confirm_password": {pw}}})
		if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, want) {
			t.Errorf("%q: %d, want 422 saying %q", pw, res.StatusCode, want)
		}
	}
}

func TestCompanyRequiresMFA(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	if err := f.tenants.SetSettings(context.Background(), audit.Operator, f.company.ID, tenant.Settings{PasswordProfile: "standard", RequireMFA: true}); err != nil {
		t.Fatal(err)
	}
	tok := f.signIn("ada", testPassword)
	res := f.do(request{method: "GET", path: "/dashboard", cookie: tok})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("dashboard without MFA in a company requiring it: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	b := body(t, f.do(request{method: "GET", path: "/account/mfa", cookie: tok}))
	if !strings.Contains(b, `id="mfa-required"`) {
		t.Fatal("the enrolment page does not say MFA is required")
	}
	res = f.do(request{method: "POST", path: "/account/mfa/totp", cookie: tok, form: url.Values{}})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `src="data:image/png;base64,`) {
		t.Fatalf("enrolment: %d, QR image missing", res.StatusCode)
	}
}

func TestSensitiveSettingsAskForThePasswordAgain(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	if res := f.do(request{method: "GET", path: "/account/mfa", cookie: tok}); res.StatusCode != http.StatusOK {
		t.Fatalf("right after sign-in: %d, want 200", res.StatusCode)
	}
	start := time.Now()
	f.accounts.SetClock(func() time.Time { return start.Add(11 * time.Minute) })
	res := f.do(request{method: "POST", path: "/account/mfa/totp", cookie: tok, form: url.Values{}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reauth?next=%2Faccount%2Fmfa" {
		t.Fatalf("eleven minutes later: %d to %q, want the re-authentication page", res.StatusCode, res.Header.Get("Location"))
	}
	if res := f.do(request{method: "POST", path: "/reauth", cookie: tok, form: url.Values{"password": {"wrong-pass-1"}, "next": {"/account/mfa"}}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/reauth", cookie: tok, form: url.Values{"password": {testPassword}, "next": {"https://evil.example/"}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("re-authentication: %d to %q, want a local redirect", res.StatusCode, res.Header.Get("Location"))
	}
	if res := f.do(request{method: "GET", path: "/account/mfa", cookie: tok}); res.StatusCode != http.StatusOK {
		t.Fatalf("after re-authenticating: %d, want 200", res.StatusCode)
	}
}

func TestStrictProfileRequiresAKeyOfAdministrators(t *testing.T) {
	f := newFixture(t, Options{})
	if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "ada", DisplayName: "Ada", Password: "a long strict passphrase"}); err != nil {
		t.Fatal(err)
	}
	if err := f.tenants.SetSettings(context.Background(), audit.Operator, f.company.ID, tenant.Settings{PasswordProfile: "strict"}); err != nil {
		t.Fatal(err)
	}
	tok := f.signIn("ada", "a long strict passphrase")
	res := f.do(request{method: "GET", path: "/dashboard", cookie: tok})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("administrator without a key under the strict profile: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	b := body(t, f.do(request{method: "GET", path: "/account/mfa", cookie: tok}))
	if !strings.Contains(b, `id="passkey-required"`) || strings.Contains(b, `id="mfa-email-begin"`) {
		t.Fatal("the page must ask for a key and offer no email codes under the strict profile")
	}
}

func TestMFARequiredForChosenRoles(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false) // administrator
	if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "rec", DisplayName: "Rec", Password: testPassword, Role: "recruiter"}); err != nil {
		t.Fatal(err)
	}
	if err := f.tenants.SetSettings(context.Background(), audit.Operator, f.company.ID, tenant.Settings{PasswordProfile: "standard", RequireMFARoles: []string{"administrator"}}); err != nil {
		t.Fatal(err)
	}
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: f.signIn("ada", testPassword)}); res.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("administrator: %d to %q, want the enrolment page", res.StatusCode, res.Header.Get("Location"))
	}
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: f.signIn("rec", testPassword)}); res.StatusCode != http.StatusOK {
		t.Fatalf("recruiter: %d, want the dashboard", res.StatusCode)
	}
}
