package recruit_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// setBases writes a candidate's bases as basis.go would have: the purpose
// until purpose, a consent until consent (zero: none), the later of both.
func setBases(t *testing.T, ctx context.Context, d interface {
	InTx(context.Context, string, func(*sql.Tx) error) error
}, tenantID, candidateID string, purpose, consent time.Time) {
	t.Helper()
	until := purpose
	c := sql.NullTime{Time: consent, Valid: !consent.IsZero()}
	if consent.After(until) {
		until = consent
	}
	err := d.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE candidates SET purpose_until = $3, consent_until = $4, basis_until = $5 WHERE tenant_id = $1 AND id = $2`,
			tenantID, candidateID, purpose, c, until)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// consentRequest stores a request for consent as the consent requests do:
// answered or not, expiring at expires.
func consentRequest(t *testing.T, e *env, candidateID string, answered bool, expires time.Time) {
	t.Helper()
	ctx := context.Background()
	err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		var at sql.NullTime
		answer := ""
		if answered {
			at, answer = sql.NullTime{Time: expires.Add(-time.Hour), Valid: true}, "granted"
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO consent_requests (tenant_id, id, candidate_id, kind, text_version, language, token_hash,
			created_at, expires_at, answered_at, answer, requested_by) VALUES ($1, $2, $3, 'renewal', 'v1', 'en', $4, $5, $6, $7, $8, $9)`,
			e.tenantID, id.New(), candidateID, id.New(), expires.Add(-14*24*time.Hour), expires, at, answer, e.users[access.HRManager].UserID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func expiringNames(l *recruit.ExpiringList) []string {
	var out []string
	for _, c := range l.Candidates {
		out = append(out, c.Name)
	}
	return out
}

// TestExpiringCandidates: the list of candidates whose bases end within
// two months, soonest first (ended ones first), each user seeing the
// candidates the candidate list shows them; an administrator, who sees no
// candidate, learns only how many there are; pending consent requests are
// marked; pages follow one another without a gap or a repeat.
func TestExpiringCandidates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	own := e.position(t, access.Recruiter, "Own")
	other := e.position(t, "recruiter2", "Other")
	day := 24 * time.Hour
	apps := map[string]*recruit.Application{}
	for _, c := range []struct {
		name    string
		by      string
		pos     *recruit.Position
		stage   access.StageKind
		purpose time.Duration
		consent time.Duration
	}{
		{"Ended Yesterday", access.Recruiter, own, access.StageNew, -day, 0},
		{"Ten Days", access.Recruiter, own, access.StageNew, 10 * day, 0},
		{"Colleague New", "recruiter2", other, access.StageNew, 20 * day, 0},
		{"Colleague Pool", "recruiter2", other, access.StageInterview, 30 * day, 0},
		{"Consent Ending", access.Recruiter, own, access.StageNew, -30 * day, 40 * day},
		{"Answered Request", access.Recruiter, own, access.StageNew, 50 * day, 0},
		{"Three Months", access.Recruiter, own, access.StageNew, 92 * day, 0},
		{"Long Consent", access.Recruiter, own, access.StageNew, 10 * day, 400 * day},
	} {
		app := e.apply(t, c.by, c.pos.ID, c.name, strings.ReplaceAll(strings.ToLower(c.name), " ", ".")+"@example.org", c.stage)
		apps[c.name] = app
		var consent time.Time
		if c.consent != 0 {
			consent = now.Add(c.consent)
		}
		setBases(t, ctx, e.db, e.tenantID, app.Candidate.ID, now.Add(c.purpose), consent)
	}
	consentRequest(t, e, apps["Consent Ending"].Candidate.ID, false, now.Add(7*day))
	consentRequest(t, e, apps["Answered Request"].Candidate.ID, true, now.Add(7*day))
	consentRequest(t, e, apps["Ten Days"].Candidate.ID, false, now.Add(-day)) // expired unanswered: not pending

	all := []string{"Ended Yesterday", "Ten Days", "Colleague New", "Colleague Pool", "Consent Ending", "Answered Request"}
	for _, tc := range []struct {
		user    string
		want    []string
		company int
	}{
		{access.HRManager, all, -1},
		// The recruiter's own, and the colleague's candidate in the shared pool.
		{access.Recruiter, []string{"Ended Yesterday", "Ten Days", "Colleague Pool", "Consent Ending", "Answered Request"}, -1},
		// The colleague sees their own position's candidates (the recruiter's are new, not in the pool).
		{"recruiter2", []string{"Colleague New", "Colleague Pool"}, -1},
		// The administrator sees no candidate: the company's count only.
		{access.Administrator, nil, len(all)},
		// A line manager with no position shared sees none.
		{access.LineManager, nil, -1},
		{"foreign", nil, -1},
	} {
		l, err := e.svc.ExpiringCandidates(ctx, e.users[tc.user], "", 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		if got := expiringNames(l); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s sees %v, want %v", tc.user, got, tc.want)
		}
		if l.Company != tc.company {
			t.Errorf("%s: company count %d, want %d", tc.user, l.Company, tc.company)
		}
	}
	if _, err := e.svc.ExpiringCandidates(ctx, e.users[access.CaseHandler], "", 0); !errors.Is(err, recruit.ErrForbidden) {
		t.Errorf("a case handler: %v, want forbidden", err)
	}

	l, err := e.svc.ExpiringCandidates(ctx, e.users[access.HRManager], "", 0)
	if err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	if !l.Horizon.Equal(tenant.AddMonths(now, 2, london)) || l.Location.String() != "Europe/London" {
		t.Errorf("horizon %s in %s, want two months from now in London", l.Horizon, l.Location)
	}
	for _, c := range l.Candidates {
		pending := c.Name == "Consent Ending"
		if c.RequestPending != pending {
			t.Errorf("%s: request pending %v, want %v", c.Name, c.RequestPending, pending)
		}
		wantBasis := recruit.BasisPurpose
		if c.Name == "Consent Ending" {
			wantBasis = recruit.BasisConsent
		}
		if c.Bases.Basis() != wantBasis {
			t.Errorf("%s: basis %q, want %q", c.Name, c.Bases.Basis(), wantBasis)
		}
		if c.ApplicationID != apps[c.Name].ID {
			t.Errorf("%s: card %q, want %q", c.Name, c.ApplicationID, apps[c.Name].ID)
		}
	}
	// Pages of two, walked by the cursor, make the whole list.
	var walked []string
	after := ""
	for range 10 {
		p, err := e.svc.ExpiringCandidates(ctx, e.users[access.HRManager], after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Candidates) > 2 {
			t.Fatalf("page of %d, want at most 2", len(p.Candidates))
		}
		walked = append(walked, expiringNames(p)...)
		if after = p.Next; after == "" {
			break
		}
	}
	if !slices.Equal(walked, all) {
		t.Errorf("pages walk %v, want %v", walked, all)
	}
	// A forged cursor is the first page, not an error.
	if p, err := e.svc.ExpiringCandidates(ctx, e.users[access.HRManager], "x'; DROP TABLE candidates", 0); err != nil || len(p.Candidates) != len(all) {
		t.Errorf("forged cursor: %v %v", p, err)
	}
}

// TestConsentFilters: consent:valid (a consent in force), consent:none (none
// in force) and consent:expiring (the bases end within two months, ended
// ones included until the sweep) on the candidate list.
func TestConsentFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	p := e.position(t, access.HRManager, "Welder")
	day := 24 * time.Hour
	for _, c := range []struct {
		name             string
		purpose, consent time.Duration
	}{
		{"Pia Pool", 10 * day, 365 * day},    // valid, not expiring
		{"Quinn Quick", -10 * day, 30 * day}, // valid, expiring
		{"Rita Recent", 90 * day, 0},         // none, not expiring
		{"Sam Soon", 10 * day, 0},            // none, expiring
		{"Tor Lapsed", -20 * day, -1 * day},  // none (consent over), expiring
		{"Uma Unknown", 0, 0},                // bases unknown: none, not expiring
	} {
		app := e.apply(t, access.HRManager, p.ID, c.name, strings.ToLower(strings.Fields(c.name)[0])+"@example.org", access.StageNew)
		if c.purpose == 0 {
			err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE candidates SET purpose_until = NULL, consent_until = NULL, basis_until = NULL WHERE tenant_id = $1 AND id = $2`, e.tenantID, app.Candidate.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		var consent time.Time
		if c.consent != 0 {
			consent = now.Add(c.consent)
		}
		setBases(t, ctx, e.db, e.tenantID, app.Candidate.ID, now.Add(c.purpose), consent)
	}
	for _, tc := range []struct{ q, want string }{
		{"consent:valid", "Pia Pool,Quinn Quick"},
		{"consent:none", "Rita Recent,Sam Soon,Tor Lapsed,Uma Unknown"},
		{"consent:expiring", "Quinn Quick,Sam Soon,Tor Lapsed"},
		{"-consent:expiring", "Pia Pool,Rita Recent,Uma Unknown"},
		{"consent:expiring consent:valid", "Quinn Quick"},
		{"consent:expiring OR consent:valid", "Pia Pool,Quinn Quick,Sam Soon,Tor Lapsed"},
	} {
		got, err := e.svc.ListApplications(ctx, e.users[access.HRManager], recruit.ListFilter{Text: tc.q})
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		var names []string
		for _, a := range got {
			names = append(names, a.Candidate.Name)
		}
		slices.Sort(names)
		if g := strings.Join(names, ","); g != tc.want {
			t.Errorf("%q: got %q, want %q", tc.q, g, tc.want)
		}
	}
}

// TestConsentExpiringInTheCompanysZone: the notice period of
// consent:expiring runs on the company's calendar. On 30 December at 23:30
// UTC it is already 31 December in Stockholm, so the window closes at
// 28 February 00:30 there (27 February 23:30 UTC), where in UTC it would
// close a day later.
func TestConsentExpiringInTheCompanysZone(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "svea", Name: "Svea", DefaultLanguage: "sv"})
	hr := k.Actor(t, c.ID, "svea-hr", access.HRManager)
	now := time.Date(2026, 12, 30, 23, 30, 0, 0, time.UTC)
	k.Recruit.SetClock(func() time.Time { return now })
	p, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Svetsare", Language: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		name  string
		until time.Time
	}{
		{"Inom Fönstret", time.Date(2027, 2, 27, 23, 0, 0, 0, time.UTC)},
		{"Utanför Fönstret", time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)},
	} {
		app, err := k.Recruit.AddCandidate(ctx, hr, p.ID, recruit.CandidateInput{Name: x.name, Email: strings.ToLower(strings.Fields(x.name)[0]) + "@example.org"}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		setBases(t, ctx, k.DB, c.ID, app.Candidate.ID, x.until, time.Time{})
	}
	got, err := k.Recruit.ListApplications(ctx, hr, recruit.ListFilter{Text: "consent:expiring"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Candidate.Name != "Inom Fönstret" {
		var names []string
		for _, a := range got {
			names = append(names, a.Candidate.Name)
		}
		t.Errorf("consent:expiring in Stockholm finds %v, want [Inom Fönstret]", names)
	}
	l, err := k.Recruit.ExpiringCandidates(ctx, hr, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if names := expiringNames(l); !slices.Equal(names, []string{"Inom Fönstret"}) {
		t.Errorf("the expiring list in Stockholm shows %v, want [Inom Fönstret]", names)
	}
}
