package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/recruit"
)

// expiringCandidate adds a candidate to the position at stage and sets
// their bases to end after ends (a consent until then when consent).
func (f *fixture) expiringCandidate(t *testing.T, by access.Actor, positionID, name string, stage access.StageKind, ends time.Duration, consent bool) (*recruit.Application, time.Time) {
	t.Helper()
	ctx := context.Background()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	app, err := f.recruit.AddCandidate(ctx, by, positionID, recruit.CandidateInput{Name: name, Email: email}, stage, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().UTC().Add(ends).Truncate(time.Second)
	purpose, c := until, sql.NullTime{}
	if consent {
		purpose, c = time.Now().UTC().Add(-time.Hour), sql.NullTime{Time: until, Valid: true}
	}
	if err := f.db.InTx(ctx, f.company.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE candidates SET purpose_until = $3, consent_until = $4, basis_until = $5 WHERE tenant_id = $1 AND id = $2`,
			f.company.ID, app.Candidate.ID, purpose, c, until)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return app, until
}

// day is the date of t as the pages show it, in the company's zone
// (London: an English company's).
func day(t time.Time) string {
	london, _ := time.LoadLocation("Europe/London")
	return t.In(london).Format("2006-01-02")
}

// TestExpiringPage: the list of candidates whose data ends within two
// months, for those who may see them, with the renewal form that posts to
// the consent requests; an administrator sees how many, not who; a user
// with neither privacy.settings nor applications.view is refused.
func TestExpiringPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	recTok := f.signIn("rolf", testPassword)
	day10 := 10 * 24 * time.Hour
	soon, soonUntil := f.expiringCandidate(t, rec, pos.ID, "Sara Soon", access.StageNew, day10, false)
	consent, consentUntil := f.expiringCandidate(t, rec, pos.ID, "Carl Consent", access.StageNew, 3*day10, true)
	f.expiringCandidate(t, rec, pos.ID, "Lars Later", access.StageNew, 15*day10, false)

	res := f.do(request{method: "GET", path: "/privacy/expiring", cookie: recTok})
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the recruiter's list: %d", res.StatusCode)
	}
	for _, want := range []string{
		`action="/privacy/consent-requests"`, `name="kind" value="renewal"`, `name="return" value="/privacy/expiring"`,
		`name="candidate" value="` + soon.Candidate.ID + `"`, `name="candidate" value="` + consent.Candidate.ID + `"`,
		`href="/applications/` + soon.ID + `"`, "Ask to renew consent", day(soonUntil), day(consentUntil), "Talent-pool consent", "Application (purpose)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(page, "Lars Later") {
		t.Error("the list shows a candidate whose data is kept five months more")
	}
	if i, j := strings.Index(page, "Sara Soon"), strings.Index(page, "Carl Consent"); i < 0 || j < i {
		t.Error("the list is not soonest first")
	}
	// The result of the renewal requests, as the consent requests report it.
	if page := body(t, f.do(request{method: "GET", path: "/privacy/expiring?sent=2&skipped=1", cookie: recTok})); !strings.Contains(page, "Requests sent: 2; skipped (a request awaits an answer): 1.") {
		t.Error("the list does not say how the requests went")
	}

	// The administrator (privacy.settings, no candidate access) learns the count only.
	admin, adminTok := f.roleUser("adam", access.Administrator)
	page = body(t, f.do(request{method: "GET", path: "/privacy/expiring", cookie: adminTok}))
	if !strings.Contains(page, `id="expiring-company">In the whole company, 2 candidates&#39; data ends within two months.`) ||
		strings.Contains(page, "Sara Soon") || strings.Contains(page, soon.Candidate.ID) {
		t.Errorf("the administrator's list:\n%s", page)
	}
	// A line manager with no position shared: an empty list, no count.
	_, lmTok := f.roleUser("lena", access.LineManager)
	page = body(t, f.do(request{method: "GET", path: "/privacy/expiring", cookie: lmTok}))
	if !strings.Contains(page, `id="no-expiring"`) || strings.Contains(page, "expiring-company") || strings.Contains(page, "renew-submit") {
		t.Error("the line manager's list is not empty, or counts the company's")
	}
	// Without privacy.settings or applications.view: refused.
	viewers, err := f.accounts.SaveRole(ctx, f.actor(admin), "", account.RoleInput{Name: "Position viewers", Permissions: []string{access.ViewPositions.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.accounts.CreateUser(ctx, access.Operator(f.company.ID), account.CreateUserInput{Login: "vera", DisplayName: "Vera", Password: testPassword, Role: viewers.ID}); err != nil {
		t.Fatal(err)
	}
	if res := f.do(request{method: "GET", path: "/privacy/expiring", cookie: f.signIn("vera", testPassword)}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a user without the rights: %d, want 403", res.StatusCode)
	}
	// Signed out: to the sign-in page.
	if res := f.do(request{method: "GET", path: "/privacy/expiring"}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d, want a redirect", res.StatusCode)
	}
}

// TestBasisBadges: the card says until when the data is kept and on which
// basis, with a warning when that is within two months; the candidate list
// and the pool warn on the rows whose data is erased within two months.
func TestBasisBadges(t *testing.T) {
	f := newFixture(t, Options{})
	pos, rec := f.publishedPosition(t, "Engineer")
	tok := f.signIn("rolf", testPassword)
	day10 := 10 * 24 * time.Hour
	soon, soonUntil := f.expiringCandidate(t, rec, pos.ID, "Sara Soon", access.StageInterview, day10, false)
	later, laterUntil := f.expiringCandidate(t, rec, pos.ID, "Lars Later", access.StageNew, 15*day10, false)
	pooled, pooledUntil := f.expiringCandidate(t, rec, pos.ID, "Petra Pool", access.StageNew, 40*day10, true)

	card := body(t, f.do(request{method: "GET", path: "/applications/" + soon.ID, cookie: tok}))
	if !strings.Contains(card, "Data kept until "+day(soonUntil)+" (Application (purpose))") ||
		!strings.Contains(card, `id="erase-badge">Erased on `+day(soonUntil)) {
		t.Errorf("the card of a candidate erased soon lacks its badges")
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + later.ID, cookie: tok}))
	if !strings.Contains(card, "Data kept until "+day(laterUntil)+" (Application (purpose))") || strings.Contains(card, "erase-badge") {
		t.Errorf("the card of a candidate kept five months: wrong badges")
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + pooled.ID, cookie: tok}))
	if !strings.Contains(card, "Data kept until "+day(pooledUntil)+" (Talent-pool consent)") || strings.Contains(card, "erase-badge") {
		t.Errorf("the card of a candidate on consent: wrong badges")
	}
	if list := body(t, f.do(request{method: "GET", path: "/candidates", cookie: tok})); !strings.Contains(list, `href="/privacy/expiring" id="expiring-link"`) {
		t.Error("the candidate list does not link the expiring list")
	}
	badges := regexp.MustCompile(`erase-badge">Erased on ([0-9-]+)`)
	for _, path := range []string{"/candidates", "/candidates?q=" + "sara", "/pool"} {
		if strings.Contains(path, "q=") {
			if _, err := f.recruit.IndexQueued(context.Background(), 100); err != nil {
				t.Fatal(err)
			}
		}
		got := badges.FindAllStringSubmatch(body(t, f.do(request{method: "GET", path: path, cookie: tok})), -1)
		if len(got) != 1 || got[0][1] != day(soonUntil) {
			t.Errorf("%s: badges %v, want one for %s", path, got, day(soonUntil))
		}
	}
}

// TestBadgesAddNoQueryPerRow: the list reads the bases with its rows, so
// a page of many rows runs as many statements as a page of few.
func TestBadgesAddNoQueryPerRow(t *testing.T) {
	var rec dbtest.Recorder
	f := newFixtureOn(t, dbtest.OpenTraced(t, rec.Trace), Options{})
	pos, by := f.publishedPosition(t, "Engineer")
	tok := f.signIn("rolf", testPassword)
	statements := func() int {
		rec.Reset()
		if res := f.do(request{method: "GET", path: "/candidates", cookie: tok}); res.StatusCode != http.StatusOK {
			t.Fatalf("list: %d", res.StatusCode)
		}
		return len(rec.Take())
	}
	for i := range 2 {
		f.expiringCandidate(t, by, pos.ID, fmt.Sprintf("Few %c", 'A'+i), access.StageNew, 24*time.Hour, false)
	}
	few := statements()
	for i := range 20 {
		f.expiringCandidate(t, by, pos.ID, fmt.Sprintf("Many %c", 'A'+i), access.StageNew, 24*time.Hour, false)
	}
	if many := statements(); many != few {
		t.Errorf("a list of 22 rows runs %d statements, of 2 rows %d", many, few)
	}
}
