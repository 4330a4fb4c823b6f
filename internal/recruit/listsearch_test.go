package recruit_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

// TestNameFilter: words of a name are found by their start, with or
// without diacritics, in any case; every word typed must match.
func TestNameFilter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.Recruiter, "Welder")
	for _, c := range []struct{ name, email string }{
		{"David Dvořák", "david.dvorak@example.org"}, {"Øyvind Sørensen", "oyvind@example.org"},
		{"Anna Brännström", "anna.b@example.org"}, {"Dvora Lind", "dl@example.org"},
	} {
		e.apply(t, access.Recruiter, p.ID, c.name, c.email, access.StageNew)
	}
	hr := e.users[access.HRManager]
	e.indexed(t)
	// A query that is not text is refused, as the page explains.
	if _, err := e.svc.ListApplications(ctx, hr, recruit.ListFilter{Text: "\xff\xfe"}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("invalid UTF-8: %v, want a refusal of input", err)
	}
	e.listFinds(t, hr, []listCase{
		{"dvořák", "David Dvořák"}, {"DVORAK", "David Dvořák"}, {"dvor", "David Dvořák,Dvora Lind"}, {"david dvo", "David Dvořák"},
		{"sorensen", "Øyvind Sørensen"}, {"Sør", "Øyvind Sørensen"}, {"brannstrom anna", "Anna Brännström"},
		{"anna.b@example.org", "Anna Brännström"}, {"anna.b@", "Anna Brännström"}, {"orak", ""}, {"%", ""}, {"_", ""},
		{"david lind", ""}, {strings.Repeat("x", 300), ""},
	})
}

// listCase is a query of the candidate list and the names it must find,
// sorted and joined by commas ("" for none).
type listCase struct{ q, want string }

// listFinds runs each query through the actor's candidate list and checks
// the names of the candidates it finds.
func (e *env) listFinds(t *testing.T, a access.Actor, cases []listCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := e.svc.ListApplications(context.Background(), a, recruit.ListFilter{Text: tc.q})
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		var names []string
		for _, app := range got {
			names = append(names, app.Candidate.Name)
		}
		slices.Sort(names)
		if g := strings.Join(names, ","); g != tc.want {
			t.Errorf("filter %q: got %q, want %q", tc.q, g, tc.want)
		}
	}
}

// TestIndexBackfill: candidates who came before the search index (the
// migration queued them all) are indexed by the queue's job and found
// afterwards.
func TestIndexBackfill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.Recruiter, "Welder")
	app := e.apply(t, access.Recruiter, p.ID, "Jana Jarošová", "jana@example.org", access.StageNew)
	e.indexed(t)
	// As before the index: no entry, the candidate queued by the migration.
	err := e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		if err := search.NewIndex(e.db.Engine).Delete(ctx, tx, e.tenantID, app.Candidate.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO search_queue (tenant_id, candidate_id) VALUES ($1, $2)`, e.tenantID, app.Candidate.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func() int {
		got, err := e.svc.ListApplications(ctx, e.users[access.HRManager], recruit.ListFilter{Text: "jarosova"})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := find(); n != 0 {
		t.Fatalf("found %d before the backfill, want 0 (the index was emptied)", n)
	}
	n, err := e.svc.IndexQueued(ctx, 100)
	if err != nil || n != 1 {
		t.Fatalf("backfill: %d, %v; want 1 candidate", n, err)
	}
	if got := find(); got != 1 {
		t.Fatalf("found %d after the backfill, want %s", got, app.Candidate.Name)
	}
	if n, err := e.svc.IndexQueued(ctx, 100); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v; want nothing to do", n, err)
	}
}
