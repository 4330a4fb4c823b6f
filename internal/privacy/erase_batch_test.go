package privacy_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// TestErasureDropsQueuedMailByIndex: an erasure deletes the email and text
// messages queued to the candidate's address and phone (an address in
// another case, a number in another form, and a row queued before the queue
// named its recipients) and keeps everyone else's, without reading the
// company's whole queue: every statement it runs on email_queue is served
// by an index beyond the company (it used to read and parse every queued
// message in each batch).
func TestErasureDropsQueuedMailByIndex(t *testing.T) {
	var rec dbtest.Recorder
	k := testkit.New(t, testkit.Options{DB: dbtest.OpenTraced(t, rec.Trace)})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Name: "Acme", Slug: "acme"})
	hr := k.Actor(t, c.ID, "hanna", access.HRManager)
	pos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	add := func(name, email, phone string) *recruit.Application {
		app, err := k.Recruit.AddCandidate(ctx, hr, pos.ID, recruit.CandidateInput{Name: name, Email: email, Phone: phone}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	victim := add("Vera Victim", "vera.victim@example.org", "+46 70 123 45 67")
	add("Kai Keeper", "kai.keeper@example.org", "+46 70 765 43 21")
	var gone, kept []string
	err = k.DB.InTx(ctx, c.ID, func(tx *sql.Tx) error {
		mail := func(to string) string {
			qid, err := k.Queue.EnqueueID(ctx, tx, c.ID, notify.Message{To: []string{to}, Subject: "Hello", Text: "Hello."})
			if err != nil {
				t.Fatal(err)
			}
			return qid
		}
		gone = append(gone, mail("Vera.Victim@Example.ORG"))
		legacy := mail("vera.victim@example.org")
		if _, err := tx.ExecContext(ctx, `UPDATE email_queue SET recipient = '' WHERE tenant_id = $1 AND id = $2`, c.ID, legacy); err != nil {
			return err
		}
		gone = append(gone, legacy)
		kept = append(kept, mail("kai.keeper@example.org"))
		for _, sms := range []string{"+46701234567", "+46 70 765 43 21"} {
			if err := k.Queue.EnqueueSMS(ctx, tx, c.ID, sms, "Hello."); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	queued := func() (ids, recipients []string) {
		t.Helper()
		err := k.DB.ReadTx(ctx, c.ID, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, recipient FROM email_queue WHERE tenant_id = $1 ORDER BY id`, c.ID)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, r string
				if err := rows.Scan(&id, &r); err != nil {
					return err
				}
				ids, recipients = append(ids, id), append(recipients, r)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, recipients
	}
	_, recipients := queued()
	for _, want := range []string{"vera.victim@example.org", "+46701234567", "+46707654321", "kai.keeper@example.org"} {
		if !slices.Contains(recipients, want) {
			t.Fatalf("queue recipients %q lack %q", recipients, want)
		}
	}

	rec.Reset()
	if err := k.Privacy.EraseCandidate(ctx, hr, victim.ID); err != nil {
		t.Fatal(err)
	}
	stmts := rec.Take()
	ids, recipients := queued()
	for _, g := range gone {
		if slices.Contains(ids, g) {
			t.Errorf("queued email %s to the erased candidate is still queued", g)
		}
	}
	for _, kq := range kept {
		if !slices.Contains(ids, kq) {
			t.Errorf("queued email %s to another candidate was dropped", kq)
		}
	}
	if slices.Contains(recipients, "+46701234567") || !slices.Contains(recipients, "+46707654321") {
		t.Errorf("text messages left: %q, want the other candidate's only", recipients)
	}
	var onQueue []dbtest.Statement
	for _, s := range stmts {
		if strings.Contains(s.Query, "email_queue") {
			onQueue = append(onQueue, s)
		}
	}
	if len(onQueue) == 0 {
		t.Fatal("the erasure ran no statement on the email queue")
	}
	if problems := dbtest.CheckPlans(ctx, k.DB, onQueue, []string{"email_queue"}); len(problems) > 0 {
		t.Errorf("the erasure reads the company's whole queue:\n%s", strings.Join(problems, "\n"))
	}
}

// TestBulkErasureReadsTheSelectionOnce: erasing a selection reads its
// applications in one query per chunk, not a query (and a record of the
// read) per application: an erasure of 12 runs no more statements than one
// of 3. Applications the user may not see, unknown ids and a candidate
// selected twice are skipped; CandidatesOfApplications, which does the
// reading, keeps to what the actor sees.
func TestBulkErasureReadsTheSelectionOnce(t *testing.T) {
	var rec dbtest.Recorder
	k := testkit.New(t, testkit.Options{DB: dbtest.OpenTraced(t, rec.Trace)})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Name: "Acme", Slug: "acme"})
	other := k.Company(t, tenant.CreateInput{Name: "Other", Slug: "other"})
	hr := k.Actor(t, c.ID, "hanna", access.HRManager)
	rita := k.Actor(t, c.ID, "rita", access.Recruiter)
	foreignHR := k.Actor(t, other.ID, "olle", access.HRManager)
	hrPos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	ritaPos, err := k.Recruit.CreatePosition(ctx, rita, recruit.PositionInput{Title: "Painter", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	foreignPos, err := k.Recruit.CreatePosition(ctx, foreignHR, recruit.PositionInput{Title: "Joiner", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	add := func(by access.Actor, positionID string) *recruit.Application {
		t.Helper()
		n++
		app, err := k.Recruit.AddCandidate(ctx, by, positionID, recruit.CandidateInput{Name: "Bulk Person", Email: "bulk" + strings.Repeat("x", n) + "@example.org"},
			access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	selection := func(count int) []string {
		var ids []string
		for range count {
			ids = append(ids, add(hr, hrPos.ID).ID)
		}
		return ids
	}
	erase := func(ids []string) (int, int) {
		t.Helper()
		rec.Reset()
		got, err := k.Privacy.EraseCandidates(ctx, hr, ids)
		if err != nil {
			t.Fatal(err)
		}
		// The audit trail indexes each object of the tombstone with a row
		// of its own (audit_refs): not the erasure's to batch.
		stmts := 0
		for _, s := range rec.Take() {
			if !strings.HasPrefix(s.Query, "INSERT INTO audit_refs") {
				stmts++
			}
		}
		return got, stmts
	}
	small := selection(3)
	got, few := erase(small)
	if got != 3 {
		t.Fatalf("erased %d of 3", got)
	}
	big := selection(12)
	foreign := add(foreignHR, foreignPos.ID)
	got, many := erase(append(append(big, big[0], foreign.ID, "not-an-id"), big...))
	if got != 12 {
		t.Fatalf("erased %d of 12 (and a foreign application)", got)
	}
	if many > few {
		t.Errorf("an erasure of 12 ran %d statements, one of 3 ran %d: want no more", many, few)
	}
	// The foreign company's candidate is untouched.
	if _, err := k.Recruit.Application(ctx, foreignHR, foreign.ID); err != nil {
		t.Errorf("the other company's application: %v", err)
	}
	// A recruiter sees their own position's application, not the other's.
	mine, theirs := add(rita, ritaPos.ID), add(hr, hrPos.ID)
	err = k.DB.ReadTx(ctx, c.ID, func(tx *sql.Tx) error {
		got, err := recruit.CandidatesOfApplications(ctx, tx, rita, []string{theirs.ID, mine.ID, mine.ID})
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{mine.Candidate.ID}) {
			t.Errorf("the recruiter's candidates: %q, want only %q", got, mine.Candidate.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestForgetPendingRunsOnce: runners racing for the forgetting an erasure
// left pending take the task by a conditional write, so one of them runs
// Forget and the others find the task taken (each used to run it again).
func TestForgetPendingRunsOnce(t *testing.T) {
	var rec dbtest.Recorder
	k := testkit.New(t, testkit.Options{DB: dbtest.OpenTraced(t, rec.Trace)})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Name: "Acme", Slug: "acme"})
	hr := k.Actor(t, c.ID, "hanna", access.HRManager)
	pos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	// What Forget runs first: the search index's merge on SQLite, the
	// first vacuum on PostgreSQL.
	forgets := func(stmts []dbtest.Statement) int {
		n := 0
		for _, s := range stmts {
			if strings.Contains(s.Query, "VALUES ('optimize')") || strings.HasPrefix(s.Query, "VACUUM candidates") {
				n++
			}
		}
		return n
	}
	for round := range 5 {
		app, err := k.Recruit.AddCandidate(ctx, hr, pos.ID, recruit.CandidateInput{Name: "Fay Forget", Email: fmt.Sprintf("fay%d@example.org", round)},
			access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Privacy.EraseCandidate(ctx, hr, app.ID); err != nil {
			t.Fatal(err)
		}
		rec.Reset()
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = k.Privacy.ForgetPending(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := forgets(rec.Take()); n != 1 {
			t.Errorf("round %d: four runners forgot %d times, want once", round, n)
		}
	}
}
