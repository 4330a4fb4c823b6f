package search_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/search"
)

// corpus is a small multilingual pool of two companies: names with the
// letters folding must handle, skills, notes and CV text in five languages.
var corpus = []struct {
	tenant, id string
	entry      search.Entry
}{
	{"t1", "oyvind", search.Entry{Name: []string{"Øyvind Ødegård", "oyvind@example.no"}, Tags: []string{"Java", "Kotlin", "Backend developer"},
		Documents: []string{"Erfaren utvikler med ansvar for betalingsløsninger i Oslo. Språk: norsk, engelsk."}}},
	{"t1", "jiri", search.Entry{Name: []string{"Jiří Dvořák", "jiri.dvorak@example.cz", "+420 777 123 456"}, Tags: []string{"Go", "PostgreSQL", "Backend developer"},
		Notes: []string{"Silný kandidát, doporučuji pohovor."}, Documents: []string{"Životopis. Řízení týmu vývojářů, Kubernetes, Praha."}}},
	{"t1", "asa", search.Entry{Name: []string{"Åsa Ångström"}, Tags: []string{"UX design", "Figma"},
		Documents: []string{"Designer i Göteborg med fokus på tillgänglighet. Samarbetat med utvecklare i Java."}}},
	{"t1", "lukasz", search.Entry{Name: []string{"Łukasz Żółkiewski"}, Tags: []string{"Accounting"},
		Notes: []string{"Prefers remote work; knows Go a little."}, Documents: []string{"Senior accountant, Kraków."}}},
	{"t1", "zuzana", search.Entry{Name: []string{"Zuzana Šťastná"}, Tags: []string{"Marketing"},
		Documents: []string{"Marketingová manažérka v Bratislave, skúsenosti s kampaňami na sociálnych sieťach."}}},
	{"t1", "anna", search.Entry{Name: []string{"Anna Smith"}, Tags: []string{"Project management"},
		Documents: []string{"Project manager who led a team of Java developers in London."}}},
	// Candidates who match none of the queries, as most of a real pool
	// does: a word in most entries ranks nothing (its weight is nil).
	{"t1", "karel", search.Entry{Name: []string{"Karel Novák"}, Tags: []string{"Sales"}, Documents: []string{"Obchodní zástupce v Brně."}}},
	{"t1", "ingrid", search.Entry{Name: []string{"Ingrid Berg"}, Tags: []string{"Nursing"}, Documents: []string{"Sykepleier ved Haukeland i Bergen."}}},
	{"t1", "erik", search.Entry{Name: []string{"Erik Lund"}, Tags: []string{"Logistics"}, Documents: []string{"Lagerchef i Malmö."}}},
	{"t1", "maria", search.Entry{Name: []string{"Maria Horváthová"}, Tags: []string{"Finance"}, Documents: []string{"Účtovníčka v Košiciach."}}},
	// A stem of a word finds only documents' stems: "hansen" (Norwegian
	// stem "hans") does not find Hans.
	{"t1", "hans", search.Entry{Name: []string{"Hans Lie"}, Tags: []string{"Welding"}}},
	{"t1", "kari", search.Entry{Name: []string{"Kari Hansen"}, Tags: []string{"Welding"},
		Documents: []string{"Sveiser med erfaring fra verft i Stavanger og Haugesund, og jeg har sertifikat."}}},
	// Another company's candidate, who must never be found from t1.
	{"t2", "other", search.Entry{Name: []string{"Øyvind Other"}, Tags: []string{"Go", "Java"}, Documents: []string{"Kubernetes expert."}}},
}

func setup(t *testing.T) (*db.DB, *search.Index) {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	x := search.NewIndex(d.Engine)
	err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		for _, tid := range []string{"t1", "t2"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $1, $1, 'en', $2, $2)`, tid, db.Now()); err != nil {
				return err
			}
		}
		for _, c := range corpus {
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (tenant_id, id, name, email, created_at, updated_at) VALUES ($1, $2, $2, $2, $3, $3)`,
				c.tenant, c.id, db.Now()); err != nil {
				return err
			}
			if err := x.Put(ctx, tx, c.tenant, c.id, c.entry); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, x
}

func ranked(t *testing.T, d *db.DB, x *search.Index, tenant, query string) []string {
	t.Helper()
	q, err := search.Parse(query)
	if err != nil {
		t.Fatalf("%q: %v", query, err)
	}
	var out []string
	err = d.ReadTx(context.Background(), tenant, func(tx *sql.Tx) error {
		hits, err := x.Ranked(context.Background(), tx, tenant, q, 20)
		for _, h := range hits {
			out = append(out, h.CandidateID)
		}
		return err
	})
	if err != nil {
		t.Fatalf("%q: %v", query, err)
	}
	return out
}

// TestRelevance: the expected results, best first, for a table of queries
// with and without diacritics, on the engine under test.
func TestRelevance(t *testing.T) {
	d, x := setup(t)
	for _, tc := range []struct {
		query string
		want  []string // in this order; nil: none
		// anyOrder: the set matters, not the order.
		anyOrder bool
		// first is the best result, when the rest may come in any order.
		first string
	}{
		{query: "oyvind odegard", want: []string{"oyvind"}},
		{query: "Øyvind", want: []string{"oyvind"}},
		{query: "dvorak", want: []string{"jiri"}},
		{query: "Dvořák", want: []string{"jiri"}},
		{query: "rizeni tymu", want: []string{"jiri"}},
		{query: "lukasz zolkiewski", want: []string{"lukasz"}},
		{query: "stastna", want: []string{"zuzana"}},
		{query: "angstrom", want: []string{"asa"}},
		{query: "goteborg", want: []string{"asa"}},
		// Java is a skill of Øyvind (tags), a word in Åsa's and Anna's CVs: the skill first.
		{query: "java", want: []string{"oyvind", "asa", "anna"}, anyOrder: true, first: "oyvind"},
		{query: "go", want: []string{"jiri", "lukasz"}, anyOrder: true, first: "jiri"}, // a skill before a note
		{query: "java -kotlin", want: []string{"asa", "anna"}, anyOrder: true},
		{query: `"backend developer"`, want: []string{"oyvind", "jiri"}, anyOrder: true},
		{query: `"developer backend"`, want: nil},
		{query: "kube*", want: []string{"jiri"}},
		{query: "go OR figma", want: []string{"jiri", "asa", "lukasz"}, anyOrder: true},
		{query: "marketing*", want: []string{"zuzana"}},
		// Stems in the document's language (stem.go), and prefixes for
		// Czech and Slovak, which have no stemmer.
		{query: "utvecklaren", want: []string{"asa"}},
		{query: "utviklere", want: []string{"oyvind"}},
		{query: "development", want: []string{"anna"}},
		{query: "managers", want: []string{"anna"}},
		{query: "vyvojar*", want: []string{"jiri"}},
		{query: "kampan*", want: []string{"zuzana"}},
		// An exclusion is literal: Øyvind, a "Backend developer", goes; Anna's "developers" stay.
		{query: "-developer java", want: []string{"asa", "anna"}, anyOrder: true},
		{query: "hansen", want: []string{"kari"}},
		{query: "sveisere", want: []string{"kari"}}, // Norwegian plural, a stem of the CV's "sveiser"
		{query: "nobody-has-this", want: nil},
		{query: "other", want: nil}, // t2's candidate
	} {
		got := ranked(t, d, x, "t1", tc.query)
		if tc.first != "" && (len(got) == 0 || got[0] != tc.first) {
			t.Errorf("%q: %v, want %s first", tc.query, got, tc.first)
		}
		if tc.anyOrder {
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%q: %v, want %v in any order", tc.query, got, tc.want)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}
	if got := ranked(t, d, x, "t2", "oyvind"); !slices.Equal(got, []string{"other"}) {
		t.Errorf("t2 oyvind: %v", got)
	}
}

// TestMatchAndRemoval: the SQL condition selects the same candidates; a
// replaced entry forgets its old words; a removed candidate leaves the
// index and its storage.
func TestMatchAndRemoval(t *testing.T) {
	d, x := setup(t)
	ctx := context.Background()
	match := func(query string) []string {
		t.Helper()
		q, err := search.Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		var args []any
		arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
		cond := x.Match(q, "t1", "c.id", arg)
		var out []string
		err = d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT c.id FROM candidates c WHERE c.tenant_id = 't1' AND `+cond+` ORDER BY c.id`, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				rows.Scan(&id)
				out = append(out, id)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		return out
	}
	if got := match("backend"); !slices.Equal(got, []string{"jiri", "oyvind"}) {
		t.Fatalf("match backend: %v", got)
	}
	if q, _ := search.Parse("skill:go"); x.Match(q, "t1", "c.id", func(any) string { return "?" }) != "" {
		t.Fatal("a query without text gives a condition")
	}
	err := d.InTx(ctx, "t1", func(tx *sql.Tx) error {
		if err := x.Put(ctx, tx, "t1", "jiri", search.Entry{Name: []string{"Jiří Dvořák"}, Tags: []string{"Rust"}}); err != nil {
			return err
		}
		return x.Delete(ctx, tx, "t1", "oyvind")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := match("backend"); got != nil {
		t.Fatalf("after the changes, backend: %v", got)
	}
	if got := match("rust"); !slices.Equal(got, []string{"jiri"}) {
		t.Fatalf("rust: %v", got)
	}
	// Erasing a candidate erases their entry (the foreign key), words included.
	err = d.InTx(ctx, "t1", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE tenant_id = 't1' AND id = 'asa'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ranked(t, d, x, "t1", "goteborg"); got != nil {
		t.Fatalf("an erased candidate is found: %v", got)
	}
	var left int
	q := `SELECT count(*) FROM candidate_search WHERE tenant_id = 't1'`
	if d.Engine == db.SQLite {
		q = `SELECT count(*) FROM candidate_search_docs WHERE tenant_id = 't1'`
	}
	d.ReadTx(ctx, "t1", func(tx *sql.Tx) error { return tx.QueryRowContext(ctx, q).Scan(&left) })
	want := -2 // Øyvind removed, Åsa erased
	for _, c := range corpus {
		if c.tenant == "t1" {
			want++
		}
	}
	if left != want {
		t.Fatalf("%d entries left for t1, want %d", left, want)
	}
	if d.Engine == db.SQLite {
		// The contentless table holds no row for the erased candidate.
		var n int
		d.ReadTx(ctx, "t1", func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM candidate_search WHERE candidate_search MATCH 'goteborg'`).Scan(&n)
		})
		if n != 0 {
			t.Fatalf("the erased candidate's words are still in the index: %d", n)
		}
	}
}

// TestIndexAcceptsEveryQuery: every hostile query the parser accepts runs
// on the real index of the engine under test without an error.
func TestIndexAcceptsEveryQuery(t *testing.T) {
	d, x := setup(t)
	ran := 0
	for _, query := range search.HostileQueries() {
		q, err := search.Parse(query)
		if err != nil {
			continue
		}
		err = d.ReadTx(context.Background(), "t1", func(tx *sql.Tx) error {
			_, err := x.Ranked(context.Background(), tx, "t1", q, 5)
			return err
		})
		if err != nil {
			t.Errorf("%q: %v", query, err)
		}
		ran++
	}
	if ran < 20 {
		t.Fatalf("only %d hostile queries parsed", ran)
	}
}
