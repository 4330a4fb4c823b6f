package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/search"
)

// The full-text index (internal/search) is fed from search_queue: triggers
// on the tables it covers queue a candidate in the transaction of each
// change, and IndexQueued rewrites their entries moments later.

// queued is a candidate waiting for its entry, at the version read.
type queued struct {
	tenantID, candidateID string
	version               int64
}

func (s *Service) index() *search.Index { return search.NewIndex(s.db.Engine) }

// IndexQueued rewrites the entries of up to batch queued candidates, across
// companies, and returns how many it took from the queue. A candidate
// changed again while being indexed stays queued for the next round.
func (s *Service) IndexQueued(ctx context.Context, batch int) (int, error) {
	var todo []queued
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, candidate_id, version FROM search_queue ORDER BY tenant_id, candidate_id LIMIT $1`, batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var q queued
			if err := rows.Scan(&q.tenantID, &q.candidateID, &q.version); err != nil {
				return err
			}
			todo = append(todo, q)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("read the search queue: %w", err)
	}
	for _, q := range todo {
		if err := s.indexOne(ctx, q); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// indexOne rewrites one candidate's entry (or removes it, when the
// candidate is gone) and takes them off the queue, in one transaction.
func (s *Service) indexOne(ctx context.Context, q queued) error {
	entry, err := s.entryOf(ctx, q.tenantID, q.candidateID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, q.tenantID, func(tx *sql.Tx) error {
		x := s.index()
		var err error
		if entry == nil {
			err = x.Delete(ctx, tx, q.tenantID, q.candidateID)
		} else if err = x.Put(ctx, tx, q.tenantID, q.candidateID, *entry); errors.Is(err, db.ErrForeignKeyViolation) {
			err = nil // erased while being read
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM search_queue WHERE tenant_id = $1 AND candidate_id = $2 AND version = $3`,
			q.tenantID, q.candidateID, q.version)
		return err
	})
}

// entryOf gathers what the index covers of a candidate, nil when the
// candidate is gone. Private notes stay out: their author alone may read
// them, and a search must not tell others what they say.
func (s *Service) entryOf(ctx context.Context, tenantID, candidateID string) (*search.Entry, error) {
	var e search.Entry
	type textDoc struct {
		id  string
		key []byte
	}
	var docs []textDoc
	found := false
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var name, email, phone string
		err := tx.QueryRowContext(ctx, `SELECT name, email, phone FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, candidateID).Scan(&name, &email, &phone)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		e.Name = []string{name, email, phone}
		for _, part := range []struct {
			q  string
			to *[]string
		}{
			{`SELECT DISTINCT p.title FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2`, &e.Tags},
			{`SELECT DISTINCT l.label FROM application_labels l JOIN applications a ON a.tenant_id = l.tenant_id AND a.id = l.application_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2`, &e.Tags},
			{`SELECT c.body FROM comments c JOIN applications a ON a.tenant_id = c.tenant_id AND a.id = c.application_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2`, &e.Notes},
		} {
			if err := collect(ctx, tx, part.q, []any{tenantID, candidateID}, part.to); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, text_key FROM documents WHERE tenant_id = $1 AND candidate_id = $2 AND text_state = 'done' AND text_key IS NOT NULL`,
			tenantID, candidateID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d textDoc
			if err := rows.Scan(&d.id, &d.key); err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read candidate for the index: %w", err)
	}
	if !found {
		return nil, nil
	}
	for _, d := range docs {
		b, err := s.career.Blobs.ReadAll(ctx, tenantID, textObject(d.id), d.key)
		if err != nil {
			return nil, fmt.Errorf("read document text for the index: %w", err)
		}
		e.Documents = append(e.Documents, string(b))
	}
	return &e, nil
}

// collect appends the single text column of every row of q to out.
func collect(ctx context.Context, tx *sql.Tx, q string, args []any, out *[]string) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

// Reindex queues every candidate of a company ("" for every company) and
// rewrites their entries, online: pages keep working, changes made
// meanwhile are queued by their triggers as usual. progress, when not nil,
// is told how many are done of how many were queued.
func (s *Service) Reindex(ctx context.Context, tenantID string, progress func(done, total int)) (int, error) {
	scope, where, args := db.Installation, "", []any{}
	if tenantID != "" {
		scope, where, args = tenantID, " WHERE tenant_id = $1", []any{tenantID}
	}
	var total int
	err := s.db.InTx(ctx, scope, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO search_queue (tenant_id, candidate_id) SELECT tenant_id, id FROM candidates`+where+`
			ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = search_queue.version + 1`, args...); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM search_queue`+where, args...).Scan(&total)
	})
	if err != nil {
		return 0, fmt.Errorf("queue candidates for the index: %w", err)
	}
	done := 0
	for {
		n, err := s.IndexQueued(ctx, 500)
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, nil
		}
		done += n
		if progress != nil {
			progress(min(done, total), total)
		}
	}
}
