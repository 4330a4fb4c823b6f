package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
)

// addExpired adds n candidates by hand to the position, received long
// enough ago that their purpose ended; it returns their ids.
func (e *env) addExpired(t testing.TB, n int) []string {
	t.Helper()
	ctx := context.Background()
	e.kit.Recruit.SetClock(func() time.Time { return time.Now().AddDate(0, -7, 0) })
	defer e.kit.Recruit.SetClock(db.Now)
	ids := make([]string, n)
	for i := range n {
		app, err := e.kit.Recruit.AddCandidate(ctx, e.hr, e.position.ID, recruit.CandidateInput{Name: fmt.Sprintf("Old Candidate %d", i),
			Email: fmt.Sprintf("old%d@example.org", i)}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = app.Candidate.ID
	}
	return ids
}

func (e *env) countRows(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.kit.DB.ReadTx(context.Background(), db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(context.Background(), q, args...).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func ledgerLines(t testing.TB, path string) []privacy.LedgerEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, bad, err := privacy.ReadLedger(f)
	if err != nil || bad != 0 {
		t.Fatalf("ledger: %d bad lines, %v", bad, err)
	}
	return entries
}

// TestSweepResumesAfterACrash stops a sweep after its first batch (the
// context of a process that died) and with its ledger unwritable (a full
// disk), then runs it again: every expired candidate is erased exactly
// once, none is skipped, and the ledger receives every erasure once.
func TestSweepResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const n = 450 // more than two batches
	ids := e.addExpired(t, n)
	keep := e.plant(t, newPlanted()) // applied now: kept

	broken := privacy.NewService(e.kit.DB, privacy.Options{Audit: e.kit.Audit, Recruit: e.kit.Recruit, Blobs: e.kit.Blobs,
		Ledger: filepath.Join(t.TempDir(), "missing", "erasures.jsonl")})
	stop, cancel := context.WithCancel(ctx)
	_, err := broken.Sweep(stop, privacy.SweepOptions{TenantID: e.tenantID, Progress: func(done int) {
		if done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: %v", err)
	}
	first := e.countRows(t, `SELECT count(*) FROM erasures`)
	if first == 0 || first >= n {
		t.Fatalf("the interrupted sweep erased %d of %d", first, n)
	}
	if left := e.countRows(t, `SELECT count(*) FROM erasures WHERE NOT ledgered`); left != first {
		t.Fatalf("%d of %d erasures not in the ledger, want all", left, first)
	}

	rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != n-first || rep.Erased[privacy.ReasonPurposeEnded] != n-first {
		t.Fatalf("resumed sweep erased %+v, want %d", rep, n-first)
	}
	if got := e.countRows(t, `SELECT count(DISTINCT candidate_id) FROM erasures`); got != n || e.countRows(t, `SELECT count(*) FROM erasures`) != n {
		t.Fatalf("%d candidates erased (%d records), want %d once each", got, e.countRows(t, `SELECT count(*) FROM erasures`), n)
	}
	if left := e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id IN ($2, $3)`, e.tenantID, ids[0], ids[n-1]); left != 0 {
		t.Fatalf("%d expired candidates left", left)
	}
	if _, err := e.kit.Recruit.Application(ctx, e.hr, keep.ID); err != nil {
		t.Fatalf("the recent candidate: %v", err)
	}
	entries := ledgerLines(t, e.kit.Ledger)
	seen := map[string]bool{}
	for _, en := range entries {
		if seen[en.CandidateID] {
			t.Fatalf("candidate %s twice in the ledger", en.CandidateID)
		}
		seen[en.CandidateID] = true
	}
	if len(seen) != n || e.countRows(t, `SELECT count(*) FROM erasures WHERE NOT ledgered`) != 0 {
		t.Fatalf("ledger holds %d of %d", len(seen), n)
	}
	// The upgrade's task of computing bases is done, and forgotten.
	if n := e.countRows(t, `SELECT count(*) FROM pending_backfills WHERE name LIKE 'privacy_%'`); n != 0 {
		t.Fatalf("%d privacy tasks still pending after the sweep", n)
	}
	// Nothing is left to do: a third run erases nobody.
	if rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID}); err != nil || rep.Total != 0 {
		t.Fatalf("third sweep: %+v %v", rep, err)
	}
}

// TestSweepRacesConsentAndItself runs two sweeps (two instances) while
// candidates whose basis ended grant a consent: each candidate is erased
// at most once, and every candidate whose grant succeeded is kept, their
// consent with them.
func TestSweepRacesConsentAndItself(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const n = 120
	ids := e.addExpired(t, n)
	later := time.Now().AddDate(0, 1, 0)
	e.svc.SetClock(func() time.Time { return later })
	second := privacy.NewService(e.kit.DB, privacy.Options{Audit: e.kit.Audit, Recruit: e.kit.Recruit, Blobs: e.kit.Blobs, Ledger: e.kit.Ledger})
	second.SetClock(func() time.Time { return later })

	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := map[string]bool{}
	for _, s := range []*privacy.Service{e.svc, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID}); err != nil {
				t.Error(err)
			}
		}()
	}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 { // half of them ask
				err := e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
					_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: ids[i], Event: recruit.ConsentGranted,
						TextVersion: "v1", Language: "en", Referral: recruit.ReferralRequest}, later)
					return err
				})
				switch {
				case err == nil:
					mu.Lock()
					granted[ids[i]] = true
					mu.Unlock()
				case errors.Is(err, recruit.ErrNotFound):
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if twice := e.countRows(t, `SELECT count(*) FROM (SELECT candidate_id FROM erasures GROUP BY candidate_id HAVING count(*) > 1) d`); twice != 0 {
		t.Fatalf("%d candidates erased twice", twice)
	}
	for cid := range granted {
		if e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, cid) != 1 {
			t.Fatalf("candidate %s erased after their consent was recorded", cid)
		}
	}
	// The rest are gone, and a sweep afterwards finds nothing more.
	erased := e.countRows(t, `SELECT count(*) FROM erasures`)
	if erased+len(granted) != n {
		t.Fatalf("%d erased + %d kept by consent != %d", erased, len(granted), n)
	}
	if rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID}); err != nil || rep.Total != 0 {
		t.Fatalf("sweep afterwards: %+v %v", rep, err)
	}
}

// TestApplyLedger brings back a database as a restore would (a copy taken
// before an erasure) and applies the ledger: the erased candidate goes
// again, and a second application does nothing.
func TestApplyLedger(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// Candidates imported under known ids, as a restore writes them back.
	apps := make([]recruit.ImportApplication, 3)
	for i := range apps {
		apps[i] = recruit.ImportApplication{ID: fmt.Sprintf("app-restored-%d", i), CandidateID: fmt.Sprintf("cand-restored-%d", i),
			Candidate:  recruit.CandidateInput{Name: fmt.Sprintf("Old Candidate %d", i), Email: fmt.Sprintf("old%d@example.org", i)},
			PositionID: e.position.ID, CreatedAt: time.Now().AddDate(-1, 0, 0), AddedBy: e.hr.UserID}
	}
	if err := e.kit.Recruit.ImportApplications(ctx, e.tenantID, apps); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID})
	if err != nil || rep.Total != 3 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	// The database comes back from a backup taken before the sweep; the
	// ledger beside it is the newer one.
	for i := range apps {
		apps[i].Events = nil
	}
	if err := e.kit.Recruit.ImportApplications(ctx, e.tenantID, apps); err != nil {
		t.Fatal(err)
	}
	if back := e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1`, e.tenantID); back != 3 {
		t.Fatalf("%d candidates restored", back)
	}
	got, err := e.svc.ApplyLedger(ctx, e.kit.Ledger)
	if err != nil || got.Entries != 3 || got.Erased != 3 || got.Bad != 0 {
		t.Fatalf("apply: %+v %v", got, err)
	}
	if left := e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1`, e.tenantID); left != 0 {
		t.Fatalf("%d candidates back after the ledger", left)
	}
	again, err := e.svc.ApplyLedger(ctx, e.kit.Ledger)
	if err != nil || again.Erased != 0 {
		t.Fatalf("second apply: %+v %v", again, err)
	}
	// A torn last line (a crash while appending) is counted, not fatal.
	f, err := os.OpenFile(e.kit.Ledger, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"v":1,"tenant":"` + e.tenantID + `","cand`)
	f.Close()
	torn, err := e.svc.ApplyLedger(ctx, e.kit.Ledger)
	if err != nil || torn.Bad != 1 || torn.Entries != 3 {
		t.Fatalf("torn ledger: %+v %v", torn, err)
	}
	if b, _ := os.ReadFile(e.kit.Ledger); strings.Contains(strings.ToLower(string(b)), "old candidate") || strings.Contains(string(b), "@example.org") {
		t.Fatal("the ledger holds personal data")
	}
}

// TestAnonymousFormDoesNotKeepAKnownCandidate: someone who knows the
// address of a candidate whose purpose ended sends the career form with
// it; the application is kept beside the candidate, but it is no receipt,
// so the sweep erases the candidate as before. A new address's
// application is a receipt.
func TestAnonymousFormDoesNotKeepAKnownCandidate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.addExpired(t, 1)
	p2, err := e.kit.Recruit.CreatePosition(ctx, e.hr, recruit.PositionInput{Title: "Second", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.kit.Recruit.Publish(ctx, e.hr, p2.ID); err != nil {
		t.Fatal(err)
	}
	apply := func(email string) *recruit.Application {
		app, err := e.kit.Recruit.Apply(ctx, e.tenantID, p2.ID, recruit.ApplyInput{Name: "Someone", Email: email,
			CV: &recruit.Upload{Name: "cv.txt", Data: []byte("A CV.\n")}, Language: "en", SubmissionID: "form-" + email})
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	if app := apply("old0@example.org"); app.Candidate.ID != ids[0] {
		t.Fatalf("the form made another candidate: %s", app.Candidate.ID)
	}
	fresh := apply("fresh@example.org")
	rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID})
	if err != nil || rep.Total != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	if e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, ids[0]) != 0 {
		t.Fatal("the known candidate's purpose was lengthened by the anonymous form")
	}
	if e.countRows(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, fresh.Candidate.ID) != 1 {
		t.Fatal("the new candidate was erased")
	}
}
