package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/filetype"
)

// States of a document's text (documents.text_state).
const (
	TextPending = "pending"
	TextDone    = "done"
	TextFailed  = "failed"
	TextNone    = "none"
)

// maxTextAttempts is how often a document is tried before it is marked
// failed: each try is counted before it starts, so a document that brings
// the worker down is not tried for ever.
const maxTextAttempts = 3

// textClaim is how long a worker holds a document it is reading: longer
// than any extraction may take (extract's timeout is 30 seconds), so a
// claim lapses only when its worker is gone.
const textClaim = 5 * time.Minute

// Extractor reads the text of a document (internal/extract).
type Extractor interface {
	Text(ctx context.Context, t filetype.Type, data []byte) (extract.Result, error)
}

// pendingText is a document whose text is still to be extracted.
type pendingText struct {
	tenantID, id string
	fileType     filetype.Type
	key          []byte
}

// ExtractTexts extracts the text of up to batch documents still pending,
// oldest first, across companies (a job's sweep), and returns how many it
// settled. A document that cannot be read (damaged, too large, too slow,
// encrypted) is marked failed with the reason, an image none; only when
// ctx ends does a document stay pending, to be tried again.
func (s *Service) ExtractTexts(ctx context.Context, x Extractor, batch int) (int, error) {
	var docs []pendingText
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, file_type, object_key FROM documents
			WHERE text_state = 'pending' AND (text_claimed_until IS NULL OR text_claimed_until < $2)
			ORDER BY created_at, tenant_id, id LIMIT $1`, batch, s.now())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d pendingText
			var t string
			if err := rows.Scan(&d.tenantID, &d.id, &t, &d.key); err != nil {
				return err
			}
			d.fileType = filetype.Type(t)
			docs = append(docs, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("read pending documents: %w", err)
	}
	n := 0
	for _, d := range docs {
		if err := s.extractOne(ctx, x, d); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// extractOne claims a document with a conditional write (so two workers
// never both extract it, and the attempt is counted before the work),
// extracts its text, stores it encrypted and settles the row.
func (s *Service) extractOne(ctx context.Context, x Extractor, d pendingText) error {
	claimed := false
	err := s.db.InTx(ctx, d.tenantID, func(tx *sql.Tx) error {
		if d.fileType == filetype.JPEG || d.fileType == filetype.PNG {
			_, err := tx.ExecContext(ctx, `UPDATE documents SET text_state = 'none' WHERE tenant_id = $1 AND id = $2 AND text_state = 'pending'`, d.tenantID, d.id)
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET text_state = 'failed', text_error = 'attempts'
			WHERE tenant_id = $1 AND id = $2 AND text_state = 'pending' AND text_attempts >= $3
			AND (text_claimed_until IS NULL OR text_claimed_until < $4)`, d.tenantID, d.id, maxTextAttempts, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE documents SET text_attempts = text_attempts + 1, text_claimed_until = $4
			WHERE tenant_id = $1 AND id = $2 AND text_state = 'pending' AND text_attempts < $3
			AND (text_claimed_until IS NULL OR text_claimed_until < $5)`, d.tenantID, d.id, maxTextAttempts, now.Add(textClaim), now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	if err != nil || !claimed {
		return err
	}
	data, err := s.career.Blobs.ReadAll(ctx, d.tenantID, d.id, d.key)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.settleText(ctx, d, TextFailed, "unreadable", nil, extract.Result{})
	}
	res, err := x.Text(ctx, d.fileType, data)
	if err != nil {
		if reason := failure(err); reason != "" {
			return s.settleText(ctx, d, TextFailed, reason, nil, res)
		}
		return err // the caller's context ended, or the extractor could not start: try again later
	}
	obj, err := s.career.Blobs.Put(ctx, d.tenantID, textObject(d.id), bytes.NewReader([]byte(res.Text)), 0)
	if err != nil {
		return fmt.Errorf("store document text: %w", err)
	}
	return s.settleText(ctx, d, TextDone, "", obj.Key, res)
}

// failure names a permanent failure of extraction, "" for one worth another try.
func failure(err error) string {
	switch {
	case errors.Is(err, extract.ErrTimeout):
		return "timeout"
	case errors.Is(err, extract.ErrTooLarge):
		return "too_large"
	case errors.Is(err, extract.ErrEncrypted):
		return "encrypted"
	case errors.Is(err, extract.ErrDamaged):
		return "damaged"
	case errors.Is(err, extract.ErrUnsupported):
		return "unsupported"
	}
	return ""
}

// textObject names a document's text in the file store.
func textObject(documentID string) string { return documentID + "-text" }

// settleText writes the outcome, if the document is still there and
// pending; the stored text of a document deleted meanwhile is removed.
func (s *Service) settleText(ctx context.Context, d pendingText, state, reason string, key []byte, res extract.Result) error {
	settled := false
	err := s.db.InTx(ctx, d.tenantID, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE documents SET text_state = $3, text_error = $4, text_key = $5, text_pages = $6, text_truncated = $7, text_claimed_until = NULL
			WHERE tenant_id = $1 AND id = $2 AND text_state = 'pending'`, d.tenantID, d.id, state, reason, key, res.Pages, res.Truncated)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		settled = n == 1
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle document text: %w", err)
	}
	if !settled && key != nil {
		_ = s.career.Blobs.Delete(context.WithoutCancel(ctx), d.tenantID, textObject(d.id))
	}
	return nil
}

// DocumentText is the extracted text of a document, with how extraction went.
type DocumentText struct {
	Document
	State, Error string
	Text         string
	Pages        int
	Truncated    bool
}

// TextOf returns the extracted text of a document the actor may see (as
// for downloading it: the read is written to the security log).
func (s *Service) TextOf(ctx context.Context, a access.Actor, documentID string) (*DocumentText, error) {
	var dt DocumentText
	var key []byte
	d, err := s.readDocument(ctx, a, documentID, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT text_state, text_error, text_key, text_pages, text_truncated FROM documents WHERE tenant_id = $1 AND id = $2`,
			a.TenantID, documentID).Scan(&dt.State, &dt.Error, &key, &dt.Pages, &dt.Truncated)
	})
	if err != nil {
		return nil, err
	}
	dt.Document = *d
	if dt.State == TextDone && key != nil {
		b, err := s.career.Blobs.ReadAll(ctx, a.TenantID, textObject(documentID), key)
		if err != nil {
			return nil, fmt.Errorf("read document text: %w", err)
		}
		dt.Text = string(b)
	}
	return &dt, nil
}
