package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kandidat/kandidat/internal/db"
)

// Entry is what the index knows of a candidate, as text in any language
// and case: each part is folded into words here.
type Entry struct {
	// Name is the candidate's name, email and phone.
	Name []string
	// Tags are skills, labels and the titles of positions applied to.
	Tags []string
	// Notes are notes and comments.
	Notes []string
	// Documents is the text read from the candidate's documents.
	Documents []string
}

// Index is the full-text index of a company's candidates: SQLite FTS5 or
// PostgreSQL's tsvector with GIN, behind the same methods. Writes take the
// caller's transaction, so the index changes with what it indexes.
type Index struct {
	engine db.Engine
}

// NewIndex returns the index of the database's engine.
func NewIndex(engine db.Engine) *Index { return &Index{engine: engine} }

// tenantShift places a company's rows of the SQLite index: company number
// n owns the rowids from n << tenantShift up, so a query restricted to
// that range reads only the company's postings of each word.
const tenantShift = 32

// tenantRange is the SQL condition that keeps an FTS5 query (on the table
// named t) to the company's rowids; tenant is the company id's placeholder.
func tenantRange(t, tenant string) string {
	lo := `(SELECT st.number FROM search_tenants st WHERE st.tenant_id = ` + tenant + `) * 4294967296`
	return t + `.rowid >= ` + lo + ` AND ` + t + `.rowid < ` + lo + ` + 4294967296`
}

// words folds parts into the index's words, space-separated.
func words(parts []string) string {
	var all []string
	for _, p := range parts {
		all = append(all, Terms(p)...)
	}
	return strings.Join(all, " ")
}

// Put replaces the candidate's entry in the caller's transaction.
func (x *Index) Put(ctx context.Context, tx *sql.Tx, tenantID, candidateID string, e Entry) error {
	name, tags, notes, docs := words(e.Name), words(e.Tags), words(e.Notes), words(e.Documents)
	// The stems of each document in its language (stem.go).
	var stems []string
	for _, d := range e.Documents {
		stems = append(stems, DocumentStems(d)...)
	}
	if x.engine == db.Postgres {
		var docID int64
		err := tx.QueryRowContext(ctx, `INSERT INTO candidate_search (tenant_id, candidate_id) VALUES ($1, $2)
			ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET tenant_id = excluded.tenant_id RETURNING doc_id`, tenantID, candidateID).Scan(&docID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO candidate_search_words (doc_id, body) VALUES ($1,
				setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'B') ||
				setweight(to_tsvector('simple', $4), 'C') || setweight(to_tsvector('simple', $5), 'D'))
				ON CONFLICT (doc_id) DO UPDATE SET body = excluded.body`, docID, name, tags, notes, strings.TrimSpace(docs+" "+strings.Join(stems, " ")))
		}
		if err != nil {
			return fmt.Errorf("index candidate: %w", err)
		}
		return nil
	}
	var rowID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM candidate_search_docs WHERE tenant_id = $1 AND candidate_id = $2`, tenantID, candidateID).Scan(&rowID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		rowID, err = x.newRow(ctx, tx, tenantID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO candidate_search_docs (id, tenant_id, candidate_id) VALUES ($1, $2, $3)`, rowID, tenantID, candidateID)
		}
	case err == nil:
		_, err = tx.ExecContext(ctx, `DELETE FROM candidate_search WHERE rowid = $1`, rowID)
	}
	if err != nil {
		return fmt.Errorf("index candidate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_search (rowid, name, tags, notes, documents, stems) VALUES ($1, $2, $3, $4, $5, $6)`,
		rowID, name, tags, notes, docs, strings.Join(stems, " ")); err != nil {
		return fmt.Errorf("index candidate: %w", err)
	}
	return nil
}

// newRow allocates the next rowid of the company's range, numbering the
// company on its first entry.
func (x *Index) newRow(ctx context.Context, tx *sql.Tx, tenantID string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO search_tenants (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING`, tenantID); err != nil {
		return 0, err
	}
	var number int64
	if err := tx.QueryRowContext(ctx, `SELECT number FROM search_tenants WHERE tenant_id = $1`, tenantID).Scan(&number); err != nil {
		return 0, err
	}
	lo, hi := number<<tenantShift, (number+1)<<tenantShift
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), $1) FROM candidate_search_docs WHERE id >= $1 AND id < $2`, lo, hi).Scan(&last); err != nil {
		return 0, err
	}
	if last+1 >= hi {
		return 0, errors.New("the company's range of the search index is full")
	}
	return last + 1, nil
}

// Delete removes the candidate's entry, in the caller's transaction.
func (x *Index) Delete(ctx context.Context, tx *sql.Tx, tenantID, candidateID string) error {
	table := "candidate_search_docs" // its trigger removes the words
	if x.engine == db.Postgres {
		table = "candidate_search"
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND candidate_id = $2`, tenantID, candidateID); err != nil {
		return fmt.Errorf("remove candidate from the index: %w", err)
	}
	return nil
}

// Match is an SQL condition on a candidate id column (col) that holds for
// the candidates of the company whose entry matches q's text. Every value
// goes through arg, which binds it and returns its placeholder. It is ""
// when q has no text: the caller applies its filters alone.
func (x *Index) Match(q *Query, tenantID, col string, arg func(any) string) string {
	if x.engine == db.Postgres {
		expr := q.TSQuery()
		if expr == "" {
			return ""
		}
		return col + ` IN (SELECT cs.candidate_id FROM candidate_search_words w JOIN candidate_search cs ON cs.doc_id = w.doc_id
			WHERE w.body @@ to_tsquery('simple', ` + arg(expr) + `) AND cs.tenant_id = ` + arg(tenantID) + `)`
	}
	expr := q.FTS5()
	if expr == "" {
		return ""
	}
	tenant := arg(tenantID)
	return col + ` IN (SELECT d.candidate_id FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
		WHERE candidate_search MATCH ` + arg(expr) + ` AND ` + tenantRange("candidate_search", tenant) + ` AND d.tenant_id = ` + tenant + `)`
}

// PlanForValues prepares a transaction for a query of the index on
// PostgreSQL: statements run as cached prepared statements, which after a
// few runs get a plan made without their values, and a match of unknown
// words is then planned as a read of every entry (47 ms instead of 2.4 at
// 100,000 candidates). It plans the transaction's statements for the
// words given; nothing to do on SQLite.
func (x *Index) PlanForValues(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) error {
	if x.engine != db.Postgres {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return rows.Close()
}

// Hit is a candidate found, with the engine's relevance (higher is better).
type Hit struct {
	CandidateID string
	Score       float64
}

// Ranked returns the company's candidates whose entry matches q's text,
// best first, at most limit: a word in the name counts most, then in
// skills, labels and positions, then notes, then documents.
func (x *Index) Ranked(ctx context.Context, tx *sql.Tx, tenantID string, q *Query, limit int) ([]Hit, error) {
	var rows *sql.Rows
	var err error
	if x.engine == db.Postgres {
		expr := q.TSQuery()
		if expr == "" {
			return nil, nil
		}
		if err := x.PlanForValues(ctx, tx); err != nil {
			return nil, err
		}
		// The query is written twice, not joined from a function: a
		// constant on the right of @@ is what lets the GIN index serve it.
		rows, err = tx.QueryContext(ctx, `SELECT cs.candidate_id, ts_rank('{0.1, 0.3, 0.6, 1.0}', w.body, to_tsquery('simple', $2)) AS score
			FROM candidate_search_words w JOIN candidate_search cs ON cs.doc_id = w.doc_id
			WHERE w.body @@ to_tsquery('simple', $2) AND cs.tenant_id = $1 ORDER BY score DESC, cs.candidate_id LIMIT $3`, tenantID, expr, limit)
	} else {
		expr := q.FTS5()
		if expr == "" {
			return nil, nil
		}
		// bm25 is lower for better matches; weights per column: name,
		// tags, notes, documents, and none for the documents' stems. A
		// stem finds a document; it does not rank it: a stem is rarer
		// than each of its words, and would outweigh the word itself.
		rows, err = tx.QueryContext(ctx, `SELECT d.candidate_id, -bm25(candidate_search, 10.0, 5.0, 2.0, 1.0, 0.0) AS score
			FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
			WHERE candidate_search MATCH $2 AND `+tenantRange("candidate_search", "$1")+` AND d.tenant_id = $1
			ORDER BY score DESC, d.candidate_id LIMIT $3`, tenantID, expr, limit)
	}
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
