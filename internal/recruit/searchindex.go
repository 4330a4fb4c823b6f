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
	// The entries are gathered one by one, then written a company at a
	// time in one transaction: a commit per candidate would cost more
	// than the entry itself.
	taken := len(todo)
	for len(todo) > 0 {
		n := 1
		for n < len(todo) && todo[n].tenantID == todo[0].tenantID {
			n++
		}
		if err := s.indexBatch(ctx, todo[:n]); err != nil {
			return 0, err
		}
		todo = todo[n:]
	}
	return taken, nil
}

// indexBatch rewrites the entries of queued candidates of one company (or
// removes them, for candidates gone) and takes them off the queue, in one
// transaction.
func (s *Service) indexBatch(ctx context.Context, batch []queued) error {
	entries := make([]*search.Entry, len(batch))
	for i, q := range batch {
		e, err := s.entryOf(ctx, q.tenantID, q.candidateID)
		if err != nil {
			return err
		}
		entries[i] = e
	}
	tenantID := batch[0].tenantID
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		x := s.index()
		for i, q := range batch {
			var err error
			if entries[i] == nil {
				err = x.Delete(ctx, tx, tenantID, q.candidateID)
			} else {
				// A candidate erased since being read fails the batch, which
				// stays queued: the next round finds them gone.
				err = x.Put(ctx, tx, tenantID, q.candidateID, *entries[i])
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM search_queue WHERE tenant_id = $1 AND candidate_id = $2 AND version = $3`,
				tenantID, q.candidateID, q.version); err != nil {
				return err
			}
		}
		return nil
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
		var name, email, phone, title, employer, city string
		err := tx.QueryRowContext(ctx, `SELECT name, email, phone, title, employer, city FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, candidateID).
			Scan(&name, &email, &phone, &title, &employer, &city)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		e.Name = []string{name, email, phone}
		// The profile: the current title and employer weigh as tags do,
		// the city as a note (a CV names cities too).
		for _, v := range []string{title, employer} {
			if v != "" {
				e.Tags = append(e.Tags, v)
			}
		}
		if city != "" {
			e.Notes = append(e.Notes, city)
		}
		// One statement for the rest: each statement is prepared anew,
		// and preparing costs more than these reads.
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT 't', p.title FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2
			UNION ALL SELECT DISTINCT 't', l.label FROM application_labels l JOIN applications a ON a.tenant_id = l.tenant_id AND a.id = l.application_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2
			UNION ALL SELECT 't', s.name FROM candidate_skills cs JOIN skills s ON s.tenant_id = cs.tenant_id AND s.id = cs.skill_id
				WHERE cs.tenant_id = $1 AND cs.candidate_id = $2
			UNION ALL SELECT 'n', c.body FROM comments c JOIN applications a ON a.tenant_id = c.tenant_id AND a.id = c.application_id
				WHERE a.tenant_id = $1 AND a.candidate_id = $2`, tenantID, candidateID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var kind, v string
			if err := rows.Scan(&kind, &v); err != nil {
				rows.Close()
				return err
			}
			if kind == "t" {
				e.Tags = append(e.Tags, v)
			} else {
				e.Notes = append(e.Notes, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT id, text_key FROM documents WHERE tenant_id = $1 AND candidate_id = $2 AND text_state = 'done' AND text_key IS NOT NULL`,
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
