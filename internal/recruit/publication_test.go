package recruit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestConcurrentPublicationsChargeOnce: many publications of one position
// at once; one publishes and pays, the others find it published, and the
// balance goes down once.
func TestConcurrentPublicationsChargeOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	zero, cost := 0, 2
	if err := e.tenants.SetSettings(ctx, audit.Operator, e.tenantID, tenant.Settings{PasswordProfile: "standard", FreePublications: &zero, PublicationCost: &cost}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.credits.GrantAsOperator(ctx, e.tenantID, credit.GrantInput{Amount: 20, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	rec := e.users[access.Recruiter]
	for round := range 4 {
		p := e.position(t, access.Recruiter, "Race")
		const n = 8
		errs := make(chan error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				<-start
				_, err := e.svc.Publish(ctx, rec, p.ID)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		published := 0
		for err := range errs {
			switch {
			case err == nil:
				published++
			case !errors.Is(err, recruit.ErrState):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if published != 1 {
			t.Fatalf("round %d: %d publications passed", round, published)
		}
		if b, _ := e.credits.Balance(ctx, e.tenantID); b != int64(20-cost*(round+1)) {
			t.Fatalf("round %d: balance %d, want %d", round, b, 20-cost*(round+1))
		}
	}
	ledger, err := e.credits.Ledger(ctx, e.users[access.Administrator], 100)
	if err != nil || len(ledger) != 5 {
		t.Fatalf("ledger: %d entries (%v), want the grant and 4 spendings", len(ledger), err)
	}
}

// TestPublicationQuote: the price and the means to pay it, as the position
// page shows them before Publish, agree with what Publish then charges.
func TestPublicationQuote(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2031, 5, 10, 12, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	one, cost := 1, 3
	if err := e.tenants.SetSettings(ctx, audit.Operator, e.tenantID, tenant.Settings{PasswordProfile: "standard", FreePublications: &one, PublicationCost: &cost}); err != nil {
		t.Fatal(err)
	}
	rec, poor := e.users[access.Recruiter], e.users[access.RecruiterWithoutCredits]
	first := e.position(t, access.Recruiter, "First")
	q, err := e.svc.PublicationQuote(ctx, rec, first.ID)
	if err != nil || q.Credits != 0 || q.FreeLeft != 1 || !q.Payable() {
		t.Fatalf("within the allowance: %+v %v", q, err)
	}
	if _, err := e.svc.Publish(ctx, rec, first.ID); err != nil {
		t.Fatal(err)
	}
	second := e.position(t, access.Recruiter, "Second")
	if q, err = e.svc.PublicationQuote(ctx, rec, second.ID); err != nil || q.Credits != 3 || q.FreeLeft != 0 || q.Balance != 0 || q.Payable() || q.Refusal() != "error.credits_insufficient" {
		t.Fatalf("beyond the allowance with no credits: %+v %v", q, err)
	}
	if _, err := e.credits.GrantAsOperator(ctx, e.tenantID, credit.GrantInput{Amount: 5, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	if q, err = e.svc.PublicationQuote(ctx, rec, second.ID); err != nil || q.Balance != 5 || !q.Payable() || q.Refusal() != "" {
		t.Fatalf("with credits: %+v %v", q, err)
	}
	// The recruiter's own monthly limit is part of what they may pay with.
	limit := int64(2)
	if err := e.credits.SetLimit(ctx, e.users[access.Administrator], rec.UserID, &limit); err != nil {
		t.Fatal(err)
	}
	if q, err = e.svc.PublicationQuote(ctx, rec, second.ID); err != nil || !q.Limited || q.LimitLeft != 2 || q.Payable() || q.Refusal() != "error.credits_limit_reached" {
		t.Fatalf("under a limit of 2: %+v %v", q, err)
	}
	if _, err := e.svc.Publish(ctx, rec, second.ID); !errors.Is(err, credit.ErrLimitReached) {
		t.Fatalf("publishing beyond one's limit: %v", err)
	}
	if err := e.credits.SetLimit(ctx, e.users[access.Administrator], rec.UserID, nil); err != nil {
		t.Fatal(err)
	}
	if pub, err := e.svc.Publish(ctx, rec, second.ID); err != nil || pub.Credits != q.Credits {
		t.Fatalf("publication: %+v %v, quoted %d", pub, err, q.Credits)
	}
	// A role without credits sees that it cannot pay.
	third := e.position(t, access.RecruiterWithoutCredits, "Third")
	if q, err = e.svc.PublicationQuote(ctx, poor, third.ID); err != nil || q.CanSpend || q.Payable() || q.Refusal() != "error.credits_not_allowed" {
		t.Fatalf("without credits: %+v %v", q, err)
	}
	// Reopening is free; someone who may not publish gets no quote.
	if err := e.svc.Close(ctx, rec, second.ID); err != nil {
		t.Fatal(err)
	}
	if q, err = e.svc.PublicationQuote(ctx, rec, second.ID); err != nil || q.Credits != 0 {
		t.Fatalf("reopening: %+v %v", q, err)
	}
	if _, err := e.svc.PublicationQuote(ctx, e.users[access.LineManager], second.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager's quote: %v", err)
	}
}
