package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// apiWant is one step of a scenario: a call and the status (and, for a
// refusal, the problem type and the fields) it must answer.
type apiWant struct {
	name, method, path string
	body               any
	header             []string
	status             int
	problem            string
	fields             []string
}

// run makes the call and checks its answer; it returns the response.
func (w apiWant) run(t *testing.T, f *apiFixture, tok string) *apiResponse {
	t.Helper()
	res := f.call(tok, w.method, w.path, w.body, w.header...)
	if res.StatusCode != w.status {
		t.Fatalf("%s: %s %s: status %d, want %d: %s", w.name, w.method, w.path, res.StatusCode, w.status, res.Body)
	}
	if w.problem != "" {
		if p := res.problem(t); p != w.problem {
			t.Fatalf("%s: problem %q, want %q: %s", w.name, p, w.problem, res.Body)
		}
	}
	if len(w.fields) > 0 {
		got := problemFields(t, res)
		for _, fl := range w.fields {
			if !slices.Contains(got, fl) {
				t.Fatalf("%s: field errors %v, want %v", w.name, got, w.fields)
			}
		}
	}
	return res
}

func problemFields(t *testing.T, res *apiResponse) []string {
	t.Helper()
	var out []string
	errs, _ := res.json(t)["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// pageIDs returns the ids of a page's items and its next cursor.
func pageIDs(t *testing.T, res *apiResponse) ([]string, string) {
	t.Helper()
	body := res.json(t)
	var ids []string
	for _, it := range body["data"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	next, _ := body["next_cursor"].(string)
	return ids, next
}

// apiRecruitFixture is an API fixture with a position of the HR manager
// whose token calls.
type apiRecruitFixture struct {
	*apiFixture
	hr       access.Actor
	tok      string
	position *recruit.Position
}

func newAPIRecruitFixture(t *testing.T) *apiRecruitFixture {
	t.Helper()
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	p, err := f.recruit.CreatePosition(context.Background(), hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return &apiRecruitFixture{apiFixture: f, hr: hr, tok: tok, position: p}
}

// add adds a candidate to the fixture's position through the service.
func (f *apiRecruitFixture) add(name string, stage access.StageKind) *recruit.Application {
	f.t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	app, err := f.recruit.AddCandidate(context.Background(), f.hr, f.position.ID, recruit.CandidateInput{Name: name, Email: email}, stage, recruit.ViaStaff)
	if err != nil {
		f.t.Fatal(err)
	}
	return app
}

func TestAPICreateAndGetApplication(t *testing.T) {
	f := newAPIRecruitFixture(t)
	path := "/api/v1/positions/" + f.position.ID + "/applications"
	res := apiWant{"create", "POST", path, map[string]any{"name": "Ada Lovelace", "email": "Ada@Example.org ", "phone": "+47 22 33 44 55", "stage": "preselected"},
		nil, 201, "", nil}.run(t, f.apiFixture, f.tok)
	app := res.json(t)
	id := app["id"].(string)
	cand := app["candidate"].(map[string]any)
	if app["stage"] != "preselected" || app["position_id"] != f.position.ID || cand["email"] != "ada@example.org" || cand["phone"] != "+47 22 33 44 55" {
		t.Fatalf("created %v", app)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/applications/"+id {
		t.Fatalf("Location %q", loc)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	// The same person again: the application they have, as it is.
	res = apiWant{"again", "POST", path, map[string]any{"name": "Someone Else", "email": "ada@example.org"}, nil, 201, "", nil}.run(t, f.apiFixture, f.tok)
	if again := res.json(t); again["id"] != id || again["candidate"].(map[string]any)["name"] != "Ada Lovelace" {
		t.Fatalf("second add: %v", again)
	}
	// Without a stage: new.
	res = apiWant{"default stage", "POST", path, map[string]any{"name": "Grace Hopper", "email": "grace@example.org"}, nil, 201, "", nil}.run(t, f.apiFixture, f.tok)
	if res.json(t)["stage"] != "new" {
		t.Fatalf("default stage: %s", res.Body)
	}
	res = apiWant{"get", "GET", "/api/v1/applications/" + id, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if res.Header.Get("ETag") != etag || res.json(t)["candidate"].(map[string]any)["name"] != "Ada Lovelace" {
		t.Fatalf("get: %s %s", res.Header.Get("ETag"), res.Body)
	}

	_, lineTok := f.token("line_manager")
	_, viewTok := f.token("hr_manager", access.ViewPositions, access.ViewApplications)
	for _, c := range []apiWant{
		{"invalid fields", "POST", path, map[string]any{"name": "", "email": "not-an-email", "phone": "call me"}, nil, 422, "validation", []string{"name", "email", "phone"}},
		{"bad stage", "POST", path, map[string]any{"name": "A", "email": "a@example.org", "stage": "limbo"}, nil, 422, "validation", []string{"stage"}},
		{"wrong type", "POST", path, map[string]any{"name": 5, "email": "a@example.org"}, nil, 422, "wrong-type", []string{"name"}},
		{"unknown field", "POST", path, map[string]any{"name": "A", "email": "a@example.org", "salary": 1}, nil, 422, "unknown-field", []string{"salary"}},
		{"unknown position", "POST", "/api/v1/positions/0190c0de-0000-7000-8000-000000000000/applications", map[string]any{"name": "A", "email": "a@example.org"}, nil, 404, "not-found", nil},
		{"malformed id", "GET", "/api/v1/applications/not-an-id", nil, nil, 404, "not-found", nil},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, f.tok) })
	}
	t.Run("out of scope", func(t *testing.T) {
		apiWant{"add", "POST", path, map[string]any{"name": "A", "email": "a@example.org"}, nil, 403, "insufficient-scope", nil}.run(t, f.apiFixture, viewTok)
	})
	t.Run("line manager not shared", func(t *testing.T) {
		apiWant{"get", "GET", "/api/v1/applications/" + id, nil, nil, 404, "not-found", nil}.run(t, f.apiFixture, lineTok)
	})
	t.Run("another company", func(t *testing.T) {
		other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
		f.enableAPI(other)
		_, otherTok := f.tokenIn(other, "hr_manager")
		apiWant{"get", "GET", "/api/v1/applications/" + id, nil, nil, 404, "not-found", nil}.run(t, f.apiFixture, otherTok)
		apiWant{"add", "POST", path, map[string]any{"name": "A", "email": "a@example.org"}, nil, 404, "not-found", nil}.run(t, f.apiFixture, otherTok)
	})
}

// TestAPIAddKnownCandidateHidden: an address whose candidate the token's
// user may not see is refused on the email field, saying nothing more.
func TestAPIAddKnownCandidateHidden(t *testing.T) {
	f := newAPIRecruitFixture(t)
	f.add("Secret Person", access.StageNew)
	rec, recTok := f.token("recruiter")
	own, err := f.recruit.CreatePosition(context.Background(), rec, recruit.PositionInput{Title: "Baker", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res := apiWant{"known", "POST", "/api/v1/positions/" + own.ID + "/applications", map[string]any{"name": "X", "email": "secret.person@example.org"},
		nil, 422, "validation", []string{"email"}}.run(t, f.apiFixture, recTok)
	if strings.Contains(string(res.Body), "Secret Person") {
		t.Fatalf("the refusal names the stored candidate: %s", res.Body)
	}
}

func TestAPIPositionApplications(t *testing.T) {
	f := newAPIRecruitFixture(t)
	var made []*recruit.Application
	for i := range 7 {
		made = append(made, f.add(fmt.Sprintf("Person %d", i), access.StageKinds[i%3]))
	}
	// Another position's application is not in the list.
	other, err := f.recruit.CreatePosition(context.Background(), f.hr, recruit.PositionInput{Title: "Baker", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddCandidate(context.Background(), f.hr, other.ID, recruit.CandidateInput{Name: "Elsewhere", Email: "elsewhere@example.org"}, access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/positions/" + f.position.ID + "/applications"
	// Pages of 3, newest first, each application once.
	var got []string
	path := base + "?limit=3"
	pages := 0
	for path != "" {
		res := apiWant{"page", "GET", path, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
		ids, next := pageIDs(t, res)
		got = append(got, ids...)
		pages++
		path = ""
		if next != "" {
			path = base + "?limit=3&cursor=" + next
		}
	}
	var want []string
	for i := len(made) - 1; i >= 0; i-- {
		want = append(want, made[i].ID)
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("pages %d, ids %v, want %v newest first", pages, got, want)
	}
	// The default page holds them all, with the candidate and the stage's name.
	res := apiWant{"all", "GET", base, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	first := res.json(t)["data"].([]any)[0].(map[string]any)
	if first["candidate"].(map[string]any)["name"] != "Person 6" || first["stage_id"] == "" || first["position_title"] != "Welder" {
		t.Fatalf("first item %v", first)
	}
	// The end of the candidate's bases, as the single application shows it.
	single := f.call(f.tok, "GET", "/api/v1/applications/"+made[6].ID, nil).json(t)
	if kept := first["candidate"].(map[string]any)["kept_until"]; kept == nil || kept != single["candidate"].(map[string]any)["kept_until"] {
		t.Fatalf("kept_until %v in the list, %v on the application", kept, single["candidate"].(map[string]any)["kept_until"])
	}
	// Filters: a stage kind, a stage of the pipeline.
	res = apiWant{"by kind", "GET", base + "?stage=preselected", nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	ids, _ := pageIDs(t, res)
	if !slices.Equal(ids, []string{made[4].ID, made[1].ID}) {
		t.Fatalf("stage=preselected: %v", ids)
	}
	stages, err := f.recruit.Stages(context.Background(), f.hr, f.position.ID)
	if err != nil {
		t.Fatal(err)
	}
	var interview string
	for _, st := range stages {
		if st.Kind == access.StageInterview {
			interview = st.ID
		}
	}
	res = apiWant{"by stage", "GET", base + "?stage_id=" + interview, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if ids, _ := pageIDs(t, res); !slices.Equal(ids, []string{made[5].ID, made[2].ID}) {
		t.Fatalf("stage_id: %v", ids)
	}

	_, scopeTok := f.token("hr_manager", access.ViewPositions)
	_, lineTok := f.token("line_manager")
	otherCo := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(otherCo)
	_, otherTok := f.tokenIn(otherCo, "hr_manager")
	cases := []struct {
		apiWant
		tok string
	}{
		{apiWant{"bad stage", "GET", base + "?stage=limbo", nil, nil, 422, "validation", []string{"stage"}}, f.tok},
		{apiWant{"bad stage id", "GET", base + "?stage_id=not%20an%20id", nil, nil, 422, "validation", []string{"stage_id"}}, f.tok},
		{apiWant{"huge page", "GET", base + "?limit=1000", nil, nil, 422, "validation", []string{"limit"}}, f.tok},
		{apiWant{"forged cursor", "GET", base + "?cursor=MTcwMDAwMDAwMDAwMDAwMC4wMTkw.forged", nil, nil, 400, "invalid-cursor", nil}, f.tok},
		{apiWant{"out of scope", "GET", base, nil, nil, 403, "insufficient-scope", nil}, scopeTok},
		{apiWant{"line manager not shared", "GET", base, nil, nil, 404, "not-found", nil}, lineTok},
		{apiWant{"another company", "GET", base, nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"unknown position", "GET", "/api/v1/positions/0190c0de-0000-7000-8000-000000000000/applications", nil, nil, 404, "not-found", nil}, f.tok},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, c.tok) })
	}
	// A cursor of another list is refused.
	res = f.call(f.tok, "GET", "/api/v1/positions?limit=1", nil)
	if _, next := pageIDs(t, res); next != "" {
		apiWant{"cursor of another list", "GET", base + "?cursor=" + next, nil, nil, 400, "invalid-cursor", nil}.run(t, f.apiFixture, f.tok)
	}
	// Shared with the line manager: they see the list.
	line, lineTok2 := f.token("line_manager")
	if err := f.recruit.SharePosition(context.Background(), f.hr, f.position.ID, []string{line.UserID}); err != nil {
		t.Fatal(err)
	}
	res = apiWant{"shared", "GET", base, nil, nil, 200, "", nil}.run(t, f.apiFixture, lineTok2)
	if ids, _ := pageIDs(t, res); len(ids) != 7 {
		t.Fatalf("line manager of the shared position sees %d", len(ids))
	}
}

func TestAPIMoveAndReject(t *testing.T) {
	f := newAPIRecruitFixture(t)
	app := f.add("Ada Lovelace", access.StageNew)
	base := "/api/v1/applications/" + app.ID
	etag := f.call(f.tok, "GET", base, nil).Header.Get("ETag")

	res := apiWant{"move without If-Match", "POST", base + "/move", map[string]any{"stage": "interview"}, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if res.json(t)["stage"] != "interview" || res.Header.Get("ETag") == etag || res.Header.Get("ETag") == "" {
		t.Fatalf("move: %s %s", res.Header.Get("ETag"), res.Body)
	}
	apiWant{"from an old version", "POST", base + "/move", map[string]any{"stage": "offer"}, []string{"If-Match", etag}, 412, "precondition-failed", nil}.run(t, f.apiFixture, f.tok)
	apiWant{"from a malformed version", "POST", base + "/move", map[string]any{"stage": "offer"}, []string{"If-Match", `W/"x"`}, 412, "precondition-failed", nil}.run(t, f.apiFixture, f.tok)
	current := res.Header.Get("ETag")
	// To one stage of the pipeline, from the current version.
	stages, err := f.recruit.Stages(context.Background(), f.hr, f.position.ID)
	if err != nil {
		t.Fatal(err)
	}
	var offer string
	for _, st := range stages {
		if st.Kind == access.StageOffer {
			offer = st.ID
		}
	}
	res = apiWant{"to a stage", "POST", base + "/move", map[string]any{"stage_id": offer}, []string{"If-Match", current}, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if m := res.json(t); m["stage"] != "offer" || m["stage_id"] != offer {
		t.Fatalf("to a stage: %s", res.Body)
	}
	// Rejection: a reason is required; with notify the candidate is emailed.
	apiWant{"reject without a reason", "POST", base + "/reject", map[string]any{}, nil, 422, "validation", []string{"reason"}}.run(t, f.apiFixture, f.tok)
	apiWant{"move to rejected without a reason", "POST", base + "/move", map[string]any{"stage": "rejected"}, nil, 422, "validation", []string{"reason"}}.run(t, f.apiFixture, f.tok)
	res = apiWant{"reject", "POST", base + "/reject", map[string]any{"reason": "experience", "notify": true}, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if m := res.json(t); m["stage"] != "rejected" || m["rejection_reason"] != "experience" {
		t.Fatalf("reject: %s", res.Body)
	}
	view, err := f.recruit.CardView(context.Background(), f.hr, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Messages) != 1 || view.Messages[0].Kind != recruit.TemplateRejection {
		t.Fatalf("messages after a rejection with notify: %+v", view.Messages)
	}

	// The reasons a rejection takes.
	res = apiWant{"reasons", "GET", "/api/v1/rejection-reasons", nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if !strings.Contains(string(res.Body), `"id":"experience"`) || strings.Contains(string(res.Body), `"name":""`) {
		t.Fatalf("reasons: %s", res.Body)
	}

	// Refusals.
	rec, recTok := f.token("recruiter")
	if err := f.recruit.SharePosition(context.Background(), f.hr, f.position.ID, []string{rec.UserID}); err != nil {
		t.Fatal(err)
	}
	_, lineTok := f.token("line_manager")
	_, viewTok := f.token("hr_manager", access.ViewPositions, access.ViewApplications)
	cases := []struct {
		apiWant
		tok string
	}{
		{apiWant{"bad stage", "POST", base + "/move", map[string]any{"stage": "limbo"}, nil, 422, "validation", []string{"stage"}}, f.tok},
		{apiWant{"no stage", "POST", base + "/move", map[string]any{}, nil, 422, "validation", []string{"stage"}}, f.tok},
		{apiWant{"stage of another position", "POST", base + "/move", map[string]any{"stage_id": "0190c0de-0000-7000-8000-000000000000"}, nil, 422, "validation", []string{"stage"}}, f.tok},
		{apiWant{"unknown reason", "POST", base + "/reject", map[string]any{"reason": "astrology"}, nil, 422, "validation", []string{"reason"}}, f.tok},
		{apiWant{"notify of wrong type", "POST", base + "/reject", map[string]any{"reason": "other", "notify": "yes"}, nil, 422, "wrong-type", []string{"notify"}}, f.tok},
		{apiWant{"out of scope", "POST", base + "/move", map[string]any{"stage": "new"}, nil, 403, "insufficient-scope", nil}, viewTok},
		{apiWant{"member may not move", "POST", base + "/move", map[string]any{"stage": "new"}, nil, 403, "forbidden", nil}, recTok},
		{apiWant{"line manager may not move", "POST", base + "/reject", map[string]any{"reason": "other"}, nil, 403, "insufficient-scope", nil}, lineTok},
		{apiWant{"unknown application", "POST", "/api/v1/applications/0190c0de-0000-7000-8000-000000000000/move", map[string]any{"stage": "new"}, nil, 404, "not-found", nil}, f.tok},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, c.tok) })
	}
	// A hidden application answers 404 whatever its version.
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	_, otherTok := f.tokenIn(other, "hr_manager")
	apiWant{"another company, with If-Match", "POST", base + "/move", map[string]any{"stage": "new"}, []string{"If-Match", `"1"`}, 404, "not-found", nil}.run(t, f.apiFixture, otherTok)
	apiWant{"another company", "POST", base + "/reject", map[string]any{"reason": "other"}, nil, 404, "not-found", nil}.run(t, f.apiFixture, otherTok)
}

// TestAPIConcurrentMovesFromOneVersion: of moves racing from the same
// ETag, exactly one wins; the others get 412 and change nothing.
func TestAPIConcurrentMovesFromOneVersion(t *testing.T) {
	f := newAPIRecruitFixture(t)
	app := f.add("Ada Lovelace", access.StageNew)
	etag := f.call(f.tok, "GET", "/api/v1/applications/"+app.ID, nil).Header.Get("ETag")
	kinds := []string{"preselected", "interview", "offer", "hired", "preselected", "interview", "offer", "hired"}
	codes := make(chan int, len(kinds))
	var wg sync.WaitGroup
	for _, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- f.call(f.tok, "POST", "/api/v1/applications/"+app.ID+"/move", map[string]any{"stage": k}, "If-Match", etag).StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d moves won from one version, want 1", won)
	}
}

func TestAPICommentsLabelsRating(t *testing.T) {
	f := newAPIRecruitFixture(t)
	app := f.add("Ada Lovelace", access.StageInterview)
	base := "/api/v1/applications/" + app.ID
	// Comments, oldest first, paged.
	for i := range 5 {
		res := apiWant{"comment", "POST", base + "/comments", map[string]any{"body": fmt.Sprintf("Comment %d", i)}, nil, 201, "", nil}.run(t, f.apiFixture, f.tok)
		if m := res.json(t); m["body"] != fmt.Sprintf("Comment %d", i) || m["author_id"] != f.hr.UserID {
			t.Fatalf("comment: %s", res.Body)
		}
	}
	var bodies []string
	path := base + "/comments?limit=2"
	for path != "" {
		res := apiWant{"comments page", "GET", path, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
		body := res.json(t)
		for _, c := range body["data"].([]any) {
			bodies = append(bodies, c.(map[string]any)["body"].(string))
		}
		path = ""
		if next, _ := body["next_cursor"].(string); next != "" {
			path = base + "/comments?limit=2&cursor=" + next
		}
	}
	if !slices.Equal(bodies, []string{"Comment 0", "Comment 1", "Comment 2", "Comment 3", "Comment 4"}) {
		t.Fatalf("comments %v", bodies)
	}
	// Labels.
	apiWant{"label", "PUT", base + "/labels/shortlist", nil, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	apiWant{"label again", "PUT", base + "/labels/shortlist", nil, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	apiWant{"label with a space", "PUT", base + "/labels/cloud%20team", nil, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	res := apiWant{"labels", "GET", base + "/labels", nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if string(res.Body) != `["cloud team","shortlist"]`+"\n" {
		t.Fatalf("labels %s", res.Body)
	}
	apiWant{"unlabel", "DELETE", base + "/labels/shortlist", nil, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	res = apiWant{"labels after", "GET", base + "/labels", nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if string(res.Body) != `["cloud team"]`+"\n" {
		t.Fatalf("labels after removing %s", res.Body)
	}
	apiWant{"unlabel", "DELETE", base + "/labels/cloud%20team", nil, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	if res := f.call(f.tok, "GET", base+"/labels", nil); string(res.Body) != "[]\n" {
		t.Fatalf("no labels: %s", res.Body)
	}
	// Rating.
	apiWant{"rate", "POST", base + "/rating", map[string]any{"rating": "invite"}, nil, 204, "", nil}.run(t, f.apiFixture, f.tok)
	card, err := f.recruit.Card(context.Background(), f.hr, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Ratings) != 1 || card.Ratings[0].Value != recruit.RateInvite || card.Ratings[0].UserID != f.hr.UserID {
		t.Fatalf("ratings %+v", card.Ratings)
	}

	line, lineTok := f.token("line_manager")
	_, viewTok := f.token("hr_manager", access.ViewPositions, access.ViewApplications)
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	_, otherTok := f.tokenIn(other, "hr_manager")
	cases := []struct {
		apiWant
		tok string
	}{
		{apiWant{"empty comment", "POST", base + "/comments", map[string]any{"body": "  "}, nil, 422, "validation", []string{"body"}}, f.tok},
		{apiWant{"long comment", "POST", base + "/comments", map[string]any{"body": strings.Repeat("a", 5001)}, nil, 422, "validation", []string{"body"}}, f.tok},
		{apiWant{"long label", "PUT", base + "/labels/" + strings.Repeat("x", 41), nil, nil, 422, "validation", []string{"label"}}, f.tok},
		{apiWant{"bad rating", "POST", base + "/rating", map[string]any{"rating": "meh"}, nil, 422, "validation", []string{"rating"}}, f.tok},
		{apiWant{"comment out of scope", "POST", base + "/comments", map[string]any{"body": "x"}, nil, 403, "insufficient-scope", nil}, viewTok},
		{apiWant{"label out of scope", "PUT", base + "/labels/x", nil, nil, 403, "insufficient-scope", nil}, viewTok},
		{apiWant{"line manager not shared", "GET", base + "/comments", nil, nil, 404, "not-found", nil}, lineTok},
		{apiWant{"another company's comments", "GET", base + "/comments", nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company's labels", "GET", base + "/labels", nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company labels", "PUT", base + "/labels/x", nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company unlabels", "DELETE", base + "/labels/x", nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company rates", "POST", base + "/rating", map[string]any{"rating": "invite"}, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company comments", "POST", base + "/comments", map[string]any{"body": "x"}, nil, 404, "not-found", nil}, otherTok},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, c.tok) })
	}
	// Shared with the line manager: they comment and rate, but may not label.
	if err := f.recruit.SharePosition(context.Background(), f.hr, f.position.ID, []string{line.UserID}); err != nil {
		t.Fatal(err)
	}
	apiWant{"line manager comments", "POST", base + "/comments", map[string]any{"body": "Good"}, nil, 201, "", nil}.run(t, f.apiFixture, lineTok)
	apiWant{"line manager rates", "POST", base + "/rating", map[string]any{"rating": "later"}, nil, 204, "", nil}.run(t, f.apiFixture, lineTok)
	res = apiWant{"line manager reads", "GET", base + "/comments", nil, nil, 200, "", nil}.run(t, f.apiFixture, lineTok)
	if ids, _ := pageIDs(t, res); len(ids) != 6 {
		t.Fatalf("line manager sees %d comments, want 6", len(ids))
	}
}

func TestAPIInterviews(t *testing.T) {
	f := newAPIRecruitFixture(t)
	app := f.add("Ada Lovelace", access.StageInterview)
	base := "/api/v1/applications/" + app.ID + "/interviews"
	line, _ := f.token("line_manager")
	if err := f.recruit.SharePosition(context.Background(), f.hr, f.position.ID, []string{line.UserID}); err != nil {
		t.Fatal(err)
	}
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	for i, d := range []int{9, 3, 6} {
		res := apiWant{"invite", "POST", base, map[string]any{"date": day(d), "time": "10:30", "time_zone": "Europe/Oslo", "minutes": 45,
			"location": fmt.Sprintf("Room %d", i), "participants": []string{line.UserID}, "note": "Bring your portfolio."}, nil, 201, "", nil}.run(t, f.apiFixture, f.tok)
		iv := res.json(t)
		if iv["status"] != "invited" || iv["minutes"] != float64(45) || iv["time_zone"] != "Europe/Oslo" || !strings.HasPrefix(iv["starts_at"].(string), day(d)+"T10:30:00+0") {
			t.Fatalf("interview %s", res.Body)
		}
	}
	// Earliest first, paged.
	var rooms []string
	path := base + "?limit=2"
	for path != "" {
		res := apiWant{"page", "GET", path, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
		body := res.json(t)
		for _, it := range body["data"].([]any) {
			m := it.(map[string]any)
			rooms = append(rooms, m["location"].(string))
			if ps := m["participants"].([]any); len(ps) != 1 || ps[0] != line.UserID {
				t.Fatalf("participants %v", ps)
			}
		}
		path = ""
		if next, _ := body["next_cursor"].(string); next != "" {
			path = base + "?limit=2&cursor=" + next
		}
	}
	if !slices.Equal(rooms, []string{"Room 1", "Room 2", "Room 0"}) {
		t.Fatalf("interviews in order %v", rooms)
	}

	_, viewTok := f.token("hr_manager", access.ViewPositions, access.ViewApplications)
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	_, otherTok := f.tokenIn(other, "hr_manager")
	stranger := f.member(f.company, "line_manager")
	cases := []struct {
		apiWant
		tok string
	}{
		{apiWant{"invalid", "POST", base, map[string]any{"date": "tomorrow", "time": "10:00", "time_zone": "Mars/Olympus", "minutes": 5},
			nil, 422, "validation", []string{"date", "time_zone", "minutes", "location"}}, f.tok},
		{apiWant{"in the past", "POST", base, map[string]any{"date": day(-2), "time": "10:00", "time_zone": "UTC", "minutes": 30, "location": "Office"},
			nil, 422, "validation", []string{"date"}}, f.tok},
		{apiWant{"bad video link", "POST", base, map[string]any{"date": day(2), "time": "10:00", "time_zone": "UTC", "minutes": 30, "video_link": "http://meet.example"},
			nil, 422, "validation", []string{"video_link"}}, f.tok},
		{apiWant{"participant who does not see it", "POST", base, map[string]any{"date": day(2), "time": "10:00", "time_zone": "UTC", "minutes": 30,
			"location": "Office", "participants": []string{stranger.UserID}}, nil, 422, "validation", []string{"participants"}}, f.tok},
		{apiWant{"minutes of wrong type", "POST", base, map[string]any{"date": day(2), "time": "10:00", "time_zone": "UTC", "minutes": "30"},
			nil, 422, "wrong-type", []string{"minutes"}}, f.tok},
		{apiWant{"out of scope", "POST", base, map[string]any{"date": day(2), "time": "10:00", "time_zone": "UTC", "minutes": 30, "location": "Office"},
			nil, 403, "insufficient-scope", nil}, viewTok},
		{apiWant{"another company lists", "GET", base, nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"another company invites", "POST", base, map[string]any{"date": day(2), "time": "10:00", "time_zone": "UTC", "minutes": 30, "location": "Office"},
			nil, 404, "not-found", nil}, otherTok},
		{apiWant{"forged cursor", "GET", base + "?cursor=abc.def", nil, nil, 400, "invalid-cursor", nil}, f.tok},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, c.tok) })
	}
}

// BenchmarkAPIPositionApplications measures a page of 50 of a position's
// applications through the whole API chain (token, rate limits, the read),
// beside the same page served by a bare net/http JSON handler.
func BenchmarkAPIPositionApplications(b *testing.B) {
	f := newAPIFixture(b)
	f.srv.opts.APIRateToken, f.srv.opts.APIRateIP = 1<<30, 1<<30
	hr, tok := f.token("hr_manager")
	p, err := f.recruit.CreatePosition(context.Background(), hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 60 {
		if _, err := f.recruit.AddCandidate(context.Background(), hr, p.ID, recruit.CandidateInput{Name: fmt.Sprintf("Person %d", i),
			Email: fmt.Sprintf("p%d@example.org", i)}, access.StageKinds[i%len(access.StageKinds)], recruit.ViaStaff); err != nil {
			b.Fatal(err)
		}
	}
	path := "http://127.0.0.1:8080/api/v1/positions/" + p.ID + "/applications?limit=50"
	first := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	f.h.ServeHTTP(first, req)
	if first.Code != http.StatusOK {
		b.Fatalf("status %d: %s", first.Code, first.Body)
	}
	var page any
	if err := json.Unmarshal(first.Body.Bytes(), &page); err != nil {
		b.Fatal(err)
	}
	b.Run("api", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, _ := json.Marshal(page)
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
		})
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
