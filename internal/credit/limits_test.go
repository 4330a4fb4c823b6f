package credit_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// limitsEnv is a company with a balance of 10, an administrator, two
// recruiters, and a user of another company.
type limitsEnv struct {
	d                         *db.DB
	log                       *audit.Log
	svc                       *credit.Service
	tenantID                  string
	admin, rec, rec2, foreign access.Actor
}

func newLimitsEnv(t *testing.T) *limitsEnv {
	t.Helper()
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	e := &limitsEnv{d: k.DB, log: k.Audit, svc: k.Credits}
	acme, other := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "acme"}), k.Company(t, tenant.CreateInput{Slug: "other", Name: "other"})
	e.tenantID = acme.ID
	e.admin, e.rec, e.rec2 = k.Actor(t, acme.ID, "ada", access.Administrator), k.Actor(t, acme.ID, "rolf", access.Recruiter), k.Actor(t, acme.ID, "rita", access.Recruiter)
	e.foreign = k.Actor(t, other.ID, "olga", access.Administrator)
	if _, err := e.svc.GrantAsOperator(ctx, e.tenantID, credit.GrantInput{Amount: 10, Reason: "purchase", Note: "invoice 1"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// spend runs one paid action of amount for a in a transaction of its own.
func (e *limitsEnv) spend(a access.Actor, amount int64) error {
	ctx := context.Background()
	return e.d.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, err := e.svc.SpendTx(ctx, tx, a, amount, credit.ReasonPublication, audit.Ref{Kind: "position", ID: "0190f0e2-0000-7000-8000-000000000009"})
		return err
	})

}

// TestGrantAsOperator: the operator's grant is checked, adds to the
// balance and names the operator in the ledger; a company that does not
// exist gets nothing. (No company user adds credits: the service has no
// such method, and the web tests check that no page offers it.)
func TestGrantAsOperator(t *testing.T) {
	ctx := context.Background()
	e := newLimitsEnv(t)
	var ve *fault.Invalid
	for _, in := range []credit.GrantInput{{Amount: 0, Reason: "purchase"}, {Amount: -1, Reason: "purchase"}, {Amount: credit.MaxGrant + 1, Reason: "purchase"},
		{Amount: 1, Reason: "gift"}, {Amount: 1, Reason: "purchase", Note: "a\x00b"}, {Amount: 1, Reason: "purchase", Note: strings.Repeat("n", 201)}} {
		if _, err := e.svc.GrantAsOperator(ctx, e.tenantID, in); !errors.As(err, &ve) {
			t.Errorf("grant %+v: %v", in, err)
		}
	}
	if b, _ := e.svc.Balance(ctx, e.tenantID); b != 10 {
		t.Fatalf("balance %d after refused grants, want 10", b)
	}
	g, err := e.svc.GrantAsOperator(ctx, e.tenantID, credit.GrantInput{Amount: 5, Reason: "correction", Note: "  credit note 7  "})
	if err != nil || g.BalanceAfter != 15 || g.ActorKind != "operator" || g.Note != "credit note 7" {
		t.Fatalf("grant: %+v %v", g, err)
	}
	if _, err := e.svc.GrantAsOperator(ctx, "0190f0e2-0000-7000-8000-00000000dead", credit.GrantInput{Amount: 5, Reason: "purchase"}); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("a grant to no company: %v", err)
	}
}

// TestMonthlySpendingLimit: the credit administration sets how much a
// user may spend in a month; spendings beyond it are refused inside the
// debiting transaction, also when many run at once; a refund gives the
// room back; a new month starts afresh; other users are not limited.
func TestMonthlySpendingLimit(t *testing.T) {
	ctx := context.Background()
	e := newLimitsEnv(t)
	now := time.Date(2031, 5, 30, 12, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	two := int64(2)
	var ve *fault.Invalid
	for _, bad := range []int64{-1, credit.MaxGrant + 1} {
		if err := e.svc.SetLimit(ctx, e.admin, e.rec.UserID, &bad); !errors.As(err, &ve) {
			t.Errorf("limit %d: %v", bad, err)
		}
	}
	if err := e.svc.SetLimit(ctx, e.rec, e.rec.UserID, nil); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("a recruiter lifts their own limit: %v", err)
	}
	for _, id := range []string{e.foreign.UserID, "0190f0e2-0000-7000-8000-00000000dead", "not-an-id"} {
		if err := e.svc.SetLimit(ctx, e.admin, id, &two); !errors.Is(err, credit.ErrNotFound) {
			t.Errorf("a limit for %s: %v", id, err)
		}
	}
	if err := e.svc.SetLimit(ctx, e.admin, e.rec.UserID, &two); err != nil {
		t.Fatal(err)
	}
	const attempts = 8
	errs := make(chan error, attempts)
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() { errs <- e.spend(e.rec, 1) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, credit.ErrLimitReached):
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 2 {
		t.Fatalf("%d spendings passed a limit of 2", ok)
	}
	if b, _ := e.svc.Balance(ctx, e.tenantID); b != 8 {
		t.Fatalf("balance %d, want 8", b)
	}
	if err := e.spend(e.rec2, 3); err != nil {
		t.Fatalf("a colleague without a limit: %v", err)
	}
	limits, err := e.svc.Limits(ctx, e.admin)
	if err != nil || len(limits) != 1 || limits[0].UserID != e.rec.UserID || limits[0].Spent != 2 || limits[0].Left() != 0 {
		t.Fatalf("limits: %+v %v", limits, err)
	}
	if _, err := e.svc.Limits(ctx, e.rec); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("a recruiter lists the limits: %v", err)
	}
	standing := func(a access.Actor) credit.Standing {
		t.Helper()
		var st credit.Standing
		err := e.d.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
			var err error
			st, err = e.svc.StandingTx(ctx, tx, a)
			return err
		})

		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := standing(e.rec); st.Balance != 5 || !st.Limited || st.LimitLeft != 0 || st.Covers(1) {
		t.Fatalf("the recruiter's standing: %+v", st)
	}
	if st := standing(e.rec2); st.Limited || !st.Covers(5) || st.Covers(6) {
		t.Fatalf("the colleague's standing: %+v", st)
	}
	// A refund of one of the recruiter's spendings gives room for one more.
	ledger, err := e.svc.Ledger(ctx, e.admin, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ledger {
		if l.Kind == credit.Spend && l.ActorID == e.rec.UserID {
			if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, l.ID, "posted by mistake"); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if err := e.spend(e.rec, 1); err != nil {
		t.Fatalf("after a refund: %v", err)
	}
	if err := e.spend(e.rec, 1); !errors.Is(err, credit.ErrLimitReached) {
		t.Fatalf("beyond the limit again: %v", err)
	}
	// The next month.
	now = now.AddDate(0, 0, 3)
	if err := e.spend(e.rec, 2); err != nil {
		t.Fatalf("a new month: %v", err)
	}
	if err := e.svc.SetLimit(ctx, e.admin, e.rec.UserID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.spend(e.rec, 1); err != nil {
		t.Fatalf("the limit lifted: %v", err)
	}
	if st := standing(e.rec); st.Limited {
		t.Fatalf("standing after the limit was lifted: %+v", st)
	}
}
