package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// CareerOptions are what the career page needs beyond the database.
type CareerOptions struct {
	Blobs *blob.Store
	Queue *notify.Queue
	I18n  *i18n.Bundle
	// BaseURL is the address links in emails start with (no trailing slash).
	BaseURL string
}

// SetCareer gives the service the file store, the email queue and the
// catalogues the career page uses.
func (s *Service) SetCareer(o CareerOptions) { s.career = o }

// Limits of an application on the career page.
const (
	// MaxFileBytes is the largest document (10 MB).
	MaxFileBytes = 10 << 20
	// MaxFiles is how many documents one application may carry (a CV and attachments).
	MaxFiles = 5
	// MaxCoverLetter is the longest cover letter, in characters.
	MaxCoverLetter = 10000
)

// TalentPoolConsentVersion names the text of the talent-pool consent the
// career page shows; a new wording gets a new version, and each choice is
// recorded with the version it answered.
const TalentPoolConsentVersion = "talent-pool-2031-1"

// Upload is a document as the candidate sent it.
type Upload struct {
	Name string
	Data []byte
}

// ApplyInput is a candidate's application on the career page.
type ApplyInput struct {
	Name        string
	Email       string
	Phone       string
	CoverLetter string
	// CV is required; Attachments are optional.
	CV          *Upload
	Attachments []Upload
	// TalentPool is the candidate's answer to the optional consent.
	TalentPool bool
	// Language is the language the form was shown in.
	Language string
	// Source is the channel the candidate came from (?source= or the referring site).
	Source string
	// SubmissionID is the form's one-time id: a repeated submission of the
	// same form (double click, retry) returns the first application.
	SubmissionID string
}

// PublicPosition is a published position as the career page shows it.
type PublicPosition struct {
	ID             string
	Title          string
	Department     string
	Location       string
	Language       string
	Description    string
	EmploymentType string
	PublishedAt    time.Time
}

// PublishedPositions lists a company's published positions, newest first.
func (s *Service) PublishedPositions(ctx context.Context, tenantID string) ([]PublicPosition, error) {
	var out []PublicPosition
	err := s.db.ReadTx(db.WithTenant(ctx, tenantID), func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, title, department, location, language, description, employment_type, published_at FROM positions
			WHERE tenant_id = $1 AND status = $2 ORDER BY published_at DESC, id`, tenantID, Published)
		if err != nil {
			return fmt.Errorf("list published positions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p PublicPosition
			if err := rows.Scan(&p.ID, &p.Title, &p.Department, &p.Location, &p.Language, &p.Description, &p.EmploymentType, &p.PublishedAt); err != nil {
				return err
			}
			p.PublishedAt = p.PublishedAt.UTC()
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// PublishedPosition returns one published position, or ErrNotFound.
func (s *Service) PublishedPosition(ctx context.Context, tenantID, id string) (*PublicPosition, error) {
	if !tenant.ValidID(id) {
		return nil, ErrNotFound
	}
	var p PublicPosition
	err := s.db.ReadTx(db.WithTenant(ctx, tenantID), func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id, title, department, location, language, description, employment_type, published_at FROM positions
			WHERE tenant_id = $1 AND id = $2 AND status = $3`, tenantID, id, Published).
			Scan(&p.ID, &p.Title, &p.Department, &p.Location, &p.Language, &p.Description, &p.EmploymentType, &p.PublishedAt)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read published position: %w", err)
	}
	p.PublishedAt = p.PublishedAt.UTC()
	return &p, nil
}

// cleanFileName keeps the base name of an upload, without control or path
// characters, at most 120 characters; an empty result becomes "document".
func cleanFileName(name string, t filetype.Type) string {
	name = norm.NFC.String(path.Base(strings.ReplaceAll(name, "\\", "/")))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.Trim(name, "."))
	if utf8.RuneCountInString(name) > 120 {
		name = string([]rune(name)[:120])
	}
	if name == "" {
		name = "document"
	}
	ext := t.Extension()
	if !strings.HasSuffix(strings.ToLower(name), ext) && !(t == filetype.JPEG && strings.HasSuffix(strings.ToLower(name), ".jpeg")) {
		name += ext
	}
	return name
}

type preparedDoc struct {
	id, kind, name string
	typ            filetype.Type
	obj            *blob.Object
}

// Apply records an application from the career page: the candidate (one
// per email and company), the application at the first stage, the
// documents (checked by content, images without metadata, stored
// encrypted), the talent-pool choice with the version of its text, and a
// confirmation email in the ad's language, queued in the same transaction.
// Files are stored first and removed again if the transaction fails, so a
// failure leaves no half-made application.
func (s *Service) Apply(ctx context.Context, tenantID, positionID string, in ApplyInput) (*Application, error) {
	ctx = db.WithTenant(ctx, tenantID)
	if s.career.Blobs == nil || s.career.Queue == nil || s.career.I18n == nil {
		return nil, errors.New("the career page needs the file store, the email queue and the catalogues")
	}
	ci := CandidateInput{Name: in.Name, Email: in.Email, Phone: in.Phone}
	verr := ci.validate()
	fields := map[string]string{}
	var ve *ValidationError
	if errors.As(verr, &ve) {
		fields = ve.Fields
	}
	in.CoverLetter = strings.TrimSpace(norm.NFC.String(in.CoverLetter))
	if !utf8.ValidString(in.CoverLetter) || utf8.RuneCountInString(in.CoverLetter) > MaxCoverLetter ||
		strings.ContainsFunc(in.CoverLetter, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		fields["cover_letter"] = "error.cover_letter"
	}
	if in.CV == nil || len(in.CV.Data) == 0 {
		fields["cv"] = "error.cv_required"
	}
	if len(in.Attachments)+1 > MaxFiles {
		fields["attachments"] = "error.too_many_files"
	}
	in.Source = cleanSource(in.Source)
	if !tenant.ValidID(in.SubmissionID) {
		in.SubmissionID = tenant.NewID()
	}
	pos, err := s.PublishedPosition(ctx, tenantID, positionID)
	if err != nil {
		return nil, err
	}
	// A repeated submission of the same form is the first application.
	if app, err := s.bySubmission(ctx, tenantID, in.SubmissionID); err == nil {
		return app, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// Check every document before storing any.
	var docs []*preparedDoc
	uploads := []Upload{}
	if in.CV != nil {
		uploads = append(uploads, *in.CV)
	}
	uploads = append(uploads, in.Attachments...)
	for i, u := range uploads {
		field := "attachments"
		kind := "attachment"
		if i == 0 && in.CV != nil {
			field, kind = "cv", "cv"
		}
		if len(u.Data) == 0 {
			continue
		}
		if len(u.Data) > MaxFileBytes {
			fields[field] = "error.file_too_large"
			continue
		}
		t, err := filetype.Detect(u.Data)
		if err != nil {
			fields[field] = fileError(err)
			continue
		}
		data, err := filetype.StripMetadata(t, u.Data)
		if err != nil {
			fields[field] = fileError(err)
			continue
		}
		uploads[i].Data = data
		docs = append(docs, &preparedDoc{id: tenant.NewID(), kind: kind, name: cleanFileName(u.Name, t), typ: t})
	}
	if len(fields) > 0 {
		return nil, &ValidationError{Fields: fields}
	}
	// Store the documents, encrypted.
	stored := 0
	cleanup := func() {
		for _, d := range docs[:stored] {
			_ = s.career.Blobs.Delete(context.WithoutCancel(ctx), tenantID, d.id)
		}
	}
	j := 0
	for _, u := range uploads {
		if len(u.Data) == 0 {
			continue
		}
		d := docs[j]
		j++
		obj, err := s.career.Blobs.Put(ctx, tenantID, d.id, bytes.NewReader(u.Data), MaxFileBytes)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("store document: %w", err)
		}
		d.obj = obj
		stored++
	}
	t, err := s.tenants.ByID(ctx, tenantID)
	if err != nil {
		cleanup()
		return nil, err
	}
	var app *Application
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now().UTC()
		c := &Candidate{TenantID: tenantID, ID: tenant.NewID(), Name: ci.Name, Email: ci.Email, Phone: ci.Phone}
		err := tx.QueryRowContext(ctx, `SELECT id FROM candidates WHERE tenant_id = $1 AND email = $2`, tenantID, ci.Email).Scan(&c.ID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, insertCandidate,
				tenantID, c.ID, c.Name, c.Email, c.Phone, now); err != nil {
				return fmt.Errorf("insert candidate: %w", err)
			}
			if err := writeTerms(ctx, tx, tenantID, c.ID, c.Name, c.Email, false); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// The person applied before: their latest details.
			if _, err := tx.ExecContext(ctx, `UPDATE candidates SET name = $3, phone = CASE WHEN $4 = '' THEN phone ELSE $4 END, updated_at = $5
				WHERE tenant_id = $1 AND id = $2`, tenantID, c.ID, c.Name, c.Phone, now); err != nil {
				return err
			}
			if err := writeTerms(ctx, tx, tenantID, c.ID, c.Name, c.Email, true); err != nil {
				return err
			}
		}
		app = &Application{TenantID: tenantID, ID: tenant.NewID(), Stage: access.StageNew, CreatedAt: now, UpdatedAt: now,
			Position: &Position{TenantID: tenantID, ID: pos.ID, Title: pos.Title, Status: Published}, Candidate: c}
		var existing string
		err = tx.QueryRowContext(ctx, `SELECT id FROM applications WHERE tenant_id = $1 AND position_id = $2 AND candidate_id = $3`,
			tenantID, pos.ID, c.ID).Scan(&existing)
		if err == nil {
			// Applying again to the same position: one application, with the new documents.
			app.ID = existing
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		} else if stageID, err := stageOfKind(ctx, tx, tenantID, pos.ID, access.StageNew); err != nil {
			return err
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, source, cover_letter, submission_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`, tenantID, app.ID, pos.ID, c.ID, string(access.StageNew), stageID, in.Source, in.CoverLetter, in.SubmissionID, now); err != nil {
			if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
				return errDuplicateSubmission
			}
			return fmt.Errorf("insert application: %w", err)
		}
		for _, d := range docs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO documents (tenant_id, id, candidate_id, application_id, kind, file_name, file_type, size, object_key, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tenantID, d.id, c.ID, app.ID, d.kind, d.name, string(d.typ), d.obj.Size, d.obj.Key, now); err != nil {
				return fmt.Errorf("insert document: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (tenant_id, id, candidate_id, purpose, granted, text_version, language, created_at)
			VALUES ($1, $2, $3, 'talent_pool', $4, $5, $6, $7)`, tenantID, tenant.NewID(), c.ID, in.TalentPool, TalentPoolConsentVersion, pos.Language, now); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		by := audit.Actor{Kind: audit.ActorCandidate, ID: c.ID}
		if existing == "" {
			if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCreated, Actor: by,
				Objects: []audit.Ref{{Kind: "application", ID: app.ID}, {Kind: "candidate", ID: c.ID}, {Kind: "position", ID: pos.ID}},
				Details: map[string]string{"via": string(ViaCareerPage), "stage": string(access.StageNew)}}); err != nil {
				return err
			}
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ConsentRecorded, Actor: by,
			Objects: []audit.Ref{{Kind: "candidate", ID: c.ID}},
			Details: map[string]string{"purpose": "talent_pool", "granted": fmt.Sprint(in.TalentPool), "text_version": TalentPoolConsentVersion}}); err != nil {
			return err
		}
		lang := s.career.I18n.Pick(pos.Language, "", t.DefaultLanguage)
		return s.sendToCandidate(ctx, tx, tenantID, app.ID, TemplateAcknowledgement, lang, c.Email,
			map[string]string{"name": c.Name, "position": pos.Title, "company": t.Name}, "", nil)
	})
	if errors.Is(err, errDuplicateSubmission) {
		// Two copies of one form raced: the other one won.
		cleanup()
		return s.bySubmission(ctx, tenantID, in.SubmissionID)
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	return app, nil
}

var errDuplicateSubmission = errors.New("duplicate submission")

func (s *Service) bySubmission(ctx context.Context, tenantID, submissionID string) (*Application, error) {
	var app *Application
	err := s.db.ReadTx(db.WithTenant(ctx, tenantID), func(tx *sql.Tx) (err error) {
		app, err = scanApplication(tx.QueryRowContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.submission_id = $2`, tenantID, submissionID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return app, err
}

func fileError(err error) string {
	switch {
	case errors.Is(err, filetype.ErrDamaged):
		return "error.file_damaged"
	case errors.Is(err, filetype.ErrEmpty):
		return "error.cv_required"
	}
	return "error.file_type"
}

// cleanSource keeps a channel name: letters, digits and . _ - only, at most 60.
func cleanSource(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return -1
	}, s)
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// Document is a candidate's file as the staff see it.
type Document struct {
	ID        string
	Kind      string
	FileName  string
	Type      filetype.Type
	Size      int64
	CreatedAt time.Time
	key       []byte
	candidate string
}

// Documents lists the documents of an application the actor may see.
func (s *Service) Documents(ctx context.Context, a access.Actor, applicationID string) (docs []Document, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		docs, err = listDocuments(ctx, q, a.TenantID, applicationID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return docs, nil
}

// listDocuments reads an application's documents, the CV first.
func listDocuments(ctx context.Context, q querier, tenantID, applicationID string) ([]Document, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, file_name, file_type, size, created_at FROM documents
		WHERE tenant_id = $1 AND application_id = $2 ORDER BY kind DESC, created_at, id`, tenantID, applicationID)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	var docs []Document
	for rows.Next() {
		var d Document
		var t string
		if err := rows.Scan(&d.ID, &d.Kind, &d.FileName, &t, &d.Size, &d.CreatedAt); err != nil {
			return nil, err
		}
		d.Type, d.CreatedAt = filetype.Type(t), d.CreatedAt.UTC()
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// OpenDocument returns a document the actor may see, and a reader of its
// decrypted content; the download is written to the security log.
func (s *Service) OpenDocument(ctx context.Context, a access.Actor, id string) (*Document, io.ReadCloser, error) {
	if !tenant.ValidID(id) {
		return nil, nil, ErrNotFound
	}
	var d Document
	err := s.read(ctx, a, func(q querier) error {
		var appID sql.NullString
		var t string
		err := q.QueryRowContext(ctx, `SELECT id, kind, file_name, file_type, size, created_at, object_key, candidate_id, application_id
			FROM documents WHERE tenant_id = $1 AND id = $2`, a.TenantID, id).
			Scan(&d.ID, &d.Kind, &d.FileName, &t, &d.Size, &d.CreatedAt, &d.key, &d.candidate, &appID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		d.Type = filetype.Type(t)
		if !appID.Valid {
			return ErrNotFound
		}
		_, err = s.authorizeApplication(ctx, q, a, access.ViewApplications, appID.String)
		return err
	})
	if err != nil {
		return nil, nil, s.finish(ctx, a, err)
	}
	err = s.db.InTx(db.WithTenant(ctx, a.TenantID), func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.User(a.UserID),
			Objects: []audit.Ref{{Kind: "document", ID: id}, {Kind: "candidate", ID: d.candidate}},
			Details: map[string]string{"permission": access.ViewApplications.Name(), "decision": access.Allow.String()}})
	})
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.career.Blobs.Open(ctx, a.TenantID, id, d.key)
	if err != nil {
		return nil, nil, fmt.Errorf("open document: %w", err)
	}
	return &d, rc, nil
}

// RewrapDocuments re-encrypts the keys of a company's documents with its
// current primary data key (after keys.Rotate), in batches; the stored
// files are not touched. It returns how many keys it re-wrapped.
func (s *Service) RewrapDocuments(ctx context.Context, tenantID string) (int, error) {
	ctx = db.WithTenant(ctx, tenantID)
	n, after := 0, ""
	for {
		type doc struct {
			id  string
			key []byte
		}
		var batch []doc
		err := s.db.ReadTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, object_key FROM documents WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 200`, tenantID, after)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var d doc
				if err := rows.Scan(&d.id, &d.key); err != nil {
					return err
				}
				batch = append(batch, d)
			}
			return rows.Err()
		})
		if err != nil {
			return n, fmt.Errorf("read document keys: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			for _, d := range batch {
				key, err := s.career.Blobs.Rewrap(ctx, tenantID, d.id, d.key)
				if err != nil {
					return fmt.Errorf("document %s: %w", d.id, err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE documents SET object_key = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, d.id, key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(batch)
		after = batch[len(batch)-1].id
	}
}
