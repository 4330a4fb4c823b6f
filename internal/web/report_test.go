package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/whistle"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// The web tests derive receipt and case keys cheaply; the vault's own
// tests and benchmarks keep the production cost.
func init() { vault.Params = vault.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1} }

// reportEnv is a company with the whistleblowing module, a case handler
// with a case key, and an active channel "ethics" in English and Swedish.
type reportEnv struct {
	*fixture
	handler access.Actor
	// conf acts on the company's channels, as its administrator does.
	conf    access.Actor
	channel *whistle.Channel
	// Keys of the channel's category, its questions and a choice.
	category, qText, qChoice, qDate, choiceYes string
}

func newReportEnv(t testing.TB, opts Options) *reportEnv {
	t.Helper()
	f := newFixture(t, opts)
	return setUpReporting(t, f, f.company, "ethics")
}

// setUpReporting gives company c the module, a handler and a channel.
func setUpReporting(t testing.TB, f *fixture, c *tenant.Tenant, slug string) *reportEnv {
	t.Helper()
	ctx := context.Background()
	if err := f.tenants.SetModules(ctx, audit.Operator, c.ID, append(slices.Clone(c.Modules), tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	e := &reportEnv{fixture: f, category: id.New(), qText: id.New(), qChoice: id.New(), qDate: id.New(), choiceYes: id.New()}
	e.handler = f.kit.Actor(t, c.ID, "handler-"+slug, access.CaseHandler)
	if _, err := f.kit.Whistle.Enrol(ctx, e.handler, testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	ch := whistle.Channel{Slug: slug, Name: "Ethics line", DefaultLanguage: "en", Languages: []string{"en", "sv"},
		Intro:      map[string]string{"en": "Tell us what you saw.\n\nWe protect reporters.", "sv": "Berätta vad du såg."},
		Categories: []whistle.Choice{{Key: e.category, Labels: map[string]string{"en": "Fraud", "sv": "Bedrägeri"}}},
		Questions: []whistle.Question{
			{Key: e.qText, Kind: whistle.QuestionText, Labels: map[string]string{"en": "Who else knows?", "sv": "Vem mer vet?"}},
			{Key: e.qChoice, Kind: whistle.QuestionChoice, Labels: map[string]string{"en": "Is it still going on?"},
				Choices: []whistle.Choice{{Key: e.choiceYes, Labels: map[string]string{"en": "Yes"}}, {Key: id.New(), Labels: map[string]string{"en": "No"}}}},
			{Key: e.qDate, Kind: whistle.QuestionDate, Labels: map[string]string{"en": "When did it start?"}},
		},
		AllowIdentified: true, RetentionDays: 365, Active: true, Handlers: []string{e.handler.UserID}}
	e.conf = access.Operator(c.ID, access.CompanySettings)
	chID, err := f.kit.Whistle.SaveChannel(ctx, e.conf, ch)
	if err != nil {
		t.Fatal(err)
	}
	if e.channel, err = f.kit.Whistle.Channel(ctx, e.conf, chID); err != nil {
		t.Fatal(err)
	}
	return e
}

// reportFile is a file of a multipart form.
type reportFile struct{ field, name, body string }

// multipartBody builds a multipart form of fields and files.
func multipartBody(t testing.TB, fields map[string]string, files ...reportFile) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, f.body)
	}
	w.Close()
	return &b, w.FormDataContentType()
}

// reportReq is a request of the reporter: from one address and agent, with
// the reporter's cookie if any.
type reportReq struct {
	method, path string
	form         url.Values
	body         io.Reader
	contentType  string
	envelope     string
	header       map[string]string
}

func (e *reportEnv) send(r reportReq) *http.Response {
	e.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.body != nil {
		body = r.body
	}
	req := httptest.NewRequest(r.method, "http://127.0.0.1:8080"+r.path, body)
	req.RemoteAddr = "203.0.113.77:4444"
	req.Header.Set("X-Forwarded-For", "198.51.100.9")
	req.Header.Set("User-Agent", "NoTraceAgent/9.9")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		req.Header.Set("Origin", "http://127.0.0.1:8080")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if r.envelope != "" {
		req.AddCookie(&http.Cookie{Name: ReportCookie, Value: r.envelope})
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Result()
}

// submit files a report through the form and returns the receipt page.
func (e *reportEnv) submit(fields map[string]string, files ...reportFile) *http.Response {
	e.t.Helper()
	b, ct := multipartBody(e.t, fields, files...)
	return e.send(reportReq{method: "POST", path: "/report/acme/ethics", body: b, contentType: ct})
}

func (e *reportEnv) validReport(text string) map[string]string {
	return map[string]string{"lang": "en", "category": e.category, "text": text, "q_" + e.qChoice: e.choiceYes,
		"q_" + e.qDate: "2026-01-15", "q_" + e.qText: "My colleague Berit", "passphrase": "blue heron", "passphrase_confirm": "blue heron"}
}

var receiptRE = regexp.MustCompile(`id="receipt-code">((?:<span>[0-9]{4}</span> ){6})</p>`)

// receiptOf reads the receipt code off a receipt page.
func receiptOf(t testing.TB, page string) string {
	t.Helper()
	m := receiptRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no receipt code in the page:\n%s", page)
	}
	return strings.TrimSpace(strings.NewReplacer("<span>", "", "</span>", "").Replace(m[1]))
}

// reportCookieOf returns the reporter's envelope a response sets.
func reportCookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == ReportCookie {
			return c
		}
	}
	return nil
}

// checkReporterHeaders checks what every reporter's page answers with.
func checkReporterHeaders(t testing.TB, what string, res *http.Response) {
	t.Helper()
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q, want no-referrer", what, got)
	}
	if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, got)
	}
	for _, c := range res.Cookies() {
		if c.Name != ReportCookie {
			t.Errorf("%s: sets cookie %q, want none but %s", what, c.Name, ReportCookie)
		}
	}
}

func TestReportPages(t *testing.T) {
	e := newReportEnv(t, Options{})
	ctx := context.Background()

	res := e.send(reportReq{method: "GET", path: "/report/acme"})
	page := body(t, res)
	checkReporterHeaders(t, "index", res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `href="/report/acme/ethics?lang=en"`) || !strings.Contains(page, "Ethics line") {
		t.Fatalf("index: %d, want 200 linking the channel:\n%s", res.StatusCode, page)
	}
	if !strings.Contains(page, `id="anonymity-note"`) || strings.Contains(page, "/language/") {
		t.Errorf("index: want the anonymity note and no cookie-setting language links")
	}

	for _, tt := range []struct {
		name, path, acceptLanguage, want, lang string
	}{
		{"default language", "/report/acme/ethics", "", "Fraud", "en"},
		{"asked for", "/report/acme/ethics?lang=sv", "en", "Bedrägeri", "sv"},
		{"browser's", "/report/acme/ethics", "de, sv;q=0.8", "Bedrägeri", "sv"},
		{"not a language of the channel", "/report/acme/ethics?lang=cs", "sk", "Fraud", "en"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.send(reportReq{method: "GET", path: tt.path, header: map[string]string{"Accept-Language": tt.acceptLanguage}})
			page := body(t, res)
			checkReporterHeaders(t, tt.path, res)
			if res.StatusCode != http.StatusOK || !strings.Contains(page, tt.want) || !strings.Contains(page, `<html lang="`+tt.lang+`"`) {
				t.Fatalf("got %d, want 200 in %s with %q:\n%s", res.StatusCode, tt.lang, tt.want, page)
			}
		})
	}
	res = e.send(reportReq{method: "GET", path: "/report/acme/ethics"})
	page = body(t, res)
	for _, want := range []string{`enctype="multipart/form-data"`, `name="category"`, `name="q_` + e.qText + `"`, `type="radio" name="q_` + e.qChoice + `"`,
		`type="date"`, `name="text"`, `id="identity"`, `name="passphrase"`, `name="meeting"`, `type="file" multiple`, `id="know-first"`,
		"<p class=\"report-intro\">Tell us what you saw.</p>", "<p class=\"report-intro\">We protect reporters.</p>", `href="?lang=sv"`} {
		if !strings.Contains(page, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the reporter's form loads a script: it must work without JavaScript")
	}

	// A channel that takes anonymous reports only has no identity fields.
	ch := *e.channel
	ch.AllowIdentified = false
	if _, err := e.kit.Whistle.SaveChannel(ctx, e.conf, ch); err != nil {
		t.Fatal(err)
	}
	if page := body(t, e.send(reportReq{method: "GET", path: "/report/acme/ethics"})); strings.Contains(page, `id="identity"`) || !strings.Contains(page, `id="anonymous-only"`) {
		t.Error("an anonymous-only channel shows identity fields")
	}

	// No module, no company, no channel: 404, with nothing set.
	other := e.kit.Company(t, tenant.CreateInput{Slug: "plain", Name: "Plain Ltd"})
	_ = other
	for _, p := range []string{"/report/plain", "/report/plain/ethics", "/report/plain/follow-up", "/report/nope", "/report/acme/nope", "/report/plain/case"} {
		res := e.send(reportReq{method: "GET", path: p})
		checkReporterHeaders(t, p, res)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestReportSubmitAndFollowUp(t *testing.T) {
	e := newReportEnv(t, Options{})
	ctx := context.Background()

	// A refused form comes back with its messages and values, never the passphrase.
	fields := e.validReport("")
	res := e.submit(fields)
	page := body(t, res)
	checkReporterHeaders(t, "refused report", res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="text-error"`) || !strings.Contains(page, "My colleague Berit") {
		t.Fatalf("empty description: %d, want 422 with its message and the values posted:\n%s", res.StatusCode, page)
	}
	if strings.Contains(page, "blue heron") {
		t.Fatal("the refused form shows the passphrase again")
	}
	fields = e.validReport("Invoices are approved twice.")
	fields["passphrase_confirm"] = "blue herons"
	res = e.submit(fields)
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="passphrase-error"`) ||
		!strings.Contains(page, e.kit.I18n.T("en", "report.error.passphrase_mismatch")) || strings.Contains(page, "heron") {
		t.Fatalf("passphrases that differ: %d, want 422 with the message and neither passphrase", res.StatusCode)
	}
	// A file too large is named, and nothing is filed.
	big := strings.Repeat("x", whistle.MaxAttachmentBytes+1)
	if res := e.submit(e.validReport("With a big file."), reportFile{"files", "big.txt", big}); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a file over the limit: %d, want 413", res.StatusCode)
	}

	// Filed: the receipt page, at once.
	res = e.submit(e.validReport("Invoices are approved twice."), reportFile{"files", "notes.txt", "The second approval comes from the same person.\n"})
	page = body(t, res)
	checkReporterHeaders(t, "receipt", res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("report: %d, want 200 (the receipt):\n%s", res.StatusCode, page)
	}
	code := receiptOf(t, page)
	today := whistle.Day(time.Now())
	dl := whistle.DeadlinesOf(today, "")
	d := reportData{Lang: "en"}
	for _, want := range []string{`id="ack-due">` + d.Date(dl.AckDue), `id="feedback-due">` + d.Date(dl.FeedbackDue), "notes.txt",
		`action="/report/acme/receipt.txt"`, `name="receipt" value="` + code + `"`, "no-print"} {
		if !strings.Contains(page, want) {
			t.Errorf("receipt page lacks %q", want)
		}
	}
	if cases, err := e.kit.Whistle.Cases(ctx, e.handler, whistle.CaseFilter{}); err != nil || len(cases) != 1 {
		t.Fatalf("cases after the report: %d %v, want 1", len(cases), err)
	}

	// The receipt as a file to keep.
	res = e.send(reportReq{method: "POST", path: "/report/acme/receipt.txt", form: url.Values{"receipt": {code}, "lang": {"en"}, "ack_due": {dl.AckDue}, "feedback_due": {dl.FeedbackDue}}})
	txt := body(t, res)
	checkReporterHeaders(t, "receipt.txt", res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(txt, code) || !strings.Contains(txt, "/report/acme/follow-up") {
		t.Fatalf("receipt.txt: %d %q %q:\n%s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), txt)
	}
	if res := e.send(reportReq{method: "POST", path: "/report/acme/receipt.txt", form: url.Values{"receipt": {"<script>alert(1)</script>"}}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("receipt.txt of something not a receipt: %d, want 400", res.StatusCode)
	}

	// Without an open case the case pages send the reporter to follow up.
	for _, r := range []reportReq{{method: "GET", path: "/report/acme/case"}, {method: "GET", path: "/report/acme/case", envelope: "forged"},
		{method: "POST", path: "/report/acme/case/meeting", form: url.Values{}}, {method: "GET", path: "/report/acme/case/files/" + id.New()}} {
		res := e.send(r)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/report/acme/follow-up") {
			t.Errorf("%s %s without a case: %d to %q, want 303 to the follow-up page", r.method, r.path, res.StatusCode, res.Header.Get("Location"))
		}
	}

	// Follow up: the receipt and passphrase open the case into the cookie.
	if res := e.send(reportReq{method: "GET", path: "/report/acme/follow-up"}); res.StatusCode != http.StatusOK || reportCookieOf(res) != nil {
		t.Fatalf("follow-up form: %d, want 200 without a cookie", res.StatusCode)
	}
	res = e.send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {code}, "passphrase": {"blue heron"}, "lang": {"en"}}})
	cookie := reportCookieOf(res)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/report/acme/case?lang=en" || cookie == nil {
		t.Fatalf("follow-up: %d to %q with %v, want 303 to the case with the cookie", res.StatusCode, res.Header.Get("Location"), cookie)
	}
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.MaxAge != 0 || !cookie.Expires.IsZero() {
		t.Fatalf("reporter cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/, no Max-Age", cookie)
	}
	envelope := cookie.Value

	// The handler answers; the reporter sees it marked new, with the status and deadlines.
	session := "handler-session"
	hEnv, err := e.kit.Whistle.Unlock(ctx, e.handler, session, testkit.Password)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := e.kit.Whistle.Handler(ctx, e.handler, session, hEnv)
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := e.kit.Whistle.Cases(ctx, e.handler, whistle.CaseFilter{})
	if err := e.kit.Whistle.Reply(ctx, h, cases[0].ID, "Thank you. Who approves the second time?", nil, false); err != nil {
		t.Fatal(err)
	}
	res = e.send(reportReq{method: "GET", path: "/report/acme/case", envelope: envelope})
	page = body(t, res)
	checkReporterHeaders(t, "case", res)
	if c := reportCookieOf(res); c == nil || c.Value == "" {
		t.Fatal("the case page does not renew the reporter's cookie")
	} else {
		envelope = c.Value
	}
	for _, want := range []string{"Invoices are approved twice.", "Thank you. Who approves the second time?", `class="badge badge-warn"`,
		`id="case-status">Received`, d.Date(today), `id="ack-due">` + d.Date(dl.AckDue), "notes.txt", `id="reply-form"`, `id="meeting-form"`, "Fraud", "My colleague Berit"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	// Seen once, the message is new no more.
	if page := body(t, e.send(reportReq{method: "GET", path: "/report/acme/case", envelope: envelope})); strings.Contains(page, `class="badge badge-warn"`) {
		t.Error("a message read is still marked new")
	}

	// The reporter answers with a file.
	b, ct := multipartBody(t, map[string]string{"text": "My manager approves both.", "lang": "en"}, reportFile{"files", "more.txt", "Dates of the approvals.\n"})
	res = e.send(reportReq{method: "POST", path: "/report/acme/case", body: b, contentType: ct, envelope: envelope})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/report/acme/case") {
		t.Fatalf("reply: %d to %q, want 303 back to the case", res.StatusCode, res.Header.Get("Location"))
	}
	b, ct = multipartBody(t, map[string]string{"text": "", "lang": "en"})
	if res := e.send(reportReq{method: "POST", path: "/report/acme/case", body: b, contentType: ct, envelope: envelope}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body(t, res), `id="text-error"`) {
		t.Fatalf("an empty reply: %d, want 422 with the message", res.StatusCode)
	}
	c, err := e.kit.Whistle.Case(ctx, h, cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := c.Entries[len(c.Entries)-1]; last.AuthorKind != "reporter" || last.Content.Text != "My manager approves both." || len(last.Attachments) != 1 {
		t.Fatalf("the handler's last entry is %+v, want the reporter's answer with its file", last)
	}

	// A file of the case, as a download under its name.
	rc, err := e.kit.Whistle.ReporterView(ctx, e.company.ID, envelope)
	if err != nil {
		t.Fatal(err)
	}
	var fileID string
	for _, en := range rc.Entries {
		for _, a := range en.Attachments {
			if a.Name == "more.txt" {
				fileID = a.ID
			}
		}
	}
	res = e.send(reportReq{method: "GET", path: "/report/acme/case/files/" + fileID, envelope: envelope})
	if got := body(t, res); res.StatusCode != http.StatusOK || got != "Dates of the approvals.\n" ||
		res.Header.Get("Content-Disposition") != `attachment; filename=more.txt` || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("file: %d %q %q %q", res.StatusCode, res.Header.Get("Content-Disposition"), res.Header.Get("X-Content-Type-Options"), got)
	}
	if res := e.send(reportReq{method: "GET", path: "/report/acme/case/files/" + id.New(), envelope: envelope}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a file of no case: %d, want 404", res.StatusCode)
	}

	// A meeting, asked for once.
	res = e.send(reportReq{method: "POST", path: "/report/acme/case/meeting", form: url.Values{"lang": {"en"}}, envelope: envelope})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("meeting: %d, want 303", res.StatusCode)
	}
	if page := body(t, e.send(reportReq{method: "GET", path: "/report/acme/case", envelope: envelope})); !strings.Contains(page, `id="meeting-requested"`) || strings.Contains(page, `id="meeting-form"`) {
		t.Fatal("the case page does not say a meeting was asked for")
	}

	// Leaving clears the cookie.
	res = e.send(reportReq{method: "POST", path: "/report/acme/case/leave", form: url.Values{"lang": {"en"}}, envelope: envelope})
	if c := reportCookieOf(res); res.StatusCode != http.StatusSeeOther || c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("leave: %d with %+v, want 303 clearing the cookie", res.StatusCode, c)
	}

	// A closed case shows no reply form.
	if err := e.kit.Whistle.Acknowledge(ctx, h, cases[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.kit.Whistle.Case(ctx, h, cases[0].ID)
	if err := e.kit.Whistle.SetStatus(ctx, h, cases[0].ID, whistle.Closed, "no_action", cur.Info.Version); err != nil {
		t.Fatal(err)
	}
	if page := body(t, e.send(reportReq{method: "GET", path: "/report/acme/case", envelope: envelope})); !strings.Contains(page, `id="case-closed"`) || strings.Contains(page, `id="reply-form"`) {
		t.Fatal("a closed case still offers a reply")
	}
}

// TestReportReceiptRefusals: a receipt that does not exist and a wrong
// passphrase give the same page, byte for byte; one address gets a bounded
// number of attempts.
func TestReportReceiptRefusals(t *testing.T) {
	e := newReportEnv(t, Options{})
	code := receiptOf(t, body(t, e.submit(e.validReport("Something is wrong."))))
	attempt := func(receipt, passphrase string) *http.Response {
		return e.send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {receipt}, "passphrase": {passphrase}, "lang": {"en"}}})
	}
	other := "1111 2222 3333 4444 5555 6666"
	if other == code {
		other = "1111 2222 3333 4444 5555 6667"
	}
	wrongReceipt := attempt(other, "blue heron")
	wrongPassphrase := attempt(code, "red heron")
	malformed := attempt("12345", "blue heron")
	a, b, c := body(t, wrongReceipt), body(t, wrongPassphrase), body(t, malformed)
	if wrongReceipt.StatusCode != http.StatusUnprocessableEntity || wrongPassphrase.StatusCode != wrongReceipt.StatusCode || malformed.StatusCode != wrongReceipt.StatusCode {
		t.Fatalf("statuses %d %d %d, want 422 each", wrongReceipt.StatusCode, wrongPassphrase.StatusCode, malformed.StatusCode)
	}
	if a != b || a != c {
		t.Fatalf("the refusals differ:\n--- wrong receipt\n%s\n--- wrong passphrase\n%s", a, b)
	}
	if !strings.Contains(a, e.kit.I18n.T("en", "whistle.error.receipt")) || strings.Contains(a, code) || strings.Contains(a, "heron") {
		t.Fatal("the refusal does not show the one message, or shows what was typed")
	}
	for _, res := range []*http.Response{wrongReceipt, wrongPassphrase, malformed} {
		if reportCookieOf(res) != nil {
			t.Fatal("a refused follow-up sets the reporter's cookie")
		}
	}
	// Three attempts spent; the rest of the address's allowance, then 429.
	for i := 3; i < reportFollowUpRule.perAddress; i++ {
		if res := attempt(other, ""); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d, want 422", i+1, res.StatusCode)
		}
	}
	res := attempt(code, "blue heron")
	if res.StatusCode != http.StatusTooManyRequests || reportCookieOf(res) != nil {
		t.Fatalf("attempt %d from one address: %d, want 429 (even with the right receipt)", reportFollowUpRule.perAddress+1, res.StatusCode)
	}
	if got := res.Header.Get("Retry-After"); got == "" {
		t.Error("429 without Retry-After")
	}
	// In the reporter's language.
	res = e.send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {code}}, header: map[string]string{"Accept-Language": "sv"}})
	if page := body(t, res); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, e.kit.I18n.T("sv", "error.429.title")) {
		t.Fatalf("429 in Swedish: %d\n%s", res.StatusCode, page)
	}
}

// TestReportIsolation: a receipt, a cookie and a channel of one company
// open nothing at another's address.
func TestReportIsolation(t *testing.T) {
	e := newReportEnv(t, Options{})
	beta := e.kit.Company(t, tenant.CreateInput{Slug: "beta", Name: "Beta AB"})
	eb := setUpReporting(t, e.fixture, beta, "beta-line")
	_ = eb
	code := receiptOf(t, body(t, e.submit(e.validReport("Acme's report."))))
	res := e.send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {code}, "passphrase": {"blue heron"}}})
	acmeEnvelope := reportCookieOf(res).Value

	if res := e.send(reportReq{method: "POST", path: "/report/beta/follow-up", form: url.Values{"receipt": {code}, "passphrase": {"blue heron"}}}); res.StatusCode != http.StatusUnprocessableEntity || reportCookieOf(res) != nil {
		t.Fatalf("acme's receipt at beta: %d, want 422 without a cookie", res.StatusCode)
	}
	res = e.send(reportReq{method: "GET", path: "/report/beta/case", envelope: acmeEnvelope})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/report/beta/follow-up") || strings.Contains(body(t, res), "Acme's report.") {
		t.Fatalf("acme's case cookie at beta: %d to %q, want 303 to beta's follow-up", res.StatusCode, res.Header.Get("Location"))
	}
	b, ct := multipartBody(t, map[string]string{"text": "Into beta?"})
	if res := e.send(reportReq{method: "POST", path: "/report/beta/case", body: b, contentType: ct, envelope: acmeEnvelope}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a reply with acme's cookie at beta: %d, want 303 to follow up", res.StatusCode)
	}
	for _, p := range []string{"/report/beta/ethics", "/report/acme/beta-line"} {
		if res := e.send(reportReq{method: "GET", path: p}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s (another company's channel): %d, want 404", p, res.StatusCode)
		}
	}
	if page := body(t, e.send(reportReq{method: "GET", path: "/report/beta"})); strings.Contains(page, "/report/beta/ethics") || !strings.Contains(page, "/report/beta/beta-line") {
		t.Fatal("beta's index lists acme's channel, or not its own")
	}
}

// TestReportLimiter: the limiter holds keyed hashes, never an address, and
// forgets each entry when its window ends.
func TestReportLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	l := newReportLimiter()
	l.now = func() time.Time { return now }
	rule := reportRule{name: "t", perAddress: 2, perCompany: 3, window: time.Minute}
	a, b, c := l.addressKey("203.0.113.77"), l.addressKey("203.0.113.78"), l.addressKey("203.0.113.79")
	if a == b || len(a) != 16 {
		t.Fatalf("address keys %x %x: want distinct 16-byte keys", a, b)
	}
	if other := newReportLimiter(); other.addressKey("203.0.113.77") == a {
		t.Fatal("two limiters name an address alike: the key must be random per process")
	}
	for i, tt := range []struct {
		key  string
		want bool
	}{{a, true}, {a, true}, {a, false}, {b, true}, {c, false}} {
		if _, ok := l.allow(rule, tt.key, "co"); ok != tt.want {
			t.Fatalf("request %d: allowed %v, want %v", i+1, ok, tt.want)
		}
	}
	if _, ok := l.allow(rule, c, "other-co"); !ok {
		t.Fatal("another company's cap counted this company's requests")
	}
	l.mu.Lock()
	for k := range l.counts {
		if strings.Contains(k, "203.0.113") {
			t.Errorf("the limiter holds an address: %q", k)
		}
	}
	l.mu.Unlock()
	release, ok := l.enter(a)
	if !ok || l.entries() == 0 {
		t.Fatal("no upload place")
	}
	release()
	release()
	now = now.Add(time.Minute)
	l.expire() // what the timer does when no request comes
	if n := l.entries(); n != 0 {
		t.Fatalf("%d entries after the window, want 0", n)
	}
	if _, ok := l.allow(rule, a, "co"); !ok {
		t.Fatal("the address is still refused after the window")
	}
}

// TestReportErrorLog: an error on the reporter's pages is logged with the
// day only and without the client.
func TestReportErrorLog(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{}
	s.Logger = slogJSON(&buf)
	r := httptest.NewRequest("GET", "/report/acme/ethics", nil)
	s.logFor(r).Error("internal error", "route", "GET /report/{company}/{channel}", "user_agent", "NoTraceAgent/9.9", "ip", "203.0.113.77")
	line := buf.String()
	if !strings.Contains(line, `"time":"`+time.Now().UTC().Format("2006-01-02")+`T00:00:00Z"`) || strings.Contains(line, "NoTraceAgent") || strings.Contains(line, "203.0.113") {
		t.Fatalf("reporter's error line: %s", line)
	}
	buf.Reset()
	s.logFor(httptest.NewRequest("GET", "/positions", nil)).Error("internal error")
	if strings.Contains(buf.String(), "T00:00:00Z") && time.Now().UTC().Hour() != 0 {
		t.Fatalf("a staff page's error lost its time: %s", buf.String())
	}
}

func slogJSON(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// TestReportLimiterGroupsIPv6AndRefunds: IPv6 addresses count by their /64;
// a refund gives back the last request.
func TestReportLimiterGroupsIPv6AndRefunds(t *testing.T) {
	l := newReportLimiter()
	if l.addressKey("2001:db8:1:2::1") != l.addressKey("2001:db8:1:2:ffff::9") || l.addressKey("2001:db8:1:3::1") == l.addressKey("2001:db8:1:2::1") {
		t.Fatal("IPv6 addresses are not counted by their /64")
	}
	if l.addressKey("203.0.113.1") == l.addressKey("203.0.113.2") {
		t.Fatal("IPv4 addresses are grouped")
	}
	k := l.addressKey("203.0.113.1")
	for range reportSubmitRule.perAddress {
		if _, ok := l.allow(reportSubmitRule, k, "c"); !ok {
			t.Fatal("refused within the allowance")
		}
	}
	if _, ok := l.allow(reportSubmitRule, k, "c"); ok {
		t.Fatal("allowed past the allowance")
	}
	l.refund(reportSubmitRule, k, "c")
	if _, ok := l.allow(reportSubmitRule, k, "c"); !ok {
		t.Fatal("a refunded request is not given back")
	}
}
