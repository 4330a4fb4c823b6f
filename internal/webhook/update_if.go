package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// UpdateIf is Update on condition that the subscription is still at
// version (its UpdatedAt when the caller read it, the API's ETag):
// otherwise it changes nothing and returns fault.ErrStale. The version is
// compared by the update itself, so two changes from one version cannot
// both win; a request that changes nothing still needs the current one.
func (s *Service) UpdateIf(ctx context.Context, actor access.Actor, subID string, in Input, version time.Time) (*Subscription, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	if !id.Valid(subID) {
		return nil, ErrNotFound
	}
	if version.IsZero() {
		return nil, fault.ErrStale
	}
	in, err := s.validate(ctx, in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var sub *Subscription
	err = s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		old, err := subscriptionTx(ctx, tx, actor.TenantID, subID)
		if err != nil {
			return err
		}
		if !old.UpdatedAt.Equal(version.UTC()) {
			return fault.ErrStale
		}
		var fields []string
		if old.URL != in.URL {
			fields = append(fields, "url")
		}
		if old.Description != in.Description {
			fields = append(fields, "description")
		}
		if !slices.Equal(old.Events, in.Events) {
			fields = append(fields, "events")
		}
		if old.Active != in.Active {
			fields = append(fields, "active")
		}
		sub = old
		sub.URL, sub.Description, sub.Events, sub.Active = in.URL, in.Description, in.Events, in.Active
		if len(fields) == 0 {
			return nil
		}
		sub.UpdatedAt = now
		if in.Active && !old.Active {
			if err := s.startFollowing(ctx, tx, actor.TenantID, subID, now); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_subscriptions SET url = $3, description = $4, events = $5, active = $6, updated_at = $7
			WHERE tenant_id = $1 AND id = $2 AND updated_at = $8`, actor.TenantID, subID, sub.URL, sub.Description, strings.Join(sub.Events, ","),
			sub.Active, now, version.UTC())
		if err != nil {
			return fmt.Errorf("update webhook subscription: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fault.ErrStale
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.WebhookChanged, Actor: audit.ActorOf(actor), Time: now,
			Objects: []audit.Ref{{Kind: "webhook", ID: subID}},
			Details: map[string]string{"fields": strings.Join(fields, ","), "events": strings.Join(sub.Events, ","), "active": fmt.Sprint(sub.Active)}})
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}
