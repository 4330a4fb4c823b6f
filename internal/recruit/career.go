package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// CareerOptions are what the career page needs beyond the database: the
// file store of documents, the queue of emails to candidates and the
// catalogues they are written from (nil loads the built-in ones).
type CareerOptions struct {
	Blobs *blob.Store
	Queue *notify.Queue
	I18n  *i18n.Bundle
}

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
	// Profile holds the parts of the profile the position asks for
	// (PublicPosition.ProfileFields); the rest is ignored.
	Profile ProfileInput
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
	// ProfileFields are the parts of the profile the form asks for.
	ProfileFields []ProfileAsk
}

// PublishedPositions lists a company's published positions, newest first.
func (s *Service) PublishedPositions(ctx context.Context, tenantID string) ([]PublicPosition, error) {
	var out []PublicPosition
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
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
func (s *Service) PublishedPosition(ctx context.Context, tenantID, positionID string) (*PublicPosition, error) {
	if !id.Valid(positionID) {
		return nil, ErrNotFound
	}
	var p PublicPosition
	var asks string
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id, title, department, location, language, description, employment_type, published_at, profile_fields FROM positions
			WHERE tenant_id = $1 AND id = $2 AND status = $3`, tenantID, positionID, Published).
			Scan(&p.ID, &p.Title, &p.Department, &p.Location, &p.Language, &p.Description, &p.EmploymentType, &p.PublishedAt, &asks)
	})
	p.ProfileFields = ParseProfileAsks(asks)

	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read published position: %w", err)
	}
	p.PublishedAt = p.PublishedAt.UTC()
	return &p, nil
}

// cleanFileName is the stored name of an uploaded document (filetype.CleanName).
func cleanFileName(name string, t filetype.Type) string { return filetype.CleanName(name, t) }

type preparedDoc struct {
	id, kind, name string
	typ            filetype.Type
	obj            *blob.Object
}

// ConsentValidity is how long the link that confirms a consent given on
// the career page works.
const ConsentValidity = 7 * 24 * time.Hour

// Apply records an application from the career page. The form is
// anonymous: whoever sends it may type anybody's email address. So it adds
// and never changes what the staff hold:
//
//   - a new address makes a new candidate; a known one joins that candidate
//     (one person for the staff) without touching their stored name or
//     phone. Where the form differs, the difference waits on the card as a
//     proposed change that a colleague accepts or dismisses;
//   - the application, its cover letter and its documents are the
//     submission's own. A submission to a position the candidate already
//     applied to is kept beside that application, never among its documents;
//   - a ticked talent-pool consent waits for the address to confirm it
//     through a single-use link in the confirmation email; only then does
//     the consent log receive it (ConfirmConsent);
//   - the confirmation email repeats nothing the sender typed: its greeting
//     is neutral, and a company's own wording that asks for {name} gets the
//     name the company holds (for a known candidate never the form's; for a
//     new one, the name of this very submission).
//
// Documents are checked by content (images lose their metadata) and stored
// encrypted before the transaction, and removed again if it fails. A
// repeated submission of the same form returns the first application.
func (s *Service) Apply(ctx context.Context, tenantID, positionID string, in ApplyInput) (*Application, error) {
	ci := CandidateInput{Name: in.Name, Email: in.Email, Phone: in.Phone}
	verr := ci.validate()
	fields := map[string]string{}
	var ve *fault.Invalid
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
	if !id.Valid(in.SubmissionID) {
		in.SubmissionID = id.New()
	}
	pos, err := s.PublishedPosition(ctx, tenantID, positionID)
	if err != nil {
		return nil, err
	}
	profile, profileFields := askedProfile(in.Profile, pos.ProfileFields, fields)
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
		docs = append(docs, &preparedDoc{id: id.New(), kind: kind, name: cleanFileName(u.Name, t), typ: t})
	}
	if len(fields) > 0 {
		return nil, &fault.Invalid{Fields: fields}
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
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		c, known, err := careerCandidate(ctx, tx, tenantID, ci, now)
		if err != nil {
			return err
		}
		by := audit.Actor{Kind: audit.ActorCandidate, ID: c.ID}
		app = &Application{TenantID: tenantID, ID: id.New(), Stage: access.StageNew, Source: in.Source, CoverLetter: in.CoverLetter,
			CreatedAt: now, UpdatedAt: now, Position: &Position{TenantID: tenantID, ID: pos.ID, Title: pos.Title, Status: Published}, Candidate: c}
		submission, err := s.recordSubmission(ctx, tx, app, in, known, by)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO documents (tenant_id, id, candidate_id, application_id, submission_id, kind, file_name, file_type, size, object_key, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, tenantID, d.id, c.ID, app.ID, submission, d.kind, d.name, string(d.typ), d.obj.Size, d.obj.Key, now); err != nil {
				return fmt.Errorf("insert document: %w", err)
			}
		}
		if known {
			if err := s.propose(ctx, tx, app, ci, by, now); err != nil {
				return err
			}
		}
		if err := s.careerProfile(ctx, tx, app, profile, profileFields, known, by, now); err != nil {
			return err
		}
		token, err := s.requestConsent(ctx, tx, app, known, in.TalentPool, pos.Language, by, now)
		if err != nil {
			return err
		}
		lang := s.career.I18n.Pick(pos.Language, "", t.DefaultLanguage)
		return s.acknowledge(ctx, tx, app, lang, t.Name, token)
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

// careerProfile writes the profile fields the form asked for: all of them
// for a new candidate; for a known one only those nothing is known of
// yet, so that the form never changes what the staff hold. Skills the
// company's vocabulary lacks are left out: an anonymous form does not add
// to it.
func (s *Service) careerProfile(ctx context.Context, tx *sql.Tx, app *Application, p *Profile, fields []string, known bool, by audit.Actor, now time.Time) error {
	if len(fields) == 0 {
		return nil
	}
	changed, err := writeProfile(ctx, tx, profileWrite{tenantID: app.TenantID, candidateID: app.Candidate.ID, fields: fields, onlyEmpty: known,
		knownSkills: true, via: string(ViaCareerPage), now: now}, p)
	if err != nil || len(changed) == 0 {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: app.TenantID, Action: audit.CandidateProfileChanged, Actor: by,
		Objects: []audit.Ref{{Kind: "application", ID: app.ID}, {Kind: "candidate", ID: app.Candidate.ID}},
		Details: map[string]string{"fields": strings.Join(changed, ","), "via": string(ViaCareerPage)}})
}

// careerCandidate finds the candidate of an email, or adds one with the
// form's details. A known candidate comes back as stored: the form never
// changes them. Two forms of one new person at once make one candidate.
func careerCandidate(ctx context.Context, tx *sql.Tx, tenantID string, in CandidateInput, now time.Time) (c *Candidate, known bool, err error) {
	id := id.New()
	res, err := tx.ExecContext(ctx, `INSERT INTO candidates (tenant_id, id, name, email, phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (tenant_id, email) DO NOTHING`, tenantID, id, in.Name, in.Email, in.Phone, now)
	if err != nil {
		return nil, false, fmt.Errorf("insert candidate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return &Candidate{TenantID: tenantID, ID: id, Name: in.Name, Email: in.Email, Phone: in.Phone}, false, nil
	}
	c = &Candidate{TenantID: tenantID}
	err = tx.QueryRowContext(ctx, `SELECT id, name, email, phone FROM candidates WHERE tenant_id = $1 AND email = $2`, tenantID, in.Email).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone)
	if err != nil {
		return nil, false, fmt.Errorf("read candidate: %w", err)
	}
	return c, true, nil
}

// recordSubmission writes the application of a submission, or, when the
// candidate already applied to the position, the submission beside that
// application (app takes its id). It returns the id documents of the
// submission are kept under apart from the application's own (nil for a
// new application).
func (s *Service) recordSubmission(ctx context.Context, tx *sql.Tx, app *Application, in ApplyInput, known bool, by audit.Actor) (any, error) {
	tenantID, now := app.TenantID, app.CreatedAt
	stageID, err := stageOfKind(ctx, tx, tenantID, app.Position.ID, access.StageNew)
	if err != nil {
		return nil, err
	}
	// A known candidate's application from the anonymous form is kept, but
	// is no receipt: it does not lengthen how long their data is kept.
	res, err := tx.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, source, cover_letter, submission_id, receipt, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (tenant_id, position_id, candidate_id) DO NOTHING`,
		tenantID, app.ID, app.Position.ID, app.Candidate.ID, string(access.StageNew), stageID, in.Source, in.CoverLetter, in.SubmissionID, !known, now)
	if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
		return nil, errDuplicateSubmission
	}
	if err != nil {
		return nil, fmt.Errorf("insert application: %w", err)
	}
	objects := func() []audit.Ref {
		return []audit.Ref{{Kind: "application", ID: app.ID}, {Kind: "candidate", ID: app.Candidate.ID}, {Kind: "position", ID: app.Position.ID}}
	}
	if n, _ := res.RowsAffected(); n == 1 {
		app.StageID = stageID
		if !known {
			if err := RefreshBases(ctx, tx, tenantID, app.Candidate.ID); err != nil {
				return nil, err
			}
		}
		return nil, s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCreated, Actor: by, Objects: objects(),
			Details: map[string]string{"via": string(ViaCareerPage), "stage": string(access.StageNew)}})
	}
	// The candidate applied to this position before: that application
	// stays as it is, and this submission waits beside it. Unless that
	// application is this very form, sent twice at once.
	var same int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM applications WHERE tenant_id = $1 AND submission_id = $2`, tenantID, in.SubmissionID).Scan(&same); err != nil {
		return nil, err
	}
	if same > 0 {
		return nil, errDuplicateSubmission
	}
	existing, err := scanApplication(tx.QueryRowContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.position_id = $2 AND a.candidate_id = $3`,
		tenantID, app.Position.ID, app.Candidate.ID))
	if err != nil {
		return nil, fmt.Errorf("read the earlier application: %w", err)
	}
	existing.Candidate = app.Candidate
	*app = *existing
	id := id.New()
	if _, err := tx.ExecContext(ctx, `INSERT INTO application_submissions (tenant_id, id, application_id, candidate_id, form_id, source, cover_letter, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenantID, id, app.ID, app.Candidate.ID, in.SubmissionID, in.Source, in.CoverLetter, now); err != nil {
		if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
			return nil, errDuplicateSubmission
		}
		return nil, fmt.Errorf("insert submission: %w", err)
	}
	return id, s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ApplicationResubmitted, Actor: by, Objects: objects(),
		Details: map[string]string{"via": string(ViaCareerPage)}})
}

// propose keeps what a submission said of a known candidate that differs
// from what is stored (the name; the phone when one was given) as a
// proposed change on the card of its application. Nothing is applied
// until a colleague accepts it (ResolveProposal).
func (s *Service) propose(ctx context.Context, tx *sql.Tx, app *Application, given CandidateInput, by audit.Actor, now time.Time) error {
	stored := app.Candidate
	var name, phone string
	var changed []string
	if given.Name != stored.Name {
		name = given.Name
		changed = append(changed, "name")
	}
	if given.Phone != "" && given.Phone != stored.Phone {
		phone = given.Phone
		changed = append(changed, "phone")
	}
	if len(changed) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_proposals (tenant_id, id, candidate_id, application_id, name, phone, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, app.TenantID, id.New(), stored.ID, app.ID, name, phone, now); err != nil {
		return fmt.Errorf("propose change: %w", err)
	}
	return s.audit.Record(ctx, tx, audit.Event{TenantID: app.TenantID, Action: audit.CandidateChangeProposed, Actor: by,
		Objects: []audit.Ref{{Kind: "application", ID: app.ID}, {Kind: "candidate", ID: stored.ID}},
		Details: map[string]string{"fields": strings.Join(changed, ",")}})
}

// requestConsent handles the talent-pool box of a submission. Ticked: a
// pending consent whose single-use link (returned; its hash is stored)
// goes into the confirmation email; the consent log receives it only when
// the link is followed. Not ticked: the refusal is recorded for a new
// candidate, while a known candidate's earlier choices stand, since an
// anonymous form may not withdraw what they gave either.
func (s *Service) requestConsent(ctx context.Context, tx *sql.Tx, app *Application, known, ticked bool, lang string, by audit.Actor, now time.Time) (string, error) {
	tenantID, candidateID := app.TenantID, app.Candidate.ID
	if !ticked && known {
		return "", nil
	}
	// The text in force for the form's language: the company's own, or the built-in one.
	text, err := currentConsentText(ctx, tx, tenantID, lang)
	if err != nil {
		return "", err
	}
	if !ticked {
		e := ConsentEntry{CandidateID: candidateID, Event: ConsentRefused, TextVersion: text.Version, Language: lang, Referral: ReferralCareerPage}
		if _, err := RecordConsent(ctx, tx, tenantID, e, now); err != nil {
			return "", err
		}
		return "", s.audit.Record(ctx, tx, consentRecorded(tenantID, e, by))
	}
	// Links nobody followed in time go.
	if _, err := tx.ExecContext(ctx, `DELETE FROM consent_confirmations WHERE tenant_id = $1 AND expires_at <= $2`, tenantID, now); err != nil {
		return "", fmt.Errorf("remove expired consent links: %w", err)
	}
	token, hash := id.NewToken()
	if _, err := tx.ExecContext(ctx, `INSERT INTO consent_confirmations (tenant_id, id, candidate_id, application_id, purpose, text_version, language, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, 'talent_pool', $5, $6, $7, $8, $9)`, tenantID, id.New(), candidateID, app.ID, text.Version, lang, hash, now, now.Add(ConsentValidity)); err != nil {
		return "", fmt.Errorf("request consent: %w", err)
	}
	return token, s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ConsentRequested, Actor: by,
		Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}, {Kind: "application", ID: app.ID}},
		Details: map[string]string{"purpose": "talent_pool", "text_version": text.Version}})
}

// acknowledge queues the confirmation email of a submission to the
// candidate's address, with the consent link when one was asked for. The
// communication history keeps the email without the link: a colleague who
// reads the card cannot confirm in the candidate's place.
func (s *Service) acknowledge(ctx context.Context, tx *sql.Tx, app *Application, lang, company, consentToken string) error {
	tpl, err := s.template(ctx, tx, app.TenantID, TemplateAcknowledgement, lang)
	if err != nil {
		return err
	}
	vars := map[string]string{"name": app.Candidate.Name, "position": app.Position.Title, "company": company}
	subject, body := render(tpl.Subject, TemplateAcknowledgement, vars), render(tpl.Body, TemplateAcknowledgement, vars)
	sent, kept := body, body
	if consentToken != "" {
		days := int(ConsentValidity / (24 * time.Hour))
		sent += "\n\n" + s.career.I18n.N(lang, "career.email.consent", days, "company", company, "url", s.baseURL()+"/consent/"+consentToken)
		kept += "\n\n" + s.career.I18n.N(lang, "career.email.consent_kept", days, "company", company)
	}
	queueID, err := s.career.Queue.EnqueueID(ctx, tx, app.TenantID, notify.Message{To: []string{app.Candidate.Email}, Subject: subject, Text: sent,
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}})
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (tenant_id, id, application_id, kind, subject, body, queue_id, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)`, app.TenantID, id.New(), app.ID, TemplateAcknowledgement, subject, kept, queueID, now); err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	return nil
}

// PendingConsent is a consent given on the career page, as the page of its
// confirmation link shows it.
type PendingConsent struct {
	Company     string
	Language    string
	TextVersion string
	// Text is the version of the text the candidate was shown.
	Text ConsentText
}

// ConsentToConfirm returns the pending consent of a confirmation link, or
// ErrNotFound when the link is unknown, used or expired.
func (s *Service) ConsentToConfirm(ctx context.Context, token string) (*PendingConsent, error) {
	p, _, err := s.pendingConsent(ctx, token)
	return p, err
}

// pendingConsent finds the consent of a link by its secret's hash; the
// link names no company, so the lookup is the installation's.
func (s *Service) pendingConsent(ctx context.Context, token string) (*PendingConsent, string, error) {
	if token == "" || len(token) > 100 {
		return nil, "", ErrNotFound
	}
	p := &PendingConsent{}
	var tenantID, companyLang string
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT c.tenant_id, t.name, c.language, t.default_language, c.text_version FROM consent_confirmations c
			JOIN tenants t ON t.id = c.tenant_id WHERE c.token_hash = $1 AND c.expires_at > $2`, id.HashToken(token), s.now()).
			Scan(&tenantID, &p.Company, &p.Language, &companyLang, &p.TextVersion)
		if err != nil {
			return err
		}
		// The text the candidate saw when they ticked the box.
		p.Text, err = consentTextOf(ctx, tx, tenantID, p.Language, p.TextVersion)
		if errors.Is(err, ErrNotFound) {
			p.Text, err = builtinConsentText(p.Language), nil
		}
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read consent link: %w", err)
	}
	p.Language = s.career.I18n.Pick(p.Language, "", companyLang)
	return p, tenantID, nil
}

// ConfirmConsent records the consent of a confirmation link in the consent
// log as granted, with the version of the text it was given to, and uses
// the link up in the same transaction: of any number of confirmations at
// once, one records the consent and the others find nothing (ErrNotFound).
func (s *Service) ConfirmConsent(ctx context.Context, token string) (*PendingConsent, error) {
	p, tenantID, err := s.pendingConsent(ctx, token)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		var candidateID, applicationID, purpose, version, lang string
		err := tx.QueryRowContext(ctx, `DELETE FROM consent_confirmations WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3
			RETURNING candidate_id, application_id, purpose, text_version, language`, tenantID, id.HashToken(token), now).
			Scan(&candidateID, &applicationID, &purpose, &version, &lang)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound // confirmed meanwhile, or expired
		}
		if err != nil {
			return fmt.Errorf("use consent link: %w", err)
		}
		e := ConsentEntry{CandidateID: candidateID, Event: ConsentGranted, TextVersion: version, Language: lang, Referral: ReferralCareerPage}
		if _, err := RecordConsent(ctx, tx, tenantID, e, now); err != nil {
			return err
		}
		ev := consentRecorded(tenantID, e, audit.Actor{Kind: audit.ActorCandidate, ID: candidateID}, audit.Ref{Kind: "application", ID: applicationID})
		ev.Details["via"] = "email_link"
		return s.audit.Record(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

var errDuplicateSubmission = errors.New("duplicate submission")

// bySubmission finds what a form's one-time id made: an application, or a
// submission kept beside one (its application).
func (s *Service) bySubmission(ctx context.Context, tenantID, submissionID string) (*Application, error) {
	var app *Application
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) (err error) {
		app, err = scanApplication(tx.QueryRowContext(ctx, selectApplication+` WHERE a.tenant_id = $1 AND a.submission_id = $2`, tenantID, submissionID))
		if errors.Is(err, sql.ErrNoRows) {
			app, err = scanApplication(tx.QueryRowContext(ctx, selectApplication+` JOIN application_submissions s ON s.tenant_id = a.tenant_id AND s.application_id = a.id
				WHERE a.tenant_id = $1 AND s.form_id = $2`, tenantID, submissionID))
		}
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
	// submission is the later submission the document came with ("" for
	// the application's own).
	submission string
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

// listDocuments reads an application's own documents, the CV first; the
// documents of later submissions kept beside it are not among them.
func listDocuments(ctx context.Context, q querier, tenantID, applicationID string) ([]Document, error) {
	return queryDocuments(ctx, q, `SELECT id, kind, file_name, file_type, size, created_at, '' FROM documents
		WHERE tenant_id = $1 AND application_id = $2 AND submission_id IS NULL ORDER BY kind DESC, created_at, id`, tenantID, applicationID)
}

func queryDocuments(ctx context.Context, q querier, query string, args ...any) ([]Document, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	var docs []Document
	for rows.Next() {
		var d Document
		var t string
		if err := rows.Scan(&d.ID, &d.Kind, &d.FileName, &t, &d.Size, &d.CreatedAt, &d.submission); err != nil {
			return nil, err
		}
		d.Type, d.CreatedAt = filetype.Type(t), d.CreatedAt.UTC()
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// Resubmission is a later submission through the career page to a
// position the candidate had applied to: kept beside the application,
// its documents apart from the application's own.
type Resubmission struct {
	ID          string
	Source      string
	CoverLetter string
	CreatedAt   time.Time
	Documents   []Document
}

// MaxResubmissions is how many later submissions a card shows, newest first.
const MaxResubmissions = 20

// listResubmissions reads the later submissions kept beside an application
// with their documents, newest first.
func listResubmissions(ctx context.Context, q querier, tenantID, applicationID string) ([]Resubmission, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, source, cover_letter, created_at FROM application_submissions
		WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(MaxResubmissions), tenantID, applicationID)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	var out []Resubmission
	for rows.Next() {
		var r Resubmission
		if err := rows.Scan(&r.ID, &r.Source, &r.CoverLetter, &r.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	docs, err := queryDocuments(ctx, q, `SELECT id, kind, file_name, file_type, size, created_at, submission_id FROM documents
		WHERE tenant_id = $1 AND application_id = $2 AND submission_id IS NOT NULL ORDER BY kind DESC, created_at, id`, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, d := range docs {
			if d.submission == out[i].ID {
				out[i].Documents = append(out[i].Documents, d)
			}
		}
	}
	return out, nil
}

// OpenDocument returns a document the actor may see, and a reader of its
// decrypted content; the download is written to the security log.
func (s *Service) OpenDocument(ctx context.Context, a access.Actor, documentID string) (*Document, io.ReadCloser, error) {
	d, err := s.readDocument(ctx, a, documentID, nil)
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.career.Blobs.Open(ctx, a.TenantID, documentID, d.key)
	if err != nil {
		return nil, nil, fmt.Errorf("open document: %w", err)
	}
	return d, rc, nil
}

// readDocument reads a document the actor may see, through its
// application's decision, and writes the read to the security log. more,
// when not nil, reads what else the caller needs in the same transaction.
func (s *Service) readDocument(ctx context.Context, a access.Actor, documentID string, more func(q querier) error) (*Document, error) {
	if !id.Valid(documentID) {
		return nil, ErrNotFound
	}
	var d Document
	err := s.read(ctx, a, func(q querier) error {
		var appID sql.NullString
		var t string
		err := q.QueryRowContext(ctx, `SELECT id, kind, file_name, file_type, size, created_at, object_key, candidate_id, application_id
			FROM documents WHERE tenant_id = $1 AND id = $2`, a.TenantID, documentID).
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
		if _, err = s.authorizeApplication(ctx, q, a, access.ViewApplications, appID.String); err != nil || more == nil {
			return err
		}
		return more(q)
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "document", ID: documentID}, {Kind: "candidate", ID: d.candidate}},
			Details: map[string]string{"permission": access.ViewApplications.Name(), "decision": access.Allow.String()}})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// RewrapDocuments re-encrypts the keys of a company's documents with its
// current primary data key (after keys.Rotate), in batches; the stored
// files are not touched. It returns how many keys it re-wrapped.
func (s *Service) RewrapDocuments(ctx context.Context, tenantID string) (int, error) {
	n, after := 0, ""
	for {
		type doc struct {
			id  string
			key []byte
		}
		var batch []doc
		err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
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
		err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
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
