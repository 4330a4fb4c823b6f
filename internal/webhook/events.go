package webhook

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Events come from the audit trail: the fan-out (Enqueue, the
// webhooks.events job) reads each company's records after its cursor,
// turns them into events, inserts a delivery for every active
// subscription that wants each, and moves the cursor by a conditional
// update in the same transaction, so that two instances, or two runs,
// never enqueue an event twice. consent.expiring has no record: a pass
// over the basis index announces each candidate whose basis end enters
// the notice window (tenant.NoticeMonths), the window's end being that
// track's cursor.

// auditTracks are the audit tracks events are read from, and the types
// each gives.
var auditTracks = []audit.Track{audit.History, audit.GDPR, audit.Business}

var trackTypes = map[audit.Track][]string{
	audit.History:  {ApplicationCreated, ApplicationStageChanged, ApplicationRejected},
	audit.GDPR:     {CandidateErased},
	audit.Business: {CaseAcknowledged},
}

// expiringTrack is the cursor of the consent.expiring pass.
const expiringTrack = "consent_expiring"

// batch is how many records (or candidates) one transaction turns into events.
const batch = 200

// Event is a business event as its payload carries it: ids and
// non-personal details only.
type Event struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	OccurredAt time.Time         `json:"occurred_at"`
	Company    string            `json:"company"`
	Data       map[string]string `json:"data"`
}

// derivedID is a stable event id for the nth event of one origin (a
// record that gives several events, a candidate entering the window).
func derivedID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x80 // UUID version 8: custom
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// eventsOf turns an audit record into its events (none for most).
func eventsOf(r audit.Record) []Event {
	ref := func(kind string) string {
		for _, o := range r.Objects {
			if o.Kind == kind {
				return o.ID
			}
		}
		return ""
	}
	ev := func(eventID, typ string, data map[string]string) Event {
		for k, v := range data {
			if v == "" {
				delete(data, k)
			}
		}
		return Event{ID: eventID, Type: typ, OccurredAt: r.Time, Company: r.TenantID, Data: data}
	}
	switch r.Action {
	case audit.ApplicationCreated:
		return []Event{ev(r.ID, ApplicationCreated, map[string]string{"application_id": ref("application"), "candidate_id": ref("candidate"),
			"position_id": ref("position"), "stage": r.Details["stage"], "via": r.Details["via"]})}
	case audit.StageChanged:
		out := []Event{ev(r.ID, ApplicationStageChanged, map[string]string{"application_id": ref("application"), "candidate_id": ref("candidate"),
			"from_stage": r.Details["previous_stage"], "to_stage": r.Details["stage"]})}
		if r.Details["stage"] == string(access.StageRejected) {
			out = append(out, ev(derivedID(r.ID, ApplicationRejected), ApplicationRejected, map[string]string{"application_id": ref("application"),
				"candidate_id": ref("candidate"), "from_stage": r.Details["previous_stage"], "reason_id": r.Details["reason"]}))
		}
		return out
	case audit.CaseAcknowledged:
		// The case's id and channel only: when a report was acknowledged
		// is the handlers' act, not the reporter's.
		return []Event{ev(r.ID, CaseAcknowledged, map[string]string{"case": ref("case"), "channel": r.Details["channel"]})}
	case audit.CandidateErased:
		var out []Event
		for _, o := range r.Objects {
			if o.Kind == "candidate" {
				out = append(out, ev(derivedID(r.ID, o.ID), CandidateErased, map[string]string{"candidate_id": o.ID, "reason": r.Details["reason"]}))
			}
		}
		return out
	}
	return nil
}

// errRaced: another run moved the cursor first; this one's work is dropped.
var errRaced = errors.New("webhook: cursor moved by another run")

// Enqueue turns new events of every company with an active subscription
// and the api module into deliveries, and returns how many it inserted.
// (A company whose module is switched off sends nothing; its cursors stay,
// so that switching it on again sends what happened meanwhile.)
func (s *Service) Enqueue(ctx context.Context) (int, error) {
	var tenants []string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT s.tenant_id FROM webhook_subscriptions s
			JOIN tenant_modules m ON m.tenant_id = s.tenant_id AND m.module = 'api' WHERE s.active = TRUE`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				return err
			}
			tenants = append(tenants, t)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("read webhook companies: %w", err)
	}
	total := 0
	for _, t := range tenants {
		n, err := s.EnqueueCompany(ctx, t)
		total += n
		if err != nil {
			return total, fmt.Errorf("webhook events of %s: %w", t, err)
		}
	}
	return total, nil
}

// EnqueueCompany turns the company's new events into deliveries.
func (s *Service) EnqueueCompany(ctx context.Context, tenantID string) (int, error) {
	total := 0
	for _, tr := range auditTracks {
		for {
			n, more, err := s.follow(ctx, tenantID, tr)
			total += n
			if err != nil || !more {
				if err != nil {
					return total, err
				}
				break
			}
		}
	}
	for {
		n, more, err := s.followExpiring(ctx, tenantID)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// activeSubscriptions reads the company's active subscriptions in tx.
func activeSubscriptions(ctx context.Context, tx *sql.Tx, tenantID string) ([]*Subscription, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions WHERE tenant_id = $1 AND active = TRUE
		ORDER BY created_at, id LIMIT $2`, tenantID, MaxSubscriptions)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// wanted reports whether any subscription takes any of types.
func wanted(subs []*Subscription, types []string) bool {
	for _, sub := range subs {
		for _, t := range types {
			if sub.Wants(t) {
				return true
			}
		}
	}
	return false
}

// cursor reads a cursor in tx (ok false when the company has none yet).
func cursor(ctx context.Context, tx *sql.Tx, tenantID, track string) (pos int64, ok bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT position FROM webhook_cursors WHERE tenant_id = $1 AND track = $2`, tenantID, track).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return pos, err == nil, err
}

// moveCursor moves a cursor from old to pos, only if no other run moved
// it meanwhile: the one write that makes an enqueue happen once.
func moveCursor(ctx context.Context, tx *sql.Tx, tenantID, track string, old, pos int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE webhook_cursors SET position = $4, updated_at = $5 WHERE tenant_id = $1 AND track = $2 AND position = $3`,
		tenantID, track, old, pos, now)
	if err != nil {
		return fmt.Errorf("move webhook cursor: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errRaced
	}
	return nil
}

// follow turns one batch of a track's records into deliveries; more says
// a full batch was read.
func (s *Service) follow(ctx context.Context, tenantID string, track audit.Track) (n int, more bool, err error) {
	now := s.now()
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		n, more = 0, false
		subs, err := activeSubscriptions(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		pos, ok, err := cursor(ctx, tx, tenantID, string(track))
		if err != nil {
			return err
		}
		if !ok || !wanted(subs, trackTypes[track]) {
			// Nobody takes this track's events: the cursor stays at the
			// present, so a subscription that starts to want them later
			// receives no backlog.
			head, err := audit.HeadSeq(ctx, tx, tenantID, track)
			if err != nil || head == pos {
				return err
			}
			return setCursor(ctx, tx, tenantID, string(track), head, now)
		}
		recs, err := audit.After(ctx, tx, tenantID, track, pos, batch)
		if err != nil || len(recs) == 0 {
			return err
		}
		ins, err := newInserter(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		for _, r := range recs {
			for _, ev := range eventsOf(r) {
				k, err := ins.fanOut(ctx, subs, ev, now)
				if err != nil {
					return err
				}
				n += k
			}
		}
		more = len(recs) == batch
		return moveCursor(ctx, tx, tenantID, string(track), pos, recs[len(recs)-1].Seq, now)
	})
	if errors.Is(err, errRaced) {
		return 0, false, nil
	}
	return n, more, err
}

// inserter inserts deliveries with one statement prepared per transaction.
type inserter struct{ stmt *sql.Stmt }

func newInserter(ctx context.Context, tx *sql.Tx) (*inserter, error) {
	st, err := tx.PrepareContext(ctx, `INSERT INTO webhook_deliveries (tenant_id, id, subscription_id, event_id, event_type, payload, status, next_try_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)`)
	if err != nil {
		return nil, fmt.Errorf("prepare webhook delivery: %w", err)
	}
	return &inserter{st}, nil
}

func (i *inserter) close() { i.stmt.Close() }

// fanOut inserts a delivery of ev for every subscription that wants it and
// existed when it happened.
func (i *inserter) fanOut(ctx context.Context, subs []*Subscription, ev Event, now time.Time) (int, error) {
	var payload []byte
	n := 0
	for _, sub := range subs {
		if !sub.Wants(ev.Type) || ev.OccurredAt.Before(sub.CreatedAt) {
			continue
		}
		if payload == nil {
			var err error
			if payload, err = json.Marshal(ev); err != nil {
				return n, err
			}
		}
		if _, err := i.stmt.ExecContext(ctx, ev.Company, id.New(), sub.ID, ev.ID, ev.Type, string(payload), now); err != nil {
			return n, fmt.Errorf("insert webhook delivery: %w", err)
		}
		n++
	}
	return n, nil
}

// noticeHorizon is the end of the notice window that starts at now, on
// the company's calendar (recruit.NoticeHorizon, read in tx).
func noticeHorizon(ctx context.Context, tx *sql.Tx, tenantID string, now time.Time) (time.Time, error) {
	var lang, settings string
	if err := tx.QueryRowContext(ctx, `SELECT default_language, settings FROM tenants WHERE id = $1`, tenantID).Scan(&lang, &settings); err != nil {
		return time.Time{}, fmt.Errorf("read the company's time zone: %w", err)
	}
	t := &tenant.Tenant{DefaultLanguage: lang, Settings: tenant.ParseSettings(settings)}
	return db.Time(tenant.AddMonths(now, tenant.NoticeMonths, t.Location())), nil
}

// followExpiring announces the candidates whose basis end entered the
// notice window since the last pass: those with basis_until between the
// cursor and the window's end now, read on the basis index.
func (s *Service) followExpiring(ctx context.Context, tenantID string) (n int, more bool, err error) {
	now := s.now()
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		n, more = 0, false
		horizon, err := noticeHorizon(ctx, tx, tenantID, now)
		if err != nil {
			return err
		}
		subs, err := activeSubscriptions(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		pos, ok, err := cursor(ctx, tx, tenantID, expiringTrack)
		if err != nil {
			return err
		}
		end := horizon.UnixMicro()
		if !ok || !wanted(subs, []string{ConsentExpiring}) {
			if ok && pos >= end {
				return nil
			}
			return setCursor(ctx, tx, tenantID, expiringTrack, end, now)
		}
		if pos >= end {
			return nil
		}
		type cand struct {
			id                   string
			until, purpose, cons sql.NullTime
		}
		read := func(q string, args ...any) ([]cand, error) {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []cand
			for rows.Next() {
				var c cand
				if err := rows.Scan(&c.id, &c.until, &c.purpose, &c.cons); err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, rows.Err()
		}
		const cols = `SELECT id, basis_until, purpose_until, consent_until FROM candidates WHERE tenant_id = $1 `
		from := time.UnixMicro(pos).UTC()
		cands, err := read(cols+`AND basis_until > $2 AND basis_until <= $3 ORDER BY basis_until LIMIT $4`, tenantID, from, horizon, batch+1)
		if err != nil {
			return fmt.Errorf("read expiring bases: %w", err)
		}
		newPos := end
		if len(cands) > batch {
			// A full batch: stop before the last end read, and take every
			// candidate that shares the batch's last end.
			cut := cands[batch].until.Time
			cands = slices.DeleteFunc(cands, func(c cand) bool { return !c.until.Time.Before(cut) })
			same, err := read(cols+`AND basis_until = $2`, tenantID, cut)
			if err != nil {
				return fmt.Errorf("read expiring bases: %w", err)
			}
			cands = append(cands, same...)
			newPos, more = cut.UnixMicro(), true
		}
		ins, err := newInserter(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		for _, c := range cands {
			basis := "purpose"
			if c.cons.Valid && (!c.purpose.Valid || !c.cons.Time.Before(c.purpose.Time)) {
				basis = "consent"
			}
			until := db.Time(c.until.Time)
			ev := Event{ID: derivedID(c.id, ConsentExpiring, fmt.Sprint(until.UnixMicro())), Type: ConsentExpiring, OccurredAt: now, Company: tenantID,
				Data: map[string]string{"candidate_id": c.id, "basis": basis, "basis_until": until.Format(time.RFC3339)}}
			k, err := ins.fanOut(ctx, subs, ev, now)
			if err != nil {
				return err
			}
			n += k
		}
		return moveCursor(ctx, tx, tenantID, expiringTrack, pos, newPos, now)
	})
	if errors.Is(err, errRaced) {
		return 0, false, nil
	}
	return n, more, err
}
