package search_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

	"github.com/kandidat/kandidat/internal/search"
)

// TestTermsOf: the texts an entry holds are the ones the index finds it
// by, text by text (a stem only in documents, a phrase in a row, folded),
// in the order asked, for the candidates named and of the company only.
func TestTermsOf(t *testing.T) {
	d, x := setup(t)
	ctx := context.Background()
	texts := []string{"java", "Go", "utviklere", "project management", "hansen", "kubernetes", "---", "developers", "ODEGARD", "java london"}
	var named []string
	for _, c := range corpus {
		named = append(named, c.id)
	}
	var got map[string][]string
	err := d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
		var err error
		got, err = x.TermsOf(ctx, tx, "t1", texts, named)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// What the index finds by each text alone, as a search would.
	want := map[string][]string{}
	for _, text := range texts {
		q := search.AnyOf([]string{text})
		if len(q.Text) == 0 {
			continue
		}
		err := d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
			hits, err := x.Ranked(ctx, tx, "t1", q, len(corpus))
			for _, h := range hits {
				want[h.CandidateID] = append(want[h.CandidateID], text)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("explained %d candidates, the index finds %d", len(got), len(want))
	}
	for c, w := range want {
		if !slices.Equal(got[c], w) {
			t.Errorf("%s: got %q, want %q", c, got[c], w)
		}
	}
	// A few by hand, so that the comparison above cannot pass empty.
	for c, w := range map[string][]string{
		"oyvind": {"java", "utviklere", "ODEGARD"}, // the document's stem of utvikler
		"anna":   {"java", "project management", "developers"},
		"kari":   {"hansen"},
		"jiri":   {"Go", "kubernetes"},
		"hans":   nil, // hansen's stem finds documents only
		"other":  nil, // another company's
		"karel":  nil,
	} {
		if !slices.Equal(got[c], w) {
			t.Errorf("%s: got %q, want %q", c, got[c], w)
		}
	}
	// Only the candidates named are explained.
	err = d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
		var err error
		got, err = x.TermsOf(ctx, tx, "t1", texts, []string{"kari", "hans"})
		return err
	})
	if err != nil || len(got) != 1 || !slices.Equal(got["kari"], []string{"hansen"}) {
		t.Fatalf("kari and hans: %v, %v", got, err)
	}
	// Many texts at once (more than one statement of SQLite may join):
	// the last still counts, and in its place.
	many := []string{"java"}
	for i := range 600 {
		many = append(many, fmt.Sprintf("zz%d", i))
	}
	many = append(many, "hansen")
	err = d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
		var err error
		got, err = x.TermsOf(ctx, tx, "t1", many, []string{"kari", "anna"})
		return err
	})
	if err != nil || len(got) != 2 || !slices.Equal(got["kari"], []string{"hansen"}) || !slices.Equal(got["anna"], []string{"java"}) {
		t.Fatalf("602 texts: %v, %v", got, err)
	}
	// Texts that fold to nothing explain nothing, in one statement or none.
	err = d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
		var err error
		got, err = x.TermsOf(ctx, tx, "t1", []string{"---", "!"}, named)
		return err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("texts without words: %v, %v", got, err)
	}
}
