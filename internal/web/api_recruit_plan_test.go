package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// TestAPIRecruitQueryPlans walks the API's lists of applications,
// candidates, comments, interviews and labels on the plan test's seeded
// company, as an HR manager's and a recruiter's tokens, following the next
// pages, and asks the database for the plan of every SELECT they run
// (dbtest.CheckPlans): none may read a whole big table or all of one
// company's rows of it. A page of 50 runs as many statements as a page of
// 5 (no query per row).
func TestAPIRecruitQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a company")
	}
	var rec dbtest.Recorder
	f := &apiFixture{fixture: newPlanFixture(t, &rec), cache: map[string]*jsonschema.Schema{}}
	f.enableAPI(f.company)
	planTestData(t, f.fixture)
	planAnalyze(t, f.db)
	ctx := context.Background()
	_, hrTok := f.token("hr_manager")
	recU, err := f.accounts.UserByLogin(ctx, f.company.ID, "plan-recruiter")
	if err != nil {
		t.Fatal(err)
	}
	recP, err := f.accounts.Principal(ctx, f.company.ID, recU.ID)
	if err != nil {
		t.Fatal(err)
	}
	maker := recP.Actor()
	maker.Perms |= access.Of(access.ManageAPITokens)
	_, recTok, err := f.accounts.CreateToken(ctx, maker, account.TokenInput{Name: "plan recruiter", Scopes: recP.Perms})
	if err != nil {
		t.Fatal(err)
	}

	// The positions, the applications and the candidates to aim at, from the API itself.
	get := func(tok, path string) map[string]any {
		t.Helper()
		res := f.call(tok, "GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		return res.json(t)
	}
	var positions []string
	for _, p := range get(hrTok, "/api/v1/positions?limit=100")["data"].([]any) {
		positions = append(positions, p.(map[string]any)["id"].(string))
	}
	// The position with the most applications (the seed's largest).
	var big string
	most := -1
	for _, id := range positions {
		n := 0
		for _, c := range get(hrTok, "/api/v1/positions/"+id)["counts"].(map[string]any) {
			n += int(c.(float64))
		}
		if n > most {
			big, most = id, n
		}
	}
	if most < 60 {
		t.Fatalf("the largest position has %d applications: too few to page", most)
	}
	apps := get(hrTok, "/api/v1/positions/"+big+"/applications?limit=5")["data"].([]any)
	app := apps[0].(map[string]any)
	appID, candID, stageID := app["id"].(string), app["candidate"].(map[string]any)["id"].(string), app["stage_id"].(string)

	type visit struct {
		name  string
		stmts []dbtest.Statement
	}
	var visits []visit
	walk := func(who, tok, path string, follow bool) {
		t.Helper()
		for path != "" {
			rec.Reset()
			res := f.call(tok, "GET", path, nil)
			visits = append(visits, visit{who + " GET " + path, rec.Take()})
			if res.StatusCode != 200 {
				t.Errorf("%s %s: %d %s", who, path, res.StatusCode, res.Body)
				return
			}
			if !follow {
				return
			}
			next, _ := res.json(t)["next_cursor"].(string)
			if next == "" {
				return
			}
			u, _ := url.Parse(path)
			q := u.Query()
			q.Set("cursor", next)
			u.RawQuery = q.Encode()
			path, follow = u.String(), false // the second page is enough
		}
	}
	// The recruiter's position with the most applications.
	recPos := ""
	for _, p := range get(recTok, "/api/v1/positions?limit=100")["data"].([]any) {
		if id := p.(map[string]any)["id"].(string); recPos == "" || len(get(recTok, "/api/v1/positions/"+id+"/applications")["data"].([]any)) > 30 {
			recPos = id
		}
	}
	recStage := get(recTok, "/api/v1/positions/"+recPos+"/applications?limit=1")["data"].([]any)[0].(map[string]any)["stage_id"].(string)
	for _, u := range []struct{ who, tok, position, stage string }{{"HR manager", hrTok, big, stageID}, {"recruiter", recTok, recPos, recStage}} {
		walk(u.who, u.tok, "/api/v1/positions/"+u.position+"/applications", true)
		walk(u.who, u.tok, "/api/v1/positions/"+u.position+"/applications?stage=interview", true)
		walk(u.who, u.tok, "/api/v1/positions/"+u.position+"/applications?stage_id="+u.stage, true)
		walk(u.who, u.tok, "/api/v1/candidates", true)
		walk(u.who, u.tok, "/api/v1/candidates?q=svensson", true)
		walk(u.who, u.tok, "/api/v1/candidates?"+url.Values{"position": {u.position}, "stage": {"interview"}}.Encode(), true)
	}
	walk("HR manager", hrTok, "/api/v1/candidates/"+candID, false)
	walk("HR manager", hrTok, "/api/v1/applications/"+appID, false)
	walk("HR manager", hrTok, "/api/v1/applications/"+appID+"/comments", true)
	walk("HR manager", hrTok, "/api/v1/applications/"+appID+"/interviews", true)
	walk("HR manager", hrTok, "/api/v1/applications/"+appID+"/labels", false)

	// No query per row: a page of 50 runs as many statements as a page of 5.
	count := func(path string) int {
		rec.Reset()
		if res := f.call(hrTok, "GET", path, nil); res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		return len(rec.Take())
	}
	for _, path := range []string{"/api/v1/positions/" + big + "/applications", "/api/v1/candidates"} {
		small, large := count(path+"?limit=5"), count(path+"?limit=50")
		if small != large {
			t.Errorf("%s: %d statements for 5 rows, %d for 50", path, small, large)
		}
	}

	seen := map[string]bool{}
	var problems []string
	for _, v := range visits {
		var declare []dbtest.Statement
		for _, s := range v.stmts {
			if strings.Contains(s.Query, "set_config(") {
				declare = []dbtest.Statement{s}
				continue
			}
			key := s.Query + "\x00" + fmt.Sprintf("%#v", s.Args)
			if seen[key] {
				continue
			}
			seen[key] = true
			batch := append(slices.Clone(declare), s)
			for _, p := range dbtest.CheckPlans(ctx, f.db, batch, planBigTables) {
				plan := ""
				if plans := dbtest.Plans(ctx, f.db, batch); len(plans) > 0 {
					plan = plans[0]
				}
				problems = append(problems, fmt.Sprintf("%s\n%s\nplan of %s", v.name, p, plan))
			}
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d calls, %d distinct statements on %s", len(visits), len(seen), f.db.Engine)
}
