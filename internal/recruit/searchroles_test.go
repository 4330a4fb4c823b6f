package recruit_test

import (
	"context"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestSearchRespectsRoles: a word of a comment finds only the candidates
// whose applications the user may see, by the list's one condition and no
// per-row check: the recruiter their own positions' and the shared
// pool's, the line manager the positions shared with them, the HR
// manager all, another company's user none.
func TestSearchRespectsRoles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	l := newListApplications(t, e)
	hr := e.users[access.HRManager]
	all, err := e.svc.ListApplications(ctx, hr, recruit.ListFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("HR manager's list: %d %v", len(all), err)
	}
	for _, app := range all {
		if _, err := e.svc.AddComment(ctx, hr, app.ID, "Knows Kubernetes operators well."); err != nil {
			t.Fatal(err)
		}
	}
	search := func(who, query string) string {
		t.Helper()
		e.indexed(t)
		got, err := e.svc.ListApplications(ctx, e.users[who], recruit.ListFilter{Text: query})
		if err != nil {
			t.Fatalf("%s %q: %v", who, query, err)
		}
		return candidateNames(got)
	}
	for _, tc := range []struct{ who, query, want string }{
		{access.HRManager, "kubernetes", "Anna Alpha,Bert Beta,Cecil Gamma,Dora Delta"},
		{access.Recruiter, "kubernetes", "Anna Alpha,Bert Beta,Cecil Gamma"}, // own, plus the other's pool candidate
		{"recruiter2", "kubernetes", "Bert Beta,Cecil Gamma,Dora Delta"},
		{access.LineManager, "kubernetes", ""},
		{"foreign", "kubernetes", ""},
		{access.Recruiter, "kubernetes -alpha", "Bert Beta,Cecil Gamma"},
		{access.Recruiter, "operator", "Anna Alpha,Bert Beta,Cecil Gamma"}, // as typed, the start of a word
	} {
		if got := search(tc.who, tc.query); got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.who, tc.query, got, tc.want)
		}
	}
	// A position shared with the line manager brings its candidates, and
	// only those, into their results.
	if err := e.svc.SharePosition(ctx, e.users["recruiter2"], l.other.ID, []string{e.users[access.LineManager].UserID}); err != nil {
		t.Fatal(err)
	}
	if got := search(access.LineManager, "kubernetes"); got != "Cecil Gamma,Dora Delta" {
		t.Errorf("line manager after sharing: %q", got)
	}
}
