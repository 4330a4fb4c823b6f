package recruit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/id"
)

// ImportPeople is the importer's path for people from another ATS's export
// (internal/importer): candidates with their profile, processing basis,
// documents and (optionally) applications, merged by normalised email
// into the candidates the company already holds. It writes through the
// same statements, triggers and audit batch as ImportApplications.

// ImportPerson is one person of an import file.
type ImportPerson struct {
	// Key identifies the row of the file (a hash): a key already written
	// skips the person, so a second run of a file imports nothing twice.
	// "" writes no key.
	Key   string
	RunID string
	// CandidateID is the id of a candidate the import adds (a new one
	// when empty); the outcome says which candidate the person became.
	CandidateID string
	Candidate   CandidateInput
	// Profile is the profile (nil: none). A new candidate gets it whole;
	// a known one only in the fields that are empty (history via "import").
	Profile *ProfileInput
	// At is when the person entered the other system: a new candidate's
	// entry, from which their purpose runs when they have no application.
	At           time.Time
	Applications []ImportPersonApplication
	// Consent is a talent-pool consent given in the other system, with its
	// date and evidence (nil: none).
	Consent   *ImportConsent
	Documents []ImportDocument
	// AddedBy is the user who writes comments and records the consent
	// ("" for the operator, whose import then carries no comment).
	AddedBy string
	// By is who the trail names (zero: the user AddedBy).
	By audit.Actor
}

func (p *ImportPerson) actor() audit.Actor {
	if p.By.ID != "" {
		return p.By
	}
	return audit.User(p.AddedBy)
}

// ImportPersonApplication is one application of an imported person to a
// position of the company.
type ImportPersonApplication struct {
	ID         string
	PositionID string
	Stage      access.StageKind
	Source     string
	CreatedAt  time.Time
	Labels     []string
	Comment    string
}

// ImportConsent is a consent given elsewhere: when, the note of evidence
// (where and how it was given) and the language of the text.
type ImportConsent struct {
	At       time.Time
	Evidence string
	Language string
}

// ImportOutcome is what became of one person.
type ImportOutcome struct {
	CandidateID string
	// Created: a new candidate; Merged: joined a known one; Skipped: the
	// key was written before (nothing done).
	Created, Merged, Skipped bool
	Applications             int
	// application is the application the person's documents join (the
	// first written, or the one kept at the same position; "" for none).
	application string
}

// ImportConsentVersion is the text version the consent log names for a
// consent given in another system, whose text Kandidat never showed.
const ImportConsentVersion = "import"

// ImportPeople writes a batch of people in one transaction: all of it or
// none. Documents are checked by content, stripped of metadata and stored
// encrypted first (removed again when the transaction fails, or when their
// person was skipped). inTx, when set, runs last inside the transaction with
// the outcomes: the caller's progress commits with the batch.
func (s *Service) ImportPeople(ctx context.Context, tenantID string, people []ImportPerson, inTx func(ctx context.Context, tx *sql.Tx, out []ImportOutcome) error) ([]ImportOutcome, error) {
	type stored struct {
		id, typ, name, kind string
		size                int64
		key                 []byte
	}
	docs := make([][]stored, len(people))
	profiles := make([]*Profile, len(people))
	var skillNames []string
	var put []string
	remove := func(ids []string) {
		for _, id := range ids {
			_ = s.career.Blobs.Delete(context.WithoutCancel(ctx), tenantID, id)
		}
	}
	for i := range people {
		p := &people[i]
		if err := p.Candidate.validate(); err != nil {
			return nil, fmt.Errorf("person %d: %w", i, err)
		}
		if p.CandidateID == "" {
			p.CandidateID = id.New()
		}
		for j := range p.Applications {
			a := &p.Applications[j]
			if a.ID == "" {
				a.ID = id.New()
			}
			if !slices.Contains(access.StageKinds, a.Stage) {
				return nil, fmt.Errorf("person %d: %w", i, fault.Field("stage", "error.stage"))
			}
			a.Source = cleanSource(a.Source)
			for k, l := range a.Labels {
				label, ok := cleanLabel(l)
				if !ok {
					return nil, fmt.Errorf("person %d: %w", i, fault.Field("labels", "error.label"))
				}
				a.Labels[k] = label
			}
		}
		if p.Profile != nil {
			pr, f := p.Profile.clean()
			if len(f) > 0 {
				return nil, fmt.Errorf("person %d: %w", i, &fault.Invalid{Fields: f})
			}
			profiles[i] = pr
			for _, sk := range pr.Skills {
				skillNames = append(skillNames, sk.Name)
			}
		}
		for _, d := range p.Documents {
			t, err := filetype.Detect(d.Data)
			if err == nil {
				d.Data, err = filetype.StripMetadata(t, d.Data)
			}
			if err != nil {
				remove(put)
				return nil, fmt.Errorf("person %d document: %w", i, fault.Field("documents", fileError(err)))
			}
			if d.ID == "" {
				d.ID = id.New()
			}
			if d.Kind != "cv" {
				d.Kind = "attachment"
			}
			obj, err := s.career.Blobs.Put(ctx, tenantID, d.ID, bytes.NewReader(d.Data), MaxFileBytes)
			if err != nil {
				remove(put)
				return nil, fmt.Errorf("store document: %w", err)
			}
			put = append(put, d.ID)
			docs[i] = append(docs[i], stored{id: d.ID, typ: string(t), name: cleanFileName(d.Name, t), kind: d.Kind, size: obj.Size, key: obj.Key})
		}
	}
	out := make([]ImportOutcome, len(people))
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
		stages := map[string]string{}
		var touched []string
		for i := range people {
			p := &people[i]
			o, err := s.importPerson(ctx, tx, st, rec, tenantID, p, profiles[i], skills, stages)
			if err != nil {
				return fmt.Errorf("person %d: %w", i, err)
			}
			out[i] = o
			if o.Skipped {
				continue
			}
			for _, d := range docs[i] {
				var app any
				if o.application != "" {
					app = o.application
				}
				if _, err := st.ExecContext(ctx, `INSERT INTO documents (tenant_id, id, candidate_id, application_id, kind, file_name, file_type, size, object_key, created_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tenantID, d.id, o.CandidateID, app, d.kind, d.name, d.typ, d.size, d.key, db.Time(p.At)); err != nil {
					return fmt.Errorf("import document: %w", err)
				}
			}
			touched = append(touched, o.CandidateID)
		}
		slices.Sort(touched)
		if err := refreshBases(ctx, tx, policy, tenantID, slices.Compact(touched)); err != nil {
			return err
		}
		// A consent is recorded after the purposes are computed: RecordConsent
		// keeps the purpose and sets the consent and the later of the two.
		for i := range people {
			p := &people[i]
			if out[i].Skipped || p.Consent == nil {
				continue
			}
			e := ConsentEntry{CandidateID: out[i].CandidateID, Event: ConsentGranted, TextVersion: ImportConsentVersion, Language: p.Consent.Language,
				Referral: ReferralImport, Evidence: p.Consent.Evidence, At: p.Consent.At, RecordedBy: p.AddedBy}
			if _, err := RecordConsent(ctx, tx, tenantID, e, s.now().UTC()); err != nil {
				return fmt.Errorf("person %d: %w", i, err)
			}
			if err := rec.Record(ctx, consentRecorded(tenantID, e, p.actor())); err != nil {
				return err
			}
		}
		if inTx != nil {
			return inTx(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		remove(put)
		return nil, err
	}
	var skipped []string
	for i, o := range out {
		if o.Skipped {
			for _, d := range docs[i] {
				skipped = append(skipped, d.id)
			}
		}
	}
	remove(skipped)
	return out, nil
}

// importPerson writes one person inside the batch's transaction: the key,
// the candidate (new, or the known one with its empty fields filled), the
// applications with their labels and comment.
func (s *Service) importPerson(ctx context.Context, tx *sql.Tx, st *txStmts, rec *audit.Batch, tenantID string, p *ImportPerson, profile *Profile,
	skills map[string]Skill, stages map[string]string) (ImportOutcome, error) {
	at := db.Time(p.At)
	if p.Key != "" {
		res, err := st.ExecContext(ctx, `INSERT INTO import_keys (tenant_id, key, run_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, key) DO NOTHING`,
			tenantID, p.Key, p.RunID, db.Time(s.now()))
		if err != nil {
			return ImportOutcome{}, fmt.Errorf("import key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ImportOutcome{Skipped: true}, nil
		}
	}
	c := p.Candidate
	o := ImportOutcome{CandidateID: p.CandidateID}
	var phone string
	err := st.QueryRowContext(ctx, `SELECT id, phone FROM candidates WHERE tenant_id = $1 AND email = $2`, tenantID, c.Email).Scan(&o.CandidateID, &phone)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		o.Created = true
		if _, err := st.ExecContext(ctx, insertCandidate, tenantID, o.CandidateID, c.Name, c.Email, c.Phone, at); err != nil {
			return o, fmt.Errorf("import candidate: %w", db.MapError(err))
		}
		if profile != nil {
			if err := importProfile(ctx, st, tenantID, o.CandidateID, profile, skills, at); err != nil {
				return o, err
			}
		}
	case err != nil:
		return o, fmt.Errorf("import candidate: %w", err)
	default:
		// The merge rule: what the company holds stays; an empty field is filled.
		o.Merged = true
		var changed []string
		if phone == "" && c.Phone != "" {
			if _, err := st.ExecContext(ctx, `UPDATE candidates SET phone = $3 WHERE tenant_id = $1 AND id = $2 AND phone = ''`, tenantID, o.CandidateID, c.Phone); err != nil {
				return o, fmt.Errorf("import phone: %w", err)
			}
			changed = append(changed, "phone")
		}
		if profile != nil {
			fields, err := writeProfile(ctx, tx, profileWrite{tenantID: tenantID, candidateID: o.CandidateID, fields: ProfileFieldNames, onlyEmpty: true,
				by: p.AddedBy, via: "import", now: db.Time(s.now())}, profile)
			if err != nil {
				return o, err
			}
			changed = append(changed, fields...)
		}
		if len(changed) > 0 {
			if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.CandidateProfileChanged, Actor: p.actor(), Time: db.Time(s.now()),
				Objects: []audit.Ref{{Kind: "candidate", ID: o.CandidateID}}, Details: map[string]string{"fields": strings.Join(changed, ","), "via": "import"}}); err != nil {
				return o, err
			}
		}
	}
	for _, a := range p.Applications {
		var existing string
		err := st.QueryRowContext(ctx, `SELECT id FROM applications WHERE tenant_id = $1 AND position_id = $2 AND candidate_id = $3`, tenantID, a.PositionID, o.CandidateID).Scan(&existing)
		if err == nil {
			if o.application == "" {
				o.application = existing
			}
			continue // the merge rule: an application to the same position is kept as it is
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return o, fmt.Errorf("import application: %w", err)
		}
		stageKey := a.PositionID + "|" + string(a.Stage)
		stageID, ok := stages[stageKey]
		if !ok {
			if stageID, err = stageOfKind(ctx, tx, tenantID, a.PositionID, a.Stage); err != nil {
				return o, err
			}
			stages[stageKey] = stageID
		}
		reason := ""
		if a.Stage == access.StageRejected {
			reason = "other" // the other system's reason is not known
		}
		created := db.Time(a.CreatedAt)
		if _, err := st.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, source, rejection_reason, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`, tenantID, a.ID, a.PositionID, o.CandidateID, string(a.Stage), stageID, a.Source, reason, created); err != nil {
			return o, fmt.Errorf("import application: %w", db.MapError(err))
		}
		o.Applications++
		if o.application == "" {
			o.application = a.ID
		}
		refs := []audit.Ref{{Kind: "application", ID: a.ID}, {Kind: "candidate", ID: o.CandidateID}}
		by := p.actor()
		if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCreated, Actor: by, Time: created,
			Objects: append(slices.Clone(refs), audit.Ref{Kind: "position", ID: a.PositionID}),
			Details: map[string]string{"via": "import", "stage": string(a.Stage)}}); err != nil {
			return o, err
		}
		for _, l := range a.Labels {
			if _, err := st.ExecContext(ctx, insertLabel, tenantID, a.ID, l, created); err != nil {
				return o, fmt.Errorf("import label: %w", err)
			}
			if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ApplicationLabeled, Actor: by, Time: created, Objects: refs,
				Details: map[string]string{"added": "true"}}); err != nil {
				return o, err
			}
		}
		if a.Comment != "" && p.AddedBy != "" {
			cid := id.New()
			if _, err := st.ExecContext(ctx, insertComment, tenantID, cid, a.ID, p.AddedBy, a.Comment, created); err != nil {
				return o, fmt.Errorf("import comment: %w", err)
			}
			if err := rec.Record(ctx, audit.Event{TenantID: tenantID, Action: audit.ApplicationCommented, Actor: by, Time: created,
				Objects: append(slices.Clone(refs), audit.Ref{Kind: "comment", ID: cid})}); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}

// PositionRef is a position as the importer matches rows to it.
type PositionRef struct {
	ID, Title string
}

// ImportPositionRefs lists the company's positions (id and title), for an
// import that names positions by title. A company has hundreds, not
// millions: the list is read whole, in the order of creation.
func (s *Service) ImportPositionRefs(ctx context.Context, tenantID string) ([]PositionRef, error) {
	var out []PositionRef
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, title FROM positions WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p PositionRef
			if err := rows.Scan(&p.ID, &p.Title); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list positions: %w", err)
	}
	return out, nil
}

// KnownEmails returns which of the normalised emails are a candidate of
// the company already, in one read per 500.
func (s *Service) KnownEmails(ctx context.Context, tenantID string, emails []string) (map[string]bool, error) {
	known := map[string]bool{}
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		for len(emails) > 0 {
			n := min(len(emails), basisChunk)
			args := []any{tenantID}
			in := ""
			for i, e := range emails[:n] {
				if i > 0 {
					in += ", "
				}
				args = append(args, e)
				in += "$" + strconv.Itoa(i+2)
			}
			rows, err := tx.QueryContext(ctx, `SELECT email FROM candidates WHERE tenant_id = $1 AND email IN (`+in+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var e string
				if err := rows.Scan(&e); err != nil {
					rows.Close()
					return err
				}
				known[e] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			emails = emails[n:]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read known emails: %w", err)
	}
	return known, nil
}

// ValidateCandidate checks a candidate's details as an import would write
// them and returns them normalised, or the field errors.
func ValidateCandidate(in CandidateInput) (CandidateInput, error) {
	err := in.validate()
	return in, err
}

// ValidateProfile checks a profile as an import would write it: the field
// errors by form field ("profile_city"...), nil when it is valid.
func ValidateProfile(in ProfileInput) map[string]string {
	_, f := in.clean()
	if len(f) == 0 {
		return nil
	}
	return f
}

// ValidLabel reports whether a label can be put on an application.
func ValidLabel(label string) bool {
	_, ok := cleanLabel(label)
	return ok
}

// DocumentError is the message key of a file that cannot be a candidate's
// document ("" when it can).
func DocumentError(data []byte) string {
	t, err := filetype.Detect(data)
	if err == nil {
		_, err = filetype.StripMetadata(t, data)
	}
	if err != nil {
		return fileError(err)
	}
	return ""
}
