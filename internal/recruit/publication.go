package recruit

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Quote is what publishing a position would cost the actor now, and what
// they have to pay with. The position page shows it beside the Publish
// button, so that nobody learns the price from a refusal.
type Quote struct {
	// Credits is the price: 0 within the free allowance, when the company
	// publishes for free, and when a position published before is reopened.
	Credits int
	// FreeLeft is how many first publications are still free this month.
	FreeLeft int
	// Standing is the company's balance and what is left of the actor's
	// own monthly limit, if they have one.
	credit.Standing
	// CanSpend says whether the actor's role may spend credits.
	CanSpend bool
}

// Payable reports whether the credits allow the publication: it is free,
// or the actor may spend and the balance and their limit cover it.
func (q *Quote) Payable() bool {
	return q.Credits == 0 || (q.CanSpend && q.Covers(int64(q.Credits)))
}

// Refusal is the message key of why Publish would refuse for credits
// ("" when it would not): the role may not spend, the company's balance or
// the user's own monthly limit does not cover the price.
func (q *Quote) Refusal() string {
	switch {
	case q.Payable():
		return ""
	case !q.CanSpend:
		return "error.credits_not_allowed"
	case int64(q.Credits) > q.Balance:
		return "error.credits_insufficient"
	default:
		return "error.credits_limit_reached"
	}
}

// PublicationQuote returns what publishing the position would cost the
// actor now. The actor must be allowed to publish it. The price may
// change before they publish (a colleague may take the last free slot);
// Publish decides again, in the transaction that pays.
func (s *Service) PublicationQuote(ctx context.Context, a access.Actor, id string) (*Quote, error) {
	t, err := s.tenants.ByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	q := &Quote{CanSpend: a.Can(access.SpendCredits)}
	err = s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.PublishPositions, id)
		if err != nil {
			return err
		}
		if q.Credits, q.FreeLeft, err = publicationPrice(ctx, tx, t, p.FirstPublishedAt == nil, s.now()); err != nil {
			return err
		}
		q.Standing, err = s.credits.StandingTx(ctx, tx, a)
		return err
	})

	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return q, nil
}

// publicationPrice is the one price rule of a publication, for Publish
// and PublicationQuote alike. A first publication is free while the company
// has first-published fewer positions this calendar month (UTC) than its
// free allowance, and costs the company's publication price after that;
// publishing a position again (after closing it) is free. It also returns
// how many free first publications the month still has.
func publicationPrice(ctx context.Context, q querier, t *tenant.Tenant, first bool, now time.Time) (credits, freeLeft int, err error) {
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var used int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM positions WHERE tenant_id = $1 AND first_published_at >= $2`, t.ID, month).Scan(&used); err != nil {
		return 0, 0, fmt.Errorf("count this month's publications: %w", err)
	}
	free := t.Settings.FreePublicationsPerMonth()
	if first && used >= free {
		credits = t.Settings.PublicationCredits()
	}
	return max(0, credits), max(0, free-used), nil
}
