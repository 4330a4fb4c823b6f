package recruit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/search"
)

// Where a snippet's text comes from.
const (
	SnippetCV       = "cv"
	SnippetDocument = "document"
	SnippetComment  = "comment"
	SnippetLabel    = "label"
)

// Snippet is the piece of an application's text that shows why a search
// found its candidate, its matched words marked.
type Snippet struct {
	// Field is where the text is: SnippetCV, SnippetDocument,
	// SnippetComment or SnippetLabel.
	Field string
	Parts []search.Part
}

// LabelCount is a label and how many of a page's applications carry it.
type LabelCount struct {
	Label string
	Count int
}

// ListDetails is what the candidate list shows about the rows of a page
// beside the rows themselves.
type ListDetails struct {
	// Snippets holds, by application id, the best fragment of what the
	// search covers when the query has words.
	Snippets map[string]*Snippet
	// Labels are the labels of the page's applications, most used first.
	Labels []LabelCount
}

// Bounds of the text read for snippets: comments and documents of the
// page's rows only, so a page costs at most its rows' worth of reads.
const (
	snippetComments     = 1000     // comments of a page, newest first
	snippetDocsPerRow   = 2        // documents read for one row
	snippetDocTextBytes = 64 << 10 // of each document's text
	maxListLabels       = 8
)

// ListDetails reads, for the applications of a page of the candidate list
// (as ListPage returned them for text), their labels and, when the query
// has words, a snippet for each: the fragment of the application's
// comments, labels or documents' text where the query finds most of what
// it requires. Only what the actor may see of that application is read,
// and never private notes (their author's alone, and out of the index).
// The rows' labels and comments are read in one read transaction declared
// to the company; documents' text, stored encrypted in the file store, is
// read after it, and only for rows whose comments and labels do not hold
// every word, at most snippetDocTextBytes of each.
func (s *Service) ListDetails(ctx context.Context, a access.Actor, text string, apps []*Application) (*ListDetails, error) {
	out := &ListDetails{Snippets: map[string]*Snippet{}}
	var ids []string
	byID := map[string]*Application{}
	for _, app := range apps {
		if len(ids) == MaxList {
			break
		}
		if Decide(a, access.ViewApplications, app) && byID[app.ID] == nil {
			ids = append(ids, app.ID)
			byID[app.ID] = app
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var q *search.Query
	if text = strings.TrimSpace(text); text != "" {
		if parsed, err := search.Parse(text); err == nil {
			q = parsed.AsYouType() // as the list ran it
		}
	}
	required := 0
	if q != nil {
		for _, c := range q.Text {
			if !c.Not {
				required++
			}
		}
	}
	type doc struct {
		id, appID, kind string
		key             []byte
	}
	labels := map[string][]string{}
	comments := map[string][]string{}
	var docs []doc
	err := s.read(ctx, a, func(qr querier) error {
		args := []any{a.TenantID}
		marks := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", i+2)
		}
		in := "(" + strings.Join(marks, ", ") + ")"
		// Each application's labels by its key: PostgreSQL otherwise
		// takes the company's label index (or a hash join over it) and
		// reads all the company's labels to find the page's few. LATERAL
		// makes it look up each application's labels; SQLite does so
		// anyway.
		join := `JOIN application_labels l ON l.tenant_id = a.tenant_id AND l.application_id = a.id`
		if s.db.Engine == db.Postgres {
			// OFFSET 0 keeps the planner from flattening the subquery back
			// into the join it replaces.
			join = `CROSS JOIN LATERAL (SELECT label FROM application_labels l WHERE l.tenant_id = a.tenant_id AND l.application_id = a.id OFFSET 0) l`
		}
		rows, err := qr.QueryContext(ctx, `SELECT a.id, l.label FROM applications a `+join+`
			WHERE a.tenant_id = $1 AND a.id IN `+in, args...)
		if err != nil {
			return fmt.Errorf("read the page's labels: %w", err)
		}
		for rows.Next() {
			var appID, label string
			if err := rows.Scan(&appID, &label); err != nil {
				rows.Close()
				return err
			}
			labels[appID] = append(labels[appID], label)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if required == 0 {
			return nil
		}
		rows, err = qr.QueryContext(ctx, `SELECT application_id, body FROM comments WHERE tenant_id = $1 AND application_id IN `+in+
			fmt.Sprintf(` ORDER BY created_at DESC LIMIT %d`, snippetComments), args...)
		if err != nil {
			return fmt.Errorf("read the page's comments: %w", err)
		}
		for rows.Next() {
			var appID, body string
			if err := rows.Scan(&appID, &body); err != nil {
				rows.Close()
				return err
			}
			comments[appID] = append(comments[appID], body)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = qr.QueryContext(ctx, `SELECT id, application_id, kind, text_key FROM documents
			WHERE tenant_id = $1 AND application_id IN `+in+` AND text_state = 'done' AND text_key IS NOT NULL ORDER BY kind DESC, created_at DESC`, args...)
		if err != nil {
			return fmt.Errorf("read the page's documents: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var d doc
			if err := rows.Scan(&d.id, &d.appID, &d.kind, &d.key); err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}

	counts := map[string]int{}
	for _, ls := range labels {
		for _, l := range ls {
			counts[l]++
		}
	}
	for l, n := range counts {
		out.Labels = append(out.Labels, LabelCount{Label: l, Count: n})
	}
	slices.SortFunc(out.Labels, func(x, y LabelCount) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Label, y.Label)) })
	out.Labels = out.Labels[:min(len(out.Labels), maxListLabels)]
	if required == 0 {
		return out, nil
	}

	best := map[string]search.Fragment{}
	consider := func(appID, field, text string) {
		f := search.Snippet(text, q)
		if f.Clauses == 0 {
			return
		}
		b := best[appID]
		if f.Clauses > b.Clauses || f.Clauses == b.Clauses && f.Hits > b.Hits {
			best[appID] = f
			out.Snippets[appID] = &Snippet{Field: field, Parts: f.Parts}
		}
	}
	// What the row itself shows (the name, email and phone) needs no
	// snippet: a row found by its name alone reads no document, which is
	// most of a search by name.
	for _, appID := range ids {
		c := byID[appID].Candidate
		if f := search.Snippet(c.Name+" "+c.Email+" "+c.Phone, q); f.Clauses > 0 {
			best[appID] = f
		}
	}
	for _, appID := range ids {
		for _, c := range comments[appID] {
			consider(appID, SnippetComment, c)
		}
		for _, l := range labels[appID] {
			consider(appID, SnippetLabel, l)
		}
	}
	read := map[string]int{}
	for _, d := range docs {
		if best[d.appID].Clauses >= required || read[d.appID] >= snippetDocsPerRow {
			continue
		}
		read[d.appID]++
		text, err := s.documentText(ctx, a.TenantID, d.id, d.key)
		if err != nil {
			return nil, err
		}
		field := SnippetDocument
		if d.kind == "cv" {
			field = SnippetCV
		}
		consider(d.appID, field, text)
	}
	return out, nil
}

// documentText reads the start of a document's extracted text, at most
// snippetDocTextBytes.
func (s *Service) documentText(ctx context.Context, tenantID, documentID string, key []byte) (string, error) {
	rc, err := s.career.Blobs.Open(ctx, tenantID, textObject(documentID), key)
	if err != nil {
		return "", fmt.Errorf("read document text for a snippet: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, snippetDocTextBytes))
	if err != nil {
		return "", fmt.Errorf("read document text for a snippet: %w", err)
	}
	return string(b), nil
}
