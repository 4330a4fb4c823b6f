package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Stage is one step of a position's pipeline.
type Stage struct {
	ID string
	// Name is the company's name for it; empty for a standard stage, which
	// is shown by its kind's translated name.
	Name string
	Kind access.StageKind
}

// StageInput is a stage as a company defines it (template or position).
type StageInput struct {
	Name string
	Kind access.StageKind
}

// defaultStages are the standard pipeline: one stage of each kind.
func defaultStages() []StageInput {
	out := make([]StageInput, len(access.StageKinds))
	for i, k := range access.StageKinds {
		out[i] = StageInput{Kind: k}
	}
	return out
}

// validateStages checks a pipeline: 2 to 20 stages, names of one line,
// known kinds, and a stage for new applications and one for rejections.
func validateStages(in []StageInput) ([]StageInput, error) {
	if len(in) < 2 || len(in) > 20 {
		return nil, fault.Field("stages", "error.stages")
	}
	var kinds []access.StageKind
	for i := range in {
		name, ok := cleanText(in[i].Name, 60, false)
		if !ok || !slices.Contains(access.StageKinds, in[i].Kind) {
			return nil, fault.Field("stages", "error.stages")
		}
		in[i].Name = name
		kinds = append(kinds, in[i].Kind)
	}
	if !slices.Contains(kinds, access.StageNew) || !slices.Contains(kinds, access.StageRejected) {
		return nil, fault.Field("stages", "error.stages_required")
	}
	return in, nil
}

// companyStages is the company's template, or the standard pipeline.
func companyStages(ctx context.Context, q querier, tenantID string) ([]StageInput, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, kind FROM stage_templates WHERE tenant_id = $1 ORDER BY ord`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read stage template: %w", err)
	}
	defer rows.Close()
	var out []StageInput
	for rows.Next() {
		var s StageInput
		var k string
		if err := rows.Scan(&s.Name, &k); err != nil {
			return nil, err
		}
		s.Kind = access.StageKind(k)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return defaultStages(), nil
	}
	return out, nil
}

// createStages gives a new position the company's pipeline.
func createStages(ctx context.Context, tx *sql.Tx, tenantID, positionID string) error {
	stages, err := companyStages(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	for i, st := range stages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO position_stages (tenant_id, id, position_id, name, kind, ord) VALUES ($1, $2, $3, $4, $5, $6)`,
			tenantID, id.New(), positionID, st.Name, string(st.Kind), i+1); err != nil {
			return fmt.Errorf("create stages: %w", err)
		}
	}
	return nil
}

// positionStages reads a position's pipeline in order.
func positionStages(ctx context.Context, q querier, tenantID, positionID string) ([]Stage, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, kind FROM position_stages WHERE tenant_id = $1 AND position_id = $2 ORDER BY ord, id`, tenantID, positionID)
	if err != nil {
		return nil, fmt.Errorf("read stages: %w", err)
	}
	defer rows.Close()
	var out []Stage
	for rows.Next() {
		var s Stage
		var k string
		if err := rows.Scan(&s.ID, &s.Name, &k); err != nil {
			return nil, err
		}
		s.Kind = access.StageKind(k)
		out = append(out, s)
	}
	return out, rows.Err()
}

// stageOfKind is the first stage of a kind in a position's pipeline.
func stageOfKind(ctx context.Context, q querier, tenantID, positionID string, kind access.StageKind) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM position_stages WHERE tenant_id = $1 AND position_id = $2 AND kind = $3 ORDER BY ord, id LIMIT 1`,
		tenantID, positionID, string(kind)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.Field("stage", "error.stage")
	}
	return id, err
}

// Stages returns a position's pipeline to someone who may see the position.
func (s *Service) Stages(ctx context.Context, a access.Actor, positionID string) (out []Stage, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizePosition(ctx, q, a, access.ViewPositions, positionID); err != nil {
			return err
		}
		out, err = positionStages(ctx, q, a.TenantID, positionID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// SetStages replaces a position's pipeline: existing stages keep their id
// (StageEdit.ID), new ones get one, the order is the order given. A stage
// that still holds applications cannot be left out.
func (s *Service) SetStages(ctx context.Context, a access.Actor, positionID string, in []StageEdit) error {
	if len(in) < 2 || len(in) > 20 {
		return fault.Field("stages", "error.stages")
	}
	for _, e := range in {
		// Existing stages keep their kind; a new one names its own.
		if _, ok := cleanText(e.Name, 60, false); !ok || e.ID == "" && !slices.Contains(access.StageKinds, e.Kind) || e.ID != "" && !id.Valid(e.ID) {
			return fault.Field("stages", "error.stages")
		}
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := s.authorizePosition(ctx, tx, a, access.EditPositions, positionID); err != nil {
			return err
		}
		current, err := positionStages(ctx, tx, a.TenantID, positionID)
		if err != nil {
			return err
		}
		kept := map[string]bool{}
		for i, e := range in {
			name, _ := cleanText(e.Name, 60, false)
			if e.ID == "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO position_stages (tenant_id, id, position_id, name, kind, ord) VALUES ($1, $2, $3, $4, $5, $6)`,
					a.TenantID, id.New(), positionID, name, string(e.Kind), i+1); err != nil {
					return err
				}
				continue
			}
			idx := slices.IndexFunc(current, func(st Stage) bool { return st.ID == e.ID })
			if idx < 0 {
				return fault.Field("stages", "error.stages")
			}
			kept[e.ID] = true

			if _, err := tx.ExecContext(ctx, `UPDATE position_stages SET name = $3, ord = $4 WHERE tenant_id = $1 AND id = $2`,
				a.TenantID, e.ID, name, i+1); err != nil {
				return err
			}
		}
		for _, st := range current {
			if kept[st.ID] {
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM applications WHERE tenant_id = $1 AND stage_id = $2`, a.TenantID, st.ID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fault.Field("stages", "error.stage_in_use")
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM position_stages WHERE tenant_id = $1 AND id = $2`, a.TenantID, st.ID); err != nil {
				return err
			}
		}

		after, err := positionStages(ctx, tx, a.TenantID, positionID)
		if err != nil {
			return err
		}
		check := make([]StageInput, len(after))
		for i, st := range after {
			check[i] = StageInput{Name: st.Name, Kind: st.Kind}
		}
		if _, err := validateStages(check); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.PositionChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "position", ID: positionID}}})
	}))
}

// StageEdit is one stage of a pipeline being edited: ID for an existing stage.
type StageEdit struct {
	ID   string
	Name string
	Kind access.StageKind
}

// StageTemplate is the company's pipeline for new positions.
func (s *Service) StageTemplate(ctx context.Context, a access.Actor) (out []StageInput, err error) {
	if !a.Can(access.CompanyProfile) {
		return nil, ErrForbidden
	}
	err = s.read(ctx, a, func(q querier) error {
		out, err = companyStages(ctx, q, a.TenantID)
		return err
	})
	return out, err
}

// SetStageTemplate replaces the company's pipeline for new positions
// (existing positions keep theirs).
func (s *Service) SetStageTemplate(ctx context.Context, a access.Actor, in []StageInput) error {
	if !a.Can(access.CompanyProfile) {
		return ErrForbidden
	}
	in, err := validateStages(in)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM stage_templates WHERE tenant_id = $1`, a.TenantID); err != nil {
			return err
		}
		for i, st := range in {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stage_templates (tenant_id, ord, name, kind) VALUES ($1, $2, $3, $4)`,
				a.TenantID, i+1, st.Name, string(st.Kind)); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TenantSettingsChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "tenant", ID: a.TenantID}}})
	})

}
