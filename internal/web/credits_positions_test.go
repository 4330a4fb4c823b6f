package web

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestCreditsLedgerNamesPositions: a publication's ledger entry names the
// position by its title, linked only for a reader the positions policy
// lets open it, and the page reads the titles of all its positions in one
// statement, however many there are.
func TestCreditsLedgerNamesPositions(t *testing.T) {
	rec := &dbtest.Recorder{}
	f := newFixtureOn(t, dbtest.OpenTraced(t, rec.Trace), Options{})
	ctx := context.Background()
	f.user("root", false)
	admin := f.signIn("root", testPassword)
	zero := 0
	settings := f.company.Settings
	settings.PasswordProfile, settings.FreePublications = "standard", &zero
	if err := f.tenants.SetSettings(ctx, audit.Operator, f.company.ID, settings); err != nil {
		t.Fatal(err)
	}
	if _, err := f.credits.GrantAsOperator(ctx, f.company.ID, credit.GrantInput{Amount: 10, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	rolf, _ := f.roleUser("rolf", access.Recruiter)
	rita, _ := f.roleUser("rita", access.HRManager)
	adminP, err := f.accounts.Principal(ctx, f.company.ID, mustUser(t, f, "root").ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.accounts.SetOptionalRights(ctx, adminP.Actor(), rita.ID, []string{access.ManageCredits.Name()}); err != nil {
		t.Fatal(err)
	}
	ritaTok := f.signIn("rita", testPassword)
	publish := func(by access.Actor, title string) *recruit.Position {
		p, err := f.recruit.CreatePosition(ctx, by, recruit.PositionInput{Title: title, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.recruit.Publish(ctx, by, p.ID); err != nil {
			t.Fatal(err)
		}
		return p
	}
	theirs := []*recruit.Position{publish(f.actor(rolf), "Backend Engineer"), publish(f.actor(rolf), "Tax <Advisor>")}
	hers := publish(f.actor(rita), "Product Designer")

	linked := regexp.MustCompile(`<a href="/positions/([^"]+)" class="ledger-position">([^<]*)</a>`)
	links := func(page string) map[string]string {
		out := map[string]string{}
		for _, m := range linked.FindAllStringSubmatch(page, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	// The administrator keeps the ledger but sees no positions: titles, no
	// links, and no ids.
	page := body(t, f.do(request{method: "GET", path: "/credits", cookie: admin}))
	for _, p := range append(theirs, hers) {
		if strings.Contains(page, p.ID) {
			t.Errorf("the administrator's ledger shows the id of a position they may not see")
		}
	}
	for _, title := range []string{"Backend Engineer", "Tax &lt;Advisor&gt;", "Product Designer"} {
		if !strings.Contains(page, `<span class="ledger-position">`+title+`</span>`) {
			t.Errorf("the administrator's ledger does not name %q", title)
		}
	}
	if l := links(page); len(l) != 0 {
		t.Errorf("the administrator's ledger links positions they may not open: %v", l)
	}
	// Rita, an HR manager, holds the ledger too and sees every position: links.
	rec.Reset()
	page = body(t, f.do(request{method: "GET", path: "/credits", cookie: ritaTok}))
	stmts := rec.Take()
	if l := links(page); len(l) != 3 || l[hers.ID] != "Product Designer" || l[theirs[0].ID] != "Backend Engineer" || l[theirs[1].ID] != "Tax &lt;Advisor&gt;" {
		t.Errorf("rita's ledger links %v, want the three positions by title", l)
	}
	reads := 0
	for _, s := range stmts {
		if regexp.MustCompile(`(?i)\b(from|join)\s+positions\b`).MatchString(s.Query) {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("the credits page read positions in %d statements, want 1", reads)
	}
}
