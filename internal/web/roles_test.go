package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/recruit"
)

// roleUser creates a user of the fixture's company with a role and signs them in.
func (f *fixture) roleUser(login, role string) (*account.User, string) {
	f.t.Helper()
	u, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: login, DisplayName: "Name " + login, Password: testPassword, Role: role})
	if err != nil {
		f.t.Fatal(err)
	}
	return u, f.signIn(login, testPassword)
}

func (f *fixture) actor(u *account.User) access.Actor {
	f.t.Helper()
	p, err := f.accounts.Principal(context.Background(), u.TenantID, u.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Actor()
}

// TestCustomRoleChangeAppliesOnNextRequest: an administrator defines a
// custom role through the role editor; its holder's very next request
// after an edit of the role obeys the new permission set.
func TestCustomRoleChangeAppliesOnNextRequest(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("root", false)
	admin := f.signIn("root", testPassword)
	res := f.do(request{method: "POST", path: "/roles", cookie: admin, form: url.Values{"name": {"Reviewers"}, "permission": {"positions.view", "positions.all", "applications.view"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create role: %d %s", res.StatusCode, body(t, res))
	}
	roles, _ := f.accounts.ListRoles(context.Background(), f.company.ID)
	if len(roles) != 1 {
		t.Fatalf("roles: %v", roles)
	}
	page := body(t, f.do(request{method: "GET", path: "/roles", cookie: admin}))
	if !strings.Contains(page, "Reviewers") || !strings.Contains(page, "permission-matrix") {
		t.Fatal("the matrix does not show the new role")
	}
	_, tok := f.roleUser("rita", roles[0].ID)
	if res := f.do(request{method: "GET", path: "/positions", cookie: tok}); res.StatusCode != http.StatusOK {
		t.Fatalf("positions with the role: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/roles/" + roles[0].ID, cookie: admin, form: url.Values{"name": {"Reviewers"}, "permission": {"applications.comment"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit role: %d", res.StatusCode)
	}
	// The same session, the next request.
	if res := f.do(request{method: "GET", path: "/positions", cookie: tok}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("positions after the role lost the permission: %d", res.StatusCode)
	}
	// A bad role input is explained on the page.
	res = f.do(request{method: "POST", path: "/roles", cookie: admin, form: url.Values{"name": {""}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Choose at least one permission") {
		t.Fatalf("bad role: %d", res.StatusCode)
	}
	// Deleting a held role is refused.
	if res := f.do(request{method: "POST", path: "/roles/" + roles[0].ID + "/delete", cookie: admin}); res.StatusCode != http.StatusConflict {
		t.Fatalf("delete a held role: %d", res.StatusCode)
	}
	// A recruiter reaches none of this.
	_, rec := f.roleUser("rolf", access.Recruiter)
	for _, p := range []string{"/roles", "/credits", "/users", "/audit"} {
		if res := f.do(request{method: "GET", path: p, cookie: rec}); res.StatusCode != http.StatusForbidden {
			t.Errorf("recruiter GET %s: %d", p, res.StatusCode)
		}
	}
}

// TestRoleEditorCannotWidenItsOwnRole: a holder of "Define custom roles"
// alone is told, on the roles page, that it cannot add a right it lacks to
// the role it holds; the role is unchanged.
func TestRoleEditorCannotWidenItsOwnRole(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	root := f.user("root", false)
	rp, err := f.accounts.Principal(ctx, f.company.ID, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	editors, err := f.accounts.SaveRole(ctx, rp.Actor(), "", account.RoleInput{Name: "Editors", Permissions: []string{"roles.manage", "positions.view"}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := f.roleUser("erik", editors.ID)
	res := f.do(request{method: "POST", path: "/roles/" + editors.ID, cookie: tok, form: url.Values{"name": {"Editors"}, "permission": {"roles.manage", "positions.view", "users.manage", "applications.view"}}})
	if b := body(t, res); res.StatusCode != http.StatusForbidden || !strings.Contains(b, `id="roles-error"`) || !strings.Contains(b, "do not hold yourself") {
		t.Fatalf("widening one's own role: %d", res.StatusCode)
	}
	if r, _ := f.accounts.RoleByID(ctx, f.company.ID, editors.ID); r.Permissions != access.Of(access.ManageRoles, access.ViewPositions) {
		t.Fatalf("the role became %s", r.Permissions.Encode())
	}
}

// TestLineManagerSeesOnlySharedPositions, through the pages.
func TestLineManagerSeesOnlySharedPositions(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	rec, recTok := f.roleUser("rolf", access.Recruiter)
	lm, lmTok := f.roleUser("lina", access.LineManager)
	ra := f.actor(rec)
	shared, _ := f.recruit.CreatePosition(ctx, ra, recruit.PositionInput{Title: "Shared Engineer", Language: "en"})
	hidden, _ := f.recruit.CreatePosition(ctx, ra, recruit.PositionInput{Title: "Hidden Designer", Language: "en"})
	sApp, err := f.recruit.AddCandidate(ctx, ra, shared.ID, recruit.CandidateInput{Name: "Sara Shared", Email: "sara@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	hApp, _ := f.recruit.AddCandidate(ctx, ra, hidden.ID, recruit.CandidateInput{Name: "Hugo Hidden", Email: "hugo@example.org"}, access.StageNew, recruit.ViaStaff)
	// The recruiter shares through the page.
	res := f.do(request{method: "POST", path: "/positions/" + shared.ID + "/share", cookie: recTok, form: url.Values{"member": {lm.ID}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("share: %d %s", res.StatusCode, body(t, res))
	}
	list := body(t, f.do(request{method: "GET", path: "/positions", cookie: lmTok}))
	if !strings.Contains(list, "Shared Engineer") || strings.Contains(list, "Hidden Designer") {
		t.Fatal("the line manager's list is wrong")
	}
	pos := body(t, f.do(request{method: "GET", path: "/positions/" + shared.ID, cookie: lmTok}))
	if !strings.Contains(pos, "Sara Shared") || strings.Contains(pos, "share-form") || strings.Contains(pos, "publish-position") {
		t.Fatal("the line manager's position page is wrong")
	}
	if res := f.do(request{method: "GET", path: "/positions/" + hidden.ID, cookie: lmTok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unshared position: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/applications/" + hApp.ID, cookie: lmTok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unshared candidate: %d", res.StatusCode)
	}
	// Comment yes, move no (403: they see the application).
	res = f.do(request{method: "POST", path: "/applications/" + sApp.ID + "/comments", cookie: lmTok, form: url.Values{"body": {"<script>alert(1)</script> good fit"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment: %d", res.StatusCode)
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + sApp.ID, cookie: lmTok}))
	if strings.Contains(card, "<script>alert(1)") || !strings.Contains(card, "&lt;script&gt;alert(1)&lt;/script&gt; good fit") || strings.Contains(card, "stage-form") {
		t.Fatal("the comment is not inert, or the line manager is offered to move the stage")
	}
	if res := f.do(request{method: "POST", path: "/applications/" + sApp.ID + "/stage", cookie: lmTok, form: url.Values{"stage": {"hired"}}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("line manager moves a stage: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/pool", cookie: lmTok}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("line manager's pool: %d", res.StatusCode)
	}
	// The recruiter moves the candidate to the interview stage.
	res = f.do(request{method: "POST", path: "/applications/" + sApp.ID + "/stage", cookie: recTok, form: url.Values{"stage": {"interview"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/applications/" + sApp.ID + "/stage", cookie: recTok, form: url.Values{"stage": {"emperor"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("move to an unknown stage: %d", res.StatusCode)
	}
}

// TestCreditsPage: credits come from the operator, never from the page; a
// recruiter sees the price and the balance beside Publish; a publication
// beyond the allowance spends them; a credit administrator sets monthly
// limits, which publication obeys, but refunds nothing: the operator
// refunds, and the page shows it.
func TestCreditsPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.user("root", false)
	admin := f.signIn("root", testPassword)
	zero := 0
	settings := f.company.Settings
	settings.PasswordProfile, settings.FreePublications = "standard", &zero
	if err := f.tenants.SetSettings(ctx, audit.Operator, f.company.ID, settings); err != nil {
		t.Fatal(err)
	}
	rec, recTok := f.roleUser("rolf", access.Recruiter)
	pos, _ := f.recruit.CreatePosition(ctx, f.actor(rec), recruit.PositionInput{Title: "Paid", Language: "en"})
	page := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	if !strings.Contains(page, "Price of publishing now, in credits: 1.") || !strings.Contains(page, "balance, in credits: 0.") || !strings.Contains(page, `id="publication-unpayable"`) {
		t.Fatal("the position page does not tell the price, the balance and that it cannot be paid")
	}
	res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/publish", cookie: recTok})
	if b := body(t, res); res.StatusCode != http.StatusPaymentRequired || !strings.Contains(b, "does not have enough credits") {
		t.Fatalf("publish without credits: %d", res.StatusCode)
	}
	// No page adds credits, whatever the form says.
	res = f.do(request{method: "POST", path: "/credits/grant", cookie: admin, form: url.Values{"amount": {"1000000"}, "reason": {"purchase"}}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /credits/grant: %d, want 404", res.StatusCode)
	}
	credits := body(t, f.do(request{method: "GET", path: "/credits", cookie: admin}))
	if strings.Contains(credits, "/credits/grant") || strings.Contains(credits, "grant-form") || !strings.Contains(credits, `id="credits-bought"`) {
		t.Fatal("the credits page still offers to add credits")
	}
	if b, _ := f.credits.Balance(ctx, f.company.ID); b != 0 {
		t.Fatalf("balance %d after the page was asked to add credits", b)
	}
	if _, err := f.credits.GrantAsOperator(ctx, f.company.ID, credit.GrantInput{Amount: 5, Reason: "purchase", Note: "Invoice 2031-17"}); err != nil {
		t.Fatal(err)
	}
	page = body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	if !strings.Contains(page, "balance, in credits: 5.") || strings.Contains(page, `id="publication-unpayable"`) {
		t.Fatal("the position page does not show the new balance")
	}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/publish", cookie: recTok}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish with credits: %d", res.StatusCode)
	}
	credits = body(t, f.do(request{method: "GET", path: "/credits", cookie: admin}))
	if !strings.Contains(credits, `id="credit-balance">4<`) || !strings.Contains(credits, "Invoice 2031-17") || !strings.Contains(credits, "Name rolf") {
		t.Fatal("the credits page does not show the balance, the note or who spent")
	}
	// A monthly limit of 1, which Rolf has spent.
	limit := "/users/" + rec.ID + "/credit-limit"
	for _, bad := range []string{"-1", "many", "1000001"} {
		if res := f.do(request{method: "POST", path: limit, cookie: admin, form: url.Values{"limit": {bad}}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("limit %q: %d", bad, res.StatusCode)
		}
	}
	if res := f.do(request{method: "POST", path: limit, cookie: admin, form: url.Values{"limit": {"1"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set a limit: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: limit, cookie: recTok, form: url.Values{"limit": {""}}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a recruiter lifts their limit: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/users/" + mustUser(t, f, "root").ID + "/credit-limit", cookie: admin, form: url.Values{"limit": {"1"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a limit for someone who cannot spend: %d", res.StatusCode)
	}
	second, _ := f.recruit.CreatePosition(ctx, f.actor(rec), recruit.PositionInput{Title: "Also paid", Language: "en"})
	page = body(t, f.do(request{method: "GET", path: "/positions/" + second.ID, cookie: recTok}))
	if !strings.Contains(page, "Credits you may still spend this month: 0.") || !strings.Contains(page, "beyond the credits you may spend this month") {
		t.Fatal("the position page does not show the limit")
	}
	res = f.do(request{method: "POST", path: "/positions/" + second.ID + "/publish", cookie: recTok})
	if b := body(t, res); res.StatusCode != http.StatusPaymentRequired || !strings.Contains(b, "raise your limit") {
		t.Fatalf("publish beyond the limit: %d", res.StatusCode)
	}
	// No page refunds a spending either (refunding adds to the balance):
	// the operator does, and the ledger shows it.
	ledger, _ := f.credits.Ledger(ctx, f.actor(mustUser(t, f, "root")), 10)
	if res := f.do(request{method: "POST", path: "/credits/" + ledger[0].ID + "/refund", cookie: admin}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /credits/{id}/refund: %d, want 404", res.StatusCode)
	}
	credits = body(t, f.do(request{method: "GET", path: "/credits", cookie: admin}))
	if strings.Contains(credits, "/refund") || strings.Contains(credits, ">Refunded<") || strings.Contains(credits, "· Refunded") {
		t.Fatal("the credits page offers a refund, or shows one that did not happen")
	}
	if b, _ := f.credits.Balance(ctx, f.company.ID); b != 4 {
		t.Fatalf("balance %d after the page was asked to refund, want 4", b)
	}
	if _, err := f.credits.RefundAsOperator(ctx, f.company.ID, ledger[0].ID, "posted by mistake"); err != nil {
		t.Fatal(err)
	}
	credits = body(t, f.do(request{method: "GET", path: "/credits", cookie: admin}))
	if !strings.Contains(credits, `id="credit-balance">5<`) || !strings.Contains(credits, "· Refunded") || !strings.Contains(credits, "Instance operator") ||
		!strings.Contains(credits, "posted by mistake") || strings.Contains(credits, "/refund") {
		t.Fatal("the credits page does not show the operator's refund")
	}
	if res := f.do(request{method: "POST", path: "/positions/" + second.ID + "/publish", cookie: recTok}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish after the refund made room: %d", res.StatusCode)
	}
}

func mustUser(t *testing.T, f *fixture, login string) *account.User {
	t.Helper()
	u, err := f.accounts.UserByLogin(context.Background(), f.company.ID, login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCaseHandlerMustEnrolASecondFactor: handling whistleblowing cases
// requires a second factor whatever the company's settings; a denied page
// goes to the security log.
func TestCaseHandlerMustEnrolASecondFactor(t *testing.T) {
	f := newFixture(t, Options{})
	_, tok := f.roleUser("kim", access.CaseHandler)
	res := f.do(request{method: "GET", path: "/dashboard", cookie: tok})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("case handler without a second factor: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, rec := f.roleUser("rolf", access.Recruiter)
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: rec}); res.StatusCode != http.StatusOK {
		t.Fatalf("recruiter's dashboard: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/audit", cookie: rec}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("recruiter's audit: %d", res.StatusCode)
	}
	recs, _, err := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.AccessDecided})
	if err != nil || len(recs) != 1 || recs[0].Details["permission"] != "audit.view" || recs[0].Details["decision"] != "forbidden" || recs[0].Track != audit.Security {
		t.Fatalf("security log: %+v %v", recs, err)
	}
}
