package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

func TestSignInEventsReachTheSecurityLog(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user("ada", false)
	f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {"wrong-pass-1"}}})
	f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"nobody"}, "password": {"wrong-pass-1"}}})
	tok := f.signIn("ada", testPassword)
	res := f.do(request{method: "GET", path: "/audit/security", cookie: tok})
	b := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("security log: %d", res.StatusCode)
	}
	for _, want := range []string{"Signed in", "Sign-in failed", "reason=wrong_password", u.ID, "Ada ada"} {
		if !strings.Contains(b, want) {
			t.Errorf("security log lacks %q", want)
		}
	}
	// The unknown login is recorded for the installation, not this company.
	if strings.Contains(b, "unknown_login") {
		t.Error("the company's log shows an installation-level failure")
	}
	// Records hold ids, never the login or the name typed. (The login is
	// matched as a whole JSON string: hexadecimal ids may contain "ada".)
	var n int
	f.db.Read.QueryRow(`SELECT count(*) FROM audit_records WHERE details LIKE '%"ada"%' OR objects LIKE '%"ada"%' OR details LIKE '%nobody%'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d records copy a login", n)
	}
	f.do(request{method: "POST", path: "/signout", cookie: tok, form: url.Values{}})
	recs, _, err := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.SignedOut})
	if err != nil || len(recs) != 1 || recs[0].Actor.ID != u.ID || recs[0].RequestID == "" {
		t.Fatalf("sign-out record: %+v %v", recs, err)
	}
}

func TestAuditFiltersPaginationAndExport(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	for i := 0; i < 60; i++ {
		f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"=HYPERLINK(\"x\")"}, "language": {""}}})
	}
	res := f.do(request{method: "GET", path: "/audit?track=business", cookie: tok})
	b := body(t, res)
	if n := strings.Count(b, "Profile changed</span>"); n != 50 {
		t.Fatalf("first page shows %d profile changes, want 50", n)
	}
	next := regexpFind(b, `after=([0-9a-z.]+)`)
	if next == "" {
		t.Fatal("no link to the next page")
	}
	res = f.do(request{method: "GET", path: "/audit?track=business&after=" + next, cookie: tok})
	if n := strings.Count(body(t, res), "Profile changed</span>"); n != 10 {
		t.Fatalf("second page shows %d, want 10", n)
	}
	// Bad filters are explained, not failed.
	res = f.do(request{method: "GET", path: "/audit?track=nope&from=yesterday&after=garbage", cookie: tok})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "Choose one of the offered tracks") || !strings.Contains(b, "Enter a date") {
		t.Fatalf("bad filters: %d", res.StatusCode)
	}
	// CSV export: every cell a spreadsheet would evaluate is defused.
	res = f.do(request{method: "GET", path: "/audit/export/csv?action=user.profile_changed", cookie: tok})
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(rows) != 61 {
		t.Fatalf("csv: %d rows, %v; want a header and 60", len(rows), err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Fatalf("cell %q would run as a formula", cell)
			}
		}
	}
	res = f.do(request{method: "GET", path: "/audit/export/json?actor=" + u.ID, cookie: tok})
	var recs []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&recs); err != nil || len(recs) < 61 {
		t.Fatalf("json export: %d records, %v", len(recs), err)
	}
	// The exports themselves are in the security log.
	exports, _, _ := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.AuditExported})
	if len(exports) != 2 {
		t.Fatalf("%d export records, want 2", len(exports))
	}
	if res := f.do(request{method: "GET", path: "/audit/export/xml", cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown format: %d, want 404", res.StatusCode)
	}
}

func TestAuditIsForAdministrators(t *testing.T) {
	f := newFixture(t, Options{})
	if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "rec", DisplayName: "Recruiter", Password: testPassword, Role: "recruiter"}); err != nil {
		t.Fatal(err)
	}
	tok := f.signIn("rec", testPassword)
	for _, p := range []string{"/audit", "/audit/security", "/audit/export/csv"} {
		if res := f.do(request{method: "GET", path: p, cookie: tok}); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s as a recruiter: %d, want 403", p, res.StatusCode)
		}
	}
	if res := f.do(request{method: "GET", path: "/audit"}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("/audit signed out: %d, want a redirect to sign in", res.StatusCode)
	}
}

func TestAlertsOnDashboard(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false) // an administrator: raises new_administrator
	tok := f.signIn("ada", testPassword)
	b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: tok}))
	if !strings.Contains(b, "A new administrator was added") {
		t.Fatal("dashboard does not show the alert")
	}
	alerts, _ := f.audit.OpenAlerts(context.Background(), f.company.ID)
	if res := f.do(request{method: "POST", path: "/alerts/" + "no-such-id" + "/acknowledge", cookie: tok, form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown alert: %d, want 404", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/alerts/" + alerts[0].ID + "/acknowledge", cookie: tok, form: url.Values{}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", res.StatusCode)
	}
	if b := body(t, f.do(request{method: "GET", path: "/dashboard", cookie: tok})); strings.Contains(b, "A new administrator was added") {
		t.Fatal("acknowledged alert still shown")
	}
}

// TestAuditFailureRollsBackTheChange: when the trail cannot be written, the
// change does not happen and the user sees an error.
func TestAuditFailureRollsBackTheChange(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	dbtest.ExecAsOwner(t, f.db, `ALTER TABLE audit_records RENAME TO audit_records_gone`)
	res := f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Changed Name"}, "language": {"sv"}}})
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("profile change without a trail: %d, want 500", res.StatusCode)
	}
	var name string
	f.db.Read.QueryRow(`SELECT display_name FROM users WHERE login = 'ada'`).Scan(&name)
	if name != "Ada ada" {
		t.Fatalf("the change went through without its record: name %q", name)
	}
	res = f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}}})
	if res.StatusCode != http.StatusInternalServerError || sessionCookie(res) != nil {
		t.Fatalf("sign-in without a trail: %d, want 500 and no session", res.StatusCode)
	}
}

// exportWatcher is a ResponseWriter that, at the first byte of a response,
// looks in the database for the committed records of exports.
type exportWatcher struct {
	*httptest.ResponseRecorder
	f       *fixture
	checked bool
	records []audit.Record
}

func (w *exportWatcher) Write(b []byte) (int, error) {
	if !w.checked {
		w.checked = true
		w.records, _, _ = w.f.audit.List(context.Background(), w.f.company.ID, audit.Filter{Action: audit.AuditExported})
	}
	return w.ResponseRecorder.Write(b)
}

// TestAuditExportIsRecordedBeforeItIsSent: when the first byte of an export
// leaves, its record is committed, counting what the export holds; when
// the record cannot be written, there is no export but an error page.
func TestAuditExportIsRecordedBeforeItIsSent(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	for i := 0; i < 3; i++ {
		f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Ada"}, "language": {""}}})
	}
	get := func(path string) *exportWatcher {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		w := &exportWatcher{ResponseRecorder: httptest.NewRecorder(), f: f}
		f.h.ServeHTTP(w, req)
		return w
	}
	// JSON: its opening bracket is written before the first record is read.
	w := get("/audit/export/json?action=user.profile_changed")
	if w.Code != http.StatusOK || !w.checked {
		t.Fatalf("export: %d, wrote %v", w.Code, w.checked)
	}
	if len(w.records) != 1 || w.records[0].Details["count"] != "3" || w.records[0].Details["format"] != "json" {
		t.Fatalf("records of exports at the export's first byte: %+v; want one, committed, counting 3", w.records)
	}
	var recs []map[string]any
	if err := json.NewDecoder(w.Body).Decode(&recs); err != nil || len(recs) != 3 {
		t.Fatalf("export: %d records, %v; want 3", len(recs), err)
	}

	refuseExportRecords(t, f)
	w = get("/audit/export/csv")
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Disposition") != "" || strings.Contains(w.Body.String(), "actor_kind") {
		t.Fatalf("export whose record failed: %d, %q, body %.80q; want the error page and no export", w.Code, w.Header().Get("Content-Disposition"), w.Body.String())
	}
}

// refuseExportRecords makes the database refuse audit.exported records.
func refuseExportRecords(t *testing.T, f *fixture) {
	t.Helper()
	if f.db.Engine == db.Postgres {
		dbtest.ExecAsOwner(t, f.db, `CREATE FUNCTION refuse_export() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.action = 'audit.exported' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`)
		dbtest.ExecAsOwner(t, f.db, `CREATE TRIGGER refuse_export BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse_export()`)
		return
	}
	dbtest.ExecAsOwner(t, f.db, `CREATE TRIGGER refuse_export BEFORE INSERT ON audit_records WHEN NEW.action = 'audit.exported'
BEGIN SELECT RAISE(ABORT, 'refused'); END`)
}

// TestAuditObjectFilterByKind: the page links an object as kind:id, the key
// of the trail's index of objects; an id typed without its kind is found
// under the one kind that has it, and an id of several kinds asks for the
// kind.
func TestAuditObjectFilterByKind(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	ctx := context.Background()
	record := func(objects ...audit.Ref) {
		t.Helper()
		if err := f.audit.RecordStandalone(ctx, audit.Event{TenantID: f.company.ID, Action: audit.ApplicationCommented, Actor: audit.User(u.ID), Objects: objects}); err != nil {
			t.Fatal(err)
		}
	}
	record(audit.Ref{Kind: "application", ID: "app-1"}, audit.Ref{Kind: "candidate", ID: "cand-1"})
	record(audit.Ref{Kind: "application", ID: "app-1"}, audit.Ref{Kind: "candidate", ID: "cand-1"})
	record(audit.Ref{Kind: "application", ID: "app-2"}, audit.Ref{Kind: "candidate", ID: "shared-9"})
	record(audit.Ref{Kind: "position", ID: "shared-9"})

	b := body(t, f.do(request{method: "GET", path: "/audit", cookie: tok}))
	if !strings.Contains(b, `href="/audit?object=application%3aapp-1"`) {
		t.Fatalf("the page does not link objects as kind:id:\n%s", regexpFind(b, `(<td><a href="/audit\?object=[^"]*")`))
	}
	count := func(path string) (int, string) {
		t.Helper()
		res := f.do(request{method: "GET", path: path, cookie: tok})
		b := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		return strings.Count(b, "Comment added</span>"), b
	}
	for path, want := range map[string]int{
		"/audit?object=application%3Aapp-1": 2, "/audit?object=app-1": 2, "/audit?object=candidate:cand-1": 2,
		"/audit?object=position:app-1": 0, "/audit?object=position:shared-9": 1, "/audit?object=candidate:shared-9": 1,
	} {
		if n, _ := count(path); n != want {
			t.Errorf("%s: %d records, want %d", path, n, want)
		}
	}
	if n, b := count("/audit?object=shared-9"); n != 0 || !strings.Contains(b, "enter it as kind:id") {
		t.Errorf("an id of two kinds: %d records, and no request for the kind", n)
	}
}
