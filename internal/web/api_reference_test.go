package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// OpenAPIOutEnv names the file TestOpenAPIDocumentFile writes the served
// document to, for the external linter (scripts/test.sh).
const OpenAPIOutEnv = "KANDIDAT_OPENAPI_OUT"

// TestOpenAPIDocumentFile checks the served document's frame and, when
// KANDIDAT_OPENAPI_OUT names a file, writes the document there exactly as
// served: scripts/test.sh lints that file with @redocly/cli.
func TestOpenAPIDocumentFile(t *testing.T) {
	f := newAPIFixture(t)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8080/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Fatalf("document: openapi %q, %d paths, %v", doc.OpenAPI, len(doc.Paths), err)
	}
	if out := os.Getenv(OpenAPIOutEnv); out != "" {
		if err := os.WriteFile(out, rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, rec.Body.Len())
	}
}

// TestAPIReferencePage: /api/docs needs no sign-in or token, shows every
// operation of the document with its parameters and responses, every
// schema and every problem type, and loads its script from /static with
// the page's nonce; the try-it forms stay hidden without the script.
func TestAPIReferencePage(t *testing.T) {
	f := newAPIFixture(t)
	res := f.do(request{method: "GET", path: "/api/docs"})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := f.document()
	ops := 0
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			o := op.(map[string]any)
			ops++
			id := o["operationId"].(string)
			if !strings.Contains(b, `id="op-`+id+`"`) {
				t.Errorf("%s %s (%s) is not on the page", method, path, id)
			}
			if !strings.Contains(b, `data-path="/api/v1`+path+`"`) {
				t.Errorf("%s: no try-it form for %s", id, path)
			}
			for _, p := range asList(o["parameters"]) {
				name := p.(map[string]any)["name"].(string)
				if !strings.Contains(b, `id="try-`+id+`-`+name+`"`) {
					t.Errorf("%s: parameter %s has no input", id, name)
				}
			}
		}
	}
	if ops == 0 {
		t.Fatal("the document has no operations")
	}
	if !strings.Contains(b, `<a href="#schema-Position">page of Position</a>`) {
		t.Error("a list's answer is not shown as a page of its items")
	}
	for name := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if !strings.Contains(b, `id="schema-`+name+`"`) {
			t.Errorf("schema %s is not on the page", name)
		}
	}
	for _, p := range apiProblemTypes() {
		if !strings.Contains(b, "<code>"+p.Type+"</code>") {
			t.Errorf("problem type %s is not on the page", p.Type)
		}
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(res.Header.Get("Content-Security-Policy"))
	if nonce == nil || !strings.Contains(b, `<script src="/static/api_docs.js" nonce="`+nonce[1]+`" defer></script>`) {
		t.Error("the page does not load /static/api_docs.js with its nonce")
	}
	if strings.Contains(b, "<script>") || regexp.MustCompile(`<form class="api-try"[^>]*>`).FindString(b) != "" &&
		!strings.Contains(regexp.MustCompile(`<form class="api-try"[^>]*>`).FindString(b), " hidden") {
		t.Error("an inline script, or a try-it form shown without the script")
	}
	if !strings.Contains(b, `id="try-token-value" type="password" autocomplete="off"`) {
		t.Error("the token field may be remembered by the browser")
	}
	js := f.do(request{method: "GET", path: "/static/api_docs.js"})
	if jb := body(t, js); js.StatusCode != http.StatusOK || !strings.Contains(jb, "Bearer ") || strings.Contains(jb, "localStorage") || strings.Contains(jb, "sessionStorage") {
		t.Fatalf("api_docs.js: %d, or it stores the token", js.StatusCode)
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// TestAPIProblemTypesDocumented: every problem type the API layer's source
// names is in the list the reference page shows, and docs/api.md explains
// each with its status.
func TestAPIProblemTypesDocumented(t *testing.T) {
	listed := map[string]int{}
	for _, p := range apiProblemTypes() {
		listed[p.Slug] = p.Status
	}
	found := regexp.MustCompile(`slug: "([a-z0-9-]+)"|http\.Status[A-Za-z]+: "([a-z0-9-]+)"|problemType\("([a-z0-9-]+)"\)`)
	files, err := filepath.Glob("api*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("api*.go: %v %v", files, err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range found.FindAllStringSubmatch(string(src), -1) {
			slug := m[1] + m[2] + m[3]
			if _, ok := listed[slug]; !ok {
				t.Errorf("%s names the problem type %q, which apiProblemTypes does not list", name, slug)
			}
		}
	}
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for slug, status := range listed {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(slug) + "` \\| " + strconv.Itoa(status) + " \\|")
		if !row.MatchString(string(doc)) {
			t.Errorf("docs/api.md has no row | `%s` | %d | for the problem type", slug, status)
		}
	}
}
