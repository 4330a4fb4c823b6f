package recruit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/search"
)

// A company keeps one vocabulary of skills: candidates' profiles and
// positions' requirements name skills from it, and a recruiter who types a
// skill the company does not know yet adds it. A skill is one per folded
// name (search.Fold), so "Go", "go" and "GO" are one skill, spelt as it was
// first written.

// Skill is one skill of a company's vocabulary.
type Skill struct {
	ID   string
	Name string
}

// maxSkillRunes bounds a skill's name.
const maxSkillRunes = 60

// cleanSkill is a skill name as stored, with its folded form; ok is false
// for a name that is empty, too long or not text.
func cleanSkill(name string) (clean, folded string, ok bool) {
	clean, ok = cleanText(name, maxSkillRunes, true)
	if !ok {
		return "", "", false
	}
	clean = strings.Join(strings.Fields(clean), " ")
	folded = search.Fold(clean)
	return clean, folded, folded != ""
}

// companySkills is a company's vocabulary, by name.
func companySkills(ctx context.Context, q querier, tenantID string) ([]Skill, error) {
	return skillsWhere(ctx, q, `WHERE s.tenant_id = $1`, tenantID)
}

// ensureSkills returns the ids of the named skills in the order given
// (without repeats), adding to the company's vocabulary those it does not
// know yet. A name that is not a skill is refused on field.
func ensureSkills(ctx context.Context, tx *sql.Tx, tenantID string, names []string, now time.Time, field string) ([]Skill, error) {
	var out []Skill
	seen := map[string]bool{}
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			continue
		}
		clean, folded, ok := cleanSkill(name)
		if !ok {
			return nil, fault.Field(field, "error.skill")
		}
		if seen[folded] {
			continue
		}
		seen[folded] = true
		// The conditional insert and the read are one statement each in the
		// same transaction: two recruiters adding the same new skill at
		// once end with one skill.
		if _, err := tx.ExecContext(ctx, `INSERT INTO skills (tenant_id, id, name, folded, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, folded) DO NOTHING`, tenantID, id.New(), clean, folded, now); err != nil {
			return nil, fmt.Errorf("add skill: %w", err)
		}
		s := Skill{}
		if err := tx.QueryRowContext(ctx, `SELECT id, name FROM skills WHERE tenant_id = $1 AND folded = $2`, tenantID, folded).Scan(&s.ID, &s.Name); err != nil {
			return nil, fmt.Errorf("read skill: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// candidateSkills are a candidate's skills, by name.
func candidateSkills(ctx context.Context, q querier, tenantID, candidateID string) ([]Skill, error) {
	return skillsWhere(ctx, q, `JOIN candidate_skills cs ON cs.tenant_id = s.tenant_id AND cs.skill_id = s.id WHERE s.tenant_id = $1 AND cs.candidate_id = $2`, tenantID, candidateID)
}

// positionSkills are the skills a position requires, by name.
func positionSkills(ctx context.Context, q querier, tenantID, positionID string) ([]Skill, error) {
	return skillsWhere(ctx, q, `JOIN position_skills ps ON ps.tenant_id = s.tenant_id AND ps.skill_id = s.id WHERE s.tenant_id = $1 AND ps.position_id = $2`, tenantID, positionID)
}

func skillsWhere(ctx context.Context, q querier, where string, args ...any) ([]Skill, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.id, s.name FROM skills s `+where+` ORDER BY s.folded`, args...)
	if err != nil {
		return nil, fmt.Errorf("skills: %w", err)
	}
	defer rows.Close()
	var out []Skill
	for rows.Next() {
		var s Skill
		if err := rows.Scan(&s.ID, &s.Name); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Skills is the actor's company's skill vocabulary, for pickers.
func (s *Service) Skills(ctx context.Context, a access.Actor) (out []Skill, err error) {
	err = s.read(ctx, a, func(q querier) error {
		out, err = companySkills(ctx, q, a.TenantID)
		return err
	})
	return out, err
}
