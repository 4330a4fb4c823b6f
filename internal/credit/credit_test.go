package credit_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// TestConcurrentSpendingNeverOverdraws: many paid actions at once against
// a balance that covers some of them; exactly those succeed, the balance
// ends at zero and the ledger holds one spending per success.
func TestConcurrentSpendingNeverOverdraws(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	d, svc := k.DB, k.Credits
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	if _, err := svc.GrantAsOperator(ctx, c.ID, credit.GrantInput{Amount: 3, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	spender := access.Actor{TenantID: c.ID, UserID: "0190f0e2-0000-7000-8000-000000000001", Perms: access.Of(access.SpendCredits)}
	const attempts = 8
	var wg sync.WaitGroup
	results := make(chan error, attempts)
	for range attempts {
		wg.Go(func() {
			results <- d.InTx(ctx, c.ID, func(tx *sql.Tx) error {
				_, err := svc.SpendTx(ctx, tx, spender, 1, credit.ReasonPublication, audit.Ref{Kind: "position", ID: "p1"})
				return err
			})

		})
	}
	wg.Wait()
	close(results)
	ok, insufficient := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, credit.ErrInsufficient):
			insufficient++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 3 || insufficient != attempts-3 {
		t.Fatalf("%d spendings succeeded and %d were refused, want 3 and %d", ok, insufficient, attempts-3)
	}
	if b, _ := svc.Balance(ctx, c.ID); b != 0 {
		t.Fatalf("balance %d, want 0", b)
	}
	ledger, err := svc.Ledger(ctx, access.Actor{TenantID: c.ID, Perms: access.Of(access.ManageCredits)}, 100)
	if err != nil || len(ledger) != 4 {
		t.Fatalf("ledger: %d entries %v, want the grant and 3 spendings", len(ledger), err)
	}
	// Someone who may not spend never reaches the balance.
	err = d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		_, err := svc.SpendTx(ctx, tx, access.Actor{TenantID: c.ID, Perms: access.RoleSet(access.RecruiterWithoutCredits)}, 1, credit.ReasonPublication, audit.Ref{})
		return err
	})
	if !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("a recruiter without credits: %v", err)
	}
}
