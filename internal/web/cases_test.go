package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// caseFixture is the web fixture with the whistleblowing module on.
type caseFixture struct {
	*fixture
	ws *whistle.Service
}

func newCaseFixture(t *testing.T) *caseFixture {
	t.Helper()
	f := newFixture(t, Options{})
	if err := f.tenants.SetModules(context.Background(), audit.Operator, f.company.ID, append(slices.Clone(f.company.Modules), tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	return &caseFixture{fixture: f, ws: f.srv.Whistle}
}

// caseHandlerUser is a case handler signed in with a second factor.
type caseHandlerUser struct {
	user *account.User
	b    *browser
	// codes are the second factor's recovery codes (to sign in again).
	codes []string
}

// handler makes a case handler of the fixture's company, signs them in
// and gives them a second factor (which the role requires).
func (f *caseFixture) handler(t *testing.T, login string) *caseHandlerUser {
	t.Helper()
	ctx := context.Background()
	u, tok := f.roleUser(login, access.CaseHandler)
	p, err := f.accounts.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	enrol, err := f.accounts.BeginTOTP(ctx, p.Actor())
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(enrol.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.accounts.ConfirmTOTP(ctx, p, code, account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.cookies[SessionCookie] = tok
	return &caseHandlerUser{user: u, b: b, codes: codes}
}

// enrol enrols h's case key through the key page and returns the page.
func (h *caseHandlerUser) enrol(t *testing.T) string {
	t.Helper()
	res := h.b.do("POST", "/cases/key/enrol", url.Values{"password": {testPassword}})
	page := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="recovery-key-value"`) {
		t.Fatalf("enrolment: %d, want 200 with the recovery key", res.StatusCode)
	}
	return page
}

// channel makes an active channel routed to handlers (as the company's
// administrator does).
func (f *caseFixture) channel(t *testing.T, slug string, handlers ...*caseHandlerUser) string {
	t.Helper()
	var ids []string
	for _, h := range handlers {
		ids = append(ids, h.user.ID)
	}
	chID, err := f.ws.SaveChannel(context.Background(), f.configurer(), whistle.Channel{Slug: slug, Name: "Channel " + slug, DefaultLanguage: "en",
		Languages: []string{"en"}, RetentionDays: 365, Active: true, AllowIdentified: true, Handlers: ids,
		Categories: []whistle.Choice{{Key: "fraud", Labels: map[string]string{"en": "Fraud"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return chID
}

// caseID finds the id of the only case whose row the list shows.
var caseRowRE = regexp.MustCompile(`<tr id="case-([0-9a-f-]+)">`)

func (f *caseFixture) onlyCase(t *testing.T, h *caseHandlerUser) (string, string) {
	t.Helper()
	res := h.b.do("GET", "/cases", nil)
	page := body(t, res)
	m := caseRowRE.FindAllStringSubmatch(page, -1)
	if res.StatusCode != http.StatusOK || len(m) != 1 {
		t.Fatalf("case list: %d with %d rows, want 200 with one", res.StatusCode, len(m))
	}
	return m[0][1], page
}

// upload posts a multipart form with h's cookies.
func (h *caseHandlerUser) upload(t *testing.T, path string, rd io.Reader, contentType string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+path, rd)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", "http://127.0.0.1:8080")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for name, value := range h.b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	rec := httptest.NewRecorder()
	h.b.f.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(h.b.cookies, c.Name)
		} else {
			h.b.cookies[c.Name] = c.Value
		}
	}
	return res
}

func (f *caseFixture) t(key string) string { return html.EscapeString(f.srv.I18n.T("en", key)) }

// TestCaseKeyPages: the key is enrolled with the account password and the
// recovery key is shown once; the envelope cookie is strict and bound to
// the session; wrong passwords are refused; locking forgets the key.
func TestCaseKeyPages(t *testing.T) {
	f := newCaseFixture(t)
	kim := f.handler(t, "kim")
	res := kim.b.do("GET", "/cases", nil)
	if page := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `id="cases-no-key"`) {
		t.Fatalf("the list before enrolment: %d, want 200 with the enrol banner", res.StatusCode)
	}
	// A case page without a key sends to the key page, with the way back.
	res = kim.b.do("GET", "/cases/00000000-0000-4000-8000-000000000000", nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/cases/key?next=%2Fcases%2F00000000-0000-4000-8000-000000000000" {
		t.Fatalf("a case without a key: %d to %q", res.StatusCode, loc)
	}
	// A wrong account password enrols nothing.
	res = kim.b.do("POST", "/cases/key/enrol", url.Values{"password": {"wrong-Pass-9"}})
	if page := body(t, res); res.StatusCode == http.StatusOK || strings.Contains(page, `id="recovery-key-value"`) || kim.b.cookies[CasesCookie] != "" {
		t.Fatalf("enrolment with a wrong password: %d", res.StatusCode)
	}
	if ks, err := f.ws.KeyStatus(context.Background(), f.actor(kim.user)); err != nil || ks.Enrolled {
		t.Fatalf("enrolled with a wrong password: %+v %v", ks, err)
	}

	res = kim.b.do("POST", "/cases/key/enrol", url.Values{"password": {testPassword}})
	page := body(t, res)
	m := regexp.MustCompile(`id="recovery-key-value">([^<]+)<`).FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil || len(m[1]) < 20 {
		t.Fatalf("enrolment: %d, want 200 with the recovery key", res.StatusCode)
	}
	recovery := m[1]
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("the recovery key's page may be stored: %q", cc)
	}
	c := cookieNamed(res, CasesCookie)
	if c == nil || c.Value == "" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("the case key cookie: %+v", c)
	}
	// Shown once: the key page never shows it again.
	if page := body(t, kim.b.do("GET", "/cases/key", nil)); strings.Contains(page, recovery) || !strings.Contains(page, `id="key-unlocked"`) {
		t.Fatal("the key page shows the recovery key again, or not as unlocked")
	}
	if page := body(t, kim.b.do("GET", "/cases", nil)); strings.Contains(page, `id="cases-no-key"`) || strings.Contains(page, `id="cases-locked"`) {
		t.Fatal("the list still asks for a key after enrolment")
	}

	// Lock, then a wrong password is refused with the unlock message.
	if res := kim.b.do("POST", "/cases/key/lock", url.Values{}); res.StatusCode != http.StatusSeeOther || kim.b.cookies[CasesCookie] != "" {
		t.Fatalf("lock: %d, cookie kept: %v", res.StatusCode, kim.b.cookies[CasesCookie] != "")
	}
	if page := body(t, kim.b.do("GET", "/cases", nil)); !strings.Contains(page, `id="cases-locked"`) {
		t.Fatal("the list does not say the key is locked")
	}
	res = kim.b.do("POST", "/cases/key/unlock", url.Values{"password": {"wrong-Pass-9"}, "next": {"/cases"}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("whistle.error.unlock")) || kim.b.cookies[CasesCookie] != "" {
		t.Fatalf("unlock with a wrong password: %d", res.StatusCode)
	}
	res = kim.b.do("POST", "/cases/key/unlock", url.Values{"password": {testPassword}, "next": {"/cases"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases" || kim.b.cookies[CasesCookie] == "" {
		t.Fatalf("unlock: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A way back outside the site is not followed.
	kim.b.do("POST", "/cases/key/lock", url.Values{})
	res = kim.b.do("POST", "/cases/key/unlock", url.Values{"password": {testPassword}, "next": {"https://evil.example/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases" {
		t.Fatalf("unlock to another site: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	// Session B of the same user: A's envelope does not open there.
	chID := f.channel(t, "main", kim)
	if _, err := f.ws.Submit(context.Background(), f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud", Text: "Something is wrong"}); err != nil {
		t.Fatal(err)
	}
	caseID, _ := f.onlyCase(t, kim)
	if res := kim.b.do("GET", "/cases/"+caseID, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the case in session A: %d", res.StatusCode)
	}
	other := f.browser()
	if res := other.signIn("kim", testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in B: %d", res.StatusCode)
	}
	if res := other.do("POST", "/signin/mfa", url.Values{"code": {kim.codes[0]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor B: %d", res.StatusCode)
	}
	other.cookies[CasesCookie] = kim.b.cookies[CasesCookie]
	res = other.do("GET", "/cases/"+caseID, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/cases/key?next=") {
		t.Fatalf("session A's envelope in session B: %d to %q, want the key page", res.StatusCode, res.Header.Get("Location"))
	}
	if other.cookies[CasesCookie] != "" {
		t.Fatal("the foreign envelope was not cleared")
	}

	// The recovery key brings the key back under the current password.
	res = other.do("POST", "/cases/key/recover", url.Values{"recovery_code": {"not-the-key"}, "password": {testPassword}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("cases.error.recovery")) || strings.Contains(page, "not-the-key") {
		t.Fatalf("a wrong recovery key: %d", res.StatusCode)
	}
	res = other.do("POST", "/cases/key/recover", url.Values{"recovery_code": {recovery}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || other.cookies[CasesCookie] == "" {
		t.Fatalf("recovery: %d", res.StatusCode)
	}
	if res := other.do("GET", "/cases/"+caseID, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the case after recovery in session B: %d", res.StatusCode)
	}
	// A new recovery key replaces the old one and is shown once.
	res = other.do("POST", "/cases/key/recovery", url.Values{})
	if page := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `id="recovery-key-value"`) || strings.Contains(page, recovery) {
		t.Fatalf("a new recovery key: %d", res.StatusCode)
	}
	// Replacing the key needs the confirmation.
	res = other.do("POST", "/cases/key/replace", url.Values{"password": {testPassword}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("cases.error.confirm_replace")) {
		t.Fatalf("replacing without confirmation: %d", res.StatusCode)
	}
	// Replaced, the key holds no copy of the case: the page says why.
	res = other.do("POST", "/cases/key/replace", url.Values{"password": {testPassword}, "confirm": {"yes"}})
	if page := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `id="recovery-key-value"`) {
		t.Fatalf("replacing the key: %d", res.StatusCode)
	}
	res = other.do("GET", "/cases/"+caseID, nil)
	if page := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(page, `id="case-no-copy"`) || strings.Contains(page, "Something is wrong") {
		t.Fatalf("a case sealed to the replaced key: %d, want 409 with the explanation", res.StatusCode)
	}
}

// TestCaseHandling is the handler's whole way through a case: a report
// comes in, the list shows it with its deadlines, the handler opens it,
// acknowledges, replies with a file as the feedback, keeps a private note,
// makes a redacted copy, downloads the file and closes with an outcome.
func TestCaseHandling(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	chID := f.channel(t, "main", kim)
	photo := photoWithGPS(t)
	receipt, err := f.ws.Submit(ctx, f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud",
		Text: "Olaf Secretname moves money to his own account.", Name: "Rita Reporter", Contact: "rita@example.org", Meeting: true,
		Passphrase: "", Files: []whistle.Upload{{Name: "proof.jpg", Data: []byte(photo)}}})
	if err != nil {
		t.Fatal(err)
	}
	today := whistle.Day(time.Now())
	caseID, list := f.onlyCase(t, kim)
	dl := whistle.DeadlinesOf(today, "")
	for _, want := range []string{dl.AckDue, dl.FeedbackDue, "Channel main", `title="` + caseID + `"`, ">" + caseID[:8] + "<", f.t("cases.status.received")} {
		if !strings.Contains(list, want) {
			t.Errorf("the list does not show %q", want)
		}
	}
	if strings.Contains(list, "Olaf Secretname") {
		t.Error("the list shows the report's content")
	}
	// Filters: closed cases are not among the open ones; all shows them all.
	if page := body(t, kim.b.do("GET", "/cases?status=closed", nil)); strings.Contains(page, caseID) {
		t.Error("the closed filter shows an open case")
	}
	if res := kim.b.do("GET", "/cases?status=nonsense", nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown status filter: %d, want 422", res.StatusCode)
	}

	open := func() string {
		t.Helper()
		res := kim.b.do("GET", "/cases/"+caseID, nil)
		page := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("the case: %d", res.StatusCode)
		}
		return page
	}
	page := open()
	for _, want := range []string{"Olaf Secretname moves money", "Rita Reporter", "rita@example.org", "Fraud", "proof.jpg", f.t("cases.meeting_requested"), dl.AckDue} {
		if !strings.Contains(page, want) {
			t.Errorf("the case does not show %q", want)
		}
	}
	if recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.CaseOpened}); err != nil || len(recs) == 0 {
		t.Fatalf("opening the case is not in the trail: %v", err)
	}

	post := func(action string, form url.Values) *http.Response {
		t.Helper()
		return kim.b.do("POST", "/cases/"+caseID+"/"+action, form)
	}
	done := func(res *http.Response, action string) {
		t.Helper()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/cases/"+caseID+"?done="+action) {
			t.Fatalf("%s: %d to %q", action, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// Replying before the acknowledgement is no use: the page offers acknowledge.
	done(post("acknowledge", url.Values{"message": {""}}), "acknowledge")
	page = open()
	if !strings.Contains(page, f.t("cases.status.acknowledged")) || !strings.Contains(page, html.EscapeString(f.srv.I18n.T("en", "whistle.ack_message"))) {
		t.Fatal("the acknowledgement is not shown")
	}
	if res := post("acknowledge", url.Values{}); res.StatusCode != http.StatusConflict || !strings.Contains(body(t, res), f.t("whistle.error.state")) {
		t.Fatalf("a second acknowledgement: %d, want 409 with the message", res.StatusCode)
	}

	rd, ct := multipartForm(t, map[string]string{"text": "We have looked into it and talked to the finance team.", "feedback": "1"},
		[3]string{"files", "answer.txt", "Our findings in brief."})
	done(kim.upload(t, "/cases/"+caseID+"/reply", rd, ct), "reply")
	page = open()
	if !strings.Contains(page, "talked to the finance team") || !strings.Contains(page, "answer.txt") || !strings.Contains(page, f.t("cases.feedback_badge")) {
		t.Fatal("the reply is not in the thread")
	}
	if strings.Contains(page, `id="case-feedback-due">`+dl.FeedbackDue) {
		t.Fatal("the feedback deadline is still shown as due after the feedback")
	}
	// A reply with nothing in it is refused beside its field.
	rd, ct = multipartForm(t, map[string]string{"text": "  "})
	if res := kim.upload(t, "/cases/"+caseID+"/reply", rd, ct); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body(t, res), `id="reply-text-error"`) {
		t.Fatalf("an empty reply: %d, want 422 beside the text", res.StatusCode)
	}

	done(post("note", url.Values{"note": {"Check the ledger of March before we talk to Olaf."}}), "note")
	page = open()
	if !strings.Contains(page, "Check the ledger of March") || !strings.Contains(page, f.t("cases.private_note")) {
		t.Fatal("the note is not shown as a private note")
	}
	// The reporter never reads the note.
	env, err := f.ws.OpenByReceipt(ctx, f.company.ID, receipt.Code, "")
	if err != nil {
		t.Fatal(err)
	}
	rv, err := f.ws.ReporterView(ctx, f.company.ID, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rv.Entries {
		if strings.Contains(e.Content.Text, "ledger of March") {
			t.Fatal("the reporter reads the handlers' note")
		}
	}

	// A redacted copy of the report, downloaded as text.
	seq := regexp.MustCompile(`<option value="(\d+)"[^>]*>#\d+ · ` + regexp.QuoteMeta(f.t("cases.kind.report"))).FindStringSubmatch(page)
	if seq == nil {
		t.Fatal("the redaction form offers no report")
	}
	res := post("redact", url.Values{"entry": {seq[1]}, "terms": {"Olaf Secretname\r\nfinance"}})
	loc := res.Header.Get("Location")
	m := regexp.MustCompile(`redacted=(\d+)`).FindStringSubmatch(loc)
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("redact: %d to %q", res.StatusCode, loc)
	}
	res = kim.b.do("GET", "/cases/"+caseID+"/redactions/"+m[1]+".txt", nil)
	text := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("the redaction's download: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if strings.Contains(text, "Olaf") || strings.Contains(text, "Rita Reporter") || strings.Contains(text, "rita@example.org") ||
		!strings.Contains(text, "███████████████ moves money") {
		t.Fatalf("the redacted copy does not mask the terms: %q", text)
	}
	if res := kim.b.do("GET", "/cases/"+caseID+"/redactions/"+seq[1]+".txt", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the original as a redaction: %d, want 404", res.StatusCode)
	}

	// The file as it was sealed: cleaned of its metadata.
	fm := regexp.MustCompile(`href="/cases/` + caseID + `/files/([0-9a-f-]+)" id="file-[0-9a-f-]+">proof.jpg<`).FindStringSubmatch(page)
	if fm == nil {
		t.Fatal("the case shows no link to the photo")
	}
	res = kim.b.do("GET", "/cases/"+caseID+"/files/"+fm[1], nil)
	got := body(t, res)
	want, _, err := filetype.Clean(filetype.JPEG, []byte(photo))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || got != string(want) || strings.Contains(got, "GPS") || got == photo {
		t.Fatalf("the photo's download: %d, %d bytes, want the %d cleaned bytes", res.StatusCode, len(got), len(want))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("the photo's headers: %v", res.Header)
	}

	// The status form: a stale version, then closing without an outcome, are refused.
	res = post("status", url.Values{"status": {"investigating"}, "outcome": {""}, "version": {"0"}})
	if page := body(t, res); res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(page, f.t("cases.error.stale")) {
		t.Fatalf("a stale status change: %d, want 412 with the message", res.StatusCode)
	}
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(open())[1]
	res = post("status", url.Values{"status": {"closed"}, "outcome": {""}, "version": {version}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="outcome-error"`) {
		t.Fatalf("closing without an outcome: %d, want 422 beside the outcome", res.StatusCode)
	}
	done(post("status", url.Values{"status": {"closed"}, "outcome": {"substantiated"}, "version": {version}}), "status")
	page = open()
	if !strings.Contains(page, f.t("cases.status.closed")) || !strings.Contains(page, f.t("cases.outcome.substantiated")) || strings.Contains(page, `id="reply"`) {
		t.Fatal("the closed case is not shown as closed")
	}
	if list := body(t, kim.b.do("GET", "/cases", nil)); strings.Contains(list, caseID) {
		t.Error("the open cases list a closed one")
	}
	if list := body(t, kim.b.do("GET", "/cases?status=all", nil)); !strings.Contains(list, caseID) {
		t.Error("all cases do not list the closed one")
	}
	// Legal hold on and off.
	done(post("hold", url.Values{"hold": {"on"}}), "hold")
	if page := open(); !strings.Contains(page, f.t("cases.kept_on_hold")) {
		t.Fatal("the legal hold is not shown")
	}
	if res := post("hold", url.Values{"hold": {"maybe"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a malformed hold: %d, want 422", res.StatusCode)
	}
	if res := post("unknown-action", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown action: %d, want 404", res.StatusCode)
	}
}

// TestExcludedHandlerCannotSeeTheCase: a handler excluded for a conflict
// of interest no longer finds the case, its files or its copies (404).
func TestExcludedHandlerCannotSeeTheCase(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim, lea := f.handler(t, "kim"), f.handler(t, "lea")
	kim.enrol(t)
	lea.enrol(t)
	chID := f.channel(t, "main", kim, lea)
	if _, err := f.ws.Submit(ctx, f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud", Text: "Lea's friend does it.",
		Files: []whistle.Upload{{Name: "note.txt", Data: []byte("A plain note.")}}}); err != nil {
		t.Fatal(err)
	}
	caseID, _ := f.onlyCase(t, lea)
	page := body(t, lea.b.do("GET", "/cases/"+caseID, nil))
	fm := regexp.MustCompile(`/cases/` + caseID + `/files/([0-9a-f-]+)"`).FindStringSubmatch(page)
	if fm == nil {
		t.Fatal("no file link")
	}
	// Excluding needs the confirmation.
	res := kim.b.do("POST", "/cases/"+caseID+"/exclude", url.Values{"excluded_user": {lea.user.ID}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("cases.error.confirm_exclude")) {
		t.Fatalf("excluding without confirmation: %d", res.StatusCode)
	}
	res = kim.b.do("POST", "/cases/"+caseID+"/exclude", url.Values{"excluded_user": {lea.user.ID}, "confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("exclude: %d", res.StatusCode)
	}
	if page := body(t, kim.b.do("GET", "/cases/"+caseID, nil)); !strings.Contains(page, f.t("cases.excluded")) {
		t.Fatal("the case does not show the exclusion")
	}
	for _, path := range []string{"/cases/" + caseID, "/cases/" + caseID + "/files/" + fm[1], "/cases/" + caseID + "/redactions/1.txt"} {
		if res := lea.b.do("GET", path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s by the excluded handler: %d, want 404", path, res.StatusCode)
		}
	}
	if res := lea.b.do("POST", "/cases/"+caseID+"/note", url.Values{"note": {"let me in"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a note by the excluded handler: %d, want 404", res.StatusCode)
	}
	if page := body(t, lea.b.do("GET", "/cases?status=all", nil)); strings.Contains(page, caseID) {
		t.Error("the excluded handler's list shows the case")
	}
	// Kim is now the last handler with a copy: excluding himself is refused.
	res = kim.b.do("POST", "/cases/"+caseID+"/exclude", url.Values{"excluded_user": {kim.user.ID}, "confirm": {"yes"}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("whistle.error.last_handler")) {
		t.Fatalf("excluding the last handler: %d", res.StatusCode)
	}
}

// TestCaseOfAnotherCompanyIsNotFound: a handler of company A aiming at a
// case of company B finds nothing (404), and nothing of it shows.
func TestCaseOfAnotherCompanyIsNotFound(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	b, err := f.tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "beta", Name: "Beta", DefaultLanguage: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tenants.SetModules(ctx, audit.Operator, b.ID, append(slices.Clone(b.Modules), tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	bob, err := f.accounts.CreateUser(ctx, access.Operator(b.ID), account.CreateUserInput{Login: "bob", DisplayName: "Bob", Password: testPassword, Role: access.CaseHandler})
	if err != nil {
		t.Fatal(err)
	}
	bobP, err := f.accounts.Principal(ctx, b.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ws.Enrol(ctx, bobP.Actor(), testPassword, false); err != nil {
		t.Fatal(err)
	}
	bCh, err := f.ws.SaveChannel(ctx, access.Operator(b.ID, access.CompanySettings), whistle.Channel{Slug: "main", Name: "Beta channel", DefaultLanguage: "en", Languages: []string{"en"},
		RetentionDays: 365, Active: true, Handlers: []string{bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ws.Submit(ctx, b.ID, bCh, whistle.Submission{Language: "en", Text: "Beta secret report text",
		Files: []whistle.Upload{{Name: "beta.txt", Data: []byte("Beta secret file")}}}); err != nil {
		t.Fatal(err)
	}
	bCases, err := f.ws.Cases(ctx, bobP.Actor(), whistle.CaseFilter{})
	if err != nil || len(bCases) != 1 {
		t.Fatalf("company B's cases: %v %v", bCases, err)
	}
	bCase := bCases[0].ID
	for _, r := range []struct{ method, path string }{
		{"GET", "/cases/" + bCase}, {"GET", "/cases/" + bCase + "/redactions/1.txt"}, {"GET", "/cases/" + bCase + "/files/" + bCase},
		{"POST", "/cases/" + bCase + "/note"}, {"POST", "/cases/" + bCase + "/acknowledge"}, {"POST", "/cases/" + bCase + "/assign"},
		{"POST", "/cases/" + bCase + "/exclude"}, {"POST", "/cases/" + bCase + "/hold"},
	} {
		var form url.Values
		if r.method == "POST" {
			form = url.Values{"note": {"x"}, "user": {bob.ID}, "excluded_user": {bob.ID}, "confirm": {"yes"}, "hold": {"on"}}
		}
		res := kim.b.do(r.method, r.path, form)
		page := body(t, res)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s of company B: %d, want 404", r.method, r.path, res.StatusCode)
		}
		if strings.Contains(page, "Beta secret") || strings.Contains(page, "Beta channel") {
			t.Errorf("%s %s shows company B's case", r.method, r.path)
		}
	}
	if page := body(t, kim.b.do("GET", "/cases?status=all", nil)); strings.Contains(page, bCase) {
		t.Error("company A's list shows company B's case")
	}
	// Company B's case is untouched.
	if c, _ := f.ws.Cases(ctx, bobP.Actor(), whistle.CaseFilter{}); len(c) != 1 || c[0].Status != whistle.Received || c[0].LegalHold {
		t.Fatalf("company B's case was changed from company A: %+v", c[0])
	}
}

// TestCasePagesNeedThePermissionAndModule: other roles get 403; without
// the module the pages do not exist.
func TestCasePagesNeedThePermissionAndModule(t *testing.T) {
	f := newCaseFixture(t)
	kim := f.handler(t, "kim")
	_, rec := f.roleUser("rolf", access.Recruiter)
	for _, path := range []string{"/cases", "/cases/key"} {
		if res := f.do(request{method: "GET", path: path, cookie: rec}); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s by a recruiter: %d, want 403", path, res.StatusCode)
		}
	}
	if err := f.tenants.SetModules(context.Background(), audit.Operator, f.company.ID, []tenant.Module{tenant.Recruitment}); err != nil {
		t.Fatal(err)
	}
	if res := kim.b.do("GET", "/cases", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/cases without the module: %d, want 404", res.StatusCode)
	}
}

// TestCaseKeyRecoveryWithShares: with the company's escrow (set up by its
// administrator; a handler's key joins it at the next unlock), enough
// custodians' shares recover a handler's key under the current password
// and give a new recovery key; too few or wrong shares are refused
// without being shown again.
func TestCaseKeyRecoveryWithShares(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	shares, err := f.ws.SetUpEscrow(ctx, f.configurer(), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	kim.b.do("POST", "/cases/key/lock", url.Values{})
	if res := kim.b.do("POST", "/cases/key/unlock", url.Values{"password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", res.StatusCode)
	}
	kim.b.do("POST", "/cases/key/lock", url.Values{})
	page := body(t, kim.b.do("GET", "/cases/key", nil))
	if !strings.Contains(page, `id="key-shares"`) {
		t.Fatal("the key page offers no recovery with shares though the company has an escrow")
	}
	for _, bad := range []string{shares[0], shares[0] + "\n" + strings.ToUpper(shares[1][:len(shares[1])-4]) + "AAAA"} {
		res := kim.b.do("POST", "/cases/key/shares", url.Values{"share_codes": {bad}, "password": {testPassword}})
		page := body(t, res)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, f.t("cases.error.shares")) || strings.Contains(page, shares[0]) {
			t.Fatalf("wrong shares: %d", res.StatusCode)
		}
	}
	res := kim.b.do("POST", "/cases/key/shares", url.Values{"share_codes": {shares[2] + "\r\n\r\n" + shares[0] + "\r\n"}, "password": {testPassword}})
	page = body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="recovery-key-value"`) || kim.b.cookies[CasesCookie] == "" {
		t.Fatalf("recovery with shares: %d", res.StatusCode)
	}
	if recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.CaseKeyRecovered}); err != nil || len(recs) != 1 || recs[0].Details["via"] != "escrow" {
		t.Fatalf("the recovery is not in the trail: %+v %v", recs, err)
	}
}

// TestCaseListPages: the list pages by keyset, every case once.
func TestCaseListPages(t *testing.T) {
	f := newCaseFixture(t)
	defer func(n int) { casesPage = n }(casesPage)
	casesPage = 2
	kim := f.handler(t, "kim")
	kim.enrol(t)
	chID := f.channel(t, "main", kim)
	for range 3 {
		if _, err := f.ws.Submit(context.Background(), f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud", Text: "A report"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	path, pages := "/cases?channel="+chID, 0
	for path != "" {
		pages++
		res := kim.b.do("GET", path, nil)
		page := body(t, res)
		if res.StatusCode != http.StatusOK || pages > 3 {
			t.Fatalf("page %d: %d", pages, res.StatusCode)
		}
		for _, m := range caseRowRE.FindAllStringSubmatch(page, -1) {
			if seen[m[1]] {
				t.Fatalf("case %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := regexp.MustCompile(`href="([^"]+)" id="cases-next"`).FindStringSubmatch(page); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if pages != 2 || len(seen) != 3 {
		t.Fatalf("%d pages with %d cases, want 2 pages with 3", pages, len(seen))
	}
	if res := kim.b.do("GET", "/cases?after_day=yesterday&after_id=x", nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a malformed page link: %d, want 422", res.StatusCode)
	}
	// A report of ten days ago, not acknowledged: late, in the list and on the case.
	f.ws.SetClock(func() time.Time { return time.Now().AddDate(0, 0, -10) })
	if _, err := f.ws.Submit(context.Background(), f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud", Text: "An old report"}); err != nil {
		t.Fatal(err)
	}
	f.ws.SetClock(time.Now)
	casesPage = 50
	page := body(t, kim.b.do("GET", "/cases", nil))
	late := regexp.MustCompile(`<tr id="case-([0-9a-f-]+)">(?:[^<]|<[^/]|</[^t]|</t[^r])*?<td class="ack-due">[^<]*<span class="badge badge-warn late">`).FindAllStringSubmatch(page, -1)
	if len(late) != 1 || seen[late[0][1]] {
		t.Fatalf("late rows: %v, want the old report's", late)
	}
	if page := body(t, kim.b.do("GET", "/cases/"+late[0][1], nil)); !strings.Contains(page, `<dd id="case-ack-due">`+whistle.AddDays(whistle.Day(time.Now().AddDate(0, 0, -10)), whistle.AckDays)+` <span class="badge badge-warn late">`) {
		t.Fatal("the case does not show its acknowledgement as late")
	}
}
