package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// lockClass is the first key of a company's webhook lock on PostgreSQL
// (the two-key form of advisory locks, a key space of its own).
const lockClass = 0x4b57 // "KW"

// Limits of a subscription's fields.
const (
	maxURL         = 2000
	maxDescription = 200
)

// validate checks in and returns it normalised: the URL trimmed, the
// events in catalogue order without repeats.
func (s *Service) validate(ctx context.Context, in Input) (Input, error) {
	in.URL = strings.TrimSpace(in.URL)
	in.Description = strings.TrimSpace(in.Description)
	bad := &fault.Invalid{Fields: map[string]string{}}
	u, err := url.Parse(in.URL)
	switch {
	case in.URL == "" || len(in.URL) > maxURL || err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || !u.IsAbs():
		bad.Fields["url"] = "webhook.error.url"
	case u.Scheme != "https" && !(u.Scheme == "http" && s.opts.AllowPrivate):
		bad.Fields["url"] = "webhook.error.https"
	default:
		switch err := s.checkHost(ctx, hostOf(u)); {
		case errors.Is(err, errRefusedAddress):
			bad.Fields["url"] = "webhook.error.private_address"
		case err != nil:
			bad.Fields["url"] = "webhook.error.unresolvable"
		}
	}
	var events []string
	for _, t := range EventTypes {
		if slices.Contains(in.Events, t) {
			events = append(events, t)
		}
	}
	if len(events) == 0 || len(events) != len(uniq(in.Events)) {
		bad.Fields["events"] = "webhook.error.events"
	}
	in.Events = events
	if utf8.RuneCountInString(in.Description) > maxDescription || !utf8.ValidString(in.Description) ||
		strings.ContainsFunc(in.Description, unicode.IsControl) {
		bad.Fields["description"] = "webhook.error.description"
	}
	if len(bad.Fields) > 0 {
		return in, bad
	}
	return in, nil
}

func uniq(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

const subscriptionColumns = `tenant_id, id, url, description, events, active, created_by, created_at, updated_at`

func scanSubscription(row interface{ Scan(...any) error }) (*Subscription, error) {
	var sub Subscription
	var events string
	if err := row.Scan(&sub.TenantID, &sub.ID, &sub.URL, &sub.Description, &events, &sub.Active, &sub.CreatedBy, &sub.CreatedAt, &sub.UpdatedAt); err != nil {
		return nil, err
	}
	if events != "" {
		sub.Events = strings.Split(events, ",")
	}
	sub.CreatedAt, sub.UpdatedAt = sub.CreatedAt.UTC(), sub.UpdatedAt.UTC()
	return &sub, nil
}

// Subscriptions lists the company's subscriptions, oldest first.
func (s *Service) Subscriptions(ctx context.Context, actor access.Actor) ([]*Subscription, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	var out []*Subscription
	err := s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions WHERE tenant_id = $1
			ORDER BY created_at, id LIMIT $2`, actor.TenantID, MaxSubscriptions)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sub, err := scanSubscription(rows)
			if err != nil {
				return err
			}
			out = append(out, sub)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	return out, nil
}

// Subscription returns one of the company's subscriptions.
func (s *Service) Subscription(ctx context.Context, actor access.Actor, subID string) (*Subscription, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	if !id.Valid(subID) {
		return nil, ErrNotFound
	}
	var sub *Subscription
	err := s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) (err error) {
		sub, err = subscriptionTx(ctx, tx, actor.TenantID, subID)
		return err
	})
	return sub, err
}

func subscriptionTx(ctx context.Context, tx *sql.Tx, tenantID, subID string) (*Subscription, error) {
	sub, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions
		WHERE tenant_id = $1 AND id = $2`, tenantID, subID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook subscription: %w", err)
	}
	return sub, nil
}

// Subscribe adds a subscription and returns it with its signing secret,
// which is shown this once (only its ciphertext is kept).
func (s *Service) Subscribe(ctx context.Context, actor access.Actor, in Input) (*Subscription, string, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, "", ErrForbidden
	}
	in, err := s.validate(ctx, in)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	sub := &Subscription{TenantID: actor.TenantID, ID: id.New(), URL: in.URL, Description: in.Description, Events: in.Events,
		Active: in.Active, CreatedBy: actorID(actor), CreatedAt: now, UpdatedAt: now}
	secret := newSecret()
	sealed, err := s.opts.Keys.Encrypt(ctx, actor.TenantID, secretField(sub.ID), []byte(secret))
	if err != nil {
		return nil, "", fmt.Errorf("encrypt webhook secret: %w", err)
	}
	err = s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		// The company's limit is checked after the insert, in its
		// transaction, under a lock of the company's subscriptions on
		// PostgreSQL (SQLite's one writer serialises it already), so two
		// saves at once cannot pass it.
		if s.db.Engine == db.Postgres {
			h := fnv.New32a()
			h.Write([]byte(actor.TenantID))
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, lockClass, int32(h.Sum32())); err != nil {
				return fmt.Errorf("lock webhook subscriptions: %w", err)
			}
		}
		if sub.Active {
			if err := s.startFollowing(ctx, tx, actor.TenantID, sub.ID, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_subscriptions (tenant_id, id, url, description, events, active, secret, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`, sub.TenantID, sub.ID, sub.URL, sub.Description, strings.Join(sub.Events, ","),
			sub.Active, sealed, sub.CreatedBy, now); err != nil {
			return fmt.Errorf("insert webhook subscription: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_subscriptions WHERE tenant_id = $1`, actor.TenantID).Scan(&n); err != nil {
			return err
		}
		if n > MaxSubscriptions {
			return ErrTooMany // rolls the insert back
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.WebhookCreated, Actor: audit.ActorOf(actor), Time: now,
			Objects: []audit.Ref{{Kind: "webhook", ID: sub.ID}},
			Details: map[string]string{"events": strings.Join(sub.Events, ","), "active": fmt.Sprint(sub.Active)}})
	})
	if err != nil {
		return nil, "", err
	}
	return sub, secret, nil
}

// Update changes a subscription's URL, description, events and active flag.
func (s *Service) Update(ctx context.Context, actor access.Actor, subID string, in Input) (*Subscription, error) {
	return s.update(ctx, actor, subID, in, time.Time{})
}

// UpdateIf is Update on condition that the subscription is still at
// version (its UpdatedAt when the caller read it, the API's ETag):
// otherwise it changes nothing and returns fault.ErrStale. The version is
// compared by the update itself, so two changes from one version cannot
// both win; a request that changes nothing still needs the current one.
func (s *Service) UpdateIf(ctx context.Context, actor access.Actor, subID string, in Input, version time.Time) (*Subscription, error) {
	if version.IsZero() {
		return nil, fault.ErrStale
	}
	return s.update(ctx, actor, subID, in, version)
}

// update is Update, conditional on version unless it is zero.
func (s *Service) update(ctx context.Context, actor access.Actor, subID string, in Input, version time.Time) (*Subscription, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	if !id.Valid(subID) {
		return nil, ErrNotFound
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
		if !version.IsZero() && !old.UpdatedAt.Equal(version.UTC()) {
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
		q := `UPDATE webhook_subscriptions SET url = $3, description = $4, events = $5, active = $6, updated_at = $7 WHERE tenant_id = $1 AND id = $2`
		args := []any{actor.TenantID, subID, sub.URL, sub.Description, strings.Join(sub.Events, ","), sub.Active, now}
		if !version.IsZero() {
			q += ` AND updated_at = $8`
			args = append(args, version.UTC())
		}
		res, err := tx.ExecContext(ctx, q, args...)
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

// Delete removes a subscription and its delivery log.
func (s *Service) Delete(ctx context.Context, actor access.Actor, subID string) error {
	if !actor.Can(access.ManageAPITokens) {
		return ErrForbidden
	}
	if !id.Valid(subID) {
		return ErrNotFound
	}
	return s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2`, actor.TenantID, subID)
		if err != nil {
			return fmt.Errorf("delete webhook subscription: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrNotFound
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.WebhookDeleted, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "webhook", ID: subID}}})
	})
}

// RotateSecret gives a subscription a new signing secret and returns it,
// shown this once. Attempts from now on are signed with it.
func (s *Service) RotateSecret(ctx context.Context, actor access.Actor, subID string) (string, error) {
	if !actor.Can(access.ManageAPITokens) {
		return "", ErrForbidden
	}
	if !id.Valid(subID) {
		return "", ErrNotFound
	}
	secret := newSecret()
	sealed, err := s.opts.Keys.Encrypt(ctx, actor.TenantID, secretField(subID), []byte(secret))
	if err != nil {
		return "", fmt.Errorf("encrypt webhook secret: %w", err)
	}
	err = s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_subscriptions SET secret = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
			actor.TenantID, subID, sealed, s.now())
		if err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrNotFound
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.WebhookSecretRotated, Actor: audit.ActorOf(actor),
			Objects: []audit.Ref{{Kind: "webhook", ID: subID}}})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// startFollowing sets the company's cursors to the present when subID is
// about to become its only active subscription: events start now, and
// what happened while no subscription was active is not sent late.
func (s *Service) startFollowing(ctx context.Context, tx *sql.Tx, tenantID, subID string, now time.Time) error {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_subscriptions WHERE tenant_id = $1 AND active = TRUE AND id <> $2`,
		tenantID, subID).Scan(&others); err != nil {
		return err
	}
	if others > 0 {
		return nil
	}
	return s.resetCursors(ctx, tx, tenantID, now)
}

// resetCursors moves every cursor of the company to the present.
func (s *Service) resetCursors(ctx context.Context, tx *sql.Tx, tenantID string, now time.Time) error {
	for _, tr := range auditTracks {
		head, err := audit.HeadSeq(ctx, tx, tenantID, tr)
		if err != nil {
			return err
		}
		if err := setCursor(ctx, tx, tenantID, string(tr), head, now); err != nil {
			return err
		}
	}
	horizon, err := noticeHorizon(ctx, tx, tenantID, now)
	if err != nil {
		return err
	}
	return setCursor(ctx, tx, tenantID, expiringTrack, horizon.UnixMicro(), now)
}

func setCursor(ctx context.Context, tx *sql.Tx, tenantID, track string, pos int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_cursors (tenant_id, track, position, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, track) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`, tenantID, track, pos, now)
	if err != nil {
		return fmt.Errorf("set webhook cursor: %w", err)
	}
	return nil
}

// actorID names who made a subscription: the user, or the token's or
// job's name.
func actorID(a access.Actor) string {
	act := audit.ActorOf(a)
	return string(act.Kind) + ":" + act.ID
}
