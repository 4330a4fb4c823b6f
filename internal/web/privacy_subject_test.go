package web

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

var myDataLink = regexp.MustCompile(`/my-data/([A-Za-z0-9_-]{43})`)

// subjectApplicant has a candidate apply to a published position with a
// CV and returns the application.
func (f *fixture) subjectApplicant(t *testing.T, pos *recruit.Position, name, email string) *recruit.Application {
	t.Helper()
	app, err := f.recruit.Apply(context.Background(), f.company.ID, pos.ID, recruit.ApplyInput{Name: name, Email: email, Phone: "+46 70 000 00 01",
		CV:       &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae of " + name + "\nQuintessential widget wrangler.\n")},
		Language: "en", SubmissionID: id.New()})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// subjectTokens returns the self-service links queued, oldest first.
func (f *fixture) subjectTokens(t *testing.T) []string {
	t.Helper()
	var out []string
	err := f.db.ReadTx(context.Background(), db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT message FROM email_queue ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				return err
			}
			if sm := myDataLink.FindStringSubmatch(m); sm != nil {
				out = append(out, sm[1])
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func subjectCookie(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == SubjectCookie {
			return c
		}
	}
	return nil
}

func withSubject(secret string) map[string]string {
	return map[string]string{"Cookie": SubjectCookie + "=" + secret}
}

// TestSubjectAskSameAnswer: the company's privacy page answers a known and
// an unknown address alike (same status, same page) and emails only the
// known one; a malformed address is refused with its message; the page
// and the position pages beside it both work, and the career pages link it.
func TestSubjectAskSameAnswer(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Widget wrangler")
	f.subjectApplicant(t, pos, "Wilma Known", "wilma.known@example.org")

	res := f.do(request{method: "GET", path: "/careers/acme/privacy"})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="subject-ask-form"`) {
		t.Fatalf("privacy page: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/careers/acme/" + pos.ID}); res.StatusCode != http.StatusOK {
		t.Fatalf("the position page beside it: %d", res.StatusCode)
	}
	if b := body(t, f.do(request{method: "GET", path: "/careers/acme"})); !strings.Contains(b, `href="/careers/acme/privacy"`) {
		t.Fatal("the career page does not link the privacy page")
	}
	if b := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID + "/thanks"})); !strings.Contains(b, `href="/careers/acme/privacy"`) {
		t.Fatal("the thank-you page does not link the privacy page")
	}
	ask := func(email string) (*http.Response, string) {
		res := f.do(request{method: "POST", path: "/careers/acme/privacy", form: url.Values{"email": {email}}})
		return res, body(t, res)
	}
	known, knownBody := ask("Wilma.Known@example.org")
	unknown, unknownBody := ask("nobody.at.all@example.org")
	if known.StatusCode != http.StatusSeeOther || unknown.StatusCode != known.StatusCode ||
		known.Header.Get("Location") != unknown.Header.Get("Location") || knownBody != unknownBody {
		t.Fatalf("known: %d %q; unknown: %d %q; want the same answer", known.StatusCode, known.Header.Get("Location"), unknown.StatusCode, unknown.Header.Get("Location"))
	}
	if tokens := f.subjectTokens(t); len(tokens) != 1 {
		t.Fatalf("links emailed: %d, want 1 (to the known address only)", len(tokens))
	}
	sent := f.do(request{method: "GET", path: known.Header.Get("Location")})
	if b := body(t, sent); !strings.Contains(b, `id="subject-sent"`) {
		t.Fatal("the page after asking does not say the link is on its way")
	}
	bad, badBody := ask("not an address")
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(badBody, "Enter a valid email address") {
		t.Fatalf("malformed address: %d", bad.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/careers/nope/privacy"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown company's privacy page: %d", res.StatusCode)
	}
}

// TestSubjectAskRateLimit: one address (or one client) may not ask for
// links without end.
func TestSubjectAskRateLimit(t *testing.T) {
	f := newFixture(t, Options{})
	codes := []int{}
	for range applyBurst + 1 {
		res := f.do(request{method: "POST", path: "/careers/acme/privacy", form: url.Values{"email": {"same@example.org"}}})
		codes = append(codes, res.StatusCode)
	}
	if codes[0] != http.StatusSeeOther || codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v: want 303 first and 429 at the end", codes)
	}
}

// TestSubjectSelfService walks the pages: the link's page does not spend
// it, its button starts a session under a strict cookie, the data page
// shows the candidate, the export downloads, a correction is refused or
// saved, a withdrawal without consent is explained, erasure needs the box
// ticked and then ends the session; used and forged links get a clear page.
func TestSubjectSelfService(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Widget wrangler")
	app := f.subjectApplicant(t, pos, "Wilma Known", "wilma.known@example.org")
	if res := f.do(request{method: "POST", path: "/careers/acme/privacy", form: url.Values{"email": {"wilma.known@example.org"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask: %d", res.StatusCode)
	}
	token := f.subjectTokens(t)[0]
	for range 2 { // opening the link (as a mail scanner does) spends nothing
		res := f.do(request{method: "GET", path: "/my-data/" + token})
		if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="subject-open"`) {
			t.Fatalf("link page: %d", res.StatusCode)
		}
		if res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatal("the link's page may leak its address in the referrer")
		}
	}
	res := f.do(request{method: "POST", path: "/my-data/" + token, form: url.Values{}})
	c := subjectCookie(res)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/my-data" || c == nil {
		t.Fatalf("open: %d %q cookie %v", res.StatusCode, res.Header.Get("Location"), c)
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || !strings.HasPrefix(c.Name, "__Host-") {
		t.Fatalf("cookie %+v: want __Host-, Secure, HttpOnly, SameSite=Strict, Path=/", c)
	}
	secret := c.Value
	for _, tok := range []string{token, strings.Repeat("A", 43)} {
		res := f.do(request{method: "POST", path: "/my-data/" + tok, form: url.Values{}})
		if b := body(t, res); res.StatusCode != http.StatusNotFound || !strings.Contains(b, `id="subject-invalid"`) || subjectCookie(res) != nil {
			t.Fatalf("used or forged link %s: %d", tok[:4], res.StatusCode)
		}
	}
	page := f.do(request{method: "GET", path: "/my-data", header: withSubject(secret)})
	b := body(t, page)
	if page.StatusCode != http.StatusOK || !strings.Contains(b, "Wilma Known") || !strings.Contains(b, "wilma.known@example.org") ||
		!strings.Contains(b, "Widget wrangler") || !strings.Contains(b, "cv.txt") || !strings.Contains(b, `id="subject-email-fixed"`) {
		t.Fatalf("data page: %d", page.StatusCode)
	}
	ex := f.do(request{method: "GET", path: "/my-data/export", header: withSubject(secret)})
	zb := []byte(body(t, ex))
	if ex.StatusCode != http.StatusOK || ex.Header.Get("Content-Type") != "application/zip" || !strings.Contains(ex.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q", ex.StatusCode, ex.Header.Get("Content-Type"))
	}
	z, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil || len(z.File) != 2 || z.File[0].Name != "data.json" {
		t.Fatalf("export zip: %v", err)
	}
	// Every POST is same-origin only (the server's cross-origin protection).
	res = f.do(request{method: "POST", path: "/my-data/erase", form: url.Values{"confirm": {"yes"}},
		header: map[string]string{"Cookie": SubjectCookie + "=" + secret, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site erase: %d, want 403", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/my-data/contact", form: url.Values{"name": {"Wilma Corrected"}, "phone": {"call me maybe"}}, header: withSubject(secret)})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="phone-error"`) {
		t.Fatalf("bad phone: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/my-data/contact", form: url.Values{"name": {"Wilma Corrected"}, "phone": {"+46 70 111 22 33"}}, header: withSubject(secret)})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=saved") {
		t.Fatalf("correction: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got, err := f.recruit.Application(context.Background(), f.actorOfRole(t, "rita", access.HRManager), app.ID); err != nil || got.Candidate.Name != "Wilma Corrected" {
		t.Fatalf("the card after the correction: %v", err)
	}
	res = f.do(request{method: "POST", path: "/my-data/withdraw", form: url.Values{}, header: withSubject(secret)})
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, "no consent in force") {
		t.Fatalf("withdraw without a consent: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/my-data/erase", form: url.Values{}, header: withSubject(secret)})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="confirm-error"`) {
		t.Fatalf("erase unconfirmed: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/my-data/erase", form: url.Values{"confirm": {"yes"}}, header: withSubject(secret)})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/my-data/erased" {
		t.Fatalf("erase: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if c := subjectCookie(res); c == nil || c.MaxAge >= 0 {
		t.Fatal("the erasure leaves the session cookie")
	}
	done := f.do(request{method: "GET", path: "/my-data/erased"})
	if b := body(t, done); done.StatusCode != http.StatusOK || strings.Contains(b, "Wilma") || !strings.Contains(b, `id="subject-erased"`) {
		t.Fatalf("erased page: %d", done.StatusCode)
	}
	res = f.do(request{method: "GET", path: "/my-data", header: withSubject(secret)})
	if b := body(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(b, `id="subject-ended"`) {
		t.Fatalf("after erasure: %d", res.StatusCode)
	}
	if _, err := f.recruit.Application(context.Background(), f.actorOfRole(t, "rune", access.HRManager), app.ID); err == nil {
		t.Fatal("the application is still there")
	}
}

// actorOfRole makes a user of the company with the role and returns them as an actor.
func (f *fixture) actorOfRole(t *testing.T, login, role string) access.Actor {
	t.Helper()
	u, _ := f.roleUser(login, role)
	return f.actor(u)
}

// TestPrivacyRequestsPage: where the company approves erasures, the
// candidate's request waits in the register with its deadline; a refusal
// needs a reason; an approval erases; only privacy.settings sees the page.
func TestPrivacyRequestsPage(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Widget wrangler")
	app := f.subjectApplicant(t, pos, "Walter Waiting", "walter@example.org")
	admin, adminSession := f.roleUser("adam", access.Administrator)
	if err := f.tenants.SavePrivacy(context.Background(), f.actor(admin), tenant.Privacy{ErasureApproval: true}); err != nil {
		t.Fatal(err)
	}
	f.do(request{method: "POST", path: "/careers/acme/privacy", form: url.Values{"email": {"walter@example.org"}}})
	secret := subjectCookie(f.do(request{method: "POST", path: "/my-data/" + f.subjectTokens(t)[0], form: url.Values{}})).Value
	res := f.do(request{method: "POST", path: "/my-data/erase", form: url.Values{"confirm": {"yes"}}, header: withSubject(secret)})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=requested") {
		t.Fatalf("erase with approval: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if b := body(t, f.do(request{method: "GET", path: "/my-data", header: withSubject(secret)})); !strings.Contains(b, `id="subject-erase-pending"`) {
		t.Fatal("the candidate's page does not show the waiting request")
	}
	_, recruiter := f.roleUser("rolanda", access.Recruiter)
	if res := f.do(request{method: "GET", path: "/privacy/requests", cookie: recruiter}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("register for a recruiter: %d, want 403", res.StatusCode)
	}
	page := f.do(request{method: "GET", path: "/privacy/requests", cookie: adminSession})
	b := body(t, page)
	rid := regexp.MustCompile(`id="approve-([0-9a-f-]{36})"`).FindStringSubmatch(b)
	if page.StatusCode != http.StatusOK || rid == nil || !strings.Contains(b, app.Candidate.ID) {
		t.Fatalf("register: %d, want the waiting request", page.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/privacy/requests/" + rid[1] + "/refuse", form: url.Values{"note": {""}}, cookie: adminSession})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Give the reason") {
		t.Fatalf("refusal without a reason: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/privacy/requests/" + rid[1] + "/approve", form: url.Values{}, cookie: adminSession})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/privacy/requests/" + rid[1] + "/approve", form: url.Values{}, cookie: adminSession})
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, "answered already") {
		t.Fatalf("approve twice: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/my-data", header: withSubject(secret)}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the candidate's session after the approval: %d, want 401", res.StatusCode)
	}
}

// TestCandidateExportFromCard: a colleague who sees the application
// downloads the same zip from the card (the card links it); one who does
// not see it gets 404.
func TestCandidateExportFromCard(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Widget wrangler")
	app := f.subjectApplicant(t, pos, "Carla Card", "carla@example.org")
	_, hr := f.roleUser("hilda", access.HRManager)
	if b := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: hr})); !strings.Contains(b, `href="/applications/`+app.ID+`/export"`) {
		t.Fatal("the card does not link the export")
	}
	// The recruiter who owns the position sees the card, but the copy holds
	// every position's data: it is for those who see them all.
	_, rec := f.roleUserSession(t, "rolf")
	if b := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: rec})); strings.Contains(b, `/export"`) {
		t.Fatal("the card offers the recruiter the whole file")
	}
	if c := f.do(request{method: "GET", path: "/applications/" + app.ID + "/export", cookie: rec}).StatusCode; c != http.StatusForbidden {
		t.Fatalf("the recruiter's export: %d", c)
	}
	res := f.do(request{method: "GET", path: "/applications/" + app.ID + "/export", cookie: hr})
	zb := []byte(body(t, res))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d", res.StatusCode)
	}
	z, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, zf := range z.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		all.WriteString(buf.String())
	}
	for _, want := range []string{"Carla Card", "carla@example.org", "Quintessential widget wrangler", "Widget wrangler"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the zip lacks %q", want)
		}
	}
	_, line := f.roleUser("lars", access.LineManager)
	if res := f.do(request{method: "GET", path: "/applications/" + app.ID + "/export", cookie: line}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("export by a line manager who does not see it: %d, want 404", res.StatusCode)
	}
}
