package recruit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// listApplications is what TestCandidateList and TestBulk start from: two
// positions of different recruiters, each with a new and an interviewed
// application (the interviewed ones are in the shared pool).
type listApplications struct {
	own, other  *recruit.Position
	anna, cecil *recruit.Application // the new one of own, the interviewed one of other
}

func newListApplications(t *testing.T, e *env) listApplications {
	t.Helper()
	l := listApplications{own: e.position(t, access.Recruiter, "Own"), other: e.position(t, "recruiter2", "Other")}
	l.anna = e.apply(t, access.Recruiter, l.own.ID, "Anna Alpha", "anna@example.org", access.StageNew)
	e.apply(t, access.Recruiter, l.own.ID, "Bert Beta", "bert@example.org", access.StageInterview)
	l.cecil = e.apply(t, "recruiter2", l.other.ID, "Cecil Gamma", "cecil@example.org", access.StageInterview)
	e.apply(t, "recruiter2", l.other.ID, "Dora Delta", "dora@example.org", access.StageNew)
	return l
}

// candidateNames lists the candidates' names sorted and comma-joined, so
// a list compares as one string.
func candidateNames(apps []*recruit.Application) string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Candidate.Name)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestCandidateList: the list shows what each role may see, with filters.
func TestCandidateList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	l := newListApplications(t, e)
	for _, tc := range []struct {
		who  string
		f    recruit.ListFilter
		want string
	}{
		{access.Recruiter, recruit.ListFilter{}, "Anna Alpha,Bert Beta,Cecil Gamma"}, // own, plus the other's pool candidate
		{access.HRManager, recruit.ListFilter{}, "Anna Alpha,Bert Beta,Cecil Gamma,Dora Delta"},
		{access.HRManager, recruit.ListFilter{Text: "GAMMA"}, "Cecil Gamma"},
		{access.HRManager, recruit.ListFilter{Text: "dora@"}, "Dora Delta"},
		{access.HRManager, recruit.ListFilter{Text: "%"}, ""},
		{access.HRManager, recruit.ListFilter{Stage: access.StageInterview, PositionID: l.own.ID}, "Bert Beta"},
		{access.LineManager, recruit.ListFilter{}, ""},
		{"foreign", recruit.ListFilter{}, ""},
	} {
		e.indexed(t)
		got, err := e.svc.ListApplications(ctx, e.users[tc.who], tc.f)
		if err != nil || candidateNames(got) != tc.want {
			t.Errorf("%s %+v: %q %v, want %q", tc.who, tc.f, candidateNames(got), err, tc.want)
		}
	}
	if _, err := e.svc.ListApplications(ctx, e.users[access.CaseHandler], recruit.ListFilter{}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("case handler's list: %v", err)
	}
}
