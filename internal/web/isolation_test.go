package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/importer"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/webhook"
	"github.com/kandidat/kandidat/internal/whistle"
)

// TestTenantIsolationOfEveryRoute walks every registered route as an
// administrator of company A, aiming at the objects of company B (and at
// missing and malformed ids). Routes naming an object answer 404; no answer
// carries anything of B. A route added without a case here fails the test.
func TestTenantIsolationOfEveryRoute(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	// Ada of company A holds every permission there (a custom role), so no
	// permission check hides a leak across companies.
	aAdmin := f.user("ada-admin", false)
	aAdminP, err := f.accounts.Principal(ctx, f.company.ID, aAdmin.ID)
	if err != nil {
		t.Fatal(err)
	}
	// (Handling whistleblowing cases would first require a second factor.)
	all := slices.DeleteFunc(access.Names(), func(n string) bool { return n == access.HandleCases.Name() })
	everything, err := f.accounts.SaveRole(ctx, aAdminP.Actor(), "", account.RoleInput{Name: "Everything", Permissions: all})
	if err != nil {
		t.Fatal(err)
	}
	ada, err := f.accounts.CreateUser(ctx, access.Operator(f.company.ID), account.CreateUserInput{Login: "ada", DisplayName: "Ada", Password: testPassword, Role: everything.ID})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.signIn("ada", testPassword)
	// Ada's API token holds every scope she has; the API routes are walked with it.
	adaP, err := f.accounts.Principal(ctx, f.company.ID, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, apiToken, err := f.accounts.CreateToken(ctx, adaP.Actor(), account.TokenInput{Name: "walk", Scopes: adaP.Perms})
	if err != nil {
		t.Fatal(err)
	}
	// (With the whistleblowing module, Ada's company.settings opens the
	// channels' pages, aimed below at company B's channel.)
	aModules := append(slices.Clone(f.company.Modules), tenant.API, tenant.Whistleblowing)
	if err := f.tenants.SetModules(ctx, audit.Operator, f.company.ID, aModules); err != nil {
		t.Fatal(err)
	}

	b, err := f.tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "beta", Name: "Beta Industries Secretname", DefaultLanguage: "en"})
	if err != nil {
		t.Fatal(err)
	}
	bUser, err := f.accounts.CreateUser(ctx, access.Operator(b.ID), account.CreateUserInput{Login: "bertil-secretlogin", DisplayName: "Bertil Secretperson", Password: testPassword})
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
	// Company B's recruitment: a role, a position, a candidate with a comment, a paid publication.
	bRole, err := f.accounts.SaveRole(ctx, bPrincipal.Actor(), "", account.RoleInput{Name: "Beta Secretrole", Permissions: access.Names()})
	if err != nil {
		t.Fatal(err)
	}
	bHR, err := f.accounts.CreateUser(ctx, access.Operator(b.ID), account.CreateUserInput{Login: "beta-hr", DisplayName: "Beta HR", Password: testPassword, Role: bRole.ID})
	if err != nil {
		t.Fatal(err)
	}
	bActor := access.Actor{TenantID: b.ID, UserID: bHR.ID, Perms: access.Decode(strings.Join(access.Names(), ","))}
	bPos, err := f.recruit.CreatePosition(ctx, bActor, recruit.PositionInput{Title: "Secretposition Title", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	bApp, err := f.recruit.AddCandidate(ctx, bActor, bPos.ID, recruit.CandidateInput{Name: "Bcandidate Secretname", Email: "secret.candidate@beta.example"}, access.StageInterview, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	bSaved, err := f.recruit.SaveSearch(ctx, bActor, "Secret saved search", "secretquery")
	if err != nil {
		t.Fatal(err)
	}
	bComment, err := f.recruit.AddComment(ctx, bActor, bApp.ID, "Secret comment body")
	if err != nil {
		t.Fatal(err)
	}
	bInterview, err := f.recruit.InviteInterview(ctx, bActor, bApp.ID, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 3).Format("2006-01-02"),
		Time: "10:00", TimeZone: "Europe/Oslo", Minutes: 45, Location: "Secret meeting room"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.credits.GrantAsOperator(ctx, b.ID, credit.GrantInput{Amount: 5, Reason: "purchase", Note: "Secret credit note"}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	if err := f.tenants.SetSettings(ctx, audit.Operator, b.ID, tenant.Settings{PasswordProfile: "standard", FreePublications: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.Publish(ctx, bActor, bPos.ID); err != nil {
		t.Fatal(err)
	}
	// A candidate applies on B's career page with a CV; then B closes the position.
	bApplied, err := f.recruit.Apply(ctx, b.ID, bPos.ID, recruit.ApplyInput{Name: "Bapplicant Secretname", Email: "secret.applicant@beta.example",
		CV: &recruit.Upload{Name: "secret-cv.pdf", Data: []byte("%PDF-1.7\nSecret CV body\n%%EOF\n")}, SubmissionID: id.New()})
	if err != nil {
		t.Fatal(err)
	}
	bDocs, err := f.recruit.Documents(ctx, bActor, bApplied.ID)
	if err != nil || len(bDocs) != 1 {
		t.Fatalf("company B's documents: %v %v", bDocs, err)
	}
	if err := f.recruit.Close(ctx, bActor, bPos.ID); err != nil {
		t.Fatal(err)
	}
	// An import of company B, uploaded and checked.
	bImport, err := f.srv.Importer.Upload(ctx, bActor, "secret-import.csv", "", strings.NewReader("Name,Email,Basis,Applied\nSecret Importee,secret.importee@beta.example,purpose,2026-01-02\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	bImportMap := &importer.Mapping{Columns: map[string]string{"Name": "full_name", "Email": "email", "Basis": "basis", "Applied": "applied"}}
	if _, err := f.srv.Importer.CheckRun(ctx, bActor, bImport.ID, bImportMap, "Secret mapping"); err != nil {
		t.Fatal(err)
	}
	bLedger, err := f.credits.Ledger(ctx, bActor, 10)
	if err != nil || len(bLedger) != 2 {
		t.Fatalf("company B's ledger: %v %v", bLedger, err)
	}
	// Company B's webhook, with one delivery in its log.
	bHook, _, err := f.srv.Webhooks.Subscribe(ctx, bActor, webhook.Input{URL: "https://93.184.215.14/secret-hook-path", Description: "Secret hook note",
		Events: []string{webhook.ApplicationStageChanged}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.recruit.Move(ctx, bActor, bApplied.ID, recruit.MoveInput{Kind: access.StagePreselected}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.srv.Webhooks.EnqueueCompany(ctx, b.ID); err != nil || n != 1 {
		t.Fatalf("company B's webhook events: %d %v", n, err)
	}
	bDeliveries, _, err := f.srv.Webhooks.Deliveries(ctx, bActor, bHook.ID, webhook.Page{})
	if err != nil || len(bDeliveries) != 1 {
		t.Fatalf("company B's deliveries: %v %v", bDeliveries, err)
	}
	// Company B's API token (the API's token routes aim at it).
	// Company B's service user (its token acts as it: the walk must not reach either).
	bService, err := f.accounts.CreateServiceUser(ctx, bActor, "Secretservice Robot", access.Recruiter)
	if err != nil {
		t.Fatal(err)
	}
	// (Its candidate access raised an alert of company B: counted from here.)
	bAlerts, _ = f.audit.OpenAlerts(ctx, b.ID)
	bAPIToken, bAPISecret, err := f.accounts.CreateToken(ctx, bActor, account.TokenInput{Name: "Secret token name", UserID: bService.ID, Scopes: access.Of(access.ViewPositions)})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"Beta Industries Secretname", "bertil-secretlogin", "Bertil Secretperson", bUser.ID, bAlerts[0].ID, bPrincipal.SessionID, b.ID,
		"Beta Secretrole", bRole.ID, "Secretposition Title", bPos.ID, "Bcandidate Secretname", "secret.candidate@beta.example", bApp.ID,
		bApp.Candidate.ID, "Secret comment body", bComment.ID, "Secret credit note", bLedger[0].ID, bLedger[1].ID,
		"Bapplicant Secretname", "secret.applicant@beta.example", bApplied.ID, bDocs[0].ID, "secret-cv.pdf", "Secret CV body",
		bInterview.ID, "Secret meeting room", bSaved.ID, "Secret saved search", "secretquery", bHook.ID, "secret-hook-path", "Secret hook note", bDeliveries[0].ID,
		bImport.ID, "secret-import.csv", "Secret mapping", bAPIToken.ID, bAPISecret, "Secret token name",
		bService.ID, bService.Login, "Secretservice Robot"}
	// Company B's whistleblowing channel with a report: its public pages
	// name the channel, and nothing of the report reaches any page.
	if err := f.tenants.SetModules(ctx, audit.Operator, b.ID, append(slices.Clone(b.Modules), tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	bCaseHandler := f.kit.Actor(t, b.ID, "beta-case-handler", access.CaseHandler)
	if _, err := f.kit.Whistle.Enrol(ctx, bCaseHandler, testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	bChannelID, err := f.kit.Whistle.SaveChannel(ctx, access.Operator(b.ID, access.CompanySettings), whistle.Channel{Slug: "secret-line", Name: "Secretchannel Name", DefaultLanguage: "en",
		Languages: []string{"en"}, RetentionDays: 365, Active: true, Handlers: []string{bCaseHandler.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	bReceipt, err := f.kit.Whistle.Submit(ctx, b.ID, bChannelID, whistle.Submission{Language: "en", Text: "Secret report body"})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, bChannelID, "Secretchannel Name", "Secret report body", bReceipt.Code, strings.ReplaceAll(bReceipt.Code, " ", ""))

	// Per pattern: the values for its wildcards, and whether it names an
	// object of the company (then 404 is the only answer).
	ids := map[string][]string{
		"id": {bUser.ID, bAlerts[0].ID, bPrincipal.SessionID, bRole.ID, bPos.ID, bApp.ID, bApp.Candidate.ID, bComment.ID, bLedger[0].ID, bLedger[1].ID,
			bApplied.ID, bDocs[0].ID, bSaved.ID, bImport.ID, bHook.ID, bDeliveries[0].ID, bAPIToken.ID, bService.ID, bChannelID,
			"00000000-0000-0000-0000-000000000000", "not-an-id", "%2e%2e", strings.Repeat("x", 300)},
		"token":    {"not-a-token", strings.Repeat("A", 43)},
		"format":   {"csv", "json", "xml"},
		"company":  {"beta", "acme", "nope"},
		"position": {bPos.ID, "00000000-0000-0000-0000-000000000000", "not-an-id", strings.Repeat("x", 300)},
		"lang":     {"sv", "xx"},
		"label":    {"shortlist", "%2e%2e"},
		// A reporting channel of B (the reporter's pages are public) and none.
		"channel": {"secret-line", "nope"},
		// The case page's forms, a redacted copy and a file of a case (a
		// handler's case of another company is tested in cases_test.go).
		"action": append(CaseActions(), "nope"),
		"seq":    {"1.txt", "1", "x.txt"},
		"file":   {"00000000-0000-0000-0000-000000000000", "not-an-id"},
	}
	objectRoutes := map[string]bool{
		"POST /users/{id}/disable": true, "POST /users/{id}/enable": true, "POST /users/{id}/role": true,
		"POST /alerts/{id}/acknowledge": true, "POST /account/sessions/{id}/revoke": true,
		"GET /setup/{token}": true, "POST /setup/{token}": true, "GET /password/reset/{token}": true, "POST /password/reset/{token}": true,
		"GET /unlock/{token}": true, "POST /unlock/{token}": true, "GET /invite/{token}": true, "POST /invite/{token}": true,
		"POST /users/{id}/rights": true, "GET /roles/{id}": true, "POST /roles/{id}": true, "POST /roles/{id}/delete": true,
		"POST /users/{id}/credit-limit": true, "GET /positions/{id}": true, "POST /positions/{id}": true, "POST /positions/{id}/share": true, "POST /positions/{id}/stages": true,
		"POST /positions/{id}/publish": true, "POST /positions/{id}/close": true, "POST /positions/{id}/archive": true, "POST /positions/{id}/applications": true, "GET /positions/{id}/matches": true, "POST /positions/{id}/matches": true,
		"GET /applications/{id}": true, "POST /applications/{id}/stage": true, "POST /applications/{id}/comments": true,
		"GET /applications/{id}/erase": true, "POST /applications/{id}/erase": true,
		"GET /documents/{id}": true, "GET /documents/{id}/preview": true, "GET /careers/{company}/{position}": true, "POST /careers/{company}/{position}": true,
		"GET /careers/{company}/{position}/thanks": true, "POST /applications/{id}/interviews": true,
		"POST /applications/{id}/rating": true, "POST /applications/{id}/labels": true, "POST /applications/{id}/notes": true, "POST /applications/{id}/profile": true,
		"POST /applications/{id}/tasks": true, "POST /tasks/{id}/done": true, "POST /candidates/searches/{id}/delete": true,
		"GET /interview/{token}": true, "POST /interview/{token}": true,
		"POST /applications/{id}/consent": true, "POST /applications/{id}/consent/withdraw": true,
		"GET /consent/r/{token}": true, "POST /consent/r/{token}": true,
		"POST /alerts/{id}/breach": true, "GET /privacy/breaches/{id}": true, "POST /privacy/breaches/{id}": true, "GET /privacy/breaches/{id}/notice": true,
		"GET /applications/{id}/export": true, "GET /my-data/{token}": true, "POST /my-data/{token}": true,
		"POST /privacy/requests/{id}/approve": true, "POST /privacy/requests/{id}/refuse": true,
		"GET /imports/{id}": true, "POST /imports/{id}/check": true, "POST /imports/{id}/start": true, "GET /imports/{id}/progress": true,
		"GET /settings/webhooks/{id}": true, "POST /settings/webhooks/{id}": true, "POST /settings/webhooks/{id}/delete": true,
		"POST /settings/webhooks/{id}/rotate": true, "POST /settings/webhooks/deliveries/{id}/replay": true,
		"POST /settings/api-tokens/{id}/revoke": true, "GET /settings/whistleblowing/channels/{id}": true,
		"POST /settings/whistleblowing/channels/{id}": true,
		// The /cases routes need cases.handle, which the walk's user lacks
		// (it would need a second factor): they answer 403 before any
		// lookup, and a handler's view of another company's case is tested
		// in cases_test.go. The channels' pages are the administrator's:
		// the walk reaches them (Ada holds company.settings).
	}
	// Routes without wildcards, and what each may answer (they name no object of B).
	plain := map[string]bool{}
	for _, p := range []string{
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /operator/backups", "GET /static/", "GET /{$}", "GET /signin", "POST /signin", "POST /signout",
		"GET /signin/mfa", "POST /signin/mfa", "POST /signin/mfa/webauthn/begin", "POST /signin/mfa/webauthn/finish",
		"GET /password/forgot", "POST /password/forgot", "GET /password", "POST /password", "GET /dashboard", "GET /profile", "POST /profile",
		"GET /account/security", "GET /reauth", "POST /reauth", "GET /account/mfa", "POST /account/mfa/totp", "POST /account/mfa/totp/confirm",
		"POST /account/mfa/totp/disable", "POST /account/mfa/email", "POST /account/mfa/sms", "POST /account/mfa/sms/confirm",
		"POST /account/mfa/sms/disable", "POST /account/mfa/webauthn/begin", "POST /account/mfa/webauthn/finish", "POST /account/mfa/email/confirm",
		"POST /account/mfa/email/disable", "POST /account/sessions/revoke-others", "GET /users", "POST /users/invite",
		"GET /audit", "GET /audit/security", "GET /dev/outbox", "/",
		"GET /candidates", "POST /candidates/bulk", "POST /candidates/erase", "POST /candidates/searches", "GET /settings/templates", "POST /settings/templates", "GET /settings/stages", "POST /settings/stages", "GET /settings/reasons", "POST /settings/reasons", "GET /roles", "POST /roles", "GET /settings", "POST /settings", "POST /settings/profile", "POST /settings/logo", "GET /credits", "GET /positions", "POST /positions", "GET /pool",
		"GET /privacy", "GET /privacy/settings", "POST /privacy/settings", "GET /privacy/records", "GET /privacy/breaches", "POST /privacy/breaches", "GET /privacy/breaches/new",
		"GET /privacy/expiring",
		"POST /privacy/consent-requests", "GET /privacy/consent-texts", "POST /privacy/consent-texts", "GET /privacy/consent-log", "GET /privacy/consent-log/export",
		"GET /my-data", "GET /my-data/export", "GET /my-data/erased", "POST /my-data/contact", "POST /my-data/withdraw", "POST /my-data/erase",
		"POST /my-data/signout", "GET /privacy/requests", "GET /imports", "POST /imports",
		"GET /settings/webhooks", "POST /settings/webhooks",
		"GET /settings/api-tokens", "GET /settings/api-tokens/new", "POST /settings/api-tokens", "POST /settings/api-tokens/service-users",
		"GET /api/docs",
		"GET /settings/whistleblowing", "POST /settings/whistleblowing/escrow", "POST /settings/whistleblowing/archive",
		"GET /settings/whistleblowing/channels", "GET /settings/whistleblowing/channels/new", "POST /settings/whistleblowing/channels",
		"GET /cases/stats",
		"GET /cases", "GET /cases/key", "POST /cases/key/enrol", "POST /cases/key/unlock", "POST /cases/key/lock", "POST /cases/key/recover",
		"POST /cases/key/shares", "POST /cases/key/recovery", "POST /cases/key/replace",
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
		api := strings.HasPrefix(path, apiPrefix+"/")
		var paths []string
		switch {
		case api && !strings.Contains(path, "{"):
			// The API's lists and the document: they name no object of B.
			paths = []string{strings.TrimSuffix(path, "/")}
			if pattern == apiPrefix+"/" {
				paths = []string{apiPrefix + "/no/such/operation"}
			}
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
			// Every combination of the values of every wildcard.
			paths = []string{path}
			for strings.Contains(paths[0], "{") {
				cur := paths[0]
				name := cur[strings.Index(cur, "{")+1 : strings.Index(cur, "}")]
				vals, known := ids[name]
				if !known {
					t.Errorf("route %q: no isolation case for {%s}", pattern, name)
					paths = nil
					break
				}
				var next []string
				for _, p := range paths {
					for _, v := range vals {
						next = append(next, strings.Replace(p, "{"+name+"}", url.PathEscape(v), 1))
					}
				}
				paths = next
			}
		default:
			t.Errorf("route %q has no tenant-isolation case: add it to this test", pattern)
			continue
		}
		for _, p := range paths {
			var form url.Values
			if method == "POST" {
				form = url.Values{"role": {"recruiter"}, "code": {"123456"}, "display_name": {"Ada"}, "email": {"new@acme.example"},
					"title": {"A title"}, "language": {"en"}, "name": {"A name"}, "body": {"A comment"}, "stage": {"hired"},
					"member": {bUser.ID, bHR.ID}, "permission": {"positions.view"}, "rating": {"invite"}, "label": {"x"}, "note_body": {"n"}, "task_title": {"t"}, "done": {"1"}, "application": {bApp.ID, bApplied.ID}, "action": {"label"}, "right": {"users.manage"}, "amount": {"3"}, "reason": {"purchase"},
					"candidate": {bApp.Candidate.ID, bApplied.Candidate.ID}, "kind": {"request"}}
			}
			var res *http.Response
			if api {
				// Every API operation as company A's token: a JSON body that
				// names B's objects where a body is read, and a version.
				var rd io.Reader
				if method != "GET" && method != "DELETE" {
					rd = strings.NewReader(`{"application_id":"` + bApp.ID + `","candidate_id":"` + bApp.Candidate.ID + `","position_id":"` + bPos.ID + `"}`)
				}
				req := httptest.NewRequest(method, "http://127.0.0.1:8080"+p, rd)
				req.Header.Set("Authorization", "Bearer "+apiToken)
				req.Header.Set("If-Match", `"1"`)
				if rd != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				res = rec.Result()
				// An operation that names an object answers 404; one whose body
				// is refused as incomplete first (422) reveals nothing either.
				// An operation whose scope the token cannot hold (cases.handle,
				// which needs a second factor) is refused before it reads anything.
				refusedScope := res.StatusCode == http.StatusForbidden && caseScopePaths[pattern]
				if strings.Contains(path, "{") && res.StatusCode != http.StatusNotFound && !refusedScope && !(rd != nil && res.StatusCode == http.StatusUnprocessableEntity) {
					t.Errorf("%s %s with company A's token: %d, want 404", method, p, res.StatusCode)
				}
			} else {
				res = f.do(request{method: method, path: p, cookie: tok, form: form})
			}
			body := body(t, res)
			for _, secret := range secrets {
				// The career page is public and names its company.
				// So are B's reporting pages, which name its channels.
				if strings.HasPrefix(p, "/report/beta") && (secret == "Beta Industries Secretname" || secret == "Secretchannel Name") {
					continue
				}
				if strings.HasPrefix(p, "/careers/beta") && secret == "Beta Industries Secretname" {
					continue
				}
				// The path itself may be echoed (e.g. in the language links); that is the caller's own input.
				if strings.Contains(body, secret) && !strings.Contains(p, secret) {
					t.Errorf("%s %s as company A shows %q of company B", method, p, secret)
				}
			}
			if pattern == "GET /positions" || pattern == "GET /roles" || pattern == "GET /settings" || pattern == "GET /credits" || pattern == "GET /pool" || pattern == "GET /users" ||
				pattern == "GET /settings/whistleblowing" || pattern == "GET /settings/whistleblowing/channels" {
				if res.StatusCode != http.StatusOK {
					t.Errorf("%s as company A's user: %d, want 200 (the walk must reach the handlers)", p, res.StatusCode)
				}
			}
			if objectRoutes[pattern] && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as company A: %d, want 404", method, p, res.StatusCode)
			}
		}
	}
	// Company B is untouched.
	if c, err := f.kit.Whistle.Channel(ctx, access.Operator(b.ID, access.CompanySettings), bChannelID); err != nil || c.Name != "Secretchannel Name" || c.Version != 1 {
		t.Fatalf("company B's channel was changed from company A: %+v %v", c, err)
	}
	if r, err := f.srv.Importer.Run(ctx, bActor, bImport.ID); err != nil || r.Status != importer.StatusChecked || r.RowsDone != 0 {
		t.Fatalf("company B's import was changed from company A: %+v %v", r, err)
	}
	if _, err := f.accounts.Authenticate(ctx, bToken); err != nil {
		t.Fatal("company B's session was ended from company A")
	}
	if u, _ := f.accounts.UserByID(ctx, b.ID, bUser.ID); u.Status != account.Active || u.Role != account.RoleAdministrator {
		t.Fatalf("company B's user was changed from company A: %+v", u)
	}
	if open, _ := f.audit.OpenAlerts(ctx, b.ID); len(open) != len(bAlerts) {
		t.Fatal("company B's alert was acknowledged from company A")
	}
	if p, err := f.recruit.Position(ctx, bActor, bPos.ID); err != nil || p.Title != "Secretposition Title" || p.Status != recruit.Closed || len(p.Members) != 0 {
		t.Fatalf("company B's position was changed from company A: %+v %v", p, err)
	}
	if app, err := f.recruit.Application(ctx, bActor, bApp.ID); err != nil || app.Stage != access.StageInterview {
		t.Fatalf("company B's application was changed from company A: %+v %v", app, err)
	}
	if cs, _ := f.recruit.Comments(ctx, bActor, bApp.ID); len(cs) != 1 {
		t.Fatalf("company B's application got comments from company A: %d", len(cs))
	}
	if r, err := f.accounts.RoleByID(ctx, b.ID, bRole.ID); err != nil || r.Name != "Beta Secretrole" {
		t.Fatalf("company B's role was changed from company A: %+v %v", r, err)
	}
	if h, err := f.srv.Webhooks.Subscription(ctx, bActor, bHook.ID); err != nil || h.URL != "https://93.184.215.14/secret-hook-path" || !h.Active {
		t.Fatalf("company B's webhook was changed from company A: %+v %v", h, err)
	}
	if ds, _, err := f.srv.Webhooks.Deliveries(ctx, bActor, bHook.ID, webhook.Page{}); err != nil || len(ds) != 1 || ds[0].Status != webhook.Pending || ds[0].Attempts != 0 {
		t.Fatalf("company B's delivery was changed from company A: %+v %v", ds, err)
	}
	if _, err := f.accounts.AuthenticateToken(ctx, bAPISecret, "192.0.2.1"); err != nil {
		t.Fatalf("company B's API token was revoked from company A: %v", err)
	}
	if bal, _ := f.credits.Balance(ctx, b.ID); bal != 4 {
		t.Fatalf("company B's balance is %d, want 4", bal)
	}
}

// caseScopePaths are the API operations that need cases.handle, which the
// walk's token lacks; their isolation is tested in api_cases_test.go.
var caseScopePaths = map[string]bool{"GET " + apiPrefix + "/cases/{id}/archive": true}
