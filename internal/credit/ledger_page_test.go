package credit_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// walkLedger reads the ledger page by page, calling between (if set)
// after the first page.
func walkLedger(t *testing.T, svc *credit.Service, a access.Actor, limit int, between func()) []credit.Entry {
	t.Helper()
	var out []credit.Entry
	after := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
		entries, next, err := svc.LedgerPage(context.Background(), a, after, limit)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(entries) > limit || (next != "" && len(entries) != limit) {
			t.Fatalf("page %d holds %d entries (next %q), page size %d", pages+1, len(entries), next, limit)
		}
		out = append(out, entries...)
		if next == "" {
			return out
		}
		if pages == 0 && between != nil {
			between()
		}
		after = next
	}
}

func entryIDs(es []credit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// TestLedgerPagesWalkEveryEntryOnce: the ledger, paged newest first by a
// cursor on (time, id), returns every entry once in the order of the whole
// ledger, also when entries are appended between two pages, and also when
// many entries share one time.
func TestLedgerPagesWalkEveryEntryOnce(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	svc := k.Credits
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	other := k.Company(t, tenant.CreateInput{Slug: "other", Name: "Other"})
	now := time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)
	svc.SetClock(func() time.Time { return now })
	grant := func(tenantID string) {
		t.Helper()
		if _, err := svc.GrantAsOperator(ctx, tenantID, credit.GrantInput{Amount: 1, Reason: "purchase"}); err != nil {
			t.Fatal(err)
		}
	}
	// 27 entries (more than 2.5 pages of 10): 14 at one instant, so the id
	// breaks ties, then one a second.
	for i := range 27 {
		if i >= 14 {
			now = now.Add(time.Second)
		}
		grant(c.ID)
	}
	grant(other.ID)
	admin := access.Actor{TenantID: c.ID, Perms: access.Of(access.ManageCredits)}
	all, err := svc.Ledger(ctx, admin, 1000)
	if err != nil || len(all) != 27 {
		t.Fatalf("ledger: %d entries, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.After(all[i-1].CreatedAt) {
			t.Fatal("the ledger is not newest first")
		}
	}
	if n, err := svc.CountLedger(ctx, admin); err != nil || n != 27 {
		t.Fatalf("count: %d, %v", n, err)
	}
	want := entryIDs(all)
	for _, limit := range []int{10, 1, 13, 27, 50} {
		if got := entryIDs(walkLedger(t, svc, admin, limit, nil)); !slices.Equal(got, want) {
			t.Fatalf("pages of %d: %v, want the ledger's order %v", limit, got, want)
		}
	}
	// Between the first and the second page, entries are appended: at the
	// time of the cursor's entry and later. With pages of 20 the cursor is
	// among the entries that share one time.
	tie := false
	for _, limit := range []int{10, 20} {
		before, err := svc.Ledger(ctx, admin, 1000)
		if err != nil {
			t.Fatal(err)
		}
		tie = tie || before[limit-1].CreatedAt.Equal(before[limit].CreatedAt)
		added := 0
		got := walkLedger(t, svc, admin, limit, func() {
			now = before[limit-1].CreatedAt
			grant(c.ID)
			now = now.Add(time.Minute)
			grant(c.ID)
			grant(c.ID)
			added = 3
		})
		if added != 3 {
			t.Fatal("no entries were appended during the walk")
		}
		if !slices.Equal(entryIDs(got), entryIDs(before)) {
			t.Fatalf("walk of pages of %d with appends: %v, want every earlier entry once, in order: %v", limit, entryIDs(got), entryIDs(before))
		}
	}
	if !tie {
		t.Fatal("no walk had its cursor among entries of one time")
	}
	if n, _ := svc.CountLedger(ctx, admin); n != 33 {
		t.Fatalf("count after the appends: %d, want 33", n)
	}
	// Only a holder of ManageCredits reads the ledger.
	if _, _, err := svc.LedgerPage(ctx, access.Actor{TenantID: c.ID, Perms: access.Of(access.SpendCredits)}, "", 10); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("ledger without the right: %v", err)
	}
	if _, err := svc.CountLedger(ctx, access.Actor{TenantID: c.ID}); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("count without the right: %v", err)
	}
}

// TestLedgerPageRefusesForeignCursors: a cursor the service did not make is
// ErrBadCursor, never a database error, on both engines.
func TestLedgerPageRefusesForeignCursors(t *testing.T) {
	ctx := context.Background()
	svc := testkit.New(t, testkit.Options{}).Credits
	admin := access.Actor{TenantID: "t1", Perms: access.Of(access.ManageCredits)}
	for _, c := range []string{"garbage", "1_", "1", "_0190f0e2-0000-7000-8000-000000000001", "x_abc", "1_ABC", "1_a_b", "1_a\xffb", "1_a\x00b",
		"999999999999999999_abc", "-999999999999999999_abc", "1_" + strings.Repeat("a", 65)} {
		entries, next, err := svc.LedgerPage(ctx, admin, c, 10)
		if !errors.Is(err, credit.ErrBadCursor) || entries != nil || next != "" {
			t.Errorf("cursor %q: %d entries, next %q, %v; want ErrBadCursor", c, len(entries), next, err)
		}
	}
}

// TestLedgerPageNeedsNoSort: SQLite reads a page of the ledger from the
// time index in order, without sorting the company's ledger.
func TestLedgerPageNeedsNoSort(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) != "" {
		t.Skip("the query plan checked is SQLite's")
	}
	d := dbtest.Open(t)
	const q = `EXPLAIN QUERY PLAN SELECT l.id FROM credit_ledger l WHERE l.tenant_id = $1`
	const order = ` ORDER BY l.created_at DESC, l.id DESC LIMIT 51`
	for _, query := range []string{q + order, q + ` AND (l.created_at, l.id) < ($2, $3)` + order} {
		rows, err := d.Read.Query(query, "t1", time.Now(), "x")
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		if strings.Contains(plan.String(), "TEMP B-TREE") || !strings.Contains(plan.String(), "credit_ledger_time") {
			t.Fatalf("plan of %s:\n%s", query, plan.String())
		}
	}
}
