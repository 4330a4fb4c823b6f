package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

const day = 24 * time.Hour

// MinRetention is what the seeds promise: at least 180 days in general, ten
// years for the consent log and five months for company-user administration.
var MinRetention = map[Track]time.Duration{
	History: 180 * day, Business: 180 * day, Security: 180 * day, GDPR: 180 * day,
	Consent: 3653 * day, Admin: 153 * day,
}

// Retention is a retention period per track.
type Retention map[Track]time.Duration

// CheckRetention refuses a period below the track's minimum.
func CheckRetention(t Track, d time.Duration) error {
	min, ok := MinRetention[t]
	if !ok {
		return fmt.Errorf("%w: unknown track %q", ErrInvalidEvent, t)
	}
	if d < min {
		return fmt.Errorf("%w: %s records must be kept at least %d days", ErrRetentionTooShort, t, int(min/day))
	}
	return nil
}

// ErrRetentionTooShort is returned for a retention below the minimum.
var ErrRetentionTooShort = errors.New("retention below the minimum")

// SetRetention sets a company's retention of a track, in days.
func (l *Log) SetRetention(ctx context.Context, tenantID string, t Track, days int) error {
	if err := CheckRetention(t, time.Duration(days)*day); err != nil {
		return err
	}
	return l.db.InTx(ctx, scopeOf(tenantID), func(tx *sql.Tx) error {
		return l.SetRetentionTx(ctx, tx, tenantID, map[Track]int{t: days})
	})
}

// SetInstallationRetention records the installation's retention (from its
// configuration), which companies without their own follow.
func (l *Log) SetInstallationRetention(r Retention) { l.installRetention = r }

// InstallationRetention returns the retention a company without its own
// follows, per track: the installation's setting, else the minimum.
func (l *Log) InstallationRetention() Retention { return withMinimums(l.installRetention) }

// RetentionOf returns a company's retention per track: its own setting,
// else the installation's, else the minimum.
func (l *Log) RetentionOf(ctx context.Context, tenantID string, installation Retention) (Retention, error) {
	out := withMinimums(installation)
	own, err := l.OwnRetention(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for t, days := range own {
		if d := time.Duration(days) * day; d >= MinRetention[t] {
			out[t] = d
		}
	}
	return out, nil
}

// withMinimums is r with every track at least its minimum.
func withMinimums(r Retention) Retention {
	out := Retention{}
	for t, min := range MinRetention {
		out[t] = max(min, r[t])
	}
	return out
}

// Prune deletes records older than their retention, at most batch records
// per transaction. Before a batch goes, a signed checkpoint is made at its
// last record, so the chain that remains starts from a signed hash and
// verifies. It returns the number of records deleted.
func (l *Log) Prune(ctx context.Context, installation Retention, batch int) (int64, error) {
	if l.signer == nil {
		return 0, errors.New("prune: no signing key")
	}
	if batch <= 0 {
		batch = 1000
	}
	chains, err := l.chains(ctx, nil)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, c := range chains {
		ret, err := l.RetentionOf(ctx, c.tenantID, installation)
		if err != nil {
			return total, err
		}
		cutoff := l.now().Add(-ret[c.track])
		for {
			n, err := l.pruneBatch(ctx, c, cutoff, batch)
			if err != nil {
				return total, err
			}
			total += n
			if n < int64(batch) {
				break
			}
		}
	}
	return total, nil
}

func (l *Log) pruneBatch(ctx context.Context, c chain, cutoff time.Time, batch int) (int64, error) {
	var deleted int64
	var cps []Checkpoint
	err := l.db.InTx(ctx, scopeOf(c.tenantID), func(tx *sql.Tx) error {
		// The oldest records, in chain order, up to the first one still to keep.
		rows, err := tx.QueryContext(ctx, `SELECT seq, occurred_at FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq LIMIT $3`,
			c.tenantID, string(c.track), batch)
		if err != nil {
			return err
		}
		var through int64
		for rows.Next() {
			var seq int64
			var at time.Time
			if err := rows.Scan(&seq, &at); err != nil {
				rows.Close()
				return err
			}
			if !at.Before(cutoff) {
				break
			}
			through = seq
		}
		rows.Close()
		if through == 0 {
			return nil
		}
		// The checkpoint signs the cut-off: the records up to through, all
		// older than cutoff, are deleted for retention. It alone vouches for
		// their absence when the chain is verified.
		cp, err := l.checkpointTx(ctx, tx, c.tenantID, c.track, through, ReasonPrune, &cutoff)
		if err != nil {
			return err
		}
		if cp != nil {
			cps = append(cps, *cp)
		}
		// The references go first, each by its key (the object, the time and
		// the record), read from the records' own object lists: references
		// carry no index by record, to keep the trail small.
		refs, err := tx.QueryContext(ctx, `SELECT seq, occurred_at, objects FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq <= $3`, c.tenantID, string(c.track), through)
		if err != nil {
			return fmt.Errorf("prune audit references: %w", err)
		}
		type ref struct {
			seq int64
			at  time.Time
			obj Ref
		}
		var gone []ref
		for refs.Next() {
			var seq int64
			var at time.Time
			var objects string
			if err := refs.Scan(&seq, &at, &objects); err != nil {
				refs.Close()
				return err
			}
			objs, _ := decodeObjects(objects)
			for _, o := range objs {
				gone = append(gone, ref{seq, at, o})
			}
		}
		refs.Close()
		if err := refs.Err(); err != nil {
			return err
		}
		for _, g := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit_refs WHERE tenant_id = $1 AND object_kind = $2 AND object_id = $3 AND occurred_at = $4 AND track = $5 AND seq = $6`,
				c.tenantID, g.obj.Kind, g.obj.ID, g.at, string(c.track), g.seq); err != nil {
				return fmt.Errorf("prune audit references: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq <= $3`, c.tenantID, string(c.track), through)
		if err != nil {
			return fmt.Errorf("prune audit records: %w", err)
		}
		deleted, _ = res.RowsAffected()
		// Say so in the company's business track.
		return l.Record(ctx, tx, Event{TenantID: c.tenantID, Action: AuditPruned, Actor: System("audit.prune"),
			Details: map[string]string{"track": string(c.track), "count": strconv.FormatInt(deleted, 10), "through_seq": strconv.FormatInt(through, 10)}})
	})
	if err != nil {
		return 0, err
	}
	return deleted, l.export(cps)
}
