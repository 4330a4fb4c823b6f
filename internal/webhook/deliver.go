package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Deliveries are sent by the jobs runner (Deliver, the webhooks.deliver
// job): each due delivery is claimed by a conditional update of its next
// try (so two instances never send it at once), posted once, and then
// marked delivered, failed after MaxAttempts, or given its next try after
// a backoff with jitter. Nothing of the receiver's answer is kept but its
// status code and a short class of error.

// parallel bounds the attempts in flight.
const parallel = 8

// Deliver makes an attempt at up to limit due deliveries of active
// subscriptions of companies with the api module, and returns how many
// succeeded.
func (s *Service) Deliver(ctx context.Context, limit int) (int, error) {
	type due struct {
		tenantID, id string
		at           time.Time
	}
	var items []due
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.tenant_id, d.id, d.next_try_at FROM webhook_deliveries d
			JOIN webhook_subscriptions s ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id
			JOIN tenant_modules m ON m.tenant_id = d.tenant_id AND m.module = 'api'
			WHERE d.next_try_at IS NOT NULL AND d.next_try_at <= $1 AND s.active = TRUE ORDER BY d.next_try_at LIMIT $2`, s.now(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it due
			if err := rows.Scan(&it.tenantID, &it.id, &it.at); err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("read due webhook deliveries: %w", err)
	}
	var (
		mu       sync.Mutex
		ok       int
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, parallel)
	)
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sent, err := s.attempt(ctx, it.tenantID, it.id, it.at)
			mu.Lock()
			defer mu.Unlock()
			if sent {
				ok++
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	return ok, firstErr
}

// attempt claims one delivery due at dueAt, posts it and records the outcome.
func (s *Service) attempt(ctx context.Context, tenantID, deliveryID string, dueAt time.Time) (bool, error) {
	claimUntil := s.now().Add(claimFor)
	claimed := false
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_try_at = $4 WHERE tenant_id = $1 AND id = $2 AND next_try_at = $3`,
			tenantID, deliveryID, dueAt, claimUntil)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil || !claimed {
		return false, err
	}
	var (
		url, eventType, payload string
		sealed                  []byte
		attempts                int
		subID                   string
	)
	err = s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT d.subscription_id, d.event_type, d.payload, d.attempts, s.url, s.secret FROM webhook_deliveries d
			JOIN webhook_subscriptions s ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id
			WHERE d.tenant_id = $1 AND d.id = $2`, tenantID, deliveryID).Scan(&subID, &eventType, &payload, &attempts, &url, &sealed)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // deleted with its subscription meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("read webhook delivery: %w", err)
	}
	secret, err := s.opts.Keys.Decrypt(ctx, tenantID, secretField(subID), sealed)
	if err != nil {
		return false, fmt.Errorf("decrypt webhook secret: %w", err)
	}
	status, class := s.post(ctx, url, string(secret), deliveryID, eventType, []byte(payload))
	attempts++
	now := s.now()
	sent := class == ""
	var (
		state = Pending
		next  any
	)
	switch {
	case sent:
		state = Delivered
	case attempts >= MaxAttempts:
		state = Failed
	default:
		next = now.Add(wait(attempts))
	}
	if !sent {
		s.opts.Logger.Warn("webhook delivery failed", "tenant_id", tenantID, "delivery_id", deliveryID, "attempt", attempts,
			"status", status, "error", class, "state", state)
	}
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $4, attempts = $5, next_try_at = $6, last_attempt_at = $7,
			last_status = $8, last_error = $9 WHERE tenant_id = $1 AND id = $2 AND next_try_at = $3`,
			tenantID, deliveryID, claimUntil, state, attempts, next, now, status, class)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record webhook attempt: %w", err)
	}
	return sent, nil
}

// wait is the backoff after the nth failed attempt, with ±10% jitter so
// that many deliveries failing at once do not all come back at once.
func wait(n int) time.Duration {
	d := backoff[min(n, len(backoff))-1]
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// post sends one attempt and returns the answer's status code and the
// class of its failure ("" on a 2xx).
func (s *Service) post(ctx context.Context, url, secret, deliveryID, eventType string, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "connection"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kandidat-Webhooks/1")
	req.Header.Set(IDHeader, deliveryID)
	req.Header.Set(EventHeader, eventType)
	req.Header.Set(SignatureHeader, Sign(secret, s.now(), body))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, classify(err)
	}
	// The answer is read (a bounded amount, so the connection can be
	// reused) and never kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, MaxResponseBytes))
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return res.StatusCode, ""
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return res.StatusCode, "redirect"
	}
	return res.StatusCode, "status"
}

// classify names a failed attempt's error by its kind, never its text.
func classify(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		netErr  net.Error
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errRefusedAddress):
		return "refused_address"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &recErr):
		return "tls"
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "connection"
}

const deliveryColumns = `tenant_id, id, subscription_id, event_id, event_type, payload, status, attempts, next_try_at, last_attempt_at, last_status, last_error, created_at`

func scanDelivery(row interface{ Scan(...any) error }) (*Delivery, error) {
	var d Delivery
	var next, last sql.NullTime
	if err := row.Scan(&d.TenantID, &d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.Payload, &d.Status, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &d.CreatedAt); err != nil {
		return nil, err
	}
	if next.Valid {
		d.NextTryAt = next.Time.UTC()
	}
	if last.Valid {
		d.LastAttemptAt = last.Time.UTC()
	}
	d.CreatedAt = d.CreatedAt.UTC()
	return &d, nil
}

// Deliveries returns a page of a subscription's delivery log, newest
// first, and the cursor of the next page ("" on the last).
func (s *Service) Deliveries(ctx context.Context, actor access.Actor, subID string, page Page) (out []*Delivery, next string, err error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, "", ErrForbidden
	}
	if !id.Valid(subID) {
		return nil, "", ErrNotFound
	}
	limit := page.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if page.After != "" && !id.Valid(page.After) {
		return nil, "", fault.Field("after", "webhook.error.cursor")
	}
	err = s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) error {
		if _, err := subscriptionTx(ctx, tx, actor.TenantID, subID); err != nil {
			return err
		}
		q, args := `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE tenant_id = $1 AND subscription_id = $2`, []any{actor.TenantID, subID}
		if page.After != "" {
			q += ` AND (created_at, id) < (SELECT created_at, id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $3)`
			args = append(args, page.After)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return fmt.Errorf("list webhook deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Delivery returns one delivery of the company.
func (s *Service) Delivery(ctx context.Context, actor access.Actor, deliveryID string) (*Delivery, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	if !id.Valid(deliveryID) {
		return nil, ErrNotFound
	}
	var d *Delivery
	err := s.db.ReadTx(ctx, actor.TenantID, func(tx *sql.Tx) (err error) {
		d, err = deliveryTx(ctx, tx, actor.TenantID, deliveryID)
		return err
	})
	return d, err
}

func deliveryTx(ctx context.Context, tx *sql.Tx, tenantID, deliveryID string) (*Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`,
		tenantID, deliveryID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook delivery: %w", err)
	}
	return d, nil
}

// Replay makes a delivered or failed delivery due again now, as a fresh
// attempt (its count starts again; its id, and so the receiver's
// de-duplication, stay). A delivery still waiting for its next try is
// refused: it is on its way.
func (s *Service) Replay(ctx context.Context, actor access.Actor, deliveryID string) (*Delivery, error) {
	if !actor.Can(access.ManageAPITokens) {
		return nil, ErrForbidden
	}
	if !id.Valid(deliveryID) {
		return nil, ErrNotFound
	}
	now := s.now()
	var d *Delivery
	err := s.db.InTx(ctx, actor.TenantID, func(tx *sql.Tx) (err error) {
		if d, err = deliveryTx(ctx, tx, actor.TenantID, deliveryID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_try_at = $3, last_error = ''
			WHERE tenant_id = $1 AND id = $2 AND next_try_at IS NULL`, actor.TenantID, deliveryID, now)
		if err != nil {
			return fmt.Errorf("replay webhook delivery: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrNotReplayable
		}
		d.Status, d.Attempts, d.NextTryAt, d.LastError = Pending, 0, now, ""
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: actor.TenantID, Action: audit.WebhookReplayed, Actor: audit.ActorOf(actor), Time: now,
			Objects: []audit.Ref{{Kind: "webhook", ID: d.SubscriptionID}}, Details: map[string]string{"delivery": deliveryID, "event": d.EventType}})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Prune deletes finished deliveries older than KeepDeliveries, and
// returns how many.
func (s *Service) Prune(ctx context.Context) (int, error) {
	var n int64
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE created_at < $1 AND next_try_at IS NULL`, s.now().Add(-KeepDeliveries))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return int(n), nil
}
