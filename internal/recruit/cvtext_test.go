package recruit_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestDocumentTextExtraction: after applications arrive, workers racing
// each other extract every document's text exactly once: a plain-text CV
// in Czech is read, a damaged PDF is marked failed with its reason, an
// image is marked as having no text. The text is shown to those who may
// see the application, and to nobody else.
func TestDocumentTextExtraction(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Engineer")
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	cv := "Životopis\nJiří Dvořák — vývojář v Go, Kubernetes, PostgreSQL.\nŘízení týmu, 8 let praxe.\n"
	txt := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Jiří Dvořák", Email: "jiri@example.org",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte(cv)}, Attachments: []recruit.Upload{{Name: "photo.png", Data: img.Bytes()}}})
	bad := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Ann Andersson", Email: "ann@example.org",
		CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(careerPDF)}})

	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	err := e.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT file_type, text_state, text_error, text_attempts FROM documents ORDER BY file_type`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ft, state, reason string
			var attempts int
			if err := rows.Scan(&ft, &state, &reason, &attempts); err != nil {
				return err
			}
			if ft != "png" && attempts != 1 {
				t.Errorf("%s tried %d times, want once", ft, attempts)
			}
			states[ft] = state + "/" + reason
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if states["txt"] != "done/" || states["pdf"] != "failed/damaged" || states["png"] != "none/" {
		t.Fatalf("states: %v", states)
	}

	docs, err := e.svc.Documents(ctx, hr, txt.ID)
	if err != nil {
		t.Fatal(err)
	}
	var cvID string
	for _, d := range docs {
		if d.Kind == "cv" {
			cvID = d.ID
		}
	}
	got, err := e.svc.TextOf(ctx, hr, cvID)
	if err != nil || got.State != recruit.TextDone || !strings.Contains(got.Text, "Jiří Dvořák — vývojář v Go") || !strings.Contains(got.Text, "Řízení týmu") {
		t.Fatalf("text of the CV: %+v %v", got, err)
	}
	badDocs, _ := e.svc.Documents(ctx, hr, bad.ID)
	if got, err := e.svc.TextOf(ctx, hr, badDocs[0].ID); err != nil || got.State != recruit.TextFailed || got.Error != "damaged" || got.Text != "" {
		t.Fatalf("text of the damaged PDF: %+v %v", got, err)
	}
	// A line manager the position is not shared with sees nothing.
	if _, err := e.svc.TextOf(ctx, e.users[access.LineManager], cvID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("line manager: %v, want not found", err)
	}
	if _, err := e.svc.TextOf(ctx, hr, "not-an-id"); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("bad id: %v", err)
	}
}

// TestDocumentTextGivesUp: a document whose worker died holding it is
// taken up again once the claim lapses, and after three tries that never
// finished it is marked failed instead of being tried for ever.
func TestDocumentTextGivesUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.published(t, "Engineer")
	e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Bo Ek", Email: "bo@example.org", CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Bo Ek, welder")}})
	set := func(q string) {
		t.Helper()
		if err := e.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q); return err }); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (s, reason string) {
		t.Helper()
		if err := e.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT text_state, text_error FROM documents`).Scan(&s, &reason)
		}); err != nil {
			t.Fatal(err)
		}
		return s, reason
	}
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	// A worker holds it: nobody else takes it.
	set(`UPDATE documents SET text_attempts = 1, text_claimed_until = '2999-01-01 00:00:00'`)
	if n, err := e.svc.ExtractTexts(ctx, x, 10); err != nil || n != 0 {
		t.Fatalf("a held document was taken: %d %v", n, err)
	}
	// Its worker died: the claim lapsed, the document is read.
	set(`UPDATE documents SET text_claimed_until = '2000-01-01 00:00:00'`)
	if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	if s, _ := state(); s != recruit.TextDone {
		t.Fatalf("after the claim lapsed: %s", s)
	}
	// Three tries that never finished: failed.
	set(`UPDATE documents SET text_state = 'pending', text_attempts = 3, text_claimed_until = '2000-01-01 00:00:00'`)
	if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	if s, reason := state(); s != recruit.TextFailed || reason != "attempts" {
		t.Fatalf("after three tries: %s %s", s, reason)
	}
}
