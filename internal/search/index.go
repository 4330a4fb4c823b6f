package search

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

// tenantWord is the word that names a company in the index: letters and
// digits only, so both engines keep it as one word, and no folded word of
// a document can be it (words are at most MaxTermBytes long; this is longer).
func tenantWord(tenantID string) string {
	sum := sha256.Sum256([]byte("kandidat.search/" + tenantID))
	return "zzcompany" + hex.EncodeToString(sum[:])
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
	if x.engine == db.Postgres {
		_, err := tx.ExecContext(ctx, `INSERT INTO candidate_search (tenant_id, candidate_id, body) VALUES ($1, $2,
			to_tsvector('simple', $3) || setweight(to_tsvector('simple', $4), 'A') || setweight(to_tsvector('simple', $5), 'B') ||
			setweight(to_tsvector('simple', $6), 'C') || setweight(to_tsvector('simple', $7), 'D'))
			ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET body = excluded.body`,
			tenantID, candidateID, tenantWord(tenantID), name, tags, notes, docs)
		if err != nil {
			return fmt.Errorf("index candidate: %w", err)
		}
		return nil
	}
	var rowID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM candidate_search_docs WHERE tenant_id = $1 AND candidate_id = $2`, tenantID, candidateID).Scan(&rowID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRowContext(ctx, `INSERT INTO candidate_search_docs (tenant_id, candidate_id) VALUES ($1, $2) RETURNING id`,
			tenantID, candidateID).Scan(&rowID)
	case err == nil:
		_, err = tx.ExecContext(ctx, `DELETE FROM candidate_search WHERE rowid = $1`, rowID)
	}
	if err != nil {
		return fmt.Errorf("index candidate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_search (rowid, tenant, name, tags, notes, documents) VALUES ($1, $2, $3, $4, $5, $6)`,
		rowID, tenantWord(tenantID), name, tags, notes, docs); err != nil {
		return fmt.Errorf("index candidate: %w", err)
	}
	return nil
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
		return col + ` IN (SELECT cs.candidate_id FROM candidate_search cs WHERE cs.tenant_id = ` + arg(tenantID) +
			` AND cs.body @@ to_tsquery('simple', ` + arg(pgQuery(tenantID, expr)) + `))`
	}
	expr := q.FTS5()
	if expr == "" {
		return ""
	}
	return col + ` IN (SELECT d.candidate_id FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
		WHERE candidate_search MATCH ` + arg(ftsQuery(tenantID, expr)) + ` AND d.tenant_id = ` + arg(tenantID) + `)`
}

func pgQuery(tenantID, expr string) string { return "'" + tenantWord(tenantID) + "' & (" + expr + ")" }

func ftsQuery(tenantID, expr string) string {
	return `tenant : "` + tenantWord(tenantID) + `" AND ` + expr
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
		// The company's word finds the entries; the rank reads the user's
		// words alone (ts_rank weighs how near the words of an AND are).
		rows, err = tx.QueryContext(ctx, `SELECT candidate_id, ts_rank('{0.1, 0.3, 0.6, 1.0}', body, to_tsquery('simple', $4)) AS score
			FROM candidate_search
			WHERE tenant_id = $1 AND body @@ to_tsquery('simple', $2) ORDER BY score DESC, candidate_id LIMIT $3`, tenantID, pgQuery(tenantID, expr), limit, expr)
	} else {
		expr := q.FTS5()
		if expr == "" {
			return nil, nil
		}
		// bm25 is lower for better matches; weights per column: tenant, name, tags, notes, documents.
		rows, err = tx.QueryContext(ctx, `SELECT d.candidate_id, -bm25(candidate_search, 0.0, 10.0, 5.0, 2.0, 1.0) AS score
			FROM candidate_search JOIN candidate_search_docs d ON d.id = candidate_search.rowid
			WHERE candidate_search MATCH $2 AND d.tenant_id = $1 ORDER BY score DESC, d.candidate_id LIMIT $3`, tenantID, ftsQuery(tenantID, expr), limit)
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
