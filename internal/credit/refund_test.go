package credit_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
)

// spending makes one spending of amount by the recruiter and returns its
// ledger entry.
func (e *limitsEnv) spending(t *testing.T, amount int64) credit.Entry {
	t.Helper()
	if err := e.spend(e.rec, amount); err != nil {
		t.Fatal(err)
	}
	ledger, err := e.svc.Ledger(context.Background(), e.admin, 1)
	if err != nil || len(ledger) != 1 || ledger[0].Kind != credit.Spend {
		t.Fatalf("the newest entry: %+v %v", ledger, err)
	}
	return ledger[0]
}

// warm opens n connections to PostgreSQL and returns them to the pool, so
// that n racing transactions start at once instead of one after the other
// while the pool dials. (SQLite has one writing connection.)
func (e *limitsEnv) warm(t *testing.T, n int) {
	t.Helper()
	if e.d.Engine != db.Postgres {
		return
	}
	ctx := context.Background()
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := e.d.Write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestRefundAsOperator: the operator refunds a spending once; a grant, a
// refund, another company's entry and a bad note are refused and change
// nothing; the refund names the operator in the ledger and the audit trail.
func TestRefundAsOperator(t *testing.T) {
	ctx := context.Background()
	e := newLimitsEnv(t)
	spent := e.spending(t, 3)
	grant, err := e.svc.Ledger(ctx, e.admin, 10)
	if err != nil || len(grant) != 2 || grant[1].Kind != credit.Grant {
		t.Fatalf("ledger: %+v %v", grant, err)
	}
	if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, grant[1].ID, ""); !errors.Is(err, credit.ErrNotRefundable) {
		t.Fatalf("refunding a grant: %v", err)
	}
	var ve *fault.Invalid
	for _, note := range []string{"a\x00b", "two\nlines", strings.Repeat("n", 201)} {
		if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, spent.ID, note); !errors.As(err, &ve) {
			t.Errorf("note %q: %v", note, err)
		}
	}
	other := e.foreign.TenantID
	for _, id := range []string{"0190f0e2-0000-7000-8000-00000000dead", "not an id", strings.Repeat("x", 300), ""} {
		if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, id, ""); !errors.Is(err, credit.ErrNotFound) {
			t.Errorf("refunding %q: %v", id, err)
		}
	}
	if _, err := e.svc.RefundAsOperator(ctx, other, spent.ID, ""); !errors.Is(err, credit.ErrNotFound) {
		t.Fatalf("another company's entry: %v", err)
	}
	if b, _ := e.svc.Balance(ctx, e.tenantID); b != 7 {
		t.Fatalf("balance %d after refused refunds, want 7", b)
	}
	r, err := e.svc.RefundAsOperator(ctx, e.tenantID, spent.ID, "  posted by mistake ")
	if err != nil || r.Kind != credit.Refund || r.Amount != 3 || r.BalanceAfter != 10 || r.RefundOf != spent.ID || r.ActorKind != "operator" ||
		r.Note != "posted by mistake" || r.ObjectID != spent.ObjectID {
		t.Fatalf("refund: %+v %v", r, err)
	}
	if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, spent.ID, ""); !errors.Is(err, credit.ErrNotRefundable) {
		t.Fatalf("refunding twice: %v", err)
	}
	if _, err := e.svc.RefundAsOperator(ctx, e.tenantID, r.ID, ""); !errors.Is(err, credit.ErrNotRefundable) {
		t.Fatalf("refunding a refund: %v", err)
	}
	if b, _ := e.svc.Balance(ctx, e.tenantID); b != 10 {
		t.Fatalf("balance %d after the refund, want 10", b)
	}
	ledger, err := e.svc.Ledger(ctx, e.admin, 10)
	if err != nil || len(ledger) != 3 || !ledger[1].Refunded || ledger[0].RefundOf != spent.ID {
		t.Fatalf("ledger after the refund: %+v %v", ledger, err)
	}
	recs, _, err := e.log.List(ctx, e.tenantID, audit.Filter{Action: audit.CreditsRefunded})
	if err != nil || len(recs) != 1 || recs[0].Actor != audit.Operator || recs[0].Details["amount"] != "3" {
		t.Fatalf("audit: %+v %v", recs, err)
	}
}

// TestConcurrentRefundsRefundOnce: many refunds of one spending at once;
// exactly one succeeds, the others are ErrNotRefundable, and the balance
// rises once.
func TestConcurrentRefundsRefundOnce(t *testing.T) {
	ctx := context.Background()
	e := newLimitsEnv(t)
	spent := e.spending(t, 4)
	const attempts = 8
	e.warm(t, attempts)
	errs := make(chan error, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() {
			<-start
			_, err := e.svc.RefundAsOperator(ctx, e.tenantID, spent.ID, "")
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, credit.ErrNotRefundable):
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d refunds of one spending succeeded, want 1", ok)
	}
	if b, _ := e.svc.Balance(ctx, e.tenantID); b != 10 {
		t.Fatalf("balance %d, want 10 (6 after the spending, plus one refund of 4)", b)
	}
	ledger, err := e.svc.Ledger(ctx, e.admin, 10)
	if err != nil || len(ledger) != 3 {
		t.Fatalf("ledger: %d entries %v, want the grant, the spending and one refund", len(ledger), err)
	}
}
