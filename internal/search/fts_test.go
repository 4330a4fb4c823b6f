package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

func TestTSQuery(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"skill:go", ""},
		{"Java", "('java' | 'jav':D)"},
		{"java -php", "('java' | 'jav':D) & !('php')"},
		{`"project manag"* OR scrum`, "(('project' <-> 'manag':*) | 'scrum')"},
		{"develop* -\"team lead\"", "('develop':*) & !(('team' <-> 'lead'))"},
		{`it's "a\b" & ! <-> :* |`, "(('it' <-> 's')) & (('a' <-> 'b'))"},
	} {
		q, err := Parse(c.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		if got := q.TSQuery(); got != c.want {
			t.Errorf("Parse(%q).TSQuery() = %s, want %s", c.in, got, c.want)
		}
	}
	if got := tsLexeme(`a'b\c`); got != `'a''b\\c'` {
		t.Errorf("tsLexeme = %s", got)
	}
}

// documents are what the engine tests search, by id.
var documents = []string{
	1: "Øyvind Ødegård, senior Java developer in Oslo",
	2: "Jana Šťastná, projektová manažerka, Brno, Kotlin",
	3: "Åsa Ångström, project manager, scrum, PHP",
	4: "Łukasz Kowalski, development team lead, Java, PHP",
}

// searches are queries with the documents they find.
var searches = []struct {
	q    string
	want []int
}{
	{"oyvind odegard", []int{1}},
	{"ØYVIND", []int{1}},
	{"STASTNA", []int{2}},
	{"manazerka brno", []int{2}},
	{"angstrom", []int{3}},
	{"lukasz", []int{4}},
	{"java -php", []int{1}},
	{"java OR kotlin", []int{1, 2, 4}},
	{"java OR kotlin -lead", []int{1, 2}},
	{`"project manager"`, []int{3}},
	{`"manager project"`, nil},
	{"develop*", []int{1, 4}},
	{`"team lea"*`, []int{4}},
	{"projekt*", []int{2}},
	{"php -scrum -oslo", []int{4}},
}

// engine runs a translated query and returns the ids of the documents it matches.
type engine struct {
	name      string
	db        *sql.DB
	translate func(*Query) string
	match     string // statement with the expression as $1 and the documents' ids
}

func sqliteEngine(t testing.TB) engine {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	// Every connection would be a database of its own.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(`CREATE VIRTUAL TABLE t USING fts5(documents, stems, tokenize='unicode61 remove_diacritics 2')`); err != nil {
		t.Fatal(err)
	}
	for id, d := range documents {
		if d == "" {
			continue
		}
		if _, err := db.Exec(`INSERT INTO t (rowid, documents, stems) VALUES ($1, $2, $3)`, id, Fold(d), strings.Join(DocumentStems(d), " ")); err != nil {
			t.Fatal(err)
		}
	}
	return engine{name: "sqlite", db: db, translate: (*Query).FTS5, match: `SELECT rowid FROM t WHERE t MATCH $1 ORDER BY rowid`}
}

// postgresEngine is nil when no PostgreSQL is given for tests.
func postgresEngine(t testing.TB) *engine {
	url := os.Getenv("KANDIDAT_TEST_POSTGRES_URL")
	if url == "" {
		return nil
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var rows []string
	for id, d := range documents {
		if d != "" {
			rows = append(rows, fmt.Sprintf("(%d, '%s', '%s')", id, Fold(d), strings.Join(DocumentStems(d), " ")))
		}
	}
	// As the index: the words of documents and their stems weighted D.
	match := `SELECT id FROM (VALUES ` + strings.Join(rows, ", ") + `) AS d(id, body, stems)
		WHERE setweight(to_tsvector('simple', body || ' ' || stems), 'D') @@ to_tsquery('simple', $1) ORDER BY id`
	return &engine{name: "postgres", db: db, translate: (*Query).TSQuery, match: match}
}

func engines(t testing.TB) []engine {
	es := []engine{sqliteEngine(t)}
	if pg := postgresEngine(t); pg != nil {
		es = append(es, *pg)
	}
	return es
}

// run executes q's text on e; a query without text runs nothing.
func (e engine) run(ctx context.Context, q *Query) ([]int, error) {
	expr := e.translate(q)
	if expr == "" {
		return nil, nil
	}
	rows, err := e.db.QueryContext(ctx, e.match, expr)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", e.name, expr, err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func TestEnginesFind(t *testing.T) {
	for _, e := range engines(t) {
		for _, s := range searches {
			q, err := Parse(s.q)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s.q, err)
			}
			got, err := e.run(t.Context(), q)
			if err != nil {
				t.Errorf("%q: %v", s.q, err)
				continue
			}
			if !slices.Equal(got, s.want) {
				t.Errorf("%s: %q (%s) found %v, want %v", e.name, s.q, e.translate(q), got, s.want)
			}
		}
	}
}

// hostile are queries that try the parser and the engines' syntax.
var hostile = []string{
	``, `"`, `""`, `"""`, `-`, `--`, `*`, `**`, `-*`, `OR`, `OR OR`, `a OR OR b`, `AND`, `NOT`, `a NOT b`,
	`NEAR(`, `NEAR(a b, 2)`, `"a" AND`, `^`, `^a`, `col:term`, `body:term`, `{a b}`, `{body}: a`, `a + b`,
	`(`, `)`, `(a OR b`, `a) OR (b`, `'`, `''`, `\`, `\'`, `!`, `!!a`, `&`, `a & b`, `a | b`, `a <-> b`,
	`a <2> b`, `a:*`, `:*`, `a:ab`, `field:`, `skill:`, `skill:"`, `skill:"a`, `skill:""`, `-skill:`,
	`applied:`, `applied:>`, `applied:..`, `applied:2026-01-01..`, `consent:`, `consent:"valid"`,
	"a\x00b", "\x00", "\xff", "\xc3", "a\u200b b", "\u202e evil", "\ufeff", `ø*`, `øy*`, `"ø"*`,
	`-"a"`, `-"a" b`, `a -"" b`, `"a" OR -"b"`, `skill:go OR java`, `c++:`, `10:30`, `http://x.y/z?a=b`,
	`user@example.com`, `1.5 -2 3e5`, `ⅻ ① ㎒ ﬁ`, `„a“ ”b” «c»`, `a*b*c`, `a**`, `"a b"**`,
	strings.Repeat(`"`, 501), strings.Repeat("a OR ", 40), strings.Repeat("-a ", 33), strings.Repeat("ü", 250),
}

// fragments are the pieces random queries are made of.
var fragments = []string{
	"java", "Øyvind", "Šťastná", "lead", "php", "develop", "mana", "x", "ø", "1", "2026-01-01",
	" ", " ", " ", "\t", `"`, `„`, `“`, `»`, "-", "*", ":", "OR", "AND", "NOT", "NEAR", "(", ")", "{", "}",
	"^", "'", `\`, "!", "&", "|", "<->", ":*", "+", ",", ".", "..", ">", ">=", "<", "=", "\x00", "\xff",
	"skill:", "label:", "stage:", "position:", "source:", "city:", "applied:", "consent:", "valid", "col:",
	"\u0301", "\u200d", "ß", "İ", "ς", "한", "日本",
}

func randomQuery(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(fragments[r.IntN(len(fragments))])
	}
	return b.String()
}

// checkParse fails on anything but a query or a QueryError, and on a
// translation that holds anything but quoted terms and the operators the
// translation writes itself.
func checkParse(t *testing.T, s string) *Query {
	q, err := Parse(s)
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) || !slices.Contains(errorKeys, qe.Key) || qe.Pos < 0 || qe.Pos > len(s) {
			t.Fatalf("Parse(%q): %#v", s, err)
		}
		return nil
	}
	items := 0
	for _, c := range q.Text {
		items += len(c.Any)
		for _, p := range c.Any {
			for _, term := range p.Terms {
				if term == "" || term != Fold(term) || strings.Contains(term, " ") || len(term) > MaxTermBytes {
					t.Fatalf("Parse(%q): term %q", s, term)
				}
			}
		}
	}
	for _, c := range q.Filters {
		items += len(c.Any)
		for _, f := range c.Any {
			if !utf8.ValidString(f.Value) || strings.ContainsRune(f.Value, 0) {
				t.Fatalf("Parse(%q): filter value %q", s, f.Value)
			}
		}
	}
	if items > MaxItems {
		t.Fatalf("Parse(%q): %d items", s, items)
	}
	if len(q.Text) > 0 && !q.hasPositiveText() {
		t.Fatalf("Parse(%q): only exclusions", s)
	}
	if rest := fts5Strings.ReplaceAllString(q.FTS5(), ""); !fts5Operators.MatchString(rest) {
		t.Fatalf("Parse(%q).FTS5() = %s: %q outside the strings", s, q.FTS5(), rest)
	}
	if rest := tsLexemes.ReplaceAllString(q.TSQuery(), ""); !tsOperators.MatchString(rest) {
		t.Fatalf("Parse(%q).TSQuery() = %s: %q outside the lexemes", s, q.TSQuery(), rest)
	}
	return q
}

var (
	fts5Strings   = regexp.MustCompile(`"(?:[^"]|"")*"`)
	fts5Operators = regexp.MustCompile(`^(?:[() *]|AND|OR|NOT|\{documents stems\} :)*$`)
	tsLexemes     = regexp.MustCompile(`'(?:[^']|'')*'`)
	tsOperators   = regexp.MustCompile(`^(?:[() &|!]|<->|:\*|:D)*$`)
)

// TestEnginesAcceptEveryQuery runs the hostile queries and random ones on
// each engine: every query parses or is refused, and no translation is a
// syntax error.
func TestEnginesAcceptEveryQuery(t *testing.T) {
	queries := slices.Clone(hostile)
	r := rand.New(rand.NewPCG(13, 2))
	for range 3000 {
		queries = append(queries, randomQuery(r))
	}
	for _, e := range engines(t) {
		for _, s := range queries {
			q := checkParse(t, s)
			if q == nil {
				continue
			}
			if _, err := e.run(t.Context(), q); err != nil {
				t.Errorf("%q: %v", s, err)
			}
		}
	}
}

func addSeeds(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	for _, s := range searches {
		f.Add(s.q)
	}
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) { checkParse(t, s) })
}

func FuzzFTS5(f *testing.F) {
	addSeeds(f)
	e := sqliteEngine(f)
	f.Fuzz(func(t *testing.T, s string) {
		if q := checkParse(t, s); q != nil {
			if _, err := e.run(t.Context(), q); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
		}
	})
}

// FuzzTSQuery runs on PostgreSQL when KANDIDAT_TEST_POSTGRES_URL names one.
func FuzzTSQuery(f *testing.F) {
	addSeeds(f)
	e := postgresEngine(f)
	if e == nil {
		f.Skip("KANDIDAT_TEST_POSTGRES_URL is not set")
	}
	f.Fuzz(func(t *testing.T, s string) {
		if q := checkParse(t, s); q != nil {
			if _, err := e.run(t.Context(), q); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
		}
	})
}
