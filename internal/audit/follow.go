package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Readers that follow a chain from a position, in order (the webhooks turn
// each committed record into events). A chain's records are appended under
// its lock and commit in the order of their sequence numbers, so the
// records a reader sees above a position are always the committed prefix.

// HeadSeq returns the last sequence number of a company's track (0 when
// it has none), read in tx, a transaction declared to the company.
func HeadSeq(ctx context.Context, tx *sql.Tx, tenantID string, track Track) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`,
		tenantID, string(track)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		// Pruned to nothing: the chain continues from its last checkpoint.
		err = tx.QueryRowContext(ctx, `SELECT seq FROM audit_checkpoints WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`,
			tenantID, string(track)).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("read audit chain head: %w", err)
	}
	return seq, nil
}

// After returns up to limit records of a company's track whose sequence
// number is above seq, in the chain's order, read in tx.
func After(ctx context.Context, tx *sql.Tx, tenantID string, track Track, seq int64, limit int) ([]Record, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details
FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq > $3 ORDER BY seq LIMIT $4`, tenantID, string(track), seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit records after %d: %w", seq, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r := Record{TenantID: tenantID, Track: track}
		var actorKind, action, objects, details string
		if err := rows.Scan(&r.Seq, &r.ID, &r.Time, &actorKind, &r.Actor.ID, &action, &objects, &r.RequestID, &details); err != nil {
			return nil, err
		}
		r.Actor.Kind, r.Action = ActorKind(actorKind), Action(action)
		if r.Objects, err = decodeObjects(objects); err != nil {
			return nil, fmt.Errorf("audit record %s: %w", r.ID, err)
		}
		if r.Details, err = decodeDetails(details); err != nil {
			return nil, fmt.Errorf("audit record %s: %w", r.ID, err)
		}
		r.Time = r.Time.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
