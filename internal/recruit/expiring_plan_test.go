package recruit_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// expiringPlanEnv sets the number of candidates of TestExpiringQueryPlans:
// 20,000 by default (fewer, and PostgreSQL rightly hashes a small
// company's applications for the search filter); 100000 is the issue's
// scale, a few minutes' work.
const expiringPlanEnv = "KANDIDAT_EXPIRING_CANDIDATES"

// TestExpiringQueryPlans fills a company with candidates whose bases end
// over two years, each with an application, and asks the engine for the
// plan of every statement of the expiry list (its pages, the company's
// count), the consent:expiring search, and the digest's counts: none may
// read the company's candidates or applications whole (dbtest.CheckPlans).
// The time of each is logged.
func TestExpiringQueryPlans(t *testing.T) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv(expiringPlanEnv)); err == nil && v > 0 {
		n = v
	}
	var rec dbtest.Recorder
	k := testkit.New(t, testkit.Options{DB: dbtest.OpenTraced(t, rec.Trace)})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "big", Name: "Big"})
	users := map[string]access.Actor{}
	for _, r := range []string{access.HRManager, access.Recruiter, access.Administrator} {
		users[r] = k.Actor(t, c.ID, "big-"+strings.ReplaceAll(r, "_", "-"), r)
	}
	var positions []*recruit.Position
	for i := range 20 {
		by := users[access.HRManager]
		if i == 0 {
			by = users[access.Recruiter]
		}
		p, err := k.Recruit.CreatePosition(ctx, by, recruit.PositionInput{Title: fmt.Sprintf("Position %d", i), Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, p)
	}
	now := time.Now().UTC().Truncate(time.Second)
	k.Recruit.SetClock(func() time.Time { return now })
	start := time.Now()
	stages := []access.StageKind{access.StageNew, access.StagePreselected, access.StageInterview, access.StageRejected}
	const batch = 500
	for from := 0; from < n; from += batch {
		err := k.DB.InTx(ctx, c.ID, func(tx *sql.Tx) error {
			var cand, apps []string
			var cargs, aargs []any
			for i := from; i < min(from+batch, n); i++ {
				cid := id.New()
				// Bases ending from a month ago to two years ahead, a tenth on consent.
				until := now.Add(time.Duration(i%(25*30))*24*time.Hour - 30*24*time.Hour + time.Duration(i)*time.Second)
				var consent any
				if i%10 == 0 {
					consent = until
				}
				created := now.Add(-time.Duration(i) * time.Minute)
				b := len(cargs)
				cand = append(cand, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", b+1, b+2, b+3, b+4, b+5, b+5, b+6, b+7, b+8))
				cargs = append(cargs, c.ID, cid, fmt.Sprintf("Candidate %d", i), fmt.Sprintf("c%d@example.org", i), created, until, consent, until)
				p := positions[i%len(positions)]
				b = len(aargs)
				apps = append(apps, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d)", b+1, b+2, b+3, b+4, b+5, b+6, b+6))
				aargs = append(aargs, c.ID, id.New(), p.ID, cid, string(stages[i%len(stages)]), created)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (tenant_id, id, name, email, created_at, updated_at, purpose_until, consent_until, basis_until) VALUES `+strings.Join(cand, ", "), cargs...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, created_at, updated_at) VALUES `+strings.Join(apps, ", "), aargs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := k.DB.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	if k.DB.Engine == db.SQLite {
		// Readers load the statistics with the schema: start them afresh.
		k.DB.Read.SetMaxIdleConns(0)
		k.DB.Read.SetMaxIdleConns(2)
	}
	t.Logf("%d candidates written in %s on %s", n, time.Since(start).Round(time.Millisecond), k.DB.Engine)

	big := []string{"candidates", "applications"}
	check := func(name string, run func() error) {
		t.Helper()
		// The digest's counts by owner are a weekly job's: one pass over the
		// company's applications is what they may cost (a hash join);
		// they are timed, not held to the pages' rule.
		planned := !strings.HasPrefix(name, "the digest")
		rec.Reset()
		began := time.Now()
		if err := run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		took := time.Since(began)
		stmts := rec.Take()
		for _, p := range dbtest.CheckPlans(ctx, k.DB, stmts, big) {
			if planned {
				t.Errorf("%s: %s", name, p)
			}
		}
		t.Logf("%s: %s, %d statements", name, took.Round(time.Microsecond), len(stmts))
		if testing.Verbose() {
			for _, p := range dbtest.Plans(ctx, k.DB, stmts) {
				t.Logf("%s", p)
			}
		}
	}
	for _, role := range []string{access.HRManager, access.Recruiter, access.Administrator} {
		a := users[role]
		var next string
		check("expiring list as "+role, func() error {
			l, err := k.Recruit.ExpiringCandidates(ctx, a, "", 0)
			if err == nil {
				next = l.Next
				if role != access.Administrator && len(l.Candidates) != recruit.PageSize {
					err = fmt.Errorf("first page of %d rows, want %d", len(l.Candidates), recruit.PageSize)
				}
			}
			return err
		})
		if next != "" {
			check("expiring list's next page as "+role, func() error {
				_, err := k.Recruit.ExpiringCandidates(ctx, a, next, 0)
				return err
			})
		}
		if role != access.Administrator {
			check("consent:expiring as "+role, func() error {
				_, err := k.Recruit.ListPage(ctx, a, recruit.ListFilter{Text: "consent:expiring"})
				return err
			})
		}
	}
	check("the digest's counts", func() error {
		return k.DB.ReadTx(ctx, c.ID, func(tx *sql.Tx) error {
			all, byOwner, err := recruit.ExpiringCounts(ctx, tx, c.ID, recruit.NoticeHorizon(now, time.UTC))
			if err == nil && (all == 0 || byOwner[users[access.Recruiter].UserID] == 0) {
				err = fmt.Errorf("counts %d %v, want some", all, byOwner)
			}
			return err
		})
	})
}
