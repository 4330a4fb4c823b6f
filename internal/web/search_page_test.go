package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
)

// searchFixture: a recruiter's list with a candidate whose CV text says
// Kubernetes and one with a comment that says Terraform, indexed.
func searchFixture(t *testing.T) (*fixture, string, access.Actor) {
	t.Helper()
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Platform engineer")
	_, tok := f.roleUserSession(t, "rolf")
	_, err := f.recruit.Apply(ctx, f.company.ID, pos.ID, recruit.ApplyInput{Name: "Jiří Dvořák", Email: "jiri@example.org", SubmissionID: id.New(),
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae. Runs Kubernetes clusters <b>in production</b>.\n")}})
	if err != nil {
		t.Fatal(err)
	}
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	if _, err := f.recruit.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	commented, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Anna Berg", Email: "anna@example.org"}, access.StageInterview, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddComment(ctx, rec, commented.ID, "Knows Terraform well."); err != nil {
		t.Fatal(err)
	}
	if err := f.recruit.AddLabel(ctx, rec, commented.ID, "cloud team"); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := f.recruit.IndexQueued(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	return f, tok, rec
}

// TestSearchPageSnippets: a word of the CV and a word of a comment are
// shown marked in the row they found, the text escaped.
func TestSearchPageSnippets(t *testing.T) {
	f, tok, _ := searchFixture(t)
	b := body(t, f.do(request{method: "GET", path: "/candidates?q=kubernetes", cookie: tok}))
	if !strings.Contains(b, "Runs <mark>Kubernetes</mark> clusters &lt;b&gt;in production&lt;/b&gt;.") || !strings.Contains(b, `<span class="snippet-field">CV:</span>`) {
		t.Errorf("no marked CV snippet in the page:\n%s", between(b, `id="search-results"`, "</table>"))
	}
	b = body(t, f.do(request{method: "GET", path: "/candidates?q=terraf", cookie: tok}))
	if !strings.Contains(b, "Knows <mark>Terraform</mark> well.") || !strings.Contains(b, `<span class="snippet-field">Comment:</span>`) {
		t.Errorf("no marked comment snippet in the page:\n%s", between(b, `id="search-results"`, "</table>"))
	}
	if strings.Contains(b, "jiri@example.org") {
		t.Errorf("a candidate the search does not find is listed")
	}
}

// TestSearchPageChips: the query's filters are chips whose links take
// each out, and stages and the page's labels are offered as chips to add.
func TestSearchPageChips(t *testing.T) {
	f, tok, _ := searchFixture(t)
	q := url.Values{"q": {`terraform stage:interview -label:junior`}}
	b := body(t, f.do(request{method: "GET", path: "/candidates?" + q.Encode(), cookie: tok}))
	for _, want := range []string{
		`stage:interview <a href="/candidates?q=terraform&#43;-label%3Ajunior" class="chip-remove"`,
		`-label:junior <a href="/candidates?q=terraform&#43;stage%3Ainterview" class="chip-remove"`,
		`<a href="/candidates?q=terraform&#43;stage%3Ainterview&#43;-label%3Ajunior&#43;label%3A%22cloud&#43;team%22" class="chip chip-add">+ label:&#34;cloud team&#34;</a>`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("missing %s in:\n%s", want, between(b, `id="search-chips"`, "</div>"))
		}
	}
	if strings.Contains(b, "+ stage:") {
		t.Errorf("another stage is offered to a query that requires one")
	}
	b = body(t, f.do(request{method: "GET", path: "/candidates?q=terraform", cookie: tok}))
	if want := `<a href="/candidates?q=terraform&#43;stage%3Aoffer" class="chip chip-add">+ stage:offer</a>`; !strings.Contains(b, want) {
		t.Errorf("missing %s in:\n%s", want, between(b, `id="search-chips"`, "</div>"))
	}
	// The remove links work: the list without the stage filter.
	for _, tc := range []struct{ path, want string }{
		{"/candidates?q=terraform+-label%3Ajunior", "Anna Berg"},
		{"/candidates?q=terraform+stage%3Aoffer", "No candidates match."},
		{"/candidates?q=" + url.QueryEscape(`label:"cloud team"`), "Anna Berg"},
	} {
		res := f.do(request{method: "GET", path: tc.path, cookie: tok})
		if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, tc.want) {
			t.Errorf("%s: %d, want 200 with %q", tc.path, res.StatusCode, tc.want)
		}
	}
}

// TestSearchPagePartial: partial=1 answers the results region alone, with
// the query's message when it cannot be read.
func TestSearchPagePartial(t *testing.T) {
	f, tok, _ := searchFixture(t)
	res := f.do(request{method: "GET", path: "/candidates?q=kubernetes&partial=1", cookie: tok})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, "<mark>Kubernetes</mark>") || !strings.Contains(b, `id="candidates"`) {
		t.Fatalf("partial: %d\n%s", res.StatusCode, b)
	}
	for _, not := range []string{"<html", `id="nav-search"`, `id="candidate-filters"`, `id="saved-searches"`, "Anna Berg"} {
		if strings.Contains(b, not) {
			t.Errorf("the partial answer holds %s", not)
		}
	}
	res = f.do(request{method: "GET", path: "/candidates?q=%22open&partial=1", cookie: tok})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="q-error"`) || strings.Contains(b, "<html") {
		t.Errorf("partial with an unreadable query: %d\n%s", res.StatusCode, b)
	}
	// The full page loads the script that asks for it, from the binary.
	if b := body(t, f.do(request{method: "GET", path: "/candidates", cookie: tok})); !strings.Contains(b, `<script src="/static/search.js" defer></script>`) {
		t.Error("the list does not load search.js")
	}
	if res := f.do(request{method: "GET", path: "/static/search.js"}); res.StatusCode != http.StatusOK {
		t.Errorf("search.js: %d", res.StatusCode)
	}
}

// TestSearchPageSavedSearches: save the list's query under a name, find
// it listed as a link, delete it; bad names are explained; another user's
// search cannot be deleted.
func TestSearchPageSavedSearches(t *testing.T) {
	f, tok, rec := searchFixture(t)
	res := f.do(request{method: "POST", path: "/candidates/searches", cookie: tok, form: url.Values{"q": {"kubernetes"}, "saved_name": {""}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Give the search a name.") {
		t.Errorf("no name: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/candidates/searches", cookie: tok, form: url.Values{"q": {"kubernetes"}, "saved_name": {"K8s <people>"}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/candidates?q=kubernetes&saved=1" {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	b := body(t, f.do(request{method: "GET", path: res.Header.Get("Location"), cookie: tok}))
	if !strings.Contains(b, `<a href="/candidates?q=kubernetes" title="kubernetes">K8s &lt;people&gt;</a>`) || !strings.Contains(b, `id="saved-notice"`) {
		t.Fatalf("the saved search is not listed:\n%s", between(b, `id="saved-searches"`, "</ul>"))
	}
	list, err := f.recruit.SavedSearches(context.Background(), rec)
	if err != nil || len(list) != 1 {
		t.Fatalf("saved: %v %v", list, err)
	}
	// Another user of the company: not found, and the search stays.
	f.roleUser("hanna", access.HRManager)
	_, other := f.roleUserSession(t, "hanna")
	if res := f.do(request{method: "POST", path: "/candidates/searches/" + list[0].ID + "/delete", cookie: other, form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another user deletes the search: %d", res.StatusCode)
	}
	if b := body(t, f.do(request{method: "GET", path: "/candidates", cookie: other})); strings.Contains(b, "K8s") {
		t.Error("another user sees the saved search")
	}
	res = f.do(request{method: "POST", path: "/candidates/searches/" + list[0].ID + "/delete", cookie: tok, form: url.Values{"q": {"kubernetes"}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/candidates?q=kubernetes" {
		t.Fatalf("delete: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if b := body(t, f.do(request{method: "GET", path: "/candidates", cookie: tok})); strings.Contains(b, "K8s") || !strings.Contains(b, `id="saved-none"`) {
		t.Error("the deleted search is still listed")
	}
}

// between is the part of s from the first from to the next to after it
// (for messages).
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return s
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j+len(to)]
	}
	return s
}

// TestSearchChipsUnwritableLabel: a label the query language cannot write
// (with quotes in it) is not offered as a chip, and a query at its length
// limit is offered nothing that would make it too long.
func TestSearchChipsUnwritableLabel(t *testing.T) {
	_, add := searchChips(url.Values{"q": {"java"}}, []recruit.LabelCount{{Label: `a"b"c`, Count: 3}, {Label: "ok", Count: 1}})
	var got []string
	for _, c := range add {
		if strings.HasPrefix(c.Text, "label:") {
			got = append(got, c.Text)
		}
	}
	if strings.Join(got, ",") != "label:ok" {
		t.Errorf("label chips: got %v, want [label:ok]", got)
	}
	long := strings.TrimSpace(strings.Repeat("abcdefghijklmnop ", 29)) // 492 bytes
	if _, add := searchChips(url.Values{"q": {long}}, nil); len(add) != 0 {
		t.Errorf("a query at its limit is offered %d chips", len(add))
	}
	if _, add := searchChips(url.Values{"q": {long[:400]}}, nil); len(add) == 0 {
		t.Errorf("a shorter query is offered no chips")
	}
}
