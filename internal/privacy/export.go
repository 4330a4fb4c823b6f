package privacy

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
)

// ExportFormat names the layout of data.json; a change of its fields that
// breaks a reader gets a new version.
const ExportFormat = "kandidat-subject-export/1"

// Data is everything the company holds about one candidate: the page of
// the self-service shows it, and data.json of the export (Art. 15 and 20)
// is it, with these field names:
//
//   - format: ExportFormat; company: the company's name; exported_at (UTC, RFC 3339).
//   - candidate: id, name, email, phone, created_at, updated_at; the
//     profile (title, employer, city, country as ISO 3166 code, linkedin,
//     portfolio, notice_weeks, salary_amount, salary_currency as ISO 4217,
//     salary_period hour|month|year), skills (names), languages (ISO 639
//     code and CEFR level or native), profile_changes (every change of the
//     profile: field, old and new value, when, via), and the processing
//     bases: purpose_until (the purpose of the applications ends),
//     consent_until (the talent-pool consent ends; absent: none in force).
//   - applications: id, position_id, position_title, stage (new,
//     preselected, interview, offer, hired, rejected), stage_name,
//     source, cover_letter, rejection_reason, created_at, updated_at;
//     stage_history (at, stage, previous_stage), comments (created_at,
//     body), ratings (value, updated_at), labels (label, created_at),
//     interviews (starts_at, duration_minutes, time_zone, location,
//     video_link, note, status, response_note), tasks (title, due_on,
//     done, created_at), messages sent to the candidate (kind, subject,
//     body, status, created_at), submissions sent again through the career
//     page (source, cover_letter, created_at), proposed changes of contact
//     data (name, phone, created_at).
//   - consent_log: every choice on the talent-pool consent (event granted,
//     refused or withdrawn, text_version, language, referral, valid_until,
//     created_at).
//   - documents: id, application_id, kind (cv, attachment), file_name,
//     file_type, size, created_at, and path: where the file is in the zip.
//   - requests: the candidate's requests to the company (kind, status,
//     received_at, due_at, answered_at).
//
// Colleagues' private notes are their own working notes and not part of it.
type Data struct {
	Format       string            `json:"format"`
	Company      string            `json:"company"`
	ExportedAt   time.Time         `json:"exported_at"`
	Candidate    DataCandidate     `json:"candidate"`
	Applications []DataApplication `json:"applications"`
	ConsentLog   []DataConsent     `json:"consent_log"`
	Documents    []DataDocument    `json:"documents"`
	Requests     []DataRequest     `json:"requests"`
	// PendingErasure is when a request for erasure waiting for the
	// company is due (zero: none waits).
	PendingErasure time.Time `json:"-"`
	// ConsentInForce: a talent-pool consent holds now.
	ConsentInForce bool `json:"-"`

	keys map[string][]byte // document id -> its file's wrapped key
}

// DataCandidate is the candidate's row and profile.
type DataCandidate struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	Email          string              `json:"email"`
	Phone          string              `json:"phone"`
	CreatedAt      time.Time           `json:"created_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
	Title          string              `json:"title"`
	Employer       string              `json:"employer"`
	City           string              `json:"city"`
	Country        string              `json:"country"`
	LinkedIn       string              `json:"linkedin"`
	Portfolio      string              `json:"portfolio"`
	NoticeWeeks    *int64              `json:"notice_weeks,omitempty"`
	SalaryAmount   *int64              `json:"salary_amount,omitempty"`
	SalaryCurrency string              `json:"salary_currency"`
	SalaryPeriod   string              `json:"salary_period"`
	Skills         []string            `json:"skills"`
	Languages      []DataLanguage      `json:"languages"`
	ProfileChanges []DataProfileChange `json:"profile_changes"`
	PurposeUntil   *time.Time          `json:"purpose_until,omitempty"`
	ConsentUntil   *time.Time          `json:"consent_until,omitempty"`
}

// DataLanguage is a language the candidate speaks.
type DataLanguage struct {
	Language string `json:"language"`
	Level    string `json:"level"`
}

// DataProfileChange is a change of the profile.
type DataProfileChange struct {
	Field     string    `json:"field"`
	OldValue  string    `json:"old_value"`
	NewValue  string    `json:"new_value"`
	ChangedAt time.Time `json:"changed_at"`
	Via       string    `json:"via"`
}

// DataApplication is an application with what belongs to it.
type DataApplication struct {
	ID              string           `json:"id"`
	PositionID      string           `json:"position_id"`
	PositionTitle   string           `json:"position_title"`
	Stage           string           `json:"stage"`
	StageName       string           `json:"stage_name"`
	Source          string           `json:"source"`
	CoverLetter     string           `json:"cover_letter"`
	RejectionReason string           `json:"rejection_reason"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	StageHistory    []DataStage      `json:"stage_history"`
	Comments        []DataComment    `json:"comments"`
	Ratings         []DataRating     `json:"ratings"`
	Labels          []DataLabel      `json:"labels"`
	Interviews      []DataInterview  `json:"interviews"`
	Tasks           []DataTask       `json:"tasks"`
	Messages        []DataMessage    `json:"messages"`
	Submissions     []DataSubmission `json:"submissions"`
	Proposals       []DataProposal   `json:"proposals"`
}

// DataStage is a move of an application.
type DataStage struct {
	At            time.Time `json:"at"`
	Stage         string    `json:"stage"`
	PreviousStage string    `json:"previous_stage"`
}

// DataComment is a colleague's comment on an application.
type DataComment struct {
	CreatedAt time.Time `json:"created_at"`
	Body      string    `json:"body"`
}

// DataRating is a colleague's rating of an application.
type DataRating struct {
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DataLabel is a label on an application.
type DataLabel struct {
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
}

// DataInterview is an interview of an application.
type DataInterview struct {
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"`
	TimeZone        string    `json:"time_zone"`
	Location        string    `json:"location"`
	VideoLink       string    `json:"video_link"`
	Note            string    `json:"note"`
	Status          string    `json:"status"`
	ResponseNote    string    `json:"response_note"`
}

// DataTask is a task on an application.
type DataTask struct {
	Title     string    `json:"title"`
	DueOn     string    `json:"due_on"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"created_at"`
}

// DataMessage is an email sent to the candidate.
type DataMessage struct {
	Kind      string    `json:"kind"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// DataSubmission is a later submission kept beside an application.
type DataSubmission struct {
	Source      string    `json:"source"`
	CoverLetter string    `json:"cover_letter"`
	CreatedAt   time.Time `json:"created_at"`
}

// DataProposal is a change of contact data proposed through the career page.
type DataProposal struct {
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
}

// DataConsent is an entry of the consent log.
type DataConsent struct {
	Event       string     `json:"event"`
	TextVersion string     `json:"text_version"`
	Language    string     `json:"language"`
	Referral    string     `json:"referral"`
	ValidUntil  *time.Time `json:"valid_until,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// DataDocument is a document's metadata; the file is at Path in the zip.
type DataDocument struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"application_id"`
	Kind          string    `json:"kind"`
	FileName      string    `json:"file_name"`
	FileType      string    `json:"file_type"`
	Size          int64     `json:"size"`
	CreatedAt     time.Time `json:"created_at"`
	Path          string    `json:"path"`
}

// DataRequest is a request of the candidate in the register.
type DataRequest struct {
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	ReceivedAt time.Time  `json:"received_at"`
	DueAt      time.Time  `json:"due_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// Held returns what the company holds about the subject, for their page.
func (s *Service) Held(ctx context.Context, subj *Subject) (*Data, error) {
	return s.gather(ctx, subj.TenantID, subj.CandidateID)
}

// gather reads everything about a candidate in one read transaction
// declared to the company, then each application's stage history from
// the trail.
func (s *Service) gather(ctx context.Context, tenantID, candidateID string) (*Data, error) {
	d := &Data{Format: ExportFormat, ExportedAt: s.now().UTC(), keys: map[string][]byte{}}
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return gatherTx(ctx, tx, tenantID, candidateID, d)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSessionEnded
	}
	if err != nil {
		return nil, err
	}
	for i := range d.Applications {
		app := &d.Applications[i]
		recs, _, err := s.opts.Audit.List(ctx, tenantID, audit.Filter{Track: audit.History, ObjectKind: "application", ObjectID: app.ID, Limit: audit.MaxPage})
		if err != nil {
			return nil, fmt.Errorf("read stage history: %w", err)
		}
		for j := len(recs) - 1; j >= 0; j-- { // oldest first
			if r := recs[j]; r.Action == audit.StageChanged || r.Action == audit.ApplicationCreated {
				app.StageHistory = append(app.StageHistory, DataStage{At: r.Time.UTC(), Stage: r.Details["stage"], PreviousStage: r.Details["previous_stage"]})
			}
		}
	}
	now := s.now().UTC()
	d.ConsentInForce = d.Candidate.ConsentUntil != nil && d.Candidate.ConsentUntil.After(now)
	return d, nil
}

func dataTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func dataInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// gatherRows runs a query and calls scan for each row.
func gatherRows(ctx context.Context, tx *sql.Tx, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("gather: %w", err)
		}
	}
	return rows.Err()
}

func gatherTx(ctx context.Context, tx *sql.Tx, tenantID, candidateID string, d *Data) error {
	c := &d.Candidate
	var notice, salary sql.NullInt64
	var purpose, consent sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT t.name, c.id, c.name, c.email, c.phone, c.created_at, c.updated_at, c.title, c.employer, c.city, c.country,
		c.linkedin, c.portfolio, c.notice_weeks, c.salary_amount, c.salary_currency, c.salary_period, c.purpose_until, c.consent_until
		FROM candidates c JOIN tenants t ON t.id = c.tenant_id WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, candidateID).
		Scan(&d.Company, &c.ID, &c.Name, &c.Email, &c.Phone, &c.CreatedAt, &c.UpdatedAt, &c.Title, &c.Employer, &c.City, &c.Country,
			&c.LinkedIn, &c.Portfolio, &notice, &salary, &c.SalaryCurrency, &c.SalaryPeriod, &purpose, &consent)
	if err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.NoticeWeeks, c.SalaryAmount, c.PurposeUntil, c.ConsentUntil = dataInt(notice), dataInt(salary), dataTime(purpose), dataTime(consent)
	c.Skills, c.Languages, c.ProfileChanges = []string{}, []DataLanguage{}, []DataProfileChange{}
	args := []any{tenantID, candidateID}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var name string
		err := r.Scan(&name)
		c.Skills = append(c.Skills, name)
		return err
	}, `SELECT s.name FROM candidate_skills cs JOIN skills s ON s.tenant_id = cs.tenant_id AND s.id = cs.skill_id
		WHERE cs.tenant_id = $1 AND cs.candidate_id = $2 ORDER BY s.name`, args...); err != nil {
		return err
	}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var l DataLanguage
		err := r.Scan(&l.Language, &l.Level)
		c.Languages = append(c.Languages, l)
		return err
	}, `SELECT language, level FROM candidate_languages WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY language`, args...); err != nil {
		return err
	}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var p DataProfileChange
		err := r.Scan(&p.Field, &p.OldValue, &p.NewValue, &p.ChangedAt, &p.Via)
		p.ChangedAt = p.ChangedAt.UTC()
		c.ProfileChanges = append(c.ProfileChanges, p)
		return err
	}, `SELECT field, old_value, new_value, changed_at, via FROM candidate_profile_changes WHERE tenant_id = $1 AND candidate_id = $2
		ORDER BY changed_at, id`, args...); err != nil {
		return err
	}
	d.Applications = []DataApplication{}
	index := map[string]*DataApplication{}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var a DataApplication
		err := r.Scan(&a.ID, &a.PositionID, &a.PositionTitle, &a.Stage, &a.StageName, &a.Source, &a.CoverLetter, &a.RejectionReason, &a.CreatedAt, &a.UpdatedAt)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		a.StageHistory, a.Comments, a.Ratings, a.Labels, a.Interviews = []DataStage{}, []DataComment{}, []DataRating{}, []DataLabel{}, []DataInterview{}
		a.Tasks, a.Messages, a.Submissions, a.Proposals = []DataTask{}, []DataMessage{}, []DataSubmission{}, []DataProposal{}
		d.Applications = append(d.Applications, a)
		return err
	}, `SELECT a.id, a.position_id, p.title, a.stage, COALESCE(ps.name, ''), a.source, a.cover_letter, a.rejection_reason, a.created_at, a.updated_at
		FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
		LEFT JOIN position_stages ps ON ps.tenant_id = a.tenant_id AND ps.id = a.stage_id
		WHERE a.tenant_id = $1 AND a.candidate_id = $2 ORDER BY a.created_at, a.id`, args...); err != nil {
		return err
	}
	for i := range d.Applications {
		index[d.Applications[i].ID] = &d.Applications[i]
	}
	// Each part of the applications, read by the applications' ids (each
	// table's index on the application).
	appIDs := make([]string, len(d.Applications))
	for i, a := range d.Applications {
		appIDs[i] = a.ID
	}
	appArgs, marks := recruit.InList([]any{tenantID}, appIDs)
	ofApps := ` x WHERE x.tenant_id = $1 AND x.application_id IN (` + marks + `)`
	parts := []struct {
		query string
		scan  func(*sql.Rows) error
	}{
		{`SELECT x.application_id, x.created_at, x.body FROM comments` + ofApps + ` ORDER BY x.created_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataComment
			err := r.Scan(&aid, &v.CreatedAt, &v.Body)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Comments = append(a.Comments, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.value, x.updated_at FROM ratings` + ofApps + ` ORDER BY x.updated_at`, func(r *sql.Rows) error {
			var aid string
			var v DataRating
			err := r.Scan(&aid, &v.Value, &v.UpdatedAt)
			v.UpdatedAt = v.UpdatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Ratings = append(a.Ratings, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.label, x.created_at FROM application_labels` + ofApps + ` ORDER BY x.created_at, x.label`, func(r *sql.Rows) error {
			var aid string
			var v DataLabel
			err := r.Scan(&aid, &v.Label, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Labels = append(a.Labels, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.starts_at, x.duration_minutes, x.time_zone, x.location, x.video_link, x.note, x.status, x.response_note FROM interviews` +
			ofApps + ` ORDER BY x.starts_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataInterview
			err := r.Scan(&aid, &v.StartsAt, &v.DurationMinutes, &v.TimeZone, &v.Location, &v.VideoLink, &v.Note, &v.Status, &v.ResponseNote)
			v.StartsAt = v.StartsAt.UTC()
			if a := index[aid]; a != nil {
				a.Interviews = append(a.Interviews, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.title, x.due_on, x.done, x.created_at FROM tasks` + ofApps + ` ORDER BY x.created_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataTask
			err := r.Scan(&aid, &v.Title, &v.DueOn, &v.Done, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Tasks = append(a.Tasks, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.kind, x.subject, x.body, x.status, x.created_at FROM messages` + ofApps + ` ORDER BY x.created_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataMessage
			err := r.Scan(&aid, &v.Kind, &v.Subject, &v.Body, &v.Status, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Messages = append(a.Messages, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.source, x.cover_letter, x.created_at FROM application_submissions` + ofApps + ` ORDER BY x.created_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataSubmission
			err := r.Scan(&aid, &v.Source, &v.CoverLetter, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Submissions = append(a.Submissions, v)
			}
			return err
		}},
		{`SELECT x.application_id, x.name, x.phone, x.created_at FROM candidate_proposals` + ofApps + ` ORDER BY x.created_at, x.id`, func(r *sql.Rows) error {
			var aid string
			var v DataProposal
			err := r.Scan(&aid, &v.Name, &v.Phone, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			if a := index[aid]; a != nil {
				a.Proposals = append(a.Proposals, v)
			}
			return err
		}},
	}
	for _, p := range parts {
		if len(marks) == 0 {
			break
		}
		if err := gatherRows(ctx, tx, p.scan, p.query, appArgs...); err != nil {
			return err
		}
	}
	d.ConsentLog = []DataConsent{}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var v DataConsent
		var until sql.NullTime
		err := r.Scan(&v.Event, &v.TextVersion, &v.Language, &v.Referral, &until, &v.CreatedAt)
		v.ValidUntil, v.CreatedAt = dataTime(until), v.CreatedAt.UTC()
		d.ConsentLog = append(d.ConsentLog, v)
		return err
	}, `SELECT event, text_version, language, referral, valid_until, created_at FROM consent_log WHERE tenant_id = $1 AND candidate_id = $2
		ORDER BY created_at, id`, args...); err != nil {
		return err
	}
	d.Documents = []DataDocument{}
	if err := gatherRows(ctx, tx, func(r *sql.Rows) error {
		var v DataDocument
		var app sql.NullString
		var key []byte
		err := r.Scan(&v.ID, &app, &v.Kind, &v.FileName, &v.FileType, &v.Size, &v.CreatedAt, &key)
		v.ApplicationID, v.CreatedAt = app.String, v.CreatedAt.UTC()
		v.Path = path.Join("files", v.ID, v.FileName)
		d.keys[v.ID] = key
		d.Documents = append(d.Documents, v)
		return err
	}, `SELECT id, application_id, kind, file_name, file_type, size, created_at, object_key FROM documents WHERE tenant_id = $1 AND candidate_id = $2
		ORDER BY created_at, id`, args...); err != nil {
		return err
	}
	d.Requests = []DataRequest{}
	return gatherRows(ctx, tx, func(r *sql.Rows) error {
		var v DataRequest
		var answered sql.NullTime
		err := r.Scan(&v.Kind, &v.Status, &v.ReceivedAt, &v.DueAt, &answered)
		v.ReceivedAt, v.DueAt, v.AnsweredAt = v.ReceivedAt.UTC(), v.DueAt.UTC(), dataTime(answered)
		if v.Kind == string(RequestErasure) && v.Status == StatusOpen {
			d.PendingErasure = v.DueAt
		}
		d.Requests = append(d.Requests, v)
		return err
	}, `SELECT kind, status, received_at, due_at, answered_at FROM subject_requests WHERE tenant_id = $1 AND candidate_id = $2
		ORDER BY received_at, id`, args...)
}

// Export is a copy of a candidate's data ready to be written as a zip.
type Export struct {
	s        *Service
	tenantID string
	data     *Data
}

// ExportSubject prepares the subject's own copy of their data (Art. 15 and
// 20): the request is in the register and the trail before a byte is written.
func (s *Service) ExportSubject(ctx context.Context, subj *Subject) (*Export, error) {
	d, err := s.gather(ctx, subj.TenantID, subj.CandidateID)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, subj.TenantID, func(tx *sql.Tx) error {
		now := s.now().UTC()
		rid, err := s.registerTx(ctx, tx, subj, RequestExport, StatusDone, nil, now)
		if err != nil {
			return err
		}
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: subj.TenantID, Action: audit.CandidateExported, Actor: subj.actor(), Time: now,
			Objects: []audit.Ref{{Kind: "candidate", ID: subj.CandidateID}, {Kind: "subject_request", ID: rid}},
			Details: map[string]string{"via": "self_service", "count": "1", "files": strconv.Itoa(len(d.Documents))}})
	})
	if err != nil {
		return nil, err
	}
	return &Export{s: s, tenantID: subj.TenantID, data: d}, nil
}

// ExportCandidate prepares the same copy for a colleague who may see the
// application (through its position or the shared pool), to answer a
// candidate who asked the company directly. The read of the application
// is in the security log (recruit decides it), the export on the GDPR track.
//
// The copy holds every position's data of the candidate, so it is for
// colleagues who see every position or keep the company's privacy (the
// HR manager, the administrator); a recruiter of some positions asks them.
func (s *Service) ExportCandidate(ctx context.Context, a access.Actor, applicationID string) (*Export, error) {
	app, err := s.opts.Recruit.Application(ctx, a, applicationID)
	if err != nil {
		return nil, err
	}
	if !a.Can(access.AllPositions) && !a.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	d, err := s.gather(ctx, a.TenantID, app.Candidate.ID)
	if errors.Is(err, ErrSessionEnded) {
		return nil, ErrNotFound // erased meanwhile
	}
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CandidateExported, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "candidate", ID: app.Candidate.ID}, {Kind: "application", ID: applicationID}},
			Details: map[string]string{"via": "staff", "count": "1", "files": strconv.Itoa(len(d.Documents))}})
	})
	if err != nil {
		return nil, err
	}
	return &Export{s: s, tenantID: a.TenantID, data: d}, nil
}

// FileName is the name the zip is downloaded under.
func (e *Export) FileName() string {
	return "kandidat-data-" + e.data.ExportedAt.Format("2006-01-02") + ".zip"
}

// WriteTo writes the zip: data.json, then every document decrypted from
// the file store at its path. A file that does not authenticate stops the
// zip with an error (the download is then incomplete, never wrong).
func (e *Export) WriteTo(ctx context.Context, w io.Writer) error {
	z := zip.NewWriter(w)
	stamp := e.data.ExportedAt
	jw, err := z.CreateHeader(&zip.FileHeader{Name: "data.json", Method: zip.Deflate, Modified: stamp})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(jw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e.data); err != nil {
		return fmt.Errorf("write data.json: %w", err)
	}
	for _, doc := range e.data.Documents {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: doc.Path, Method: zip.Deflate, Modified: doc.CreatedAt})
		if err != nil {
			return err
		}
		rc, err := e.s.opts.Blobs.Open(ctx, e.tenantID, doc.ID, e.data.keys[doc.ID])
		if err != nil {
			return fmt.Errorf("open document %s: %w", doc.ID, err)
		}
		_, err = io.Copy(fw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("read document %s: %w", doc.ID, err)
		}
	}
	return z.Close()
}

// Data returns what the export holds (for tests and the page).
func (e *Export) Data() *Data { return e.data }
