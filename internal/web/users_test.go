package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestInviteAColleague(t *testing.T) {
	f := newFixture(t, Options{})
	// A service with the email queue, as in production.
	f.useAccounts(account.Options{Queue: f.queue, BaseURL: "https://jobs.example"})
	admin := f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	res := f.do(request{method: "POST", path: "/users/invite", cookie: tok, form: url.Values{"email": {"bob"}, "display_name": {"Bob"}, "role": {"recruiter"}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "valid email") {
		t.Fatalf("bad email: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/users/invite", cookie: tok, form: url.Values{"email": {"bob@acme.example"}, "display_name": {"<b>Bob</b>"}, "role": {"recruiter"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", res.StatusCode)
	}
	b := body(t, f.do(request{method: "GET", path: "/users", cookie: tok}))
	if !strings.Contains(b, "&lt;b&gt;Bob&lt;/b&gt;") || strings.Contains(b, "<b>Bob</b>") || !strings.Contains(b, "Invited") {
		t.Fatal("the users page does not list the invited colleague safely escaped")
	}
	var raw string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var msg notify.Message
	json.Unmarshal([]byte(raw), &msg)
	i := strings.Index(msg.Text, "https://jobs.example/invite/")
	if i < 0 {
		t.Fatalf("invitation email: %q", msg.Text)
	}
	path := strings.Fields(msg.Text[i+len("https://jobs.example"):])[0]
	if res := f.do(request{method: "GET", path: path}); res.StatusCode != http.StatusOK {
		t.Fatalf("invitation page: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: path, form: url.Values{"new_password": {"a good Pass phrase 1"}, "confirm_password": {"a good Pass phrase 1"}}})
	if res.StatusCode != http.StatusSeeOther || sessionCookie(res) == nil {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	bob := sessionCookie(res).Value
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: bob}); res.StatusCode != http.StatusOK {
		t.Fatalf("the new colleague's dashboard: %d", res.StatusCode)
	}
	// A recruiter is no administrator.
	if res := f.do(request{method: "GET", path: "/users", cookie: bob}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("users page as a recruiter: %d, want 403", res.StatusCode)
	}
	// Nobody disables themselves; an administrator disables another.
	if res := f.do(request{method: "POST", path: "/users/" + admin.ID + "/disable", cookie: tok, form: url.Values{}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("disabling oneself: %d, want 403", res.StatusCode)
	}
	p, _ := f.accounts.Authenticate(context.Background(), bob)
	if res := f.do(request{method: "POST", path: "/users/" + p.UserID + "/disable", cookie: tok, form: url.Values{}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	if _, err := f.accounts.Authenticate(context.Background(), bob); err == nil {
		t.Fatal("the disabled user's session survived")
	}
	if res := f.do(request{method: "POST", path: "/users/no-such-user/enable", cookie: tok, form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown user: %d, want 404", res.StatusCode)
	}
	recs, _, _ := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.UserInvited})
	if len(recs) != 1 || recs[0].Actor.ID != admin.ID {
		t.Fatalf("invitation records: %+v", recs)
	}
}

func TestTransferOfTheAdministratorRight(t *testing.T) {
	f := newFixture(t, Options{})
	ada := f.user("ada", false)
	f.user("bob", false)
	tok := f.signIn("ada", testPassword)
	bobTok := f.signIn("bob", testPassword)
	bob, _ := f.accounts.Authenticate(context.Background(), bobTok)
	// Bob is made a recruiter: his sessions end (a privilege change), Ada stays the only administrator.
	if res := f.do(request{method: "POST", path: "/users/" + bob.UserID + "/role", cookie: tok, form: url.Values{"role": {"recruiter"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("make bob a recruiter: %d", res.StatusCode)
	}
	if _, err := f.accounts.Authenticate(context.Background(), bobTok); err == nil {
		t.Fatal("bob's session survived his role change")
	}
	// The last administrator cannot step down, even to a role within her rights.
	if res := f.do(request{method: "POST", path: "/roles", cookie: tok, form: url.Values{"name": {"Auditors"}, "permission": {"audit.view"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("define a role: %d", res.StatusCode)
	}
	roles, _ := f.accounts.ListRoles(context.Background(), f.company.ID)
	res := f.do(request{method: "POST", path: "/users/" + ada.ID + "/role", cookie: tok, form: url.Values{"role": {roles[0].ID}}})
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, "at least one active administrator") {
		t.Fatalf("last administrator steps down: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/users/" + bob.UserID + "/role", cookie: tok, form: url.Values{"role": {"emperor"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: %d, want 422", res.StatusCode)
	}
	// Transfer: Bob becomes administrator. Ada may not make herself HR
	// manager (candidate access she lacks); Bob gives her the role.
	f.do(request{method: "POST", path: "/users/" + bob.UserID + "/role", cookie: tok, form: url.Values{"role": {"administrator"}}})
	res = f.do(request{method: "POST", path: "/users/" + ada.ID + "/role", cookie: tok, form: url.Values{"role": {"hr_manager"}}})
	if b := body(t, res); res.StatusCode != http.StatusForbidden || !strings.Contains(b, "do not hold yourself") {
		t.Fatalf("ada gives herself candidate access: %d", res.StatusCode)
	}
	bobTok = f.signIn("bob", testPassword)
	res = f.do(request{method: "POST", path: "/users/" + ada.ID + "/role", cookie: bobTok, form: url.Values{"role": {"hr_manager"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob makes ada HR manager: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/users", cookie: tok}); res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ada's old session after her role changed: %d", res.StatusCode)
	}
	if p := f.actor(ada); p.Can(access.ManageUsers) || !p.Can(access.ViewApplications) {
		t.Fatalf("ada after stepping down: %s", p.Perms.Encode())
	}
	recs, _, _ := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.UserRoleChanged})
	if len(recs) != 3 {
		t.Fatalf("%d role change records, want 3", len(recs))
	}
	alerts, _ := f.audit.OpenAlerts(context.Background(), f.company.ID)
	rules := map[audit.Rule]int{}
	for _, a := range alerts {
		rules[a.Rule]++
	}
	// Ada and Bob were created administrators, and Bob made one again;
	// Bob and Ada were given candidate access (recruiter, HR manager).
	if rules[audit.RuleNewAdministrator] != 3 || rules[audit.RuleCandidateAccess] != 2 {
		t.Fatalf("alerts: %v", rules)
	}
}

func TestDevOutbox(t *testing.T) {
	dir := t.TempDir()
	closed := newFixture(t, Options{})
	if res := closed.do(request{method: "GET", path: "/dev/outbox"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("outbox outside development mode: %d, want 404", res.StatusCode)
	}
	f := newFixture(t, Options{OutboxDir: dir})
	box := notify.NewOutbox(dir, "kandidat@localhost")
	if err := box.Send(context.Background(), notify.Message{To: []string{"ada@acme.example"}, Subject: "Välkommen <script>", Text: "Hej!\nLänk: https://x.example/"}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/dev/outbox", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Host = "rebound.example:8080" // DNS rebinding: another site's name, this machine's address
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("outbox under another site's name: %d, want 404", rec.Code)
	}
	req.Host = "localhost:8080"
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	b := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(b, "Välkommen &lt;script&gt;") || !strings.Contains(b, "Länk: https://x.example/") {
		t.Fatalf("outbox: %d\n%s", rec.Code, b)
	}
	req.RemoteAddr = "203.0.113.5:5555"
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("outbox from another machine: %d, want 404", rec.Code)
	}
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("outbox through a local proxy: %d, want 404", rec.Code)
	}
}

func TestEmailAndSMSCodeFactorsThroughTheWeb(t *testing.T) {
	f := newFixture(t, Options{})
	f.useAccounts(account.Options{Queue: f.queue, BaseURL: "https://jobs.example"})
	if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "ada", Email: "ada@acme.example", DisplayName: "Ada", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	tok := f.signIn("ada", testPassword)
	newestCode := func() string {
		var raw string
		f.db.Read.QueryRow(`SELECT message FROM email_queue ORDER BY created_at DESC, id DESC LIMIT 1`).Scan(&raw)
		return regexpFind(raw, `\b(\d{6})\b`)
	}
	for _, tt := range []struct{ begin, confirm, disable, onMarker string }{
		{"/account/mfa/email", "/account/mfa/email/confirm", "/account/mfa/email/disable", `id="mfa-email-on"`},
		{"/account/mfa/sms", "/account/mfa/sms/confirm", "/account/mfa/sms/disable", `id="mfa-sms-on"`},
	} {
		form := url.Values{"phone": {"+46 70 123 45 67"}}
		if res := f.do(request{method: "POST", path: tt.begin, cookie: tok, form: form}); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", tt.begin, res.StatusCode)
		}
		if res := f.do(request{method: "POST", path: tt.confirm, cookie: tok, form: url.Values{"code": {"not-it"}}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s with a wrong code: %d, want 422", tt.confirm, res.StatusCode)
		}
		res := f.do(request{method: "POST", path: tt.confirm, cookie: tok, form: url.Values{"code": {newestCode()}}})
		if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="recovery-codes"`) {
			t.Fatalf("%s: %d, recovery codes not shown", tt.confirm, res.StatusCode)
		}
		if b := body(t, f.do(request{method: "GET", path: "/account/mfa", cookie: tok})); !strings.Contains(b, tt.onMarker) {
			t.Fatalf("after %s the settings page does not say it is on", tt.confirm)
		}
		if res := f.do(request{method: "POST", path: tt.disable, cookie: tok, form: url.Values{}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", tt.disable, res.StatusCode)
		}
	}
	if res := f.do(request{method: "POST", path: "/account/mfa/sms", cookie: tok, form: url.Values{"phone": {"0701234567"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("phone without country code: %d, want 422", res.StatusCode)
	}
}

// TestInviteALoginOfAnotherCompany: inviting an address that another
// company uses as a login answers exactly as a new address does; the
// invitee chooses another login when accepting. An address of one's own
// company is refused as such.
func TestInviteALoginOfAnotherCompany(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.useAccounts(account.Options{Queue: f.queue, BaseURL: "https://jobs.example"})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	beta, err := f.tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "beta", Name: "Beta", DefaultLanguage: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.accounts.CreateUser(ctx, access.Operator(beta.ID), account.CreateUserInput{Login: "taken@example.org", DisplayName: "Tove", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	answer := func(email string) (int, string, string) {
		res := f.do(request{method: "POST", path: "/users/invite", cookie: tok, form: url.Values{"email": {email}, "display_name": {"Someone"}, "role": {"line_manager"}}})
		return res.StatusCode, res.Header.Get("Location"), body(t, res)
	}
	freshStatus, freshLocation, freshBody := answer("fresh@example.org")
	takenStatus, takenLocation, takenBody := answer("taken@example.org")
	if freshStatus != http.StatusSeeOther || takenStatus != freshStatus || takenLocation != freshLocation || takenBody != freshBody {
		t.Fatalf("a new address: %d %q; another company's login: %d %q", freshStatus, freshLocation, takenStatus, takenLocation)
	}
	f.user("carol@acme.example", false)
	for _, email := range []string{"carol@acme.example", "taken@example.org"} {
		status, _, b := answer(email)
		if status != http.StatusConflict || !strings.Contains(b, "already uses this address") {
			t.Errorf("inviting %s, of this company: %d", email, status)
		}
	}
	// The invitee finds the login taken and chooses another.
	var raw string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue WHERE message LIKE '%taken@example.org%'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var msg notify.Message
	json.Unmarshal([]byte(raw), &msg)
	path := strings.Fields(msg.Text[strings.Index(msg.Text, "https://jobs.example")+len("https://jobs.example"):])[0]
	pass := url.Values{"new_password": {"a good Pass phrase 1"}, "confirm_password": {"a good Pass phrase 1"}}
	res := f.do(request{method: "POST", path: path, form: pass})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="login"`) || !strings.Contains(b, "Choose another one") {
		t.Fatalf("accepting with a taken login: %d", res.StatusCode)
	}
	pass.Set("login", "tove.acme")
	res = f.do(request{method: "POST", path: path, form: pass})
	if res.StatusCode != http.StatusSeeOther || sessionCookie(res) == nil {
		t.Fatalf("accepting with a login of one's own: %d %s", res.StatusCode, body(t, res))
	}
	if _, _, err := f.accounts.SignIn(ctx, "tove.acme", "a good Pass phrase 1", account.Client{}); err != nil {
		t.Fatalf("signing in with the chosen login: %v", err)
	}
	if _, _, err := f.accounts.SignIn(ctx, "taken@example.org", testPassword, account.Client{}); err != nil {
		t.Fatalf("the other company's user: %v", err)
	}
}
