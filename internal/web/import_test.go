package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

// TestImportPage walks the page as an HR manager: upload, map the columns,
// dry run (the report names the bad row), start, and the progress; a
// recruiter may not reach it.
func TestImportPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	for login, role := range map[string]string{"hilda": access.HRManager, "rolf": access.Recruiter} {
		if _, err := f.accounts.CreateUser(ctx, access.Operator(f.company.ID), account.CreateUserInput{Login: login, DisplayName: login, Password: testPassword, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	hr := f.signIn("hilda", testPassword)
	if res := f.do(request{method: "GET", path: "/imports", cookie: hr}); res.StatusCode != http.StatusOK || !strings.Contains(body(t, res), `id="import-upload"`) {
		t.Fatalf("GET /imports: %d", res.StatusCode)
	}
	csv := "Name;Email;Basis;Applied;Position;Status\n" +
		"Åsa Lindqvist;asa@example.com;purpose;2026-10-01;Backend developer;Phone screen\n" +
		"Bad Email;not-an-email;purpose;2026-10-01;;\n"
	b, ct := multipartForm(t, map[string]string{"format": ""}, [3]string{"file", "export.csv", csv})
	res := f.do(request{method: "POST", path: "/imports", cookie: hr, body: b, contentType: ct})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, body(t, res))
	}
	runURL := res.Header.Get("Location")
	page := body(t, f.do(request{method: "GET", path: runURL, cookie: hr}))
	for _, want := range []string{"<label for=\"col0\">Name</label>", "<label for=\"col5\">Status</label>", `id="import-check"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the mapping form lacks %q", want)
		}
	}
	form := url.Values{"col0": {"full_name"}, "col1": {"email"}, "col2": {"basis"}, "col3": {"applied"}, "col4": {"position"}, "col5": {"stage"},
		"stages": {"Phone screen=preselected"}, "save_as": {"Our old ATS"}}
	// A stage value that maps to no stage is refused with its message, the form kept.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("stages", "Phone screen=lunch")
	if res := f.do(request{method: "POST", path: runURL + "/check", cookie: hr, form: bad}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body(t, res), "A stage value maps to a stage that does not exist.") {
		t.Fatalf("bad stage map: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: runURL + "/check", cookie: hr, form: form}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d %s", res.StatusCode, body(t, res))
	}
	f.srv.Importer.Wait() // the dry run goes on in the background
	page = body(t, f.do(request{method: "GET", path: runURL, cookie: hr}))
	for _, want := range []string{`<dd id="report-rows">2</dd>`, `<dd id="report-new">1</dd>`, `<dd id="report-rejected">1</dd>`,
		"<td>3</td><td>Email</td>", "Backend developer", `id="import-start-button"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the report lacks %q:\n%s", want, page)
		}
	}
	if res := f.do(request{method: "POST", path: runURL + "/start", cookie: hr, form: url.Values{}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", res.StatusCode, body(t, res))
	}
	f.srv.Importer.Wait()
	res = f.do(request{method: "GET", path: runURL + "/progress", cookie: hr})
	var p struct {
		Status      string
		Done, Total int
		Created     int
		Problems    int
	}
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p.Status != "done" || p.Done != 2 || p.Total != 2 || p.Created != 1 || p.Problems != 1 {
		t.Fatalf("progress: %+v %v", p, err)
	}
	page = body(t, f.do(request{method: "GET", path: runURL, cookie: hr}))
	if !strings.Contains(page, `<dd id="run-created">1</dd>`) || !strings.Contains(page, `id="import-done"`) {
		t.Fatalf("the done page:\n%s", page)
	}
	// The saved mapping is offered next time.
	if page := body(t, f.do(request{method: "GET", path: "/imports", cookie: hr})); !regexp.MustCompile(`href="/imports/[0-9a-f-]+">export.csv</a>`).MatchString(page) {
		t.Fatalf("the list lacks the run")
	}
	// A recruiter does not work on every position: no import.
	rec := f.signIn("rolf", testPassword)
	for _, path := range []string{"/imports", runURL} {
		if res := f.do(request{method: "GET", path: path, cookie: rec}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a recruiter at %s: %d", path, res.StatusCode)
		}
	}
	// A file that is no CSV (no header), and a form without a file: the upload form again, with the message.
	b, ct = multipartForm(t, map[string]string{"format": "csv"}, [3]string{"file", "empty.csv", "\n"})
	if res := f.do(request{method: "POST", path: "/imports", cookie: hr, body: b, contentType: ct}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body(t, res), "The file has no header row.") {
		t.Fatalf("a file without a header: %d", res.StatusCode)
	}
	b, ct = multipartForm(t, map[string]string{"format": "csv"})
	if res := f.do(request{method: "POST", path: "/imports", cookie: hr, body: b, contentType: ct}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body(t, res), "Choose a file to import.") {
		t.Fatalf("no file: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/imports", cookie: hr, form: url.Values{"x": {"y"}}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("not multipart: %d", res.StatusCode)
	}
}
