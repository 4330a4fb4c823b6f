package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The importer writes recruitment data that already happened elsewhere
// (another ATS, or the synthetic data of `kandidat seed`) in batches: many
// objects in one transaction, each with the audit records its history
// would have produced, at the times it happened. It goes through the same
// tables, checks and audit log as the live methods; it does not ask the
// access policy, because its caller is the operator, not a colleague.

// The statements the live methods and the importer share: an imported row
// is written as a live one is.
const (
	insertCandidate = `INSERT INTO candidates (tenant_id, id, name, email, phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`
	insertComment   = `INSERT INTO comments (tenant_id, id, application_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`
	upsertRating    = `INSERT INTO ratings (tenant_id, application_id, user_id, value, updated_at) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (tenant_id, application_id, user_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
	insertLabel = `INSERT INTO application_labels (tenant_id, application_id, label, created_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (tenant_id, application_id, label) DO NOTHING`
)

// ImportPosition is a position with its history.
type ImportPosition struct {
	// ID is the position's id (a new one when empty).
	ID      string
	OwnerID string
	Input   PositionInput
	// Status is Draft, Published, Closed or Archived.
	Status    string
	CreatedAt time.Time
	// PublishedAt is when it was first published (nil: never).
	PublishedAt *time.Time
	// Members are the colleagues it is shared with.
	Members []string
}

// StageID is the id an imported position gives its stage of a kind: the
// position's id and the kind, as the migration that introduced stages did.
func StageID(positionID string, kind access.StageKind) string {
	return positionID + "-" + string(kind)
}

// ImportPositions writes positions with the standard pipeline, in one transaction.
func (s *Service) ImportPositions(ctx context.Context, tenantID string, ps []ImportPosition) error {
	return s.ImportPositionsWith(ctx, tenantID, ps, nil)
}

// ImportPositionsWith is ImportPositions with inTx run last inside the
// transaction (the importer's keys of the positions it adds).
func (s *Service) ImportPositionsWith(ctx context.Context, tenantID string, ps []ImportPosition, inTx func(ctx context.Context, tx *sql.Tx) error) error {
	for i := range ps {
		if err := ps[i].Input.validate(); err != nil {
			return fmt.Errorf("position %d: %w", i, err)
		}
		if !slices.Contains([]string{Draft, Published, Closed, Archived}, ps[i].Status) {
			return fmt.Errorf("position %d: status %q", i, ps[i].Status)
		}
		if ps[i].ID == "" {
			ps[i].ID = id.New()
		}
	}
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		st, rec := newTxStmts(tx), s.audit.Batch(tx)
		defer st.close()
		for _, p := range ps {
			at := db.Time(p.CreatedAt)
			var published, first any
			if p.PublishedAt != nil {
				first = db.Time(*p.PublishedAt)
				if p.Status == Published {
					published = first
				}
			}
			if _, err := st.ExecContext(ctx, `INSERT INTO positions (tenant_id, id, title, department, location, language, description, employment_type, status, owner_id,
				first_published_at, published_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
				tenantID, p.ID, p.Input.Title, p.Input.Department, p.Input.Location, p.Input.Language, p.Input.Description, p.Input.EmploymentType,
				p.Status, p.OwnerID, first, published, at); err != nil {
				return fmt.Errorf("import position: %w", err)
			}
			for i, k := range access.StageKinds {
				if _, err := st.ExecContext(ctx, `INSERT INTO position_stages (tenant_id, id, position_id, name, kind, ord) VALUES ($1, $2, $3, '', $4, $5)`,
					tenantID, StageID(p.ID, k), p.ID, string(k), i+1); err != nil {
					return fmt.Errorf("import stages: %w", err)
				}
			}
			for _, m := range p.Members {
				if _, err := st.ExecContext(ctx, `INSERT INTO position_members (tenant_id, position_id, user_id) VALUES ($1, $2, $3)`, tenantID, p.ID, m); err != nil {
					return fmt.Errorf("import position members: %w", err)
				}
			}
			by := audit.User(p.OwnerID)
			ref := []audit.Ref{{Kind: "position", ID: p.ID}}
			if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.PositionCreated, Actor: by, Objects: ref, Time: at}); err != nil {
				return err
			}
			if len(p.Members) > 0 {
				if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.PositionShared, Actor: by, Objects: ref, Time: at,
					Details: map[string]string{"members": strconv.Itoa(len(p.Members))}}); err != nil {
					return err
				}
			}
			if p.PublishedAt != nil {
				if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.PositionPublished, Actor: by, Objects: ref, Time: *p.PublishedAt,
					Details: map[string]string{"credits": "0", "first": "true"}}); err != nil {
					return err
				}
			}
		}
		if inTx != nil {
			return inTx(ctx, tx)
		}
		return nil
	})

}

// ImportApplication is one application with everything that happened to it.
type ImportApplication struct {
	// ID and CandidateID are given by the caller (new ones when empty). A
	// candidate already in the company (same normalised email) is reused.
	ID          string
	CandidateID string
	Candidate   CandidateInput
	PositionID  string
	Source      string
	CoverLetter string
	CreatedAt   time.Time
	// ViaCareerPage says the candidate applied (the trail names them as
	// the actor, with their talent-pool choice); otherwise AddedBy added them.
	ViaCareerPage bool
	TalentPool    bool
	ConsentLang   string
	AddedBy       string
	Documents     []ImportDocument
	// Profile is the candidate's profile (nil: none). It is written for a
	// candidate the import adds, with history rows via "import"; skills the
	// company's vocabulary lacks join it.
	Profile *ProfileInput
	// Events are what colleagues did, oldest first.
	Events []ImportEvent
}

// ImportDocument is a candidate's file.
type ImportDocument struct {
	ID   string
	Kind string // cv or attachment
	Name string
	Data []byte
}

// ImportEvent is one thing a colleague did to an application.
type ImportEvent struct {
	At      time.Time
	ActorID string
	// Kind is "move", "comment", "rating", "label", "task", "interview" or "message".
	Kind string
	// ID is the id of what the event creates (comment, task, interview, message).
	ID     string
	Stage  access.StageKind // move
	Reason string           // move to rejected
	Text   string           // comment body, label, task title, message subject
	Body   string           // message body
	Value  string           // rating value; message kind
	// Participants of an interview.
	Participants []string
}

// refreshImported computes the bases of a batch's candidates, their
// consent from the log the batch wrote.
func refreshImported(ctx context.Context, tx *sql.Tx, p Policy, tenantID string, ids []string) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for len(ids) > 0 {
		n := min(len(ids), basisChunk)
		if err := refreshChunk(ctx, tx, p, tenantID, ids[:n], true); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// ImportApplications writes a batch of applications with their
// candidates, documents (stored encrypted first), events and audit
// records in one transaction: all of the batch, or none of it.
func (s *Service) ImportApplications(ctx context.Context, tenantID string, apps []ImportApplication) error {
	type stored struct {
		id, typ, name, kind string
		size                int64
		key                 []byte
	}
	docs := make([][]stored, len(apps))
	profiles := make([]*Profile, len(apps))
	var skillNames []string
	var put []string
	cleanup := func() {
		for _, id := range put {
			_ = s.career.Blobs.Delete(context.WithoutCancel(ctx), tenantID, id)
		}
	}
	for i := range apps {
		ap := &apps[i]
		if err := ap.Candidate.validate(); err != nil {
			return fmt.Errorf("application %d: %w", i, err)
		}
		if ap.ID == "" {
			ap.ID = id.New()
		}
		if ap.CandidateID == "" {
			ap.CandidateID = id.New()
		}
		ap.Source = cleanSource(ap.Source)
		if ap.Profile != nil {
			p, f := ap.Profile.clean()
			if len(f) > 0 {
				return fmt.Errorf("application %d: %w", i, &fault.Invalid{Fields: f})
			}
			profiles[i] = p
			for _, sk := range p.Skills {
				skillNames = append(skillNames, sk.Name)
			}
		}
		for _, d := range ap.Documents {
			t, err := filetype.Detect(d.Data)
			if err != nil {
				cleanup()
				return fmt.Errorf("application %d document: %w", i, err)
			}
			if d.ID == "" {
				d.ID = id.New()
			}
			obj, err := s.career.Blobs.Put(ctx, tenantID, d.ID, bytes.NewReader(d.Data), MaxFileBytes)
			if err != nil {
				cleanup()
				return fmt.Errorf("store document: %w", err)
			}
			put = append(put, d.ID)
			docs[i] = append(docs[i], stored{id: d.ID, typ: string(t), name: cleanFileName(d.Name, t), kind: d.Kind, size: obj.Size, key: obj.Key})
		}
	}
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		st, rec := newTxStmts(tx), s.audit.Batch(tx)
		defer st.close()
		skills, err := importSkills(ctx, tx, tenantID, skillNames, s.now().UTC())
		if err != nil {
			return err
		}
		policy, err := PolicyTx(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		candidates := make([]string, 0, len(apps))
		for i := range apps {
			if err := s.importApplication(ctx, st, rec, tenantID, &apps[i], profiles[i], skills, policy, func(candidateID string, at time.Time) error {
				for _, d := range docs[i] {
					if _, err := st.ExecContext(ctx, `INSERT INTO documents (tenant_id, id, candidate_id, application_id, kind, file_name, file_type, size, object_key, created_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tenantID, d.id, candidateID, apps[i].ID, d.kind, d.name, d.typ, d.size, d.key, at); err != nil {
						return fmt.Errorf("import document: %w", err)
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("application %d: %w", i, err)
			}
			candidates = append(candidates, apps[i].CandidateID)
		}
		return refreshImported(ctx, tx, policy, tenantID, candidates)
	})

	if err != nil {
		cleanup()
	}
	return err
}

func (s *Service) importApplication(ctx context.Context, st *txStmts, rec *audit.Batch, tenantID string, ap *ImportApplication, profile *Profile, skills map[string]Skill, policy Policy,
	insertDocs func(string, time.Time) error) error {
	at := db.Time(ap.CreatedAt)
	c := ap.Candidate
	var existing string
	err := st.QueryRowContext(ctx, `SELECT id FROM candidates WHERE tenant_id = $1 AND email = $2`, tenantID, c.Email).Scan(&existing)
	switch {
	case err == sql.ErrNoRows:
		if _, err := st.ExecContext(ctx, insertCandidate,
			tenantID, ap.CandidateID, c.Name, c.Email, c.Phone, at); err != nil {
			return fmt.Errorf("import candidate: %w", err)
		}
		if profile != nil {
			if err := importProfile(ctx, st, tenantID, ap.CandidateID, profile, skills, at); err != nil {
				return err
			}
		}
	case err != nil:
		return err
	default:
		ap.CandidateID = existing
	}
	stage := access.StageNew
	if _, err := st.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, source, cover_letter, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`, tenantID, ap.ID, ap.PositionID, ap.CandidateID, string(stage), StageID(ap.PositionID, stage),
		ap.Source, ap.CoverLetter, at); err != nil {
		return fmt.Errorf("import application: %w", db.MapError(err))
	}
	if err := insertDocs(ap.CandidateID, at); err != nil {
		return err
	}
	app := []audit.Ref{{Kind: "application", ID: ap.ID}, {Kind: "candidate", ID: ap.CandidateID}}
	if ap.ViaCareerPage {
		by := audit.Actor{Kind: audit.ActorCandidate, ID: ap.CandidateID}
		if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCreated, Actor: by, Time: at,
			Objects: append(slices.Clone(app), audit.Ref{Kind: "position", ID: ap.PositionID}),
			Details: map[string]string{"via": string(ViaCareerPage), "stage": string(stage)}}); err != nil {
			return err
		}
		lang := ap.ConsentLang
		if lang == "" {
			lang = "en"
		}
		// The candidate's own choice on the career page; its validity is
		// the company's period from the application (refreshImported
		// turns it into the candidate's consent basis).
		event, until := ConsentRefused, sql.NullTime{}
		if ap.TalentPool {
			event, until = ConsentGranted, sql.NullTime{Time: policy.ConsentEnd(at, 0), Valid: true}
		}
		given, family := SplitName(c.Name)
		if _, err := st.ExecContext(ctx, `INSERT INTO consent_log (tenant_id, id, candidate_id, purpose, event, given_name, family_name, email, company_number,
			text_version, language, referral, valid_until, created_at)
			VALUES ($1, $2, $3, 'talent_pool', $4, $5, $6, $7, $8, $9, $10, 'career_page', $11, $12)`,
			tenantID, ap.ID+"-consent", ap.CandidateID, string(event), given, family, c.Email, policy.RegistrationNumber,
			TalentPoolConsentVersion, lang, until, at); err != nil {
			return fmt.Errorf("import consent: %w", err)
		}
		if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ConsentRecorded, Actor: by, Time: at,
			Objects: []audit.Ref{{Kind: "candidate", ID: ap.CandidateID}},
			Details: map[string]string{"purpose": "talent_pool", "granted": strconv.FormatBool(ap.TalentPool), "event": string(event),
				"text_version": TalentPoolConsentVersion, "via": "career_page"}}); err != nil {
			return err
		}
	} else {
		if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCreated, Actor: audit.User(ap.AddedBy), Time: at,
			Objects: append(slices.Clone(app), audit.Ref{Kind: "position", ID: ap.PositionID}),
			Details: map[string]string{"via": string(ViaStaff), "stage": string(stage)}}); err != nil {
			return err
		}
	}
	updated := at
	for _, e := range ap.Events {
		e.At = db.Time(e.At)
		if e.At.After(updated) {
			updated = e.At
		}
		by := audit.User(e.ActorID)
		ev := audit.Event{TenantID: tenantID, Actor: by, Time: e.At, Objects: app}
		switch e.Kind {
		case "move":
			if !slices.Contains(access.StageKinds, e.Stage) || e.Stage == stage {
				return fmt.Errorf("import move to %q", e.Stage)
			}
			reason := ""
			if e.Stage == access.StageRejected {
				reason = e.Reason
				if !slices.Contains(RejectionReasons, reason) {
					return fmt.Errorf("import rejection reason %q", reason)
				}
			}
			if _, err := st.ExecContext(ctx, `UPDATE applications SET stage = $3, stage_id = $4, rejection_reason = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2`,
				tenantID, ap.ID, string(e.Stage), StageID(ap.PositionID, e.Stage), reason, e.At); err != nil {
				return fmt.Errorf("import move: %w", err)
			}
			ev.Action, ev.Details = audit.StageChanged, stageDetails(e.Stage, stage, reason)
			stage = e.Stage
		case "comment":
			if _, err := st.ExecContext(ctx, insertComment,
				tenantID, e.ID, ap.ID, e.ActorID, e.Text, e.At); err != nil {
				return fmt.Errorf("import comment: %w", err)
			}
			ev.Action, ev.Objects = audit.ApplicationCommented, append(slices.Clone(app), audit.Ref{Kind: "comment", ID: e.ID})
		case "rating":
			if !slices.Contains(RatingValues, e.Value) {
				return fmt.Errorf("import rating %q", e.Value)
			}
			if _, err := st.ExecContext(ctx, upsertRating,
				tenantID, ap.ID, e.ActorID, e.Value, e.At); err != nil {
				return fmt.Errorf("import rating: %w", err)
			}
			ev.Action, ev.Details = audit.ApplicationRated, map[string]string{"rating": e.Value}
		case "label":
			label, ok := cleanLabel(e.Text)
			if !ok {
				return fmt.Errorf("import label %q", e.Text)
			}
			if _, err := st.ExecContext(ctx, insertLabel, tenantID, ap.ID, label, e.At); err != nil {
				return fmt.Errorf("import label: %w", err)
			}
			ev.Action, ev.Details = audit.ApplicationLabeled, map[string]string{"added": "true"}
		case "task":
			if _, err := st.ExecContext(ctx, `INSERT INTO tasks (tenant_id, id, application_id, title, due_on, assignee_id, done, created_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8, $8)`, tenantID, e.ID, ap.ID, e.Text, e.At.AddDate(0, 0, 7).Format("2006-01-02"), e.ActorID, e.Value == "done", e.At); err != nil {
				return fmt.Errorf("import task: %w", err)
			}
			ev.Action, ev.Details = audit.TaskChanged, map[string]string{"done": strconv.FormatBool(e.Value == "done")}
			ev.Objects = append([]audit.Ref{{Kind: "task", ID: e.ID}}, app...)
		case "interview":
			start := e.At.Add(72 * time.Hour)
			status := InterviewAccepted
			if _, err := st.ExecContext(ctx, `INSERT INTO interviews (tenant_id, id, application_id, position_id, starts_at, duration_minutes, time_zone, location,
				video_link, note, status, token_hash, created_by, reminded_at, created_at, updated_at) VALUES ($1, $2, $3, $12, $4, 60, $5, $6, '', '', $7, $8, $9, $10, $11, $11)`,
				tenantID, e.ID, ap.ID, start, tenant.DefaultTimeZone(e.Value), e.Text, status, id.HashToken(e.ID), e.ActorID, start.Add(-24*time.Hour), e.At, ap.PositionID); err != nil {
				return fmt.Errorf("import interview: %w", err)
			}
			for _, p := range e.Participants {
				if _, err := st.ExecContext(ctx, `INSERT INTO interview_participants (tenant_id, interview_id, user_id) VALUES ($1, $2, $3)`, tenantID, e.ID, p); err != nil {
					return fmt.Errorf("import interview participant: %w", err)
				}
			}
			ev.Action = audit.InterviewScheduled
			ev.Objects = append([]audit.Ref{{Kind: "interview", ID: e.ID}}, app...)
			ev.Details = map[string]string{"minutes": "60", "participants": strconv.Itoa(len(e.Participants))}
		case "message":
			// An email that was sent then: kept in the communication
			// history, never queued again.
			if _, err := st.ExecContext(ctx, `INSERT INTO messages (tenant_id, id, application_id, kind, subject, body, queue_id, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $2, 'sent', $7, $7)`, tenantID, e.ID, ap.ID, e.Value, e.Text, e.Body, e.At); err != nil {
				return fmt.Errorf("import message: %w", err)
			}
			continue // the trail records emails by their cause, not on their own
		default:
			return fmt.Errorf("import event kind %q", e.Kind)
		}
		if err := rec.Record(ctx, ev); err != nil {
			return err
		}
	}
	if !updated.Equal(at) {
		if _, err := st.ExecContext(ctx, `UPDATE applications SET updated_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, ap.ID, updated); err != nil {
			return err
		}
	}
	return nil
}

// txStmts prepares each statement once per transaction: a batch runs the
// same few statements thousands of times.
type txStmts struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func newTxStmts(tx *sql.Tx) *txStmts { return &txStmts{tx: tx, m: map[string]*sql.Stmt{}} }

func (c *txStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

// ExecContext runs query, prepared once.
func (c *txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext runs query, prepared once, for one row.
func (c *txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *txStmts) close() {
	for _, st := range c.m {
		st.Close()
	}
}
