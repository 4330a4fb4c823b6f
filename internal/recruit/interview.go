package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
)

// Interview statuses.
const (
	InterviewInvited      = "invited"
	InterviewAccepted     = "accepted"
	InterviewDeclined     = "declined"
	InterviewNewTimeAsked = "new_time_requested"
)

// InterviewStatuses lists them.
var InterviewStatuses = []string{InterviewInvited, InterviewAccepted, InterviewDeclined, InterviewNewTimeAsked}

// Interview is an invitation of a candidate to an interview.
type Interview struct {
	ID            string
	ApplicationID string
	// Start is the start in the interview's own time zone.
	Start        time.Time
	Duration     time.Duration
	TimeZone     string
	Location     string
	VideoLink    string
	Note         string
	Status       string
	ResponseNote string
	Participants []string
	CreatedBy    string
	// Candidate and position, for lists.
	CandidateName string
	PositionTitle string
}

// InterviewInput is what a colleague gives to invite a candidate.
type InterviewInput struct {
	// Date (YYYY-MM-DD) and Time (HH:MM) in TimeZone.
	Date, Time   string
	TimeZone     string
	Minutes      int
	Location     string
	VideoLink    string
	Participants []string
	Note         string
}

func (in *InterviewInput) validate(now time.Time) (time.Time, error) {
	f := map[string]string{}
	loc, err := time.LoadLocation(in.TimeZone)
	if err != nil || in.TimeZone == "" || in.TimeZone == "Local" {
		f["time_zone"] = "error.time_zone"
		loc = time.UTC
	}
	start, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(in.Date)+" "+strings.TrimSpace(in.Time), loc)
	switch {
	case err != nil:
		f["date"] = "error.interview_time"
	case !start.After(now):
		f["date"] = "error.interview_past"
	case start.After(now.AddDate(2, 0, 0)):
		f["date"] = "error.interview_time"
	}
	if in.Minutes < 15 || in.Minutes > 480 {
		f["minutes"] = "error.interview_minutes"
	}
	var ok bool
	if in.Location, ok = cleanText(in.Location, 200, false); !ok {
		f["location"] = "error.text_field"
	}
	in.VideoLink = strings.TrimSpace(in.VideoLink)
	if in.VideoLink != "" {
		u, err := url.Parse(in.VideoLink)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(in.VideoLink) > 500 || strings.ContainsAny(in.VideoLink, " \r\n\t") {
			f["video_link"] = "error.video_link"
		}
	}
	if in.Location == "" && in.VideoLink == "" && f["location"] == "" {
		f["location"] = "error.interview_place"
	}
	in.Note = strings.TrimSpace(norm.NFC.String(in.Note))
	if !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > 2000 ||
		strings.ContainsFunc(in.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		f["note"] = "error.interview_note"
	}
	slices.Sort(in.Participants)
	in.Participants = slices.Compact(in.Participants)
	if len(in.Participants) > 20 {
		f["participants"] = "error.members"
	}
	if len(f) > 0 {
		return time.Time{}, &fault.Invalid{Fields: f}
	}
	return start, nil
}

// interviewValidity: a candidate's link works until a day after the start.
const interviewValidity = 24 * time.Hour

// InviteInterview invites the candidate of an application to an interview:
// the candidate gets an email in the ad's language with the invitation as
// a calendar file and a link to accept, decline or ask for another time.
func (s *Service) InviteInterview(ctx context.Context, a access.Actor, applicationID string, in InterviewInput) (*Interview, error) {
	start, err := in.validate(s.now())
	if err != nil {
		return nil, err
	}
	if s.career.Queue == nil || s.career.I18n == nil {
		return nil, errors.New("interviews need the email queue and the catalogues")
	}
	iv := &Interview{ID: id.New(), ApplicationID: applicationID, Start: start, Duration: time.Duration(in.Minutes) * time.Minute,
		TimeZone: in.TimeZone, Location: in.Location, VideoLink: in.VideoLink, Note: in.Note, Status: InterviewInvited,
		Participants: in.Participants, CreatedBy: a.UserID}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.InviteInterview, applicationID)
		if err != nil {
			return err
		}
		for _, p := range in.Participants {
			ok, err := colleagueSeesApplication(ctx, tx, a.TenantID, p, app)
			if err != nil {
				return err
			}
			if !ok {
				return fault.Field("participants", "error.members")
			}
		}
		token, hash := id.NewToken()
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO interviews (tenant_id, id, application_id, position_id, starts_at, duration_minutes, time_zone, location,
			video_link, note, status, token_hash, created_by, created_at, updated_at) VALUES ($1, $2, $3, $14, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			a.TenantID, iv.ID, applicationID, start.UTC(), in.Minutes, in.TimeZone, in.Location, in.VideoLink, in.Note, iv.Status, hash, a.UserID, now, app.Position.ID); err != nil {
			return fmt.Errorf("insert interview: %w", err)
		}
		for _, p := range in.Participants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO interview_participants (tenant_id, interview_id, user_id) VALUES ($1, $2, $3)`, a.TenantID, iv.ID, p); err != nil {
				return fmt.Errorf("interview participant: %w", err)
			}
		}
		var lang, company, companyLang string
		if err := tx.QueryRowContext(ctx, `SELECT p.language, t.name, t.default_language FROM positions p JOIN tenants t ON t.id = p.tenant_id
			WHERE p.tenant_id = $1 AND p.id = $2`, a.TenantID, app.Position.ID).Scan(&lang, &company, &companyLang); err != nil {
			return err
		}
		lang = s.career.I18n.Pick(lang, "", companyLang)
		when := start.Format("2006-01-02 15:04") + " (" + in.TimeZone + ")"
		place := in.Location
		if in.VideoLink != "" {
			place = strings.TrimSpace(place + " " + in.VideoLink)
		}
		link := s.baseURL() + "/interview/" + token
		ics := Event{UID: iv.ID + "@kandidat", Start: start, End: start.Add(iv.Duration), Stamp: now,
			Summary:  app.Position.Title + " – " + company,
			Location: in.Location, URL: in.VideoLink, Description: in.Note, Attendee: app.Candidate.Email}
		vars := map[string]string{"name": app.Candidate.Name, "position": app.Position.Title, "company": company,
			"when": when, "minutes": fmt.Sprint(in.Minutes), "place": place, "url": link}
		if err := s.sendToCandidate(ctx, tx, a.TenantID, applicationID, TemplateInvitation, lang, app.Candidate.Email, vars, in.Note,
			[]notify.Attachment{{Name: "invitation.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8", Data: ics.ICS()}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.InterviewScheduled, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "interview", ID: iv.ID}, {Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"minutes": fmt.Sprint(in.Minutes), "participants": fmt.Sprint(len(in.Participants))}})
	})

	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return iv, nil
}

// selectInterview reads interviews first, then their application,
// candidate and position (CROSS JOIN keeps that order on SQLite, whose
// planner would otherwise join every application of a position before
// filtering by the interviews' time); interviewJoins goes in its WHERE.
const selectInterview = `SELECT i.id, i.application_id, i.starts_at, i.duration_minutes, i.time_zone, i.location, i.video_link, i.note, i.status,
	i.response_note, i.created_by, c.name, p.title
	FROM interviews i CROSS JOIN applications a CROSS JOIN candidates c CROSS JOIN positions p`

const interviewJoins = `a.tenant_id = i.tenant_id AND a.id = i.application_id AND c.tenant_id = a.tenant_id AND c.id = a.candidate_id
	AND p.tenant_id = a.tenant_id AND p.id = a.position_id`

func scanInterview(row rowScanner) (*Interview, error) {
	iv := &Interview{}
	var minutes int
	var start time.Time
	if err := row.Scan(&iv.ID, &iv.ApplicationID, &start, &minutes, &iv.TimeZone, &iv.Location, &iv.VideoLink, &iv.Note, &iv.Status,
		&iv.ResponseNote, &iv.CreatedBy, &iv.CandidateName, &iv.PositionTitle); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(iv.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	iv.Start, iv.Duration = start.In(loc), time.Duration(minutes)*time.Minute
	return iv, nil
}

func (s *Service) listInterviews(ctx context.Context, q querier, tenantID, where string, args ...any) ([]*Interview, error) {
	rows, err := q.QueryContext(ctx, selectInterview+` WHERE `+interviewJoins+` AND i.tenant_id = $1 AND `+where+` ORDER BY i.starts_at, i.id LIMIT 200`, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list interviews: %w", err)
	}
	var out []*Interview
	byID := map[string]*Interview{}
	for rows.Next() {
		iv, err := scanInterview(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, iv)
		byID[iv.ID] = iv
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	pargs := []any{tenantID}
	in := make([]string, 0, len(byID))
	for id := range byID {
		pargs = append(pargs, id)
		in = append(in, fmt.Sprintf("$%d", len(pargs)))
	}
	prows, err := q.QueryContext(ctx, `SELECT interview_id, user_id FROM interview_participants WHERE tenant_id = $1 AND interview_id IN (`+
		strings.Join(in, ", ")+`) ORDER BY user_id`, pargs...)
	if err != nil {
		return nil, err
	}
	defer prows.Close()
	for prows.Next() {
		var id, u string
		if err := prows.Scan(&id, &u); err != nil {
			return nil, err
		}
		if iv := byID[id]; iv != nil {
			iv.Participants = append(iv.Participants, u)
		}
	}
	return out, prows.Err()
}

// Interviews lists the interviews of an application the actor may see.
func (s *Service) Interviews(ctx context.Context, a access.Actor, applicationID string) (out []*Interview, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		out, err = s.listInterviews(ctx, q, a.TenantID, `i.application_id = $2`, applicationID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// PositionInterviews lists the coming interviews of a position the actor
// may see the applications of.
func (s *Service) PositionInterviews(ctx context.Context, a access.Actor, positionID string) (out []*Interview, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizePosition(ctx, q, a, access.ViewApplications, positionID); err != nil {
			return err
		}
		// By the interviews' own index of position and time.
		out, err = s.listInterviews(ctx, q, a.TenantID, `i.position_id = $2 AND i.starts_at > $3`, positionID, s.now().Add(-interviewValidity))
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// PublicInterview is an interview as its candidate sees it through the link.
type PublicInterview struct {
	Interview
	Company  string
	Language string
	// Cancelled: the candidate was rejected since the invitation, so the
	// interview will not take place and the link takes no answers.
	Cancelled bool
}

// interviewByToken finds the interview of a candidate's link, while it is
// valid (until a day after the start); the lookup is by the token's hash.
// An interview whose application has since been rejected is Cancelled.
func (s *Service) interviewByToken(ctx context.Context, q querier, token string) (*PublicInterview, string, error) {
	if token == "" || len(token) > 100 {
		return nil, "", ErrNotFound
	}
	var tenantID, company, lang, companyLang, stage string
	row := q.QueryRowContext(ctx, `SELECT i.tenant_id, t.name, p.language, t.default_language, a.stage, `+strings.TrimPrefix(selectInterview, "SELECT ")+`
		JOIN tenants t ON t.id = i.tenant_id WHERE `+interviewJoins+` AND i.token_hash = $1 AND i.starts_at > $2`, id.HashToken(token), s.now().Add(-interviewValidity))
	iv := &PublicInterview{}
	var minutes int
	var start time.Time
	err := row.Scan(&tenantID, &company, &lang, &companyLang, &stage, &iv.ID, &iv.ApplicationID, &start, &minutes, &iv.TimeZone, &iv.Location,
		&iv.VideoLink, &iv.Note, &iv.Status, &iv.ResponseNote, &iv.CreatedBy, &iv.CandidateName, &iv.PositionTitle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read interview: %w", err)
	}
	loc, err := time.LoadLocation(iv.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	iv.Start, iv.Duration, iv.Company = start.In(loc), time.Duration(minutes)*time.Minute, company
	iv.Language = lang
	iv.Cancelled = access.StageKind(stage) == access.StageRejected
	if s.career.I18n != nil {
		iv.Language = s.career.I18n.Pick(lang, "", companyLang)
	}
	return iv, tenantID, nil
}

// InterviewByToken returns the interview of a candidate's link.
func (s *Service) InterviewByToken(ctx context.Context, token string) (*PublicInterview, error) {
	var iv *PublicInterview
	// The link names no company: found by the installation.
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) (err error) {
		iv, _, err = s.interviewByToken(ctx, tx, token)
		return err
	})
	return iv, err
}

// RespondToInterview records the candidate's answer given through the
// link: accept, decline or ask for another time (with a note). The
// colleague who sent the invitation is told by email. The answer can be
// changed while the link is valid, and not once the interview is
// cancelled (the candidate was rejected): that is a field error (fault.Invalid) on
// "answer".
func (s *Service) RespondToInterview(ctx context.Context, token, answer, note string) (*PublicInterview, error) {
	if answer != InterviewAccepted && answer != InterviewDeclined && answer != InterviewNewTimeAsked {
		return nil, fault.Field("answer", "error.interview_answer")
	}
	note = strings.TrimSpace(norm.NFC.String(note))
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > 2000 ||
		strings.ContainsFunc(note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return nil, fault.Field("note", "error.interview_note")
	}
	var iv *PublicInterview
	// The link names no company: the transaction is the installation's, and
	// every statement filters by the company the link belongs to.
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		var tenantID string
		var err error
		iv, tenantID, err = s.interviewByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if iv.Cancelled {
			return fault.Field("answer", "error.interview_cancelled")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE interviews SET status = $3, response_note = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			tenantID, iv.ID, answer, note, s.now()); err != nil {
			return fmt.Errorf("answer interview: %w", err)
		}
		iv.Status, iv.ResponseNote = answer, note
		var candidateID string
		if err := tx.QueryRowContext(ctx, `SELECT candidate_id FROM applications WHERE tenant_id = $1 AND id = $2`, tenantID, iv.ApplicationID).Scan(&candidateID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.InterviewAnswered, Actor: audit.Actor{Kind: audit.ActorCandidate, ID: candidateID},
			Objects: []audit.Ref{{Kind: "interview", ID: iv.ID}, {Kind: "application", ID: iv.ApplicationID}, {Kind: "candidate", ID: candidateID}},
			Details: map[string]string{"answer": answer}}); err != nil {
			return err
		}
		// Tell the colleague who invited, in their language.
		var email, userLang string
		err = tx.QueryRowContext(ctx, `SELECT email, language FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, tenantID, iv.CreatedBy).Scan(&email, &userLang)
		if errors.Is(err, sql.ErrNoRows) || err == nil && email == "" {
			return nil
		}
		if err != nil {
			return err
		}
		lang := s.career.I18n.Pick(userLang, "", iv.Language)
		return s.career.Queue.Enqueue(ctx, tx, tenantID, notify.Message{
			To:      []string{email},
			Subject: s.career.I18n.T(lang, "interview.answer.subject", "position", iv.PositionTitle),
			Text: s.career.I18n.T(lang, "interview.answer.body", "position", iv.PositionTitle, "answer", s.career.I18n.T(lang, "interview.status."+answer),
				"when", iv.Start.Format("2006-01-02 15:04")+" ("+iv.TimeZone+")", "url", s.baseURL()+"/applications/"+iv.ApplicationID),
			Headers: map[string]string{"Auto-Submitted": "auto-generated"},
		})
	})
	if err != nil {
		return nil, err
	}
	return iv, nil
}

// SendInterviewReminders queues a reminder to the candidates of the
// interviews starting within a day that were not declined and not yet
// reminded, across every company (a background job). It returns how many.
func (s *Service) SendInterviewReminders(ctx context.Context) (int, error) {
	now := s.now()
	type due struct {
		tenantID, id, email, name, title, company, lang, companyLang, tz, location, link string
		start                                                                            time.Time
	}
	var list []due
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error { // every company's
		rows, err := tx.QueryContext(ctx, `SELECT i.tenant_id, i.id, c.email, c.name, p.title, t.name, p.language, t.default_language, i.time_zone,
			i.location, i.video_link, i.starts_at
			FROM interviews i JOIN applications a ON a.tenant_id = i.tenant_id AND a.id = i.application_id
			JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id
			JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
			JOIN tenants t ON t.id = i.tenant_id
			WHERE i.reminded_at IS NULL AND i.status IN ('invited', 'accepted') AND i.starts_at > $1 AND i.starts_at <= $2
			ORDER BY i.starts_at LIMIT 500`, now, now.Add(24*time.Hour))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.tenantID, &d.id, &d.email, &d.name, &d.title, &d.company, &d.lang, &d.companyLang, &d.tz, &d.location, &d.link, &d.start); err != nil {
				return err
			}
			list = append(list, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("find interviews to remind: %w", err)
	}
	for _, d := range list {
		loc, err := time.LoadLocation(d.tz)
		if err != nil {
			loc = time.UTC
		}
		lang := s.career.I18n.Pick(d.lang, "", d.companyLang)
		err = s.db.InTx(ctx, d.tenantID, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE interviews SET reminded_at = $3 WHERE tenant_id = $1 AND id = $2 AND reminded_at IS NULL`, d.tenantID, d.id, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			return s.career.Queue.Enqueue(ctx, tx, d.tenantID, notify.Message{
				To:      []string{d.email},
				Subject: s.career.I18n.T(lang, "interview.reminder.subject", "position", d.title, "company", d.company),
				Text: s.career.I18n.T(lang, "interview.reminder.body", "name", d.name, "position", d.title, "company", d.company,
					"when", d.start.In(loc).Format("2006-01-02 15:04")+" ("+d.tz+")", "place", strings.TrimSpace(d.location+" "+d.link)),
			})
		})

		if err != nil {
			return 0, err
		}
	}
	return len(list), nil
}
