package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLargestPosition(t *testing.T) {
	body := `<table id="positions"><thead><tr><th>Title</th></tr></thead><tbody>
<tr><td><a href="/positions/aaa">A</a></td><td>open</td><td><strong>3</strong></td></tr>
<tr><td><a href="/positions/bbb">B</a></td><td>open</td><td><strong>12</strong> <span class="counts"><span>New: 4</span></span></td></tr>
<tr><td><a href="/positions/ccc">C</a></td><td>open</td><td><strong>12</strong></td></tr>
</tbody></table>`
	if got := largestPosition(body); got != "bbb" {
		t.Fatalf("largestPosition = %q, want the first with the most candidates, bbb", got)
	}
	if got := largestPosition(`<tr><td><a href="/positions/x1">X</a></td></tr>`); got != "x1" {
		t.Fatalf("without counts: %q, want the first position", got)
	}
	if got := largestPosition(`<p>none</p>`); got != "" {
		t.Fatalf("no positions: %q", got)
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct{ name, body, from, want string }{
		{"a rel=next, relative query", `<a href="/audit">x</a> <a rel="next" href="?after=abc&amp;q=x" id="n">next</a>`, "/candidates?q=x", "/candidates?after=abc&q=x"},
		{"href before rel", `<a class="x" href="/candidates?page=2" rel="next">next</a>`, "/candidates", "/candidates?page=2"},
		{"rel with several tokens", `<a rel="nofollow next" href="/candidates?page=3">`, "/candidates", "/candidates?page=3"},
		{"link element", `<link rel="next" href="/candidates?page=2">`, "/candidates", "/candidates?page=2"},
		{"no next", `<a rel="prev" href="/candidates?page=1">`, "/candidates", ""},
		{"another site is not followed", `<a rel="next" href="https://elsewhere.example/x">`, "/candidates", ""},
		{"noopener is not next", `<a href="https://video.example" rel="noopener noreferrer">`, "/candidates", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextLink(tt.body, tt.from); got != tt.want {
				t.Fatalf("nextLink = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFirstSurname(t *testing.T) {
	body := `<td><a href="/applications/0190-1">Cecília Kováčová</a><br><small>c@example.org</small></td>
<td><a href="/applications/0190-2">Bjørn Hansen</a></td>`
	if got := firstSurname(body); got != "Kováčová" {
		t.Fatalf("firstSurname = %q", got)
	}
	if got := firstSurname(`<a href="/applications/1">O&#39;Brien</a>`); got != "O'Brien" {
		t.Fatalf("escaped name: %q", got)
	}
	if got := firstSurname(`<p>none</p>`); got != "" {
		t.Fatalf("no candidates: %q", got)
	}
}

func TestMiddleWords(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"two long words from the middle", "Curriculum vitae. Worked as a software developer in Göteborg, maintaining payment systems for banks.", "göteborg maintaining"},
		{"short words and digits skipped", "a bb ccc 2024 dddd Ärlig öppen", "ärlig öppen"},
		{"the same word twice is not two", "kodning kodning kodning", ""},
		{"one long word", "hello, it is me", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := middleWords(tt.text); got != tt.want {
				t.Fatalf("middleWords = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilteredQuery(t *testing.T) {
	filter := `<select id="stage-filter" name="stage"><option value="">Any</option><option value="new">New</option><option value="interview" selected>Interview</option></select>`
	rows := `<table><tr><th>Name</th></tr>
<tr><td><a href="/applications/0190-1">Cecília Kováčová</a></td><td>Designer</td><td>Interview</td><td>web</td></tr>
<tr><td><a href="/applications/0190-2">Bjørn Hansen</a></td><td>Designer</td><td>New</td><td>web</td></tr></table>`
	if got := filteredQuery(filter + rows); got != "stage:interview Kováčová" {
		t.Fatalf("filteredQuery = %q, want the first row's stage and surname", got)
	}
	noStageCell := `<table><tr><td><a href="/applications/1">Bjørn Hansen</a></td><td>Designer</td></tr></table>`
	if got := filteredQuery(filter + noStageCell); got != "stage:new Hansen" {
		t.Fatalf("row without a stage cell: %q, want the filter's first stage", got)
	}
	if got := filteredQuery(rows); got != "" {
		t.Fatalf("no stage filter: %q", got)
	}
	if got := filteredQuery(filter); got != "" {
		t.Fatalf("no candidate: %q", got)
	}
}

// TestCVWords walks the list's pages and cards to the first document text
// with two long words: cards without a document, a document still pending
// and a second page of the list on the way.
func TestCVWords(t *testing.T) {
	pages := map[string]string{
		"/candidates":          `<a href="/applications/a1">Ann One</a> <a href="/applications/a2">Bo Two</a> <a rel="next" href="/candidates?after=a2">next</a>`,
		"/candidates?after=a2": `<a href="/applications/a3">Cy Three</a>`,
		"/applications/a1":     `<p>no documents</p>`,
		"/applications/a2":     `<a href="/documents/d2">CV.pdf</a> · <a href="/documents/d2/text" class="document-text">Text</a>`,
		"/documents/d2/text":   `<p class="notice" role="status" id="document-text-pending">Pending</p>`,
		"/applications/a3":     `<a href="/documents/d3/text" class="document-text">Text</a>`,
		"/documents/d3/text": `<pre class="document-text" id="document-text">Jan Novák
Zkušenosti: vývojář aplikací &amp; databází, správa serverů, Brno</pre>`,
	}
	var opened []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opened = append(opened, r.URL.RequestURI())
		body, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	s := newSession(base, 1, 5*time.Second)
	defer s.close()
	words, reason, err := cvWords(context.Background(), s, pages["/candidates"])
	if err != nil || words != "aplikací databází" {
		t.Fatalf("cvWords = %q, %q, %v; want the middle of d3's text (opened %v)", words, reason, err, opened)
	}

	// A document of the candidate's other application, linked from the
	// card, is found before the next card of the list.
	pages["/applications/a1"] = `<ul class="documents" id="other-applications"><li><a href="/applications/a9">Designer</a> · New</li></ul>`
	pages["/applications/a9"] = `<a href="/documents/d9/text" class="document-text">Text</a> <a href="/applications/a1">Chef</a>`
	pages["/documents/d9/text"] = `<pre class="document-text" id="document-text">Kari Nordmann, sykepleier i Tromsø, erfaring fra akuttmottak</pre>`
	words, reason, err = cvWords(context.Background(), s, pages["/candidates"])
	if err != nil || words != "tromsø erfaring" {
		t.Fatalf("other application: %q, %q, %v; want the middle of d9's text", words, reason, err)
	}
	delete(pages, "/documents/d9/text")
	delete(pages, "/documents/d3/text")
	words, reason, err = cvWords(context.Background(), s, pages["/candidates"])
	if err != nil || words != "" || !strings.Contains(reason, "none of the first 4 cards") {
		t.Fatalf("without a text: %q, %q, %v; want a reason naming the 4 cards opened", words, reason, err)
	}
	if _, reason, _ := cvWords(context.Background(), s, `<p>empty</p>`); reason != "no candidate on /candidates" {
		t.Fatalf("empty list: %q", reason)
	}
}
