package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// render writes a fragment with its hits in [brackets].
func render(f Fragment) string {
	var b strings.Builder
	for _, p := range f.Parts {
		if p.Hit {
			b.WriteString("[" + p.Text + "]")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func mustParse(t testing.TB, s string) *Query {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return q
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here and there ", 40)
	for _, c := range []struct {
		name, text, q, want string
		asYouType           bool
		clauses             int
	}{
		{name: "diacritics", text: "Referent: Øyvind Ødegård, Oslo.", q: "odegard", want: "Referent: Øyvind [Ødegård], Oslo.", clauses: 1},
		{name: "diacritics typed", text: "Jiří Dvořák, vývojář", q: "DVOŘÁK vyvojar", want: "Jiří [Dvořák], [vývojář]", clauses: 2},
		{name: "special letters", text: "Łukasz Đurić studied at Straße 5", q: "lukasz duric strasse", want: "[Łukasz] [Đurić] studied at [Straße] 5", clauses: 3},
		{name: "prefix marks the whole word", text: "Senior developer and development lead", q: "develop*", want: "Senior [developer] and [development] lead", clauses: 1},
		{name: "as you type", text: "Senior developer", q: "devel", asYouType: true, want: "Senior [developer]", clauses: 1},
		{name: "not a prefix unless asked", text: "Senior developer", q: "devel", want: ""},
		{name: "prefix only at the start", text: "a redeveloped site", q: "develop*", want: ""},
		{name: "phrase in a row", text: "He was a project manager; the manager of a project.", q: `"project manager"`, want: "He was a [project manager]; the manager of a project.", clauses: 1},
		{name: "phrase across punctuation", text: "e-mail: x", q: "e-mail", want: "[e-mail]: x", clauses: 1},
		{name: "excluded terms never mark", text: "java and php", q: "java -php", want: "[java] and php", clauses: 1},
		{name: "only what the query finds", text: "nothing here", q: "java", want: ""},
		{name: "or", text: "kotlin and spring", q: "java OR kotlin spring", want: "[kotlin] and [spring]", clauses: 2},
		{name: "stems", text: "Three years as developers of tools", q: "developer", want: "Three years as [developers] of tools", clauses: 1},
		{name: "whitespace collapsed", text: "Skills:\n\n\tGo,\r\n  Kubernetes", q: "kubernetes", want: "Skills: Go, [Kubernetes]", clauses: 1},
		{name: "invisible formatting dropped", text: "name \u202eevil\u202c java", q: "java", want: "name evil [java]", clauses: 1},
		{name: "the window with most clauses", text: "java " + long + " java python", q: "java python", want: "… words here and there [java] [python]", clauses: 2},
		{name: "ellipsis after", text: "java " + long, q: "java", want: "[java] filler words here and there filler words here and there filler words here and there filler words here and there filler words here and there filler words here and …", clauses: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := mustParse(t, c.q)
			if c.asYouType {
				q = q.AsYouType()
			}
			f := Snippet(c.text, q)
			if got := render(f); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			if f.Clauses != c.clauses {
				t.Errorf("clauses: got %d, want %d", f.Clauses, c.clauses)
			}
		})
	}
}

// TestSnippetBounds: a fragment is short however long the text and its
// words, and a text past SnippetScanBytes is not read.
func TestSnippetBounds(t *testing.T) {
	q := mustParse(t, "needle")
	huge := strings.Repeat("hay ", SnippetScanBytes/4) + "needle"
	if f := Snippet(huge, q); f.Parts != nil {
		t.Errorf("a word past the scanned bytes is found: %q", render(f))
	}
	word := strings.Repeat("x", 5000)
	f := Snippet(word+" needle "+word, q)
	if got := render(f); len(got) > 3*SnippetBytes || !strings.Contains(got, "[needle]") {
		t.Errorf("long words: got %d bytes %q", len(got), got)
	}
	f = Snippet(strings.Repeat("needle ", 1000), q)
	var text strings.Builder
	for _, p := range f.Parts {
		text.WriteString(p.Text)
	}
	if n := len(strings.Fields(text.String())) - 1; f.Hits != n || n > SnippetWords { // less the ellipsis
		t.Errorf("hits: got %d of %d words, want every word, at most %d", f.Hits, n, SnippetWords)
	}
	if text.Len() > SnippetBytes+len(" …") {
		t.Errorf("got %d bytes, want at most %d", text.Len(), SnippetBytes)
	}
}

func FuzzSnippet(f *testing.F) {
	f.Add("Øyvind Ødegård, developer", "odegard develop*")
	f.Add("a \xff\xfe b java", "java")
	f.Add("½ project manager", `"1 2" "project manag"*`)
	f.Add(strings.Repeat("ab ", 100), "ab -cd")
	f.Add("ﬁne ㎒ e\u0301", "fine mhz e")
	f.Fuzz(func(t *testing.T, text, query string) {
		q, err := Parse(query)
		if err != nil {
			return
		}
		for _, q := range []*Query{q, q.AsYouType()} {
			fr := Snippet(text, q)
			var all strings.Builder
			for i, p := range fr.Parts {
				if p.Text == "" || !utf8.ValidString(p.Text) {
					t.Fatalf("part %d: %q", i, p.Text)
				}
				if i > 0 && fr.Parts[i-1].Hit == p.Hit {
					t.Fatalf("parts %d and %d both hit=%v", i-1, i, p.Hit)
				}
				if p.Hit {
					// A hit holds a word of the query (or of its stems).
					if len(Terms(p.Text)) == 0 {
						t.Fatalf("hit without a word: %q", p.Text)
					}
				}
				all.WriteString(p.Text)
			}
			if len(all.String()) > 2*snippetMaxOut+16 {
				t.Fatalf("fragment of %d bytes", all.Len())
			}
			if (fr.Parts == nil) != (fr.Clauses == 0) || fr.Hits < fr.Clauses {
				t.Fatalf("fragment %+v", fr)
			}
		}
	})
}
