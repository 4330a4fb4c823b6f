package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// MoveInput says where an application goes: to one stage of its
// position's pipeline (StageID), or else to the first stage of a kind
// (Kind). Moving it to rejected needs one of the company's reasons; with
// Notify a rejection also sends the candidate the company's rejection email
// in the ad's language (queued in the same transaction and kept in the
// communication history).
type MoveInput struct {
	Kind    access.StageKind
	StageID string
	Reason  string
	Notify  bool
}

// Move moves an application to another stage of its position's pipeline,
// in one transaction with its audit record.
func (s *Service) Move(ctx context.Context, a access.Actor, applicationID string, to MoveInput) error {
	return s.moveTo(ctx, a, applicationID, to, time.Time{})
}

// MoveIf is Move on condition that the application is still at version
// (its UpdatedAt when the caller read it): otherwise it changes nothing
// and returns fault.ErrStale. The version is compared by the update
// itself, so two moves from the same version cannot both win.
func (s *Service) MoveIf(ctx context.Context, a access.Actor, applicationID string, to MoveInput, version time.Time) error {
	if version.IsZero() {
		return fault.ErrStale
	}
	return s.moveTo(ctx, a, applicationID, to, version)
}

func (s *Service) moveTo(ctx context.Context, a access.Actor, applicationID string, to MoveInput, version time.Time) error {
	if to.StageID != "" {
		if !id.Valid(to.StageID) {
			return fault.Field("stage", "error.stage")
		}
		return s.move(ctx, a, applicationID, "", to.StageID, to.Reason, to.Notify, version)
	}
	if !slices.Contains(access.StageKinds, to.Kind) {
		return fault.Field("stage", "error.stage")
	}
	return s.move(ctx, a, applicationID, to.Kind, "", to.Reason, to.Notify, version)
}

func (s *Service) move(ctx context.Context, a access.Actor, id string, kind access.StageKind, stageID, reason string, notify bool, version time.Time) error {
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, id)
		if err != nil {
			return err
		}
		if !version.IsZero() && !app.UpdatedAt.Equal(version) {
			return fault.ErrStale
		}
		if stageID == "" {
			if stageID, err = stageOfKind(ctx, tx, a.TenantID, app.Position.ID, kind); err != nil {
				return err
			}
		} else {
			var k string
			err := tx.QueryRowContext(ctx, `SELECT kind FROM position_stages WHERE tenant_id = $1 AND id = $2 AND position_id = $3`,
				a.TenantID, stageID, app.Position.ID).Scan(&k)
			if errors.Is(err, sql.ErrNoRows) {
				return fault.Field("stage", "error.stage")
			}
			if err != nil {
				return err
			}
			kind = access.StageKind(k)
		}
		if kind != access.StageRejected {
			reason = ""
		} else {
			reasons, err := companyReasons(ctx, tx, a.TenantID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(reasons, func(r Reason) bool { return r.ID == reason }) {
				return fault.Field("reason", "error.rejection_reason")
			}
		}
		if app.StageID == stageID {
			return nil
		}
		q := `UPDATE applications SET stage = $3, stage_id = $4, rejection_reason = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2`
		args := []any{a.TenantID, id, string(kind), stageID, reason, s.now()}
		if !version.IsZero() {
			q += ` AND updated_at = $7`
			args = append(args, version.UTC())
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("move application: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 && version.IsZero() {
			return ErrNotFound // erased meanwhile
		} else if n == 0 {
			return fault.ErrStale
		}
		if notify && kind == access.StageRejected {
			var lang, company, companyLang string
			if err := tx.QueryRowContext(ctx, `SELECT p.language, t.name, t.default_language FROM positions p JOIN tenants t ON t.id = p.tenant_id
				WHERE p.tenant_id = $1 AND p.id = $2`, a.TenantID, app.Position.ID).Scan(&lang, &company, &companyLang); err != nil {
				return err
			}
			if err := s.sendToCandidate(ctx, tx, a.TenantID, id, TemplateRejection, s.career.I18n.Pick(lang, "", companyLang), app.Candidate.Email,
				map[string]string{"name": app.Candidate.Name, "position": app.Position.Title, "company": company}, "", nil); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.StageChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: id}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: stageDetails(kind, app.Stage, reason)})
	}))
}

// stageDetails are the audit details of a move; a reason only with a rejection.
func stageDetails(kind, previous access.StageKind, reason string) map[string]string {
	d := map[string]string{"stage": string(kind), "previous_stage": string(previous)}
	if reason != "" {
		d["reason"] = reason
	}
	return d
}
