package recruit_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// bases reads a candidate's bases as stored.
func (e *env) bases(t *testing.T, candidateID string) recruit.Bases {
	t.Helper()
	var b recruit.Bases
	err := e.db.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) (err error) {
		b, err = recruit.BasesOf(context.Background(), tx, e.tenantID, candidateID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// consent records a consent entry at now.
func (e *env) consent(t *testing.T, candidateID string, ev recruit.ConsentEvent, months int, now time.Time) {
	t.Helper()
	err := e.db.InTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		_, err := recruit.RecordConsent(context.Background(), tx, e.tenantID, recruit.ConsentEntry{CandidateID: candidateID, Event: ev,
			TextVersion: "test", Language: "en", Referral: recruit.ReferralManual, Months: months, RecordedBy: e.users[access.HRManager].UserID}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: got %s, want %s", what, got.UTC(), want.UTC())
	}
}

// TestBasesFollowApplicationsAndConsent: the purpose runs from the newest
// application the candidate made (six months on the company's calendar);
// an application a recruiter made from the pool's matches is no receipt
// and extends nothing; a consent keeps the data until it ends when that is
// later; a withdrawal ends it, leaving the purpose.
func TestBasesFollowApplicationsAndConsent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	london, _ := time.LoadLocation("Europe/London") // an English company's zone
	now := time.Date(2026, 8, 31, 9, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	hr := e.users[access.HRManager]
	first := e.position(t, access.HRManager, "Welder")
	second := e.position(t, access.HRManager, "Painter")
	third := e.position(t, access.HRManager, "Joiner")

	app := e.apply(t, access.HRManager, first.ID, "Bea Bases", "bea@example.org", access.StageNew)
	cid := app.Candidate.ID
	b := e.bases(t, cid)
	// 31 Aug + 6 months: the end of February, never March.
	sameTime(t, "purpose of the first application", b.PurposeUntil, tenant.AddMonths(now, 6, london))
	if got := b.PurposeUntil.In(london).Format("2006-01-02"); got != "2027-02-28" {
		t.Errorf("purpose ends on %s, want 2027-02-28", got)
	}
	sameTime(t, "basis", b.Until, b.PurposeUntil)
	if !b.ConsentUntil.IsZero() || b.Basis() != recruit.BasisPurpose {
		t.Errorf("bases %+v, want the purpose alone", b)
	}

	// A newer application moves the purpose on.
	now = time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	e.apply(t, access.HRManager, second.ID, "Bea Bases", "bea@example.org", access.StageNew)
	purpose := tenant.AddMonths(now, 6, london)
	b = e.bases(t, cid)
	sameTime(t, "purpose of the newer application", b.PurposeUntil, purpose)

	// The pool's matches add her to a third position later: no receipt.
	now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	res, err := e.svc.AddMatches(ctx, hr, third.ID, []string{cid})
	if err != nil || res.Done != 1 {
		t.Fatalf("add from matches: %+v %v", res, err)
	}
	if err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error { return recruit.RefreshBases(ctx, tx, e.tenantID, cid) }); err != nil {
		t.Fatal(err)
	}
	sameTime(t, "purpose after a match", e.bases(t, cid).PurposeUntil, purpose)

	// A consent for 24 months outlasts the purpose: the data is kept on it.
	e.consent(t, cid, recruit.ConsentGranted, 24, now)
	b = e.bases(t, cid)
	consent := tenant.AddMonths(now, 24, london)
	sameTime(t, "consent", b.ConsentUntil, consent)
	sameTime(t, "basis with consent", b.Until, consent)
	sameTime(t, "purpose with consent", b.PurposeUntil, purpose)
	if b.Basis() != recruit.BasisConsent {
		t.Errorf("basis %q, want consent", b.Basis())
	}
	// The card's application carries the same bases (read with it).
	card, err := e.svc.Application(ctx, hr, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	cb := card.Candidate.Bases
	sameTime(t, "card's purpose", cb.PurposeUntil, b.PurposeUntil)
	sameTime(t, "card's consent", cb.ConsentUntil, b.ConsentUntil)
	sameTime(t, "card's basis", cb.Until, b.Until)

	// A consent shorter than the purpose keeps the purpose as the basis.
	e.consent(t, cid, recruit.ConsentGranted, 1, now)
	b = e.bases(t, cid)
	sameTime(t, "short consent", b.ConsentUntil, tenant.AddMonths(now, 1, london))
	sameTime(t, "basis with a short consent", b.Until, purpose)
	if b.Basis() != recruit.BasisPurpose {
		t.Errorf("basis %q, want purpose", b.Basis())
	}

	// A withdrawal ends the consent: the purpose alone is left.
	e.consent(t, cid, recruit.ConsentGranted, 24, now)
	e.consent(t, cid, recruit.ConsentWithdrawn, 0, now.Add(time.Hour))
	b = e.bases(t, cid)
	if !b.ConsentUntil.IsZero() {
		t.Errorf("consent after a withdrawal: %s, want none", b.ConsentUntil)
	}
	sameTime(t, "basis after a withdrawal", b.Until, purpose)
	// So does a refusal.
	e.consent(t, cid, recruit.ConsentGranted, 24, now)
	e.consent(t, cid, recruit.ConsentRefused, 0, now.Add(time.Hour))
	if b := e.bases(t, cid); !b.ConsentUntil.IsZero() || !b.Until.Equal(purpose) {
		t.Errorf("bases after a refusal: %+v", b)
	}
}

// TestBasesInTheCompanysZone: an application received on 31 January at
// 23:30 UTC came on 1 February in Stockholm; its six months end on 1
// August there (22:30 UTC on 31 July, summer time).
func TestBasesInTheCompanysZone(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "svea", Name: "Svea", DefaultLanguage: "sv"})
	hr := k.Actor(t, c.ID, "svea-hr", access.HRManager)
	received := time.Date(2027, 1, 31, 23, 30, 0, 0, time.UTC)
	k.Recruit.SetClock(func() time.Time { return received })
	p, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Svetsare", Language: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := k.Recruit.AddCandidate(ctx, hr, p.ID, recruit.CandidateInput{Name: "Sven Svensson", Email: "sven@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	var b recruit.Bases
	if err := k.DB.ReadTx(ctx, c.ID, func(tx *sql.Tx) (err error) {
		b, err = recruit.BasesOf(ctx, tx, c.ID, app.Candidate.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sto, _ := time.LoadLocation("Europe/Stockholm")
	sameTime(t, "purpose in Stockholm", b.PurposeUntil, time.Date(2027, 8, 1, 0, 30, 0, 0, sto))
	sameTime(t, "purpose in Stockholm, UTC", b.PurposeUntil, time.Date(2027, 7, 31, 22, 30, 0, 0, time.UTC))
}

// TestNoticeWindow: the bases end "within two months" when they end before
// the same wall time two calendar months later on the company's calendar,
// clamped at month ends; ended bases are within it (not erased yet);
// unknown ones are not.
func TestNoticeWindow(t *testing.T) {
	utc := time.UTC
	sto, _ := time.LoadLocation("Europe/Stockholm")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	for _, tc := range []struct {
		name    string
		now     time.Time
		loc     *time.Location
		until   time.Time
		within  bool
		horizon time.Time
	}{
		{"31 Dec: the window closes on 28 Feb", at(utc, 2026, 12, 31, 12, 0), utc, at(utc, 2027, 2, 28, 11, 59), true, at(utc, 2027, 2, 28, 12, 0)},
		{"31 Dec: the window's end is out", at(utc, 2026, 12, 31, 12, 0), utc, at(utc, 2027, 2, 28, 12, 0), false, at(utc, 2027, 2, 28, 12, 0)},
		{"31 Dec: 1 March is out", at(utc, 2026, 12, 31, 12, 0), utc, at(utc, 2027, 3, 1, 0, 0), false, at(utc, 2027, 2, 28, 12, 0)},
		{"leap year: 31 Dec 2027 to 29 Feb", at(utc, 2027, 12, 31, 12, 0), utc, at(utc, 2028, 2, 29, 11, 0), true, at(utc, 2028, 2, 29, 12, 0)},
		{"ended yesterday: within", at(utc, 2026, 12, 31, 12, 0), utc, at(utc, 2026, 12, 30, 12, 0), true, at(utc, 2027, 2, 28, 12, 0)},
		// 30 Dec 23:30 UTC is 31 Dec in Stockholm: the window closes on 28
		// Feb 00:30 there (27 Feb 23:30 UTC), a day before it would in UTC.
		{"Stockholm's calendar", at(utc, 2026, 12, 30, 23, 30), sto, at(utc, 2027, 2, 28, 12, 0), false, at(sto, 2027, 2, 28, 0, 30)},
		{"the same in UTC", at(utc, 2026, 12, 30, 23, 30), utc, at(utc, 2027, 2, 28, 12, 0), true, at(utc, 2027, 2, 28, 23, 30)},
		// Summer time begins within the window: the wall time is kept.
		{"across a clock change", at(sto, 2026, 2, 10, 9, 0), sto, at(sto, 2026, 4, 10, 8, 59), true, at(sto, 2026, 4, 10, 9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := recruit.Bases{PurposeUntil: tc.until, Until: tc.until}
			if got := b.EndsWithin(tc.now, tc.loc); got != tc.within {
				t.Errorf("bases ending %s, now %s: within %v, want %v", tc.until, tc.now, got, tc.within)
			}
			sameTime(t, "horizon", recruit.NoticeHorizon(tc.now, tc.loc), tc.horizon)
		})
	}
	if (recruit.Bases{}).EndsWithin(time.Now(), utc) {
		t.Error("unknown bases end within the notice period")
	}
}

// TestOptimizeAnalysesTheBasisIndex: the periodic db.Optimize (the
// db.optimize job, at start and every six hours) gives an index the
// planner has no statistics for its statistics, as migration 0038's
// ANALYZE did once for candidates_basis: an index made after the table's
// last analysis is not left without. (SQLite only: PostgreSQL's statistics
// are autovacuum's, and Optimize does nothing there.)
func TestOptimizeAnalysesTheBasisIndex(t *testing.T) {
	e := newEnv(t)
	if e.db.Engine != db.SQLite {
		t.Log("PostgreSQL: statistics are autovacuum's; Optimize does nothing")
		return
	}
	ctx := context.Background()
	p := e.position(t, access.HRManager, "Welder")
	for i := range 30 {
		e.apply(t, access.HRManager, p.ID, "Stat Person", fmt.Sprintf("stat%d@example.org", i), access.StageNew)
	}
	if err := e.db.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	stats := func() int {
		t.Helper()
		var n int
		if err := e.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE idx = 'candidates_basis'`).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if stats() != 1 {
		t.Fatal("ANALYZE left the basis index without statistics")
	}
	// As migration 0038 did: the index made again after the last analysis.
	if err := e.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		for _, q := range []string{`DROP INDEX candidates_basis`, `CREATE INDEX candidates_basis ON candidates (tenant_id, basis_until, id)`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stats() != 0 {
		t.Fatal("the index made again kept its statistics")
	}
	if err := e.db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if stats() != 1 {
		t.Error("Optimize left the basis index without statistics")
	}
}

// TestBackfillBasesPerChunk: the backfill computes the bases of candidates
// written before they existed from their applications and the consent log
// (a grant with its validity; a grant withdrawn: none; a grant from before
// validities were recorded: three years), as the live path had; and the
// company's recomputation writes a chunk of candidates in one statement
// (it wrote one per candidate).
func TestBackfillBasesPerChunk(t *testing.T) {
	var rec dbtest.Recorder
	k := testkit.New(t, testkit.Options{DB: dbtest.OpenTraced(t, rec.Trace)})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	hr := k.Actor(t, c.ID, "hana", access.HRManager)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	k.Recruit.SetClock(func() time.Time { return now })
	p, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 12 {
		now = now.Add(time.Hour)
		app, err := k.Recruit.AddCandidate(ctx, hr, p.ID, recruit.CandidateInput{Name: "Bo Backfill", Email: fmt.Sprintf("bo%d@example.org", i)}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, app.Candidate.ID)
	}
	granted := now.Add(-24 * time.Hour)
	inTx := func(fn func(tx *sql.Tx) error) {
		t.Helper()
		if err := k.DB.InTx(ctx, c.ID, fn); err != nil {
			t.Fatal(err)
		}
	}
	record := func(cid string, ev recruit.ConsentEvent) {
		inTx(func(tx *sql.Tx) error {
			_, err := recruit.RecordConsent(ctx, tx, c.ID, recruit.ConsentEntry{CandidateID: cid, Event: ev, TextVersion: "v1", Language: "en",
				Referral: recruit.ReferralManual, At: granted, Months: 12}, now)
			return err
		})
	}
	record(ids[0], recruit.ConsentGranted)
	record(ids[1], recruit.ConsentGranted)
	record(ids[1], recruit.ConsentWithdrawn)
	record(ids[2], recruit.ConsentGranted)
	read := func() map[string]recruit.Bases {
		t.Helper()
		out := map[string]recruit.Bases{}
		if err := k.DB.ReadTx(ctx, c.ID, func(tx *sql.Tx) error {
			for _, cid := range ids {
				b, err := recruit.BasesOf(ctx, tx, c.ID, cid)
				if err != nil {
					return err
				}
				out[cid] = b
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := read()
	if want[ids[0]].ConsentUntil.IsZero() || !want[ids[1]].ConsentUntil.IsZero() {
		t.Fatalf("bases before: %+v", want)
	}
	// The third grant is from before validities were recorded: three years.
	legacy := tenant.AddMonths(granted, tenant.MaxConsentMonths, c.Location())
	want[ids[2]] = recruit.Bases{PurposeUntil: want[ids[2]].PurposeUntil, ConsentUntil: legacy, Until: legacy}
	inTx(func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE consent_log SET valid_until = NULL WHERE tenant_id = $1 AND candidate_id = '` + ids[2] + `'`,
			`UPDATE candidates SET purpose_until = NULL, consent_until = NULL, basis_until = NULL WHERE tenant_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err := k.DB.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ('privacy_bases', $1) ON CONFLICT (name) DO NOTHING`, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	writes := func() int {
		n := 0
		for _, s := range rec.Take() {
			if strings.HasPrefix(s.Query, "UPDATE candidates SET") {
				n++
			}
		}
		return n
	}
	rec.Reset()
	n, err := k.Recruit.BackfillBases(ctx)
	if err != nil || n != len(ids) {
		t.Fatalf("backfill: %d, %v; want %d", n, err, len(ids))
	}
	if w := writes(); w > 2 {
		t.Errorf("the backfill of %d candidates wrote %d statements, want the lock and the write of one chunk", len(ids), w)
	}
	check := func(when string) {
		t.Helper()
		got := read()
		for i, cid := range ids {
			g, w := got[cid], want[cid]
			if !g.PurposeUntil.Equal(w.PurposeUntil) || !g.ConsentUntil.Equal(w.ConsentUntil) || !g.Until.Equal(w.Until) {
				t.Errorf("%s, candidate %d: bases %+v, want %+v", when, i, g, w)
			}
		}
	}
	check("after the backfill")
	rec.Reset()
	if n, err := k.Recruit.RefreshAllBases(ctx, c.ID, false); err != nil || n != len(ids) {
		t.Fatalf("refresh: %d, %v", n, err)
	}
	if w := writes(); w != 1 {
		t.Errorf("the recomputation of %d candidates wrote %d statements, want 1", len(ids), w)
	}
	check("after the recomputation")
}
