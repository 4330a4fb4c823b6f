package recruit_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

// TestSearchIndexFollowsChanges: what a candidate's entry covers (name,
// position titles, labels, comments, CV text) reaches the index through the
// queue its triggers fill; a private note does not; a candidate erased
// leaves it; a reindex rebuilds it.
func TestSearchIndexFollowsChanges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Embedded Engineer")
	app := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Øyvind Ødegård", Email: "oyvind@example.no",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Erfaren med mikrokontrollere og sanntidssystemer.")}})
	if err := e.svc.AddLabel(ctx, hr, app.ID, "Toppkandidat"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddComment(ctx, hr, app.ID, "Strong in Rust and Zephyr"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddNote(ctx, hr, app.ID, "secretword in a private note"); err != nil {
		t.Fatal(err)
	}
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	drain := func() { t.Helper(); e.indexed(t) }
	drain()
	find := func(query string) []string {
		t.Helper()
		q, err := search.Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		err = e.db.ReadTx(ctx, e.tenantID, func(tx *sql.Tx) error {
			hits, err := search.NewIndex(e.db.Engine).Ranked(ctx, tx, e.tenantID, q, 10)
			for _, h := range hits {
				out = append(out, h.CandidateID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := []string{app.Candidate.ID}
	for _, query := range []string{"oyvind odegard", "embedded", "toppkandidat", "zephyr", "sanntidssystemer", "mikrokontroll*"} {
		if got := find(query); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want the candidate", query, got)
		}
	}
	if got := find("secretword"); got != nil {
		t.Errorf("a private note is searchable: %v", got)
	}
	// A new title reaches the entry through the position's trigger.
	if err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE positions SET title = 'Firmware Lead' WHERE tenant_id = $1 AND id = $2`, e.tenantID, pos.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	drain()
	if got := find("firmware"); !slices.Equal(got, want) {
		t.Errorf("after the new title: %v", got)
	}
	// A full rebuild gives the same entries.
	n, err := e.svc.Reindex(ctx, e.tenantID, nil)
	if err != nil || n < 1 {
		t.Fatalf("reindex: %d %v", n, err)
	}
	if got := find("zephyr"); !slices.Equal(got, want) {
		t.Errorf("after reindex: %v", got)
	}
	// Erased: gone from the results and from the index's storage.
	if err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, app.Candidate.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	drain()
	if got := find("oyvind"); got != nil {
		t.Errorf("an erased candidate is found: %v", got)
	}
	var left int
	q := `SELECT count(*) FROM candidate_search WHERE tenant_id = $1`
	if e.db.Engine == db.SQLite {
		q = `SELECT count(*) FROM candidate_search_docs WHERE tenant_id = $1`
	}
	if err := e.db.ReadTx(ctx, e.tenantID, func(tx *sql.Tx) error { return tx.QueryRowContext(ctx, q, e.tenantID).Scan(&left) }); err != nil || left != 0 {
		t.Fatalf("entries left: %d %v", left, err)
	}
}

// indexed brings the search index up to date, as its job does a moment
// after every change.
func (e *env) indexed(t testing.TB) {
	t.Helper()
	for {
		n, err := e.svc.IndexQueued(context.Background(), 500)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// TestSearchIndexUnderRacingWorkers: two workers drain the queue while a
// colleague keeps commenting; no change is lost (the queue's version) and
// no entry is written twice into a broken state: at the end every comment
// is found and the queue is empty.
func TestSearchIndexUnderRacingWorkers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Welder")
	app := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Rut Ek", Email: "rut@example.org",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("welding")}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.svc.IndexQueued(ctx, 10); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	const comments = 15
	for i := range comments {
		if _, err := e.svc.AddComment(ctx, hr, app.ID, fmt.Sprintf("marker%c", 'a'+i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	e.indexed(t)
	q, err := search.Parse("markero")
	if err != nil {
		t.Fatal(err)
	}
	var hits []search.Hit
	var queued int
	err = e.db.ReadTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		if hits, err = search.NewIndex(e.db.Engine).Ranked(ctx, tx, e.tenantID, q, 5); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM search_queue WHERE tenant_id = $1`, e.tenantID).Scan(&queued)
	})
	if err != nil || len(hits) != 1 || queued != 0 {
		t.Fatalf("after the race: hits %v, %d queued, %v", hits, queued, err)
	}
}
