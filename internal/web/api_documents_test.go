package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// apiCase is one request of a scenario table and what it must answer.
type apiCase struct {
	name, token, method, path string
	body                      any
	header                    []string
	status                    int
	// problem is the expected problem type ("" for a success); fields the
	// fields its errors must name.
	problem string
	fields  []string
}

func runAPICases(t *testing.T, f *apiFixture, cases []apiCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.call(c.token, c.method, c.path, c.body, c.header...)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, res.Body)
			}
			if c.problem == "" {
				return
			}
			if p := res.problem(t); p != c.problem {
				t.Fatalf("problem %q, want %q: %s", p, c.problem, res.Body)
			}
			got := map[string]bool{}
			errs, _ := res.json(t)["errors"].([]any)
			for _, e := range errs {
				got[e.(map[string]any)["field"].(string)] = true
			}
			for _, want := range c.fields {
				if !got[want] {
					t.Fatalf("errors name %v, want %q: %s", got, want, res.Body)
				}
			}
		})
	}
}

// apiApplicant makes a position owned by owner and a candidate's
// application to it.
func (f *apiFixture) apiApplicant(owner access.Actor, name string) *recruit.Application {
	f.t.Helper()
	ctx := context.Background()
	pos, err := f.recruit.CreatePosition(ctx, owner, recruit.PositionInput{Title: "Welder " + name, Language: "en"})
	if err != nil {
		f.t.Fatal(err)
	}
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
	app, err := f.recruit.AddCandidate(ctx, owner, pos.ID, recruit.CandidateInput{Name: name, Email: email}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		f.t.Fatal(err)
	}
	return app
}

// trail returns the company's records of an action (newest first).
func (f *apiFixture) trail(c *tenant.Tenant, action audit.Action) []audit.Record {
	f.t.Helper()
	recs, _, err := f.audit.List(context.Background(), c.ID, audit.Filter{Action: action, Limit: 200})
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

const apiTestPDF = "%PDF-1.7\nAPI document body\n%%EOF\n"

func TestAPIDocuments(t *testing.T) {
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	app := f.apiApplicant(hr, "Dana Doc")
	docs := "/api/v1/applications/" + app.ID + "/documents"

	// Upload: the body is the file, its name in the query.
	res := f.call(tok, "POST", docs+"?filename=dana-cv.pdf&kind=cv", []byte(apiTestPDF), "Content-Type", "application/pdf")
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, res.Body)
	}
	doc := res.json(t)
	id := doc["id"].(string)
	if res.Header.Get("Location") != "/api/v1/documents/"+id || doc["kind"] != "cv" || doc["type"] != "pdf" || doc["file_name"] != "dana-cv.pdf" ||
		doc["size"] != float64(len(apiTestPDF)) || doc["application_id"] != app.ID {
		t.Fatalf("upload answered %v %s", res.Header, res.Body)
	}
	// The name from Content-Disposition; the kind defaults to attachment.
	res = f.call(tok, "POST", docs, []byte(apiTestPDF), "Content-Type", "application/octet-stream", "Content-Disposition", `attachment; filename="letter.pdf"`)
	if res.StatusCode != 201 || res.json(t)["file_name"] != "letter.pdf" || res.json(t)["kind"] != "attachment" {
		t.Fatalf("upload with Content-Disposition: %d %s", res.StatusCode, res.Body)
	}
	// The list: the CV first.
	res = f.call(tok, "GET", docs, nil)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, res.Body)
	}
	var list []map[string]any
	if err := json.Unmarshal(res.Body, &list); err != nil || len(list) != 2 || list[0]["id"] != id {
		t.Fatalf("list %s: %v", res.Body, err)
	}
	// Download: the bytes, as an attachment that is never sniffed.
	res = f.call(tok, "GET", "/api/v1/documents/"+id, nil)
	if res.StatusCode != 200 || !bytes.Equal(res.Body, []byte(apiTestPDF)) {
		t.Fatalf("download: %d %q", res.StatusCode, res.Body)
	}
	h := res.Header
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Disposition") != "attachment; filename=dana-cv.pdf" || h.Get("Content-Length") != fmt.Sprint(len(apiTestPDF)) {
		t.Fatalf("download headers %v", h)
	}
	// The upload is on the card's history, the download in the security log.
	if added := f.trail(f.company, audit.DocumentAdded); len(added) != 2 || added[1].Details["kind"] != "cv" || added[1].Actor.Kind != audit.ActorAPIToken {
		t.Fatalf("document.added records %+v", added)
	}
	read := false
	for _, r := range f.trail(f.company, audit.AccessDecided) {
		for _, o := range r.Objects {
			read = read || o.Kind == "document" && o.ID == id && r.Actor.Kind == audit.ActorAPIToken
		}
	}
	if !read {
		t.Fatal("the download is not in the security log")
	}

	// Refusals.
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	oHR := f.member(other, "hr_manager")
	oApp := f.apiApplicant(oHR, "Otto Other")
	oDocs, err := f.recruit.AddDocument(context.Background(), oHR, oApp.ID, recruit.DocumentUpload{Name: "o.pdf", Data: strings.NewReader(apiTestPDF)})
	if err != nil {
		t.Fatal(err)
	}
	_, lineTok := f.token("line_manager")
	_, narrow := f.token("hr_manager", access.ViewApplications)
	_, recTok := f.token("recruiter")
	runAPICases(t, f, []apiCase{
		{name: "not a document", token: tok, method: "POST", path: docs + "?filename=x.exe", body: []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), status: 422, problem: "validation", fields: []string{"file"}},
		{name: "damaged pdf", token: tok, method: "POST", path: docs, body: []byte("%PDF-1.7\n"), status: 422, problem: "validation", fields: []string{"file"}},
		{name: "empty", token: tok, method: "POST", path: docs, body: []byte{}, status: 422, problem: "validation", fields: []string{"file"}},
		{name: "bad kind", token: tok, method: "POST", path: docs + "?kind=photo", body: []byte(apiTestPDF), status: 422, problem: "validation", fields: []string{"kind"}},
		{name: "too large", token: tok, method: "POST", path: docs, body: bytes.Repeat([]byte("a"), recruit.MaxFileBytes+1), status: 413, problem: "body-too-large"},
		{name: "scope", token: narrow, method: "POST", path: docs, body: []byte(apiTestPDF), status: 403, problem: "insufficient-scope"},
		{name: "line manager, not shared", token: lineTok, method: "GET", path: docs, status: 404, problem: "not-found"},
		{name: "recruiter of other positions", token: recTok, method: "POST", path: docs, body: []byte(apiTestPDF), status: 404, problem: "not-found"},
		{name: "recruiter download", token: recTok, method: "GET", path: "/api/v1/documents/" + id, status: 404, problem: "not-found"},
		{name: "other company's application", token: tok, method: "POST", path: "/api/v1/applications/" + oApp.ID + "/documents", body: []byte(apiTestPDF), status: 404, problem: "not-found"},
		{name: "other company's list", token: tok, method: "GET", path: "/api/v1/applications/" + oApp.ID + "/documents", status: 404, problem: "not-found"},
		{name: "other company's document", token: tok, method: "GET", path: "/api/v1/documents/" + oDocs.ID, status: 404, problem: "not-found"},
		{name: "malformed id", token: tok, method: "GET", path: "/api/v1/documents/nope", status: 404, problem: "not-found"},
	})
	// Nothing refused was stored.
	if n := len(f.trail(f.company, audit.DocumentAdded)); n != 2 {
		t.Fatalf("%d documents added, want 2", n)
	}
	// The upload's body may be larger than other requests' (the chain's
	// limit is 1 MiB): a 2 MiB text file.
	big := bytes.Repeat([]byte("Erfarenhet av svetsning. "), 2<<20/25)
	res = f.call(tok, "POST", docs+"?filename=notes.txt", big, "Content-Type", "text/plain")
	if res.StatusCode != 201 || res.json(t)["type"] != "txt" || res.json(t)["size"] != float64(len(big)) {
		t.Fatalf("a 2 MiB upload: %d %s", res.StatusCode, res.Body)
	}
	// An Idempotency-Key makes one document of two sends.
	for range 2 {
		if res := f.call(tok, "POST", docs+"?filename=again.pdf", []byte(apiTestPDF), "Idempotency-Key", "doc-1"); res.StatusCode != 201 {
			t.Fatalf("idempotent upload: %d %s", res.StatusCode, res.Body)
		}
	}
	if n := len(f.trail(f.company, audit.DocumentAdded)); n != 4 {
		t.Fatalf("%d documents after an idempotent repeat, want 4", n)
	}
}

// TestAPIDocumentLimitRace: uploads racing at the limit of an
// application's documents store exactly as many as it holds.
func TestAPIDocumentLimitRace(t *testing.T) {
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	app := f.apiApplicant(hr, "Rita Race")
	for i := range recruit.MaxDocuments - 2 {
		if _, err := f.recruit.AddDocument(context.Background(), hr, app.ID, recruit.DocumentUpload{Name: fmt.Sprint(i, ".pdf"), Data: strings.NewReader(apiTestPDF)}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 6
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- f.call(tok, "POST", "/api/v1/applications/"+app.ID+"/documents", []byte(apiTestPDF)).StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case 201:
			won++
		case 409:
		default:
			t.Errorf("status %d", c)
		}
	}
	docs, err := f.recruit.Documents(context.Background(), hr, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won != 2 || len(docs) != recruit.MaxDocuments {
		t.Fatalf("%d uploads won, %d documents; want 2 and %d", won, len(docs), recruit.MaxDocuments)
	}
}

func TestIsAPIUpload(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v1/applications/0190c0de-0000-7000-8000-000000000000/documents", true},
		{"GET", "/api/v1/applications/0190c0de-0000-7000-8000-000000000000/documents", false},
		{"POST", "/api/v1/applications/0190c0de-0000-7000-8000-000000000000/comments", false},
		{"POST", "/api/v1/applications/x/documents/y", false},
		{"POST", "/api/v1/applications//documents", false},
		{"POST", "/api/v1/positions", false},
		{"POST", "/applications/x/documents", false},
	} {
		r := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, nil)
		if got := isAPIUpload(r); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.method, c.path, got, c.want)
		}
	}
}

// TestAPIDownloadTampered: a stored file that no longer authenticates is
// a broken download (the connection is cut), never a short file that
// looks whole.
func TestAPIDownloadTampered(t *testing.T) {
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	app := f.apiApplicant(hr, "Tamara Tamper")
	d, err := f.recruit.AddDocument(context.Background(), hr, app.ID, recruit.DocumentUpload{Name: "t.pdf", Data: strings.NewReader(apiTestPDF)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	get := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/documents/"+d.ID, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := srv.Client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	if res, b, err := get(); err != nil || res.StatusCode != 200 || string(b) != apiTestPDF {
		t.Fatalf("intact download: %v %q %v", res, b, err)
	}
	tampered := 0
	filepath.WalkDir(f.kit.FilesDir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.Contains(p, d.ID) {
			b, _ := os.ReadFile(p)
			b[len(b)-5] ^= 0xff
			os.WriteFile(p, b, 0o600)
			tampered++
		}
		return nil
	})
	if tampered != 1 {
		t.Fatalf("%d stored files of the document", tampered)
	}
	if res, b, err := get(); err == nil {
		t.Fatalf("a tampered document downloaded whole: %d %q", res.StatusCode, b)
	}
}
