package recruit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/search"
)

// errNoTerms: a query with nothing in it to search for.
var errNoTerms = errors.New("no words to search")

// queryFilter is the SQL condition on the list's applications (a) of a
// recruiter's query (internal/search): its words through the full-text
// index, each single word as the start of a word, as the list is filtered
// while typing; its field filters on the applications. Every value is
// bound through arg; the company is $1. A query with nothing to search
// gives errNoTerms; one that cannot be read, a *search.QueryError. q is
// the read transaction of the list (the company's time zone is read in it
// for a consent filter).
func (s *Service) queryFilter(ctx context.Context, q querier, text, tenantID string, arg func(any) string) (string, error) {
	parsed, err := search.Parse(text)
	if err != nil {
		return "", err
	}
	if len(parsed.Text) == 0 && len(parsed.Filters) == 0 {
		return "", errNoTerms
	}
	var conds []string
	if m := s.index().Match(parsed.AsYouType(), tenantID, "a.candidate_id", arg); m != "" {
		conds = append(conds, m)
	}
	// The notice period of consent:expiring runs on the company's calendar.
	w := window{now: db.Time(s.now())}
	for _, fc := range parsed.Filters {
		for _, f := range fc.Any {
			if f.Field == search.FieldConsent && w.loc == nil {
				if w.loc, err = companyLocation(ctx, q, tenantID); err != nil {
					return "", err
				}
			}
		}
	}
	for _, fc := range parsed.Filters {
		var any []string
		for _, f := range fc.Any {
			c, err := filterCondition(f, arg, w)
			if err != nil {
				return "", err
			}
			any = append(any, c)
		}
		c := "(" + strings.Join(any, " OR ") + ")"
		if fc.Not {
			c = "NOT " + c
		}
		conds = append(conds, c)
	}
	return strings.Join(conds, " AND "), nil
}

// window is the moment a query is run at and the company's time zone.
type window struct {
	now time.Time
	loc *time.Location
}

// filterCondition is one field filter as an SQL condition on a.
func filterCondition(f search.Filter, arg func(any) string, w window) (string, error) {
	switch f.Field {
	case search.FieldStage:
		stage := access.StageKind(strings.ToLower(f.Value))
		if !slices.Contains(access.StageKinds, stage) {
			return "", &search.QueryError{Key: "search.error.unknown_stage"}
		}
		return "a.stage = " + arg(string(stage)), nil
	case search.FieldLabel:
		label, ok := cleanLabel(f.Value)
		if !ok {
			return "FALSE", nil
		}
		return "a.id IN (SELECT l.application_id FROM application_labels l WHERE l.tenant_id = $1 AND l.label = " + arg(label) + ")", nil
	case search.FieldSource:
		return "a.source = " + arg(cleanSource(f.Value)), nil
	case search.FieldPosition:
		pattern := "%" + likeEscape(strings.ToLower(f.Value)) + "%"
		return "a.position_id IN (SELECT pt.id FROM positions pt WHERE pt.tenant_id = $1 AND lower(pt.title) LIKE " + arg(pattern) + " ESCAPE '\\')", nil
	case search.FieldApplied:
		var c []string
		if !f.Applied.From.IsZero() {
			c = append(c, "a.created_at >= "+arg(f.Applied.From))
		}
		if !f.Applied.To.IsZero() {
			c = append(c, "a.created_at < "+arg(f.Applied.To))
		}
		if len(c) == 0 {
			return "TRUE", nil
		}
		return strings.Join(c, " AND "), nil
	case search.FieldConsent:
		// The candidate's bases (basis.go): a consent in force, none, or
		// bases that end within the notice period, counted on the
		// company's calendar (Bases.EndsWithin; ended ones too, until the
		// daily sweep erases them), from candidates_basis.
		switch f.Consent {
		case search.ConsentValid:
			return "a.candidate_id IN (SELECT cs.id FROM candidates cs WHERE cs.tenant_id = $1 AND cs.consent_until > " + arg(w.now) + ")", nil
		case search.ConsentNone:
			return "a.candidate_id NOT IN (SELECT cs.id FROM candidates cs WHERE cs.tenant_id = $1 AND cs.consent_until > " + arg(w.now) + ")", nil
		}
		return "a.candidate_id IN (SELECT cs.id FROM candidates cs WHERE cs.tenant_id = $1 AND cs.basis_until < " + arg(NoticeHorizon(w.now, w.loc)) + ")", nil
	case search.FieldSkill:
		// A skill whose folded name is the value, or starts with it when
		// the value ends in *: the company's vocabulary is small, the
		// candidates are found through candidate_skills_by_skill.
		folded, prefix := foldedFilter(f.Value)
		var cond string
		if prefix {
			cond = "substr(s.folded, 1, " + arg(utf8.RuneCountInString(folded)) + ") = " + arg(folded)
		} else {
			cond = "s.folded = " + arg(folded)
		}
		return "a.candidate_id IN (SELECT cs.candidate_id FROM skills s JOIN candidate_skills cs ON cs.tenant_id = s.tenant_id AND cs.skill_id = s.id WHERE s.tenant_id = $1 AND " + cond + ")", nil
	case search.FieldCity:
		// The city folded as stored (candidates_city), or its start.
		folded, prefix := foldedFilter(f.Value)
		var cond string
		if prefix {
			cond = "c.city_folded >= " + arg(folded) + " AND c.city_folded < " + arg(folded+"\U0010FFFF")
		} else {
			cond = "c.city_folded = " + arg(folded)
		}
		return "a.candidate_id IN (SELECT c.id FROM candidates c WHERE c.tenant_id = $1 AND " + cond + ")", nil
	}
	return "", &search.QueryError{Key: "search.error.field_unavailable", Args: []any{"field", string(f.Field)}}
}

// foldedFilter is a filter value folded as the index folds, and whether it
// asks for a prefix (a trailing * after at least search.MinPrefixRunes).
func foldedFilter(v string) (string, bool) {
	if rest, ok := strings.CutSuffix(v, "*"); ok && utf8.RuneCountInString(search.Fold(rest)) >= search.MinPrefixRunes {
		return search.Fold(rest), true
	}
	return search.Fold(v), false
}

// likeEscape escapes LIKE's wildcards in s (the escape character is \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
