package recruit_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/recruit"
)

// matchFixture is a small fixed corpus: a backend position requiring Go
// and PostgreSQL, and candidates who applied elsewhere, whose comments and
// skills match it more or less, one without a valid basis, one kept by a
// consent, and a look-alike in another company.
type matchFixture struct {
	e                                    *env
	pos, welder                          *recruit.Position
	alice, bob, cecilia, dora, erik, fay string // candidate ids
}

func newMatchFixture(t *testing.T) *matchFixture {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	hr, rec := e.users[access.HRManager], e.users[access.Recruiter]
	f := &matchFixture{e: e}
	var err error
	f.pos, err = e.svc.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Backend Developer", Language: "en",
		Description: "We build **payment** services. Payment systems in Go on PostgreSQL; Kubernetes experience helps. The payment team is in Brno.",
		Skills:      []string{"Go", "PostgreSQL"}})
	if err != nil {
		t.Fatal(err)
	}
	f.welder = e.position(t, access.Recruiter, "Welder")
	add := func(name, email, comment string) string {
		app := e.apply(t, access.Recruiter, f.welder.ID, name, email, access.StageNew)
		if comment != "" {
			if _, err := e.svc.AddComment(ctx, rec, app.ID, comment); err != nil {
				t.Fatal(err)
			}
		}
		return app.Candidate.ID
	}
	f.alice = add("Alice Gopher", "alice@example.org", "Built payment services, runs Kubernetes.")
	f.bob = add("Bob Smith", "bob@example.org", "Welding certificate.")
	f.cecilia = add("Cecilia Kube", "cecilia@example.org", "Kubernetes administrator.")
	// Dora and Erik applied eight months ago; Erik has since confirmed a
	// talent-pool consent.
	now := db.Now()
	e.svc.SetClock(func() time.Time { return now.AddDate(0, -8, 0) })
	f.dora = add("Dora Old", "dora@example.org", "Payment services in Go, PostgreSQL, Kubernetes.")
	f.erik = add("Erik Kept", "erik@example.org", "Payment gateway work.")
	e.svc.SetClock(db.Now)
	err = e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		if _, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: f.erik, Event: recruit.ConsentGranted,
			TextVersion: "v1", Language: "en", Referral: recruit.ReferralManual, At: now.AddDate(0, -1, 0)}, now); err != nil {
			return err
		}
		// Alice's profile names both required skills, Cecilia's one.
		for _, cs := range [][2]string{{f.alice, "go"}, {f.alice, "postgresql"}, {f.cecilia, "postgresql"}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_skills (tenant_id, candidate_id, skill_id)
				SELECT $1, $2, id FROM skills WHERE tenant_id = $1 AND folded = $3`, e.tenantID, cs[0], cs[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another company's candidate says everything the position asks.
	foreign := e.users["foreign"]
	fp, err := e.svc.CreatePosition(ctx, foreign, recruit.PositionInput{Title: "Backend Developer", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	fa, err := e.svc.AddCandidate(ctx, foreign, fp.ID, recruit.CandidateInput{Name: "Foreign Payment", Email: "f@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddComment(ctx, foreign, fa.ID, "Payment services, Kubernetes, PostgreSQL, backend developer."); err != nil {
		t.Fatal(err)
	}
	f.fay = fa.Candidate.ID
	e.indexed(t)
	return f
}

func matchNames(ms []recruit.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// TestMatches: the best match has the required skills and the position's
// words; each match says which; a candidate without a valid basis and
// another company's are never offered; one kept by a consent is.
func TestMatches(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	hr := f.e.users[access.HRManager]
	got, mq, err := f.e.svc.MatchesWith(ctx, hr, f.pos.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	names := matchNames(got)
	if len(got) == 0 || got[0].Name != "Alice Gopher" {
		t.Fatalf("matches %v, want Alice Gopher first", names)
	}
	if got[0].Score != 1 {
		t.Errorf("top score %v, want 1", got[0].Score)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Score > got[i-1].Score {
			t.Errorf("matches out of order: %v", names)
		}
	}
	for _, absent := range []string{"Dora Old", "Foreign Payment", "Bob Smith"} {
		if slices.Contains(names, absent) {
			t.Errorf("matches %v include %s", names, absent)
		}
	}
	for _, present := range []string{"Cecilia Kube", "Erik Kept"} {
		if !slices.Contains(names, present) {
			t.Errorf("matches %v lack %s", names, present)
		}
	}
	// The query: the title's words, then the description's most frequent
	// first ("payment" three times), stop words left out.
	if len(mq.Terms) < 3 || mq.Terms[0] != "backend" || mq.Terms[1] != "developer" || mq.Terms[2] != "payment" {
		t.Errorf("terms %v, want backend, developer, payment first", mq.Terms)
	}
	for _, stop := range []string{"the", "we", "in", "on", "is"} {
		if slices.Contains(mq.Terms, stop) {
			t.Errorf("terms %v include the stop word %q", mq.Terms, stop)
		}
	}
	if len(mq.Skills) != 2 {
		t.Errorf("required skills %v, want Go and PostgreSQL", mq.Skills)
	}
	a := got[0]
	if !slices.Equal(a.MatchedSkills, []string{"Go", "PostgreSQL"}) {
		t.Errorf("Alice's skills %v, want [Go PostgreSQL]", a.MatchedSkills)
	}
	for _, w := range []string{"payment", "services", "kubernetes"} {
		if !slices.Contains(a.MatchedTerms, w) {
			t.Errorf("Alice's terms %v lack %q", a.MatchedTerms, w)
		}
	}
	for _, m := range got {
		switch m.Name {
		case "Cecilia Kube":
			// Her comment says Kubernetes (and her profile's skill may be
			// indexed too); nothing of payments.
			if !slices.Contains(m.MatchedTerms, "kubernetes") || slices.Contains(m.MatchedTerms, "payment") || !slices.Equal(m.MatchedSkills, []string{"PostgreSQL"}) {
				t.Errorf("Cecilia: terms %v skills %v, want kubernetes and not payment, [PostgreSQL]", m.MatchedTerms, m.MatchedSkills)
			}
		case "Erik Kept":
			if !slices.Contains(m.MatchedTerms, "payment") || len(m.MatchedSkills) != 0 {
				t.Errorf("Erik: terms %v skills %v", m.MatchedTerms, m.MatchedSkills)
			}
		}
		if m.Applied {
			t.Errorf("%s marked as applied", m.Name)
		}
	}
	// Another company's user finds nothing of this one.
	if _, err := f.e.svc.Matches(ctx, f.e.users["foreign"], f.pos.ID, 10); !errors.Is(err, recruit.ErrNotFound) {
		t.Errorf("foreign user: %v, want not found", err)
	}
}

// TestMatchesRoleRestricted: a line manager is offered only candidates of
// positions shared with them, and only for such a position.
func TestMatchesRoleRestricted(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	rec, lm := f.e.users[access.Recruiter], f.e.users[access.LineManager]
	shared := f.e.position(t, access.Recruiter, "Payment backend developer")
	if err := f.e.svc.SharePosition(ctx, rec, shared.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	gina := f.e.apply(t, access.Recruiter, shared.ID, "Gina Shared", "gina@example.org", access.StageNew)
	f.e.indexed(t)
	if _, err := f.e.svc.Matches(ctx, lm, f.pos.ID, 10); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("line manager on a position not shared: %v, want not found", err)
	}
	got, err := f.e.svc.Matches(ctx, lm, shared.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if names := matchNames(got); !slices.Equal(names, []string{"Gina Shared"}) {
		t.Errorf("line manager's matches %v, want [Gina Shared] only", names)
	}
	if !got[0].Applied {
		t.Errorf("Gina applied to the position: not marked")
	}
	// The HR manager sees the whole pool for it, Gina marked as applied.
	all, err := f.e.svc.Matches(ctx, f.e.users[access.HRManager], shared.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if names := matchNames(all); !slices.Contains(names, "Alice Gopher") || !slices.Contains(names, "Gina Shared") {
		t.Errorf("HR manager's matches %v, want Alice and Gina", names)
	}
	_ = gina
}

// TestAddMatches: a match joins the pipeline at its first stage with the
// source "match", once however often it is added; a candidate without a
// valid basis or another company's is refused.
func TestAddMatches(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	hr := f.e.users[access.HRManager]
	res, err := f.e.svc.AddMatches(ctx, hr, f.pos.ID, []string{f.alice, f.dora, f.fay})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 1 || res.Refused != 2 {
		t.Fatalf("add: %+v, want 1 done and 2 refused", res)
	}
	// Added again, at once by several: still one application.
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := f.e.svc.AddMatches(ctx, hr, f.pos.ID, []string{f.alice, f.cecilia}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	var source, stage string
	if err := f.e.db.Read.QueryRow(`SELECT count(*), max(source), max(stage) FROM applications WHERE position_id = $1 AND candidate_id = $2`, f.pos.ID, f.alice).Scan(&n, &source, &stage); err != nil {
		t.Fatal(err)
	}
	if n != 1 || source != "match" || stage != string(access.StageNew) {
		t.Errorf("Alice's applications: %d, source %q, stage %q; want 1, match, new", n, source, stage)
	}
	if err := f.e.db.Read.QueryRow(`SELECT count(*) FROM applications WHERE position_id = $1 AND candidate_id = $2`, f.pos.ID, f.cecilia).Scan(&n); err != nil || n != 1 {
		t.Errorf("Cecilia's applications: %d %v, want 1", n, err)
	}
	got, err := f.e.svc.Matches(ctx, hr, f.pos.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Name != "Alice Gopher" || !got[0].Applied {
		t.Errorf("after adding: %+v, want Alice first, marked as applied", got)
	}
	recs, _, err := f.e.log.List(ctx, f.e.tenantID, audit.Filter{Action: audit.ApplicationCreated, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byMatch := 0
	for _, r := range recs {
		if r.Details["via"] == "match" {
			byMatch++
		}
	}
	if byMatch != 2 {
		t.Errorf("audit records of applications by match: %d, want 2", byMatch)
	}
	// A line manager may not add; a bad selection is refused.
	if _, err := f.e.svc.AddMatches(ctx, f.e.users[access.LineManager], f.pos.ID, []string{f.bob}); !errors.Is(err, recruit.ErrNotFound) {
		t.Errorf("line manager: %v, want not found", err)
	}
	if _, err := f.e.svc.AddMatches(ctx, hr, f.pos.ID, []string{strings.Repeat("x", 300)}); err == nil {
		t.Errorf("a bad selection was taken")
	}
}

// TestInviteMatchesOnce: racing invitations of the same candidates send
// one email each, with the career page's link; unpublished positions
// invite nobody.
func TestInviteMatchesOnce(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	hr := f.e.users[access.HRManager]
	if _, err := f.e.svc.InviteMatches(ctx, hr, f.pos.ID, []string{f.alice}); !errors.Is(err, recruit.ErrNotPublished) {
		t.Fatalf("draft position: %v, want ErrNotPublished", err)
	}
	if _, err := f.e.svc.Publish(ctx, hr, f.pos.ID); err != nil {
		t.Fatal(err)
	}
	before := len(f.e.queuedMessages(t))
	var mu sync.Mutex
	done, already := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := f.e.svc.InviteMatches(ctx, hr, f.pos.ID, []string{f.alice, f.erik, f.dora})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			done += res.Done
			already += res.Already
			mu.Unlock()
		})
	}
	wg.Wait()
	if done != 2 || already != 14 {
		t.Errorf("invitations: %d sent, %d already; want 2 and 14", done, already)
	}
	msgs := f.e.queuedMessages(t)[before:]
	if len(msgs) != 2 {
		t.Fatalf("%d emails queued, want 2", len(msgs))
	}
	for _, m := range msgs {
		if !slices.Contains([]string{"alice@example.org", "erik@example.org"}, m.To[0]) {
			t.Errorf("email to %v", m.To)
		}
		if !strings.Contains(m.Text, "/careers/acme/"+f.pos.ID) || !strings.Contains(m.Subject, "Backend Developer") {
			t.Errorf("email %q / %q lacks the position or its link", m.Subject, m.Text)
		}
	}
	recs, _, err := f.e.log.List(ctx, f.e.tenantID, audit.Filter{Action: audit.CandidateInvitedToApply, Limit: 10})
	if err != nil || len(recs) != 2 {
		t.Errorf("audit records: %d %v, want 2", len(recs), err)
	}
	got, err := f.e.svc.Matches(ctx, hr, f.pos.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if want := m.Name == "Alice Gopher" || m.Name == "Erik Kept"; m.Invited != want {
			t.Errorf("%s invited: %v, want %v", m.Name, m.Invited, want)
		}
	}
}

// TestPositionSkills: required skills are kept with the position, added
// to the company's vocabulary, changed by an edit and left alone by an
// edit that names none.
func TestPositionSkills(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hr := e.users[access.HRManager]
	p, err := e.svc.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Data engineer", Language: "en", Skills: []string{"Python", "python ", "Apache Spark"}})
	if err != nil {
		t.Fatal(err)
	}
	skillNames := func() []string {
		got, err := e.svc.Position(ctx, hr, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range got.Skills {
			out = append(out, s.Name)
		}
		return out
	}
	if got := skillNames(); !slices.Equal(got, []string{"Apache Spark", "Python"}) {
		t.Errorf("skills %v, want [Apache Spark Python]", got)
	}
	in := recruit.PositionInput{Title: "Data engineer", Language: "en", Skills: []string{"Python", "dbt"}}
	if err := e.svc.EditPosition(ctx, hr, p.ID, in); err != nil {
		t.Fatal(err)
	}
	in.Skills = nil
	if err := e.svc.EditPosition(ctx, hr, p.ID, in); err != nil {
		t.Fatal(err)
	}
	if got := skillNames(); !slices.Equal(got, []string{"dbt", "Python"}) {
		t.Errorf("skills %v, want [dbt Python]", got)
	}
	vocab, err := e.svc.Skills(ctx, hr)
	if err != nil || len(vocab) != 3 {
		t.Errorf("vocabulary %v %v, want 3 skills", vocab, err)
	}
	in.Skills = []string{strings.Repeat("x", 100)}
	if err := e.svc.EditPosition(ctx, hr, p.ID, in); err == nil {
		t.Errorf("a skill of 100 letters was taken")
	}
}
