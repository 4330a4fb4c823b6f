package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/recruit"
)

// SweepOptions say what a sweep covers.
type SweepOptions struct {
	// TenantID limits the sweep to one company ("" for every company).
	TenantID string
	// DryRun counts what would be erased and erases nothing.
	DryRun bool
	// Progress, when set, is told the running total after each batch.
	Progress func(erased int)
	// AsOf counts, in a dry run, what would go on that day (zero: now).
	// A sweep that erases always runs at the present.
	AsOf time.Time
}

// SweepReport is what a sweep erased (or would erase), by count only.
type SweepReport struct {
	DryRun    bool
	Companies int
	// Erased counts the candidates per reason.
	Erased map[Reason]int
	Total  int
}

// Sweeper is the account the daily sweep acts under in the audit trail.
var Sweeper = audit.Actor{Kind: audit.ActorSystem, ID: "privacy-sweep"}

// Sweep erases, company by company and in batches, the candidates the
// companies' policies no longer allow keeping: (b) the purpose lapsed and
// no consent was given, (c) the consent expired or was withdrawn, and,
// where the company chose it, (a) every position they applied to is
// archived and no consent is in force. Each batch is one transaction that
// re-checks the condition on the rows it erases, so a consent granted a
// moment before saves the candidate; a sweep stopped by a crash resumes
// where it was when run again, with nobody erased twice (the rows are
// gone) and nobody skipped (the selection is the condition itself). It
// first writes to the ledger what a crash left out of it, and computes
// the bases of candidates written before they existed.
func (s *Service) Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	rep := SweepReport{DryRun: o.DryRun, Erased: map[Reason]int{}}
	if !o.DryRun {
		if _, err := s.LedgerPending(ctx); err != nil {
			return rep, err
		}
	}
	if _, err := s.opts.Recruit.BackfillBases(ctx); err != nil {
		return rep, err
	}
	tenants, err := s.tenants(ctx, o.TenantID)
	if err != nil {
		return rep, err
	}
	for _, t := range tenants {
		rep.Companies++
		if err := s.sweepTenant(ctx, t, o, &rep); err != nil {
			return rep, fmt.Errorf("sweep company %s: %w", t, err)
		}
	}
	if !o.DryRun {
		if err := s.ForgetPending(ctx); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// ErrNoCompany is returned for a sweep of a company that does not exist.
var ErrNoCompany = errors.New("no such company")

func (s *Service) tenants(ctx context.Context, only string) ([]string, error) {
	var out []string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		q := `SELECT id FROM tenants ORDER BY id`
		var args []any
		if only != "" {
			q, args = `SELECT id FROM tenants WHERE id = $1 OR slug = $1`, []any{only}
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list companies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err == nil && only != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoCompany, only)
	}
	return out, err
}

// hadConsent is the SQL condition that the candidate c ever granted a
// consent: their data ends with it (consent_ended), not with the purpose.
const hadConsent = `EXISTS (SELECT 1 FROM consent_log l WHERE l.tenant_id = c.tenant_id AND l.candidate_id = c.id AND l.event <> 'refused')`

func (s *Service) sweepTenant(ctx context.Context, tenantID string, o SweepOptions, rep *SweepReport) error {
	now := s.now().UTC()
	if o.DryRun && !o.AsOf.IsZero() {
		now = db.Time(o.AsOf)
	}
	var policy recruit.Policy
	if err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) (err error) {
		policy, err = recruit.PolicyTx(ctx, tx, tenantID)
		return err
	}); err != nil {
		return err
	}
	count := func(reason Reason, n int) {
		rep.Erased[reason] += n
		rep.Total += n
		if o.Progress != nil && n > 0 {
			o.Progress(rep.Total)
		}
	}
	if o.DryRun {
		return s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
			var consent, purpose, archived int
			if err := tx.QueryRowContext(ctx, `SELECT count(CASE WHEN `+hadConsent+` THEN 1 END), count(CASE WHEN NOT `+hadConsent+` THEN 1 END)
				FROM candidates c WHERE c.tenant_id = $1 AND c.basis_until <= $2`, tenantID, now).Scan(&consent, &purpose); err != nil {
				return fmt.Errorf("count expired bases: %w", err)
			}
			if policy.EraseOnArchive {
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM candidates c WHERE c.tenant_id = $1 AND c.basis_until > $2
					AND EXISTS (SELECT 1 FROM applications a WHERE a.tenant_id = c.tenant_id AND a.candidate_id = c.id) AND `+condArchived,
					tenantID, now).Scan(&archived); err != nil {
					return fmt.Errorf("count archived: %w", err)
				}
			}
			count(ReasonConsentEnded, consent)
			count(ReasonPurposeEnded, purpose)
			count(ReasonPositionArchived, archived)
			return nil
		})
	}
	// (b) and (c): the basis ended. Keyset on (basis_until, id), so a
	// candidate a batch could not erase (saved meanwhile) is passed.
	var lastUntil time.Time
	lastID := ""
	for {
		type pick struct {
			id      string
			consent bool
		}
		var picks []pick
		err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
			q, err := tx.QueryContext(ctx, `SELECT c.id, c.basis_until, `+hadConsent+` FROM candidates c
				WHERE c.tenant_id = $1 AND c.basis_until <= $2 AND (c.basis_until, c.id) > ($3, $4)
				ORDER BY c.basis_until, c.id LIMIT `+fmt.Sprint(eraseChunk), tenantID, now, lastUntil, lastID)
			if err != nil {
				return fmt.Errorf("select expired bases: %w", err)
			}
			defer q.Close()
			for q.Next() {
				var p pick
				if err := q.Scan(&p.id, &lastUntil, &p.consent); err != nil {
					return err
				}
				lastID = p.id
				picks = append(picks, p)
			}
			return q.Err()
		})
		if err != nil {
			return err
		}
		if len(picks) == 0 {
			break
		}
		var consent, purpose []string
		for _, p := range picks {
			if p.consent {
				consent = append(consent, p.id)
			} else {
				purpose = append(purpose, p.id)
			}
		}
		for _, g := range []struct {
			reason Reason
			ids    []string
		}{{ReasonConsentEnded, consent}, {ReasonPurposeEnded, purpose}} {
			n, err := s.erase(ctx, tenantID, g.ids, g.reason, Sweeper, condNoBasis)
			if err != nil {
				return err
			}
			count(g.reason, n)
		}
	}
	if !policy.EraseOnArchive {
		return nil
	}
	// (a): every position archived. Keyset on id: one pass over the company.
	after := ""
	for {
		var ids []string
		err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
			q, err := tx.QueryContext(ctx, `SELECT c.id FROM candidates c WHERE c.tenant_id = $1 AND c.id > $3
				AND EXISTS (SELECT 1 FROM applications a WHERE a.tenant_id = c.tenant_id AND a.candidate_id = c.id) AND `+condArchived+`
				ORDER BY c.id LIMIT `+fmt.Sprint(eraseChunk), tenantID, now, after)
			if err != nil {
				return fmt.Errorf("select archived: %w", err)
			}
			ids, err = recruit.ScanIDs(q)
			return err
		})
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		after = ids[len(ids)-1]
		n, err := s.erase(ctx, tenantID, ids, ReasonPositionArchived, Sweeper, condArchived)
		if err != nil {
			return err
		}
		count(ReasonPositionArchived, n)
	}
}
