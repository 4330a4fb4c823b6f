package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Kinds of emails to candidates whose wording a company may change.
const (
	TemplateAcknowledgement = "acknowledgement"
	TemplateRejection       = "rejection"
	TemplateInvitation      = "invitation"
)

// TemplateKinds lists them.
var TemplateKinds = []string{TemplateAcknowledgement, TemplateRejection, TemplateInvitation}

// templateDefaults are the catalogue keys of each kind's default subject and body.
var templateDefaults = map[string][2]string{
	TemplateAcknowledgement: {"career.email.subject", "career.email.body"},
	TemplateRejection:       {"rejection.email.subject", "rejection.email.body"},
	TemplateInvitation:      {"interview.email.subject", "interview.email.body"},
}

// TemplateVariables are the variables each kind may use, written {name}.
var TemplateVariables = map[string][]string{
	TemplateAcknowledgement: {"name", "position", "company"},
	TemplateRejection:       {"name", "position", "company"},
	TemplateInvitation:      {"name", "position", "company", "when", "minutes", "place", "url"},
}

// Template is the wording of one kind of email in one language.
type Template struct {
	Kind, Language string
	Subject, Body  string
	// Custom is true when the company wrote it; false for the default.
	Custom bool
}

var variablePattern = regexp.MustCompile(`\{([a-z_]+)\}`)

// render fills the variables of kind into text; other braces stay as they are.
func render(text, kind string, vars map[string]string) string {
	return variablePattern.ReplaceAllStringFunc(text, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := vars[name]; ok && slices.Contains(TemplateVariables[kind], name) {
			return v
		}
		return m
	})
}

// template returns the company's wording of kind in lang, or the default.
func (s *Service) template(ctx context.Context, q querier, tenantID, kind, lang string) (Template, error) {
	t := Template{Kind: kind, Language: lang}
	err := q.QueryRowContext(ctx, `SELECT subject, body FROM email_templates WHERE tenant_id = $1 AND kind = $2 AND language = $3`,
		tenantID, kind, lang).Scan(&t.Subject, &t.Body)
	if err == nil {
		t.Custom = true
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("read template: %w", err)
	}
	keys := templateDefaults[kind]
	t.Subject, t.Body = s.career.I18n.T(lang, keys[0]), s.career.I18n.T(lang, keys[1])
	return t, nil
}

// Templates lists every kind in every language, as the company has them,
// to a holder of the company profile right.
func (s *Service) Templates(ctx context.Context, a access.Actor) ([]Template, error) {
	if !a.Can(access.CompanyProfile) {
		return nil, ErrForbidden
	}
	var out []Template
	err := s.read(ctx, a, func(q querier) error {
		for _, kind := range TemplateKinds {
			for _, lang := range tenant.Languages {
				t, err := s.template(ctx, q, a.TenantID, kind, lang)
				if err != nil {
					return err
				}
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}

// SaveTemplate sets the company's wording of kind in lang; empty subject
// and body go back to the default.
func (s *Service) SaveTemplate(ctx context.Context, a access.Actor, kind, lang, subject, body string) error {
	if !a.Can(access.CompanyProfile) {
		return ErrForbidden
	}
	f := map[string]string{}
	if !slices.Contains(TemplateKinds, kind) {
		f["kind"] = "error.template_kind"
	}
	if !slices.Contains(tenant.Languages, lang) {
		f["language"] = "error.language"
	}
	subject = strings.TrimSpace(norm.NFC.String(subject))
	body = strings.TrimSpace(norm.NFC.String(body))
	reset := subject == "" && body == ""
	if !reset {
		if subject == "" || !utf8.ValidString(subject) || utf8.RuneCountInString(subject) > 200 || strings.ContainsFunc(subject, unicode.IsControl) {
			f["subject"] = "error.template_subject"
		}
		if body == "" || !utf8.ValidString(body) || utf8.RuneCountInString(body) > 10000 ||
			strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
			f["body"] = "error.template_body"
		}
		for _, m := range variablePattern.FindAllStringSubmatch(subject+" "+body, -1) {
			if !slices.Contains(TemplateVariables[kind], m[1]) {
				f["body"] = "error.template_variable"
			}
		}
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		if reset {
			_, err = tx.ExecContext(ctx, `DELETE FROM email_templates WHERE tenant_id = $1 AND kind = $2 AND language = $3`, a.TenantID, kind, lang)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO email_templates (tenant_id, kind, language, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (tenant_id, kind, language) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`,
				a.TenantID, kind, lang, subject, body, s.now())
		}
		if err != nil {
			return fmt.Errorf("save template: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TemplateChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "tenant", ID: a.TenantID}}, Details: map[string]string{"kind": kind, "language": lang, "reset": fmt.Sprint(reset)}})
	})

}

// Message is an email sent to an application's candidate, for the
// communication history on the card.
type Message struct {
	ID, Kind, Subject, Body, Status string
	CreatedAt                       time.Time
}

// sendToCandidate renders kind in lang and queues it to the candidate of
// an application inside tx, keeping it in the communication history.
func (s *Service) sendToCandidate(ctx context.Context, tx *sql.Tx, tenantID, applicationID, kind, lang, to string, vars map[string]string,
	appendix string, attach []notify.Attachment) error {
	t, err := s.template(ctx, tx, tenantID, kind, lang)
	if err != nil {
		return err
	}
	subject, body := render(t.Subject, kind, vars), render(t.Body, kind, vars)
	if appendix != "" {
		body += "\n\n" + appendix
	}
	queueID, err := s.career.Queue.EnqueueID(ctx, tx, tenantID, notify.Message{To: []string{to}, Subject: subject, Text: body, Attachments: attach})
	if err != nil {
		return err
	}
	now := s.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO messages (tenant_id, id, application_id, kind, subject, body, queue_id, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)`, tenantID, id.New(), applicationID, kind, subject, body, queueID, now)
	if err != nil {
		return fmt.Errorf("keep message: %w", err)
	}
	return nil
}

// MessageDelivered records how the delivery of a queued email went, for
// the communication history: sent, retrying (a temporary failure) or
// failed (given up). Emails that are not to candidates are ignored.
func (s *Service) MessageDelivered(ctx context.Context, tenantID, queueID string, sent, dropped bool) error {
	status := "retrying"
	switch {
	case sent:
		status = "sent"
	case dropped:
		status = "failed"
	}
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND queue_id = $2`, tenantID, queueID, status, s.now())
		return err
	})

}

// Messages lists the emails sent to an application's candidate, oldest first.
func (s *Service) Messages(ctx context.Context, a access.Actor, applicationID string) (out []Message, err error) {
	err = s.read(ctx, a, func(q querier) error {
		if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID); err != nil {
			return err
		}
		out, err = listMessages(ctx, q, a.TenantID, applicationID)
		return err
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return out, nil
}

// listMessages reads the emails sent to an application's candidate, oldest first.
func listMessages(ctx context.Context, q querier, tenantID, applicationID string) ([]Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, subject, body, status, created_at FROM messages WHERE tenant_id = $1 AND application_id = $2
		ORDER BY created_at, id`, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Kind, &m.Subject, &m.Body, &m.Status, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
