package recruit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Comment is a remark of a colleague on an application.
type Comment struct {
	ID        string
	AuthorID  string
	Body      string
	CreatedAt time.Time
}

// AddComment adds a comment to an application.
func (s *Service) AddComment(ctx context.Context, a access.Actor, applicationID, body string) (*Comment, error) {
	body = strings.TrimSpace(norm.NFC.String(body))
	if body == "" || !utf8.ValidString(body) || utf8.RuneCountInString(body) > 5000 ||
		strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return nil, fault.Field("body", "error.comment")
	}
	c := &Comment{ID: id.New(), AuthorID: a.UserID, Body: body, CreatedAt: s.now().UTC()}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.Comment, applicationID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertComment,
			a.TenantID, c.ID, applicationID, a.UserID, body, c.CreatedAt); err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationCommented, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}, {Kind: "comment", ID: c.ID}}})
	})

	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return c, nil
}

// comments is Comments inside a read transaction.
func (s *Service) comments(ctx context.Context, q querier, a access.Actor, id string) ([]Comment, error) {
	if _, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, id); err != nil {
		return nil, err
	}
	return listComments(ctx, q, a.TenantID, id)
}

// listComments reads an application's comments, oldest first.
func listComments(ctx context.Context, q querier, tenantID, id string) ([]Comment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, author_id, body, created_at FROM comments WHERE tenant_id = $1 AND application_id = $2
		ORDER BY created_at, id`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	var out []Comment
	for rows.Next() {
		var c Comment
		if err := rows.Scan(&c.ID, &c.AuthorID, &c.Body, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.CreatedAt = c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Comments lists the comments on an application the actor may see, oldest first.
func (s *Service) Comments(ctx context.Context, a access.Actor, id string) (cs []Comment, err error) {
	err = s.read(ctx, a, func(q querier) error { cs, err = s.comments(ctx, q, a, id); return err })
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return cs, nil
}
