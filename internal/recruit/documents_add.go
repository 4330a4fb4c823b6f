package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/id"
)

// MaxDocuments bounds the documents of one application (the card lists
// them all): what the career form brought and what colleagues added.
const MaxDocuments = 20

// ErrTooManyDocuments: the application holds MaxDocuments already.
var ErrTooManyDocuments = fault.NewField(fault.ErrConflict, "file", "too many documents", "error.too_many_documents")

// DocumentUpload is a document a colleague adds to an application (the
// API's upload): its name as sent, its kind and its bytes.
type DocumentUpload struct {
	Name string
	// Kind is "cv" or "attachment" ("" for an attachment).
	Kind string
	// Data is read up to MaxFileBytes; a longer file is refused.
	Data io.Reader
}

// AddDocument adds a document to an application, for a colleague who may
// work on it (MoveStage, as the card's other changes of the candidate).
// Like the career form's documents it is checked by content (images lose
// their metadata), stored encrypted before the transaction and removed
// again if the transaction fails; its text is then read by the
// documents.text job. The count of the application's documents is checked
// by the insert's own condition, under a lock of the application on
// PostgreSQL, so uploads racing at the limit cannot pass it together.
func (s *Service) AddDocument(ctx context.Context, a access.Actor, applicationID string, in DocumentUpload) (*Document, error) {
	// Who may not add here learns nothing of the file's checks.
	if err := s.read(ctx, a, func(q querier) error {
		_, err := s.authorizeApplication(ctx, q, a, access.MoveStage, applicationID)
		return err
	}); err != nil {
		return nil, s.finish(ctx, a, err)
	}
	switch in.Kind {
	case "":
		in.Kind = "attachment"
	case "cv", "attachment":
	default:
		return nil, fault.Field("kind", "error.document_kind")
	}
	if in.Data == nil {
		return nil, fault.Field("file", "error.document_empty")
	}
	data, err := io.ReadAll(io.LimitReader(in.Data, MaxFileBytes+1))
	if err != nil {
		return nil, err // a body over the request's limit stays what it is (413)
	}
	switch {
	case len(data) == 0:
		return nil, fault.Field("file", "error.document_empty")
	case len(data) > MaxFileBytes:
		return nil, fault.Field("file", "error.file_too_large")
	}
	t, err := filetype.Detect(data)
	if err != nil {
		return nil, fault.Field("file", fileError(err))
	}
	if data, err = filetype.StripMetadata(t, data); err != nil {
		return nil, fault.Field("file", fileError(err))
	}
	d := &Document{ID: id.New(), Kind: in.Kind, FileName: cleanFileName(in.Name, t), Type: t}
	obj, err := s.career.Blobs.Put(ctx, a.TenantID, d.ID, bytes.NewReader(data), MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("store document: %w", err)
	}
	d.Size = obj.Size
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, applicationID)
		if err != nil {
			return err
		}
		if s.db.Engine == db.Postgres {
			// SQLite has one writer; on PostgreSQL the application's row
			// orders the uploads to it.
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM applications WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, a.TenantID, applicationID); err != nil {
				return fmt.Errorf("lock application: %w", err)
			}
		}
		d.CreatedAt = s.now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO documents (tenant_id, id, candidate_id, application_id, kind, file_name, file_type, size, object_key, created_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			WHERE (SELECT count(*) FROM documents WHERE tenant_id = $1 AND application_id = $4) < $11`,
			a.TenantID, d.ID, app.Candidate.ID, applicationID, d.Kind, d.FileName, string(d.Type), d.Size, obj.Key, d.CreatedAt, MaxDocuments)
		if err != nil {
			return fmt.Errorf("insert document: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return ErrTooManyDocuments
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.DocumentAdded, Actor: audit.ActorOf(a), Time: d.CreatedAt,
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}, {Kind: "document", ID: d.ID}},
			Details: map[string]string{"kind": d.Kind, "type": string(d.Type)}})
	})
	if err != nil {
		_ = s.career.Blobs.Delete(context.WithoutCancel(ctx), a.TenantID, d.ID)
		return nil, s.finish(ctx, a, err)
	}
	return d, nil
}
