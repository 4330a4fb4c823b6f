package web

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// indexAll drains the full-text index's queue, as the search.index job does.
func (f *apiRecruitFixture) indexAll() {
	f.t.Helper()
	for {
		n, err := f.recruit.IndexQueued(context.Background(), 500)
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func TestAPICandidatesList(t *testing.T) {
	f := newAPIRecruitFixture(t)
	ctx := context.Background()
	dvorak := f.add("Antonín Dvořák", access.StageInterview)
	janacek := f.add("Leoš Janáček", access.StageNew)
	if err := f.recruit.AddLabel(ctx, f.hr, janacek.ID, "shortlist"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddComment(ctx, f.hr, dvorak.ID, "Knows Kubernetes well"); err != nil {
		t.Fatal(err)
	}
	// The recruiter's own position, which the recruiter sees, and the HR manager's, which they do not.
	rec, recTok := f.token("recruiter")
	own, err := f.recruit.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Baker", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	smetana, err := f.recruit.AddCandidate(ctx, rec, own.ID, recruit.CandidateInput{Name: "Bedřich Smetana", Email: "smetana@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	f.indexAll()

	list := func(tok string, q url.Values) []string {
		t.Helper()
		res := apiWant{"list " + q.Encode(), "GET", "/api/v1/candidates?" + q.Encode(), nil, nil, 200, "", nil}.run(t, f.apiFixture, tok)
		ids, _ := pageIDs(t, res)
		return ids
	}
	for _, c := range []struct {
		name string
		tok  string
		q    url.Values
		want []string
	}{
		{"everything the HR manager sees", f.tok, url.Values{}, []string{smetana.ID, janacek.ID, dvorak.ID}},
		{"the recruiter's own and the shared pool's", recTok, url.Values{}, []string{smetana.ID, dvorak.ID}},
		{"a prefix without diacritics", f.tok, url.Values{"q": {"dvor"}}, []string{dvorak.ID}},
		{"a comment's word", f.tok, url.Values{"q": {"kubernetes"}}, []string{dvorak.ID}},
		{"a field filter in the query", f.tok, url.Values{"q": {"label:shortlist"}}, []string{janacek.ID}},
		{"the stage parameter", f.tok, url.Values{"stage": {"interview"}}, []string{dvorak.ID}},
		{"the label parameter", f.tok, url.Values{"label": {"shortlist"}}, []string{janacek.ID}},
		{"the position parameter", f.tok, url.Values{"position": {own.ID}}, []string{smetana.ID}},
		{"nothing found", f.tok, url.Values{"q": {"beethoven"}}, nil},
		{"not what the recruiter may see", recTok, url.Values{"q": {"janac"}}, nil},
		{"the pool through the search", recTok, url.Values{"q": {"dvor"}}, []string{dvorak.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := list(c.tok, c.q); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	// Pages.
	res := apiWant{"first page", "GET", "/api/v1/candidates?limit=2", nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	first, next := pageIDs(t, res)
	if len(first) != 2 || next == "" {
		t.Fatalf("first page %v next %q", first, next)
	}
	res = apiWant{"second page", "GET", "/api/v1/candidates?limit=2&cursor=" + next, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	if second, next := pageIDs(t, res); !slices.Equal(append(first, second...), []string{smetana.ID, janacek.ID, dvorak.ID}) || next != "" {
		t.Fatalf("second page %v next %q", second, next)
	}
	item := res.json(t)["data"].([]any)[0].(map[string]any)
	if cand := item["candidate"].(map[string]any); cand["name"] != "Antonín Dvořák" || item["position_title"] != "Welder" || item["stage"] != "interview" {
		t.Fatalf("item %v", item)
	}

	_, scopeTok := f.token("hr_manager", access.ViewPositions)
	for _, c := range []apiWant{
		{"unclosed quote", "GET", "/api/v1/candidates?q=%22java", nil, nil, 422, "validation", []string{"q"}},
		{"bad stage", "GET", "/api/v1/candidates?stage=limbo", nil, nil, 422, "validation", []string{"stage"}},
		{"bad position", "GET", "/api/v1/candidates?position=NOT-AN-ID", nil, nil, 422, "validation", []string{"position"}},
		{"invalid utf-8", "GET", "/api/v1/candidates?q=%ff", nil, nil, 422, "validation", []string{"q"}},
		{"huge page", "GET", "/api/v1/candidates?limit=101", nil, nil, 422, "validation", []string{"limit"}},
		{"forged cursor", "GET", "/api/v1/candidates?cursor=" + next + "x", nil, nil, 400, "invalid-cursor", nil},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, f.tok) })
	}
	t.Run("query message", func(t *testing.T) {
		res := f.call(f.tok, "GET", "/api/v1/candidates?q=applied:nodate", nil)
		if res.StatusCode != 422 || !strings.Contains(res.json(t)["detail"].(string), "nodate") {
			t.Fatalf("a bad date: %d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("out of scope", func(t *testing.T) {
		apiWant{"list", "GET", "/api/v1/candidates", nil, nil, 403, "insufficient-scope", nil}.run(t, f.apiFixture, scopeTok)
	})
	t.Run("another company", func(t *testing.T) {
		other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
		f.enableAPI(other)
		_, otherTok := f.tokenIn(other, "hr_manager")
		if got := list(otherTok, url.Values{}); len(got) != 0 {
			t.Fatalf("another company's token lists %v", got)
		}
		if got := list(otherTok, url.Values{"q": {"dvor"}}); len(got) != 0 {
			t.Fatalf("another company's token finds %v", got)
		}
	})
}

func TestAPIGetCandidate(t *testing.T) {
	f := newAPIRecruitFixture(t)
	ctx := context.Background()
	app := f.add("Ada Lovelace", access.StageNew)
	// The same person applies to the recruiter's position too.
	rec, recTok := f.token("recruiter")
	own, err := f.recruit.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Baker", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddCandidate(ctx, f.hr, own.ID, recruit.CandidateInput{Name: "Ada Lovelace", Email: "ada.lovelace@example.org"}, access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/candidates/" + app.Candidate.ID
	res := apiWant{"HR manager", "GET", path, nil, nil, 200, "", nil}.run(t, f.apiFixture, f.tok)
	m := res.json(t)
	if m["name"] != "Ada Lovelace" || m["email"] != "ada.lovelace@example.org" || len(m["applications"].([]any)) != 2 {
		t.Fatalf("candidate %s", res.Body)
	}
	// A recruiter who owns neither position does not know the candidate.
	_, strangerTok := f.token("recruiter")
	apiWant{"another recruiter", "GET", path, nil, nil, 404, "not-found", nil}.run(t, f.apiFixture, strangerTok)
	// The read is in the security log.
	recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Track: audit.Security, ObjectKind: "candidate", ObjectID: app.Candidate.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var allowed, hidden int
	for _, r := range recs {
		if r.Action == audit.AccessDecided {
			switch r.Details["decision"] {
			case "allow":
				allowed++
			case "hidden":
				hidden++
			}
		}
	}
	if allowed != 1 || hidden != 1 {
		t.Fatalf("security log: %d reads allowed, %d hidden; want 1 and 1", allowed, hidden)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	_, otherTok := f.tokenIn(other, "hr_manager")
	_, scopeTok := f.token("hr_manager", access.ViewPositions)
	_, lineTok := f.token("line_manager")
	cases := []struct {
		apiWant
		tok string
	}{
		{apiWant{"another company", "GET", path, nil, nil, 404, "not-found", nil}, otherTok},
		{apiWant{"line manager not shared", "GET", path, nil, nil, 404, "not-found", nil}, lineTok},
		{apiWant{"out of scope", "GET", path, nil, nil, 403, "insufficient-scope", nil}, scopeTok},
		{apiWant{"unknown", "GET", "/api/v1/candidates/0190c0de-0000-7000-8000-000000000000", nil, nil, 404, "not-found", nil}, f.tok},
		{apiWant{"malformed", "GET", "/api/v1/candidates/" + strings.Repeat("x", 300), nil, nil, 404, "not-found", nil}, f.tok},
		{apiWant{"an application's id", "GET", "/api/v1/candidates/" + app.ID, nil, nil, 404, "not-found", nil}, f.tok},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f.apiFixture, c.tok) })
	}
	// The recruiter who owns the position sees the candidate with that application only.
	res = apiWant{"owner", "GET", path, nil, nil, 200, "", nil}.run(t, f.apiFixture, recTok)
	apps := res.json(t)["applications"].([]any)
	if len(apps) != 1 || apps[0].(map[string]any)["position_id"] != own.ID {
		t.Fatalf("the recruiter's view: %s", res.Body)
	}
}
