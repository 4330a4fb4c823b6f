package search

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kandidat/kandidat/internal/db"
)

// Matching a position to the company's pool asks the index a different
// question than a recruiter's search: not "which entries hold every word"
// but "which entries hold the most of these words, and the rarest", an OR
// of many terms ranked by the engine (bm25 or ts_rank), and then, for the
// few best, which of the terms each one holds.

// AnyOf returns a query whose text matches an entry holding any of texts:
// one clause whose alternatives are the texts folded, each a word or, when
// it folds to several ("project management"), a phrase. Texts that fold to
// nothing and repeats are left out; the query has no text when none is
// left.
func AnyOf(texts []string) *Query {
	var c Clause
	seen := map[string]bool{}
	for _, t := range texts {
		terms := Terms(t)
		key := strings.Join(terms, " ")
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		c.Any = append(c.Any, Phrase{Terms: terms})
	}
	if len(c.Any) == 0 {
		return &Query{}
	}
	return &Query{Text: []Clause{c}}
}

// Where is an SQL condition on a candidate id column, written by the
// caller: col is the column, arg binds a value and returns its
// placeholder. The company's id is always $1.
type Where func(col string, arg func(any) string) string

// RankedWhere is Ranked restricted to the candidates for which where holds
// (who the user may see, say), so that the limit counts only those: the
// best limit of them, best first.
func (x *Index) RankedWhere(ctx context.Context, tx *sql.Tx, tenantID string, q *Query, limit int, where Where) ([]Hit, error) {
	args := []any{tenantID, nil, limit}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var query string
	if x.engine == db.Postgres {
		expr := q.TSQuery()
		if expr == "" {
			return nil, nil
		}
		args[1] = expr
		if err := x.PlanForValues(ctx, tx); err != nil {
			return nil, err
		}
		query = `SELECT cs.candidate_id, ts_rank('{0.1, 0.3, 0.6, 1.0}', w.body, to_tsquery('simple', $2)) AS score
			FROM candidate_search_words w JOIN candidate_search cs ON cs.doc_id = w.doc_id
			WHERE w.body @@ to_tsquery('simple', $2) AND cs.tenant_id = $1 AND ` + where("cs.candidate_id", arg) + `
			ORDER BY score DESC, cs.candidate_id LIMIT $3`
	} else {
		expr := q.FTS5()
		if expr == "" {
			return nil, nil
		}
		args[1] = expr
		query = `SELECT d.candidate_id, -bm25(candidate_search, 10.0, 5.0, 2.0, 1.0) AS score
			FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
			WHERE candidate_search MATCH $2 AND ` + tenantRange("candidate_search", "$1") + ` AND d.tenant_id = $1 AND ` + where("d.candidate_id", arg) + `
			ORDER BY score DESC, d.candidate_id LIMIT $3`
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.CandidateID, &h.Score); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// MaxExplained bounds the candidates TermsOf explains at once.
const MaxExplained = 200

// explainedPerStatement bounds the texts one statement of TermsOf tries:
// SQLite joins at most 500 SELECTs by UNION ALL. A position's terms (its
// title's and 20 of its description's) fit in one.
const explainedPerStatement = 100

// TermsOf tells, for each of the candidates named (at most MaxExplained),
// which of texts their entry holds, each text matched as AnyOf folds it
// (with its stems), in one statement: on PostgreSQL each candidate's
// entry is read once and every text's tsquery tried on it; on SQLite,
// whose contentless index cannot give an entry's words back, each text's
// postings within the company are read once and joined to the candidates
// named, the texts' reads joined by UNION ALL. The result maps a
// candidate to the texts matched, in the order given.
func (x *Index) TermsOf(ctx context.Context, tx *sql.Tx, tenantID string, texts, candidateIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(candidateIDs))
	if len(candidateIDs) == 0 {
		return out, nil
	}
	if len(candidateIDs) > MaxExplained {
		return nil, fmt.Errorf("search: %d candidates to explain, at most %d", len(candidateIDs), MaxExplained)
	}
	if err := x.PlanForValues(ctx, tx); err != nil {
		return nil, err
	}
	holds := map[string][]bool{} // by candidate, whether each text is held
	for from := 0; from < len(texts); from += explainedPerStatement {
		to := min(from+explainedPerStatement, len(texts))
		if err := x.holding(ctx, tx, tenantID, texts[from:to], from, candidateIDs, func(c string, i int) {
			if holds[c] == nil {
				holds[c] = make([]bool, len(texts))
			}
			holds[c][i] = true
		}); err != nil {
			return nil, err
		}
	}
	for c, found := range holds {
		for i, ok := range found {
			if ok {
				out[c] = append(out[c], texts[i])
			}
		}
	}
	return out, nil
}

// holding runs TermsOf's statement for texts, which start at texts[from]
// of its own, and tells hold each candidate that holds a text, by the
// text's place in TermsOf's.
func (x *Index) holding(ctx context.Context, tx *sql.Tx, tenantID string, texts []string, from int, candidateIDs []string, hold func(c string, i int)) error {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := make([]string, len(candidateIDs))
	for i, c := range candidateIDs {
		in[i] = arg(c)
	}
	named := strings.Join(in, ", ")
	var asked []int // the places of the texts tried: a text that folds to nothing is not
	var query string
	if x.engine == db.Postgres {
		var tries []string
		for i, t := range texts {
			if expr := AnyOf([]string{t}).TSQuery(); expr != "" {
				asked = append(asked, from+i)
				tries = append(tries, `w.body @@ to_tsquery('simple', `+arg(expr)+`)`)
			}
		}
		if len(asked) == 0 {
			return nil
		}
		query = `SELECT cs.candidate_id, ` + strings.Join(tries, ", ") + ` FROM candidate_search cs JOIN candidate_search_words w ON w.doc_id = cs.doc_id
			WHERE cs.tenant_id = $1 AND cs.candidate_id IN (` + named + `)`
	} else {
		// Each text's postings within the company, read once, joined to
		// the candidates named. (Driving from the candidates instead, a
		// seek of each rowid in the postings, measured twenty times slower
		// at 100,000 candidates: FTS5 reads a common word's postings again
		// for every seek.)
		var reads []string
		for i, t := range texts {
			if expr := AnyOf([]string{t}).FTS5(); expr != "" {
				reads = append(reads, fmt.Sprintf(`SELECT %d, d.candidate_id FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
				WHERE candidate_search MATCH %s AND %s AND d.tenant_id = $1 AND d.candidate_id IN (%s)`,
					len(asked), arg(expr), tenantRange("candidate_search", "$1"), named))
				asked = append(asked, from+i)
			}
		}
		if len(asked) == 0 {
			return nil
		}
		query = strings.Join(reads, "\nUNION ALL ")
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if x.engine == db.Postgres {
			found := make([]bool, len(asked))
			dest := []any{&c}
			for k := range found {
				dest = append(dest, &found[k])
			}
			if err := rows.Scan(dest...); err != nil {
				return fmt.Errorf("search: %w", err)
			}
			for k, ok := range found {
				if ok {
					hold(c, asked[k])
				}
			}
			continue
		}
		var k int
		if err := rows.Scan(&k, &c); err != nil {
			return fmt.Errorf("search: %w", err)
		}
		hold(c, asked[k])
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}
