package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/seed"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
	"github.com/kandidat/kandidat/internal/whistle"
)

// planBigTables grow with a company's recruitment and its trail: no staff
// page may read one of them whole, or all of one company's rows of it.
var planBigTables = []string{"applications", "candidates", "audit_records", "audit_refs", "comments", "documents", "messages",
	"tasks", "interviews", "application_labels", "ratings", "consent_log"}

// planReportOnlyEnv, set to 1, makes TestStaffPagesQueryPlans log the
// problems it finds instead of failing (while the queries are being fixed).
const planReportOnlyEnv = "KANDIDAT_PLAN_REPORT_ONLY"

// TestStaffPagesQueryPlans walks the staff pages that list or show
// recruitment and audit data as an administrator, an HR manager, a
// recruiter and a line manager, records every statement each page runs,
// and asks the database for the plan of each SELECT (dbtest.CheckPlans):
// a full scan of a big table, or a read of all of one company's rows of it
// without a page limit, fails the test, naming the page.
func TestStaffPagesQueryPlans(t *testing.T) {
	var rec dbtest.Recorder
	f := newPlanFixture(t, &rec)
	data := planTestData(t, f)
	planAnalyze(t, f.db)
	ctx := context.Background()

	type visit struct {
		page   string // role and path
		path   string
		status int
		stmts  []dbtest.Statement
	}
	var visits []visit
	get := func(role string, r request, name string) (string, *http.Response) {
		rec.Reset()
		res := f.do(r)
		b := body(t, res)
		visits = append(visits, visit{page: "GET " + name + " as " + role, path: r.path, status: res.StatusCode, stmts: rec.Take()})
		return b, res
	}
	for _, u := range data.users {
		for _, p := range data.pages {
			if p.api {
				auth := map[string]string{"Authorization": "Bearer " + u.apiToken}
				_, res := get(u.role, request{method: "GET", path: p.path, header: auth}, p.name)
				// The next page of a list: its statements are checked too.
				if next := planAPINext(res.Header.Get("Link")); next != "" && p.next {
					get(u.role, request{method: "GET", path: next, header: auth}, p.name+", next page")
				}
				continue
			}
			b, _ := get(u.role, request{method: "GET", path: p.path, cookie: u.token}, p.name)
			// The next page of a list (keyset pagination): its statements are checked too.
			if next := planNextLink(b); next != "" && p.next {
				get(u.role, request{method: "GET", path: next, cookie: u.token}, p.name+", next page")
			}
		}
	}

	// Every page answers 200 to somebody: the walk reaches the handlers.
	ok := map[string]bool{}
	statuses := map[string][]string{}
	for _, v := range visits {
		if v.status == http.StatusOK {
			ok[v.path] = true
		}
		statuses[v.path] = append(statuses[v.path], fmt.Sprint(v.status))
	}
	if testing.Verbose() {
		for _, v := range visits {
			t.Logf("%d %s: %d statements", v.status, v.page, len(v.stmts))
		}
	}
	for _, p := range data.pages {
		if !ok[p.path] {
			t.Errorf("GET %s answered %v to the walk's users: no one reached the page", p.name, statuses[p.path])
		}
	}

	// Each distinct statement (text and arguments) is explained once, with
	// the company its page declared; a problem names every page that ran it.
	type checked struct {
		problems []string
		plan     string
		pages    []string
	}
	var order []*checked
	byKey := map[string]*checked{}
	for _, v := range visits {
		var declare []dbtest.Statement
		for _, s := range v.stmts {
			if strings.Contains(s.Query, "set_config(") {
				declare = []dbtest.Statement{s} // the company of what follows
				continue
			}
			key := s.Query + "\x00" + fmt.Sprintf("%#v", s.Args)
			c := byKey[key]
			if c == nil {
				batch := append(slices.Clone(declare), s)
				c = &checked{problems: dbtest.CheckPlans(ctx, f.db, batch, planBigTables)}
				if len(c.problems) > 0 {
					if plans := dbtest.Plans(ctx, f.db, batch); len(plans) > 0 {
						c.plan = plans[0]
					}
					order = append(order, c)
				}
				byKey[key] = c
			}
			if !slices.Contains(c.pages, v.page) {
				c.pages = append(c.pages, v.page)
			}
		}
	}
	// One report per problem, naming all its pages (the same statement with
	// other arguments reads the same: reported once).
	report := t.Errorf
	if os.Getenv(planReportOnlyEnv) == "1" {
		report = t.Logf
	}
	var problems []string
	pagesOf := map[string][]string{}
	planOf := map[string]string{}
	for _, c := range order {
		for _, p := range c.problems {
			if _, dup := pagesOf[p]; !dup {
				problems = append(problems, p)
				planOf[p] = c.plan
			}
			for _, pg := range c.pages {
				if !slices.Contains(pagesOf[p], pg) {
					pagesOf[p] = append(pagesOf[p], pg)
				}
			}
		}
	}
	for _, p := range problems {
		pages := pagesOf[p]
		also := ""
		if len(pages) > 1 {
			also = fmt.Sprintf(" (and %d more: %s)", len(pages)-1, strings.Join(pages[1:], "; "))
		}
		report("%s%s\n%s\nplan of %s", pages[0], also, p, planOf[p])
	}
	if len(problems) > 0 && os.Getenv(planReportOnlyEnv) == "1" {
		t.Logf("%d query-plan problems, reported only (%s=1)", len(problems), planReportOnlyEnv)
	}
	t.Logf("%d page visits, %d distinct statements on %s", len(visits), len(byKey), f.db.Engine)
}

var planNextRe = regexp.MustCompile(`<a\b[^>]*\brel="next"[^>]*>`)
var planHrefRe = regexp.MustCompile(`\bhref="([^"]*)"`)

// planAPINext is the target of an API answer's Link: rel="next".
func planAPINext(link string) string {
	target, rel, ok := strings.Cut(link, ">;")
	if !ok || !strings.Contains(rel, `rel="next"`) {
		return ""
	}
	return strings.TrimPrefix(target, "<")
}

// planNextLink is the target of a page's rel="next" link, if it has one.
func planNextLink(body string) string {
	a := planNextRe.FindString(body)
	if a == "" {
		return ""
	}
	m := planHrefRe.FindStringSubmatch(a)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// newPlanFixture is newFixture on a database whose every statement rec records.
func newPlanFixture(t *testing.T, rec *dbtest.Recorder) *fixture {
	t.Helper()
	return newFixtureOn(t, dbtest.OpenTraced(t, rec.Trace), Options{})
}

type planUser struct {
	role, token string
	// apiToken is an API token holding every permission of the user.
	apiToken string
}

type planPage struct {
	// name stands for path in messages (ids are replaced by what they are).
	name, path string
	// next: follow the page's rel="next" link too.
	next bool
	// api: an API operation, called with the user's API token.
	api bool
}

type planData struct {
	users []planUser
	pages []planPage
}

// planTestData fills the fixture's company (and another one, so that a
// company's rows are a part of each table) with recruitment data and its
// trail, signs in one user per role the walk takes, and lists the pages to
// visit. It is the one place that makes the walk's data: a generator of
// synthetic companies at a small scale can replace its first half.
func planTestData(t *testing.T, f *fixture) *planData {
	t.Helper()
	ctx := context.Background()
	admin, adminTok := f.roleUser("plan-admin", access.Administrator)
	hr, _ := f.roleUser("plan-hr", access.HRManager)
	recU, recTok := f.roleUser("plan-recruiter", access.Recruiter)
	lm, lmTok := f.roleUser("plan-lm", access.LineManager)
	adminP, err := f.accounts.Principal(ctx, f.company.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.accounts.SetOptionalRights(ctx, adminP.Actor(), hr.ID, []string{access.ManageCredits.Name(), access.ManageUsers.Name()}); err != nil {
		t.Fatal(err)
	}
	hrTok := f.signIn("plan-hr", testPassword)
	role, err := f.accounts.SaveRole(ctx, adminP.Actor(), "", account.RoleInput{Name: "Reviewers", Permissions: []string{access.ViewPositions.Name(), access.ViewApplications.Name(), access.Comment.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.credits.GrantAsOperator(ctx, f.company.ID, credit.GrantInput{Amount: 20, Reason: "purchase", Note: "Plan test"}); err != nil {
		t.Fatal(err)
	}
	ra, ha, la := f.actor(recU), f.actor(hr), f.actor(lm)

	// Positions: the recruiter's, shared with the line manager and
	// published; the HR manager's, published; the recruiter's draft.
	mkPosition := func(by access.Actor, title string, publish bool, members ...string) *recruit.Position {
		p, err := f.recruit.CreatePosition(ctx, by, recruit.PositionInput{Title: title, Department: "Engineering", Location: "Oslo", Language: "en",
			Description: "We build things."})
		if err != nil {
			t.Fatal(err)
		}
		if len(members) > 0 {
			if err := f.recruit.SharePosition(ctx, by, p.ID, members); err != nil {
				t.Fatal(err)
			}
		}
		if publish {
			if _, err := f.recruit.Publish(ctx, by, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	shared := mkPosition(ra, "Backend Engineer", true, lm.ID)
	hrs := mkPosition(ha, "Product Designer", true)
	draft := mkPosition(ra, "Sales Representative", false)

	// Applications in every stage: added by staff, and through the career page with a CV and a source.
	type made struct {
		id, position string
		stage        access.StageKind
		by           access.Actor
	}
	var apps []made
	n := 0
	for _, pc := range []struct {
		pos     *recruit.Position
		by      access.Actor
		added   int
		applied int
	}{{shared, ra, 40, 6}, {hrs, ha, 30, 4}, {draft, ra, 10, 0}} {
		for i := range pc.added {
			n++
			app, err := f.recruit.AddCandidate(ctx, pc.by, pc.pos.ID, recruit.CandidateInput{Name: fmt.Sprintf("Candidate %d Svensson", n),
				Email: fmt.Sprintf("c%d@example.org", n)}, access.StageKinds[i%len(access.StageKinds)], recruit.ViaStaff)
			if err != nil {
				t.Fatal(err)
			}
			apps = append(apps, made{app.ID, pc.pos.ID, app.Stage, pc.by})
		}
		for i := range pc.applied {
			n++
			app, err := f.recruit.Apply(ctx, f.company.ID, pc.pos.ID, recruit.ApplyInput{Name: fmt.Sprintf("Applicant %d Alma", n),
				Email: fmt.Sprintf("a%d@example.org", n), Source: "linkedin", SubmissionID: id.New(),
				CV: &recruit.Upload{Name: "cv.pdf", Data: []byte("%PDF-1.7\nCV\n%%EOF\n")}})
			if err != nil {
				t.Fatal(err)
			}
			stage := access.StageKinds[(i+1)%len(access.StageKinds)]
			if err := f.recruit.Move(ctx, pc.by, app.ID, recruit.MoveInput{Kind: stage, Reason: "qualifications"}); err != nil {
				t.Fatal(err)
			}
			apps = append(apps, made{app.ID, pc.pos.ID, stage, pc.by})
		}
	}
	// One candidate applied to two positions.
	if _, err := f.recruit.AddCandidate(ctx, ha, hrs.ID, recruit.CandidateInput{Name: "Candidate 1 Svensson", Email: "c1@example.org"},
		access.StageInterview, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	// The card of the shared position's application at the interview stage is full.
	var card, pooled made // pooled: the HR manager's candidate the recruiter sees through the shared pool
	for _, a := range apps {
		if card.id == "" && a.position == shared.ID && a.stage == access.StageInterview {
			card = a
		}
		if pooled.id == "" && a.position == hrs.ID && a.stage == access.StageOffer {
			pooled = a
		}
	}
	if card.id == "" || pooled.id == "" {
		t.Fatal("no application at the interview stage of the shared position, or at the offer stage of the other")
	}
	for i := range 3 {
		if _, err := f.recruit.AddComment(ctx, ra, card.id, fmt.Sprintf("Comment %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.recruit.Rate(ctx, la, card.id, recruit.RateInvite); err != nil {
		t.Fatal(err)
	}
	if err := f.recruit.AddNote(ctx, ra, card.id, "A private note"); err != nil {
		t.Fatal(err)
	}
	if err := f.recruit.AddTask(ctx, ra, card.id, recruit.TaskInput{Title: "Call the references", AssigneeID: recU.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.InviteInterview(ctx, ra, card.id, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 7).Format("2006-01-02"),
		Time: "10:00", TimeZone: "Europe/Oslo", Minutes: 45, Location: "Office", Participants: []string{lm.ID}}); err != nil {
		t.Fatal(err)
	}
	// Every kind of card data on other applications too, so that no table is
	// a row or two when the planner weighs it.
	for i, a := range apps {
		if a.position == draft.ID || a.id == card.id {
			continue
		}
		if i%4 == 0 {
			if err := f.recruit.AddLabel(ctx, a.by, a.id, "shortlist"); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if _, err := f.recruit.AddComment(ctx, a.by, a.id, fmt.Sprintf("Comment on %d", i)); err != nil {
				t.Fatal(err)
			}
			if err := f.recruit.Rate(ctx, a.by, a.id, recruit.RateInvite); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if err := f.recruit.AddTask(ctx, a.by, a.id, recruit.TaskInput{Title: fmt.Sprintf("Task %d", i)}); err != nil {
				t.Fatal(err)
			}
			if err := f.recruit.AddNote(ctx, a.by, a.id, fmt.Sprintf("Note %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if i%6 == 0 && (a.stage == access.StageInterview || a.stage == access.StagePreselected) {
			if _, err := f.recruit.InviteInterview(ctx, a.by, a.id, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 3+i%20).Format("2006-01-02"),
				Time: "09:00", TimeZone: "Europe/Oslo", Minutes: 30, Location: "Office"}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Another company with its own recruitment.
	other, err := f.tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "other", Name: "Other Ltd", DefaultLanguage: "en"})
	if err != nil {
		t.Fatal(err)
	}
	ou, err := f.accounts.CreateUser(ctx, access.Operator(other.ID), account.CreateUserInput{Login: "other-hr", DisplayName: "Other HR", Password: testPassword, Role: access.HRManager})
	if err != nil {
		t.Fatal(err)
	}
	oa := f.actor(ou)
	op, err := f.recruit.CreatePosition(ctx, oa, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := f.recruit.AddCandidate(ctx, oa, op.ID, recruit.CandidateInput{Name: fmt.Sprintf("Other %d", i), Email: fmt.Sprintf("o%d@example.org", i)},
			access.StageKinds[i%len(access.StageKinds)], recruit.ViaStaff); err != nil {
			t.Fatal(err)
		}
	}

	// Then two years of synthetic history through the seed, so that the
	// planner weighs tables of a real company's proportions.
	sc := seed.Scale{Name: "plan", Companies: 1, Largest: 1500, CandidatesPerPosition: 30}
	if _, err := seed.Run(ctx, seed.Deps{DB: f.db, Tenants: f.tenants, Accounts: f.accounts, Recruit: f.recruit, Credits: f.credits, Audit: f.audit},
		seed.Options{Scale: sc, Seed: 1, Into: f.company}); err != nil {
		t.Fatal(err)
	}

	today := time.Now().UTC().Format("2006-01-02")
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	pages := []planPage{
		{path: "/dashboard"},
		{path: "/positions", next: true},
		{path: "/positions/" + shared.ID},
		{path: "/positions/" + hrs.ID},
		{path: "/positions/" + draft.ID},
		{path: "/positions/" + shared.ID + "/matches"},
		{path: "/positions/" + hrs.ID + "/matches"},
		{path: "/applications/" + card.id},
		{path: "/applications/" + pooled.id},
		{path: "/candidates", next: true},
		{path: "/candidates?" + q("q", "svensson"), next: true},
		{path: "/candidates?" + q("q", "c1@example"), next: true},
		{path: "/candidates?" + q("position", shared.ID), next: true},
		{path: "/candidates?" + q("stage", string(access.StageInterview)), next: true},
		{path: "/candidates?" + q("label", "shortlist"), next: true},
		{path: "/candidates?" + q("source", "linkedin"), next: true},
		{path: "/candidates?" + q("q", "alma", "position", hrs.ID, "stage", string(access.StageOffer), "label", "shortlist", "source", "linkedin"), next: true},
		{path: "/pool", next: true},
		{path: "/privacy/expiring", next: true},
		{path: "/candidates?" + q("q", "consent:expiring"), next: true},
		{path: "/audit", next: true},
		{path: "/audit?" + q("track", string(audit.History)), next: true},
		{path: "/audit?" + q("action", string(audit.StageChanged)), next: true},
		{path: "/audit?" + q("actor", recU.ID), next: true},
		{path: "/audit?" + q("object", card.id), next: true},
		{path: "/audit?" + q("from", today, "to", today), next: true},
		{path: "/audit?" + q("track", string(audit.History), "action", string(audit.ApplicationCreated), "actor", recU.ID, "from", today, "to", today), next: true},
		{path: "/audit/security", next: true},
		{path: "/credits", next: true},
		{path: "/users", next: true},
		{path: "/roles"},
		{path: "/roles/" + role.ID},
		{path: "/settings/templates"},
		{path: "/settings/stages"},
		{path: "/settings/reasons"},
		{path: "/account/security"},
		{path: "/privacy/breaches", next: true},
		{path: "/privacy/records"},
		{path: "/privacy/requests"},
		{path: "/applications/" + card.id + "/export"},
		{path: "/privacy/settings"},
		{path: "/privacy/consent-texts"},
		{path: "/privacy/consent-log", next: true},
		{path: "/privacy/consent-log?" + q("event", "granted", "from", today, "to", today), next: true},
		{path: "/imports"},
	}
	// The API's reads: every GET operation whose wildcards name an object
	// made above, with each user's token.
	cardApp, err := f.recruit.Application(ctx, ra, card.id)
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]string{"/positions/{id}": shared.ID, "/applications/{id}": card.id, "/candidates/{id}": cardApp.Candidate.ID,
		"/users/{id}": hr.ID, "/roles/{id}": role.ID}
	for _, op := range f.srv.apiOperations() {
		if op.Method != http.MethodGet || op.RawResult != "" {
			continue
		}
		path := op.Path
		for prefix, id := range objects {
			if strings.HasPrefix(path, prefix) {
				path = strings.Replace(path, "{id}", id, 1)
			}
		}
		if strings.Contains(path, "{") {
			continue // an object this data has none of (webhooks, tokens)
		}
		if strings.HasPrefix(path, "/cases") {
			continue // cases.handle, which no walk user holds; the company's archives by its key (whistle_archives)
		}
		pages = append(pages, planPage{path: apiPrefix + path, api: true, next: op.Page})
		if op.ID == "listCandidates" {
			pages = append(pages, planPage{path: apiPrefix + path + "?" + q("q", "svensson"), api: true, next: true})
		}
	}
	// Messages name the objects rather than their ids.
	names := strings.NewReplacer(shared.ID, "{shared position}", hrs.ID, "{HR manager's position}", draft.ID, "{draft position}",
		card.id, "{application}", pooled.id, "{pooled application}", recU.ID, "{recruiter}", role.ID, "{custom role}", today, "{today}",
		cardApp.Candidate.ID, "{candidate}", hr.ID, "{HR manager}")
	for i := range pages {
		pages[i].name = names.Replace(pages[i].path)
	}
	users := []planUser{{role: "administrator", token: adminTok}, {role: "HR manager", token: hrTok}, {role: "recruiter", token: recTok}, {role: "line manager", token: lmTok}}
	for i, u := range []*account.User{admin, hr, recU, lm} {
		maker := f.actor(u)
		maker.Perms |= access.Of(access.ManageAPITokens)
		_, secret, err := f.accounts.CreateToken(ctx, maker, account.TokenInput{Name: "plan", Scopes: f.actor(u).Perms})
		if err != nil {
			t.Fatal(err)
		}
		users[i].apiToken = secret
	}
	if err := f.tenants.SetModules(ctx, audit.Operator, f.company.ID, append(slices.Clone(f.company.Modules), tenant.API)); err != nil {
		t.Fatal(err)
	}
	// The webhooks' pages (api module): the list, and a subscription with its delivery log.
	hook, _, err := f.srv.Webhooks.Subscribe(ctx, f.actor(admin), webhook.Input{URL: "https://93.184.215.14/hook", Events: webhook.EventTypes, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, planPage{path: "/settings/webhooks", name: "/settings/webhooks"},
		planPage{path: "/settings/webhooks/" + hook.ID, name: "/settings/webhooks/{webhook}", next: true})
	// The API tokens' pages (the users' tokens above, and a service user's).
	if _, err := f.accounts.CreateServiceUser(ctx, f.actor(admin), "Plan integration", access.Recruiter); err != nil {
		t.Fatal(err)
	}
	pages = append(pages, planPage{path: "/settings/api-tokens", name: "/settings/api-tokens"},
		planPage{path: "/settings/api-tokens/new", name: "/settings/api-tokens/new"})
	// The whistleblowing settings and channels (the administrator's).
	if err := f.tenants.SetModules(ctx, audit.Operator, f.company.ID, append(slices.Clone(f.company.Modules), tenant.API, tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	wch, err := f.srv.Whistle.SaveChannel(ctx, f.actor(admin), whistle.Channel{Slug: "ethics", Name: "Ethics", DefaultLanguage: "en",
		Languages: []string{"en"}, RetentionDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, planPage{path: "/settings/whistleblowing", name: "/settings/whistleblowing"},
		planPage{path: "/settings/whistleblowing/channels", name: "/settings/whistleblowing/channels"},
		planPage{path: "/settings/whistleblowing/channels/" + wch, name: "/settings/whistleblowing/channels/{channel}"})
	return &planData{users: users, pages: pages}
}

// planAnalyze gathers the planner's statistics over the data just made.
func planAnalyze(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	if d.Engine == db.SQLite {
		if _, err := d.Write.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		// Readers load the statistics with the schema: start them afresh.
		d.Read.SetMaxIdleConns(0)
		d.Read.SetMaxIdleConns(2)
		return
	}
	rows, err := d.Read.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	dbtest.ExecAsOwner(t, d, `ANALYZE `+strings.Join(tables, ", "))
}
