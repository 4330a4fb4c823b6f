package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

const testPDF = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// multipartForm builds an application form: fields, then files as
// field name -> (file name, content).
func multipartForm(t *testing.T, fields map[string]string, files ...[3]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f[2]))
	}
	w.Close()
	return &b, w.FormDataContentType()
}

// photoWithGPS is a JPEG carrying an EXIF segment with a location.
func photoWithGPS(t *testing.T) string {
	t.Helper()
	var j bytes.Buffer
	if err := jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	payload := "Exif\x00\x00GPS 48.1486N 17.1077E"
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, j.Bytes()[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return string(append(out, j.Bytes()[2:]...))
}

// publishedPosition creates and publishes a position of the fixture's company.
func (f *fixture) publishedPosition(t testing.TB, title string) (*recruit.Position, access.Actor) {
	t.Helper()
	rec, _ := f.roleUser("rolf", access.Recruiter)
	a := f.actor(rec)
	pos, err := f.recruit.CreatePosition(context.Background(), a, recruit.PositionInput{Title: title, Language: "sv",
		Description: "We build things.\n\nYou <b>like</b> **Go** <script>alert(1)</script>."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.Publish(context.Background(), a, pos.ID); err != nil {
		t.Fatal(err)
	}
	return pos, a
}

func (f *fixture) queued(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM email_queue`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCareerPageApplication(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Backend Engineer")
	draft, _ := f.recruit.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Secret Draft", Language: "en"})

	list := body(t, f.do(request{method: "GET", path: "/careers/acme?source=linkedin"}))
	if !strings.Contains(list, "Backend Engineer") || strings.Contains(list, "Secret Draft") || !strings.Contains(list, "?source=linkedin") {
		t.Fatal("the career page lists the wrong positions or loses the source")
	}
	if res := f.do(request{method: "GET", path: "/careers/acme/" + draft.ID}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a draft on the career page: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/careers/nope"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown company: %d", res.StatusCode)
	}
	detail := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID + "?source=linkedin"}))
	for _, want := range []string{`lang="sv"`, "processing-notice", `name="submission_id"`, `value="linkedin"`, "<strong>Go</strong>"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the ad page lacks %q", want)
		}
	}
	if strings.Contains(detail, "<b>like</b>") || strings.Contains(detail, "alert(1)</script>") {
		t.Error("raw HTML of the ad reached the page")
	}

	fields := map[string]string{"name": "Eva <script>alert(1)</script> Svensson", "email": "Eva@Example.org", "phone": "+46 70 123 45 67",
		"cover_letter": "I <b>love</b> Go.", "talent_pool": "yes", "submission_id": "0190f0e2-0000-7000-8000-00000000form", "source": "linkedin"}
	send := func(fields map[string]string, files ...[3]string) *http.Response {
		b, ct := multipartForm(t, fields, files...)
		return f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
	}
	res := send(fields, [3]string{"cv", "eva-cv.pdf", testPDF}, [3]string{"attachments", "photo.jpg", photoWithGPS(t)})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/thanks") {
		t.Fatalf("apply: %d %s", res.StatusCode, body(t, res))
	}
	thanks := body(t, f.do(request{method: "GET", path: res.Header.Get("Location")}))
	if !strings.Contains(thanks, "Backend Engineer") {
		t.Fatal("the thank-you page does not name the position")
	}
	// The same form again (double click): one application.
	if res := send(fields, [3]string{"cv", "eva-cv.pdf", testPDF}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("repeated submission: %d", res.StatusCode)
	}
	apps, err := f.recruit.ListApplications(ctx, rec, recruit.ListFilter{PositionID: pos.ID})
	if err != nil || len(apps) != 1 {
		t.Fatalf("applications: %d %v", len(apps), err)
	}
	app := apps[0]
	if app.Source != "linkedin" || app.Candidate.Email != "eva@example.org" || app.Stage != access.StageNew {
		t.Fatalf("application %+v %+v", app, app.Candidate)
	}
	docs, err := f.recruit.Documents(ctx, rec, app.ID)
	if err != nil || len(docs) != 2 || docs[0].Kind != "cv" || docs[0].FileName != "eva-cv.pdf" {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	if n := f.queued(t); n != 1 {
		t.Fatalf("%d emails queued, want the one confirmation", n)
	}
	// The ticked consent counts once the address confirms it through the emailed link.
	if n := f.grantedConsents(t, app.Candidate.ID); n != 0 {
		t.Fatalf("%d consents granted before the link was followed", n)
	}
	token := f.consentToken(t)
	page := f.do(request{method: "GET", path: "/consent/" + token})
	if b := body(t, page); page.StatusCode != http.StatusOK || !strings.Contains(b, `id="consent-form"`) || !strings.Contains(b, "Samtyckestexten gäller sedan den 23 november 2026.") ||
		page.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(b, `lang="sv"`) {
		t.Fatalf("consent page: %d", page.StatusCode)
	}
	if n := f.grantedConsents(t, app.Candidate.ID); n != 0 {
		t.Fatal("opening the link granted the consent")
	}
	res = f.do(request{method: "POST", path: "/consent/" + token, form: url.Values{}})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "consent-confirmed") {
		t.Fatalf("confirm: %d", res.StatusCode)
	}
	var version string
	if err := f.db.Read.QueryRow(`SELECT text_version FROM consent_log WHERE candidate_id = $1 AND event = 'granted'`, app.Candidate.ID).Scan(&version); err != nil ||
		version != recruit.TalentPoolConsentVersion || f.grantedConsents(t, app.Candidate.ID) != 1 {
		t.Fatalf("consent: %q %v", version, err)
	}
	if res := f.do(request{method: "POST", path: "/consent/" + token, form: url.Values{}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a used link: %d", res.StatusCode)
	}
	// The recruiter's card: inert hostile text, the documents; the photo lost its location.
	_, tok := f.roleUserSession(t, "rolf")
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: tok}))
	if strings.Contains(card, "<script>alert(1)") || !strings.Contains(card, "&lt;script&gt;") || !strings.Contains(card, "I &lt;b&gt;love&lt;/b&gt; Go.") {
		t.Fatal("hostile text is not inert on the card")
	}
	if !strings.Contains(card, "/documents/"+docs[0].ID) || !strings.Contains(card, "eva-cv.pdf") {
		t.Fatal("the card does not list the documents")
	}
	res = f.do(request{method: "GET", path: "/documents/" + docs[1].ID, cookie: tok})
	photo := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		res.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	if strings.Contains(photo, "GPS") || !strings.HasPrefix(photo, "\xFF\xD8") {
		t.Fatal("the photo kept its EXIF location")
	}
	if res := f.do(request{method: "GET", path: "/documents/" + docs[0].ID, cookie: tok}); body(t, res) != testPDF {
		t.Fatal("the CV does not come back as sent")
	}
	// The PDF is previewed inside the card, framed by this site only; a photo has no preview.
	res = f.do(request{method: "GET", path: "/documents/" + docs[0].ID + "/preview", cookie: tok})
	if b := body(t, res); res.StatusCode != http.StatusOK || b != testPDF || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") ||
		res.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'; frame-ancestors 'self'" || res.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("preview: %d %v", res.StatusCode, res.Header)
	}
	if !strings.Contains(card, `/documents/`+docs[0].ID+`/preview`) {
		t.Fatal("the card does not preview the PDF")
	}
	if res := f.do(request{method: "GET", path: "/documents/" + docs[1].ID + "/preview", cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("preview of a photo: %d", res.StatusCode)
	}
	// A line manager the position is not shared with finds nothing.
	_, lmTok := f.roleUser("lina", access.LineManager)
	if res := f.do(request{method: "GET", path: "/documents/" + docs[0].ID, cookie: lmTok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("download by a line manager without the position: %d", res.StatusCode)
	}
}

// grantedConsents counts a candidate's granted consents in the consent log.
func (f *fixture) grantedConsents(t *testing.T, candidateID string) int {
	t.Helper()
	var n int
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM consent_log WHERE candidate_id = $1 AND event = 'granted'`, candidateID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var consentLink = regexp.MustCompile(`/consent/([A-Za-z0-9_-]{43})`)

// consentToken is the secret of the newest consent link emailed.
func (f *fixture) consentToken(t *testing.T) string {
	t.Helper()
	var mail string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue WHERE message LIKE '%/consent/%' ORDER BY created_at DESC LIMIT 1`).Scan(&mail); err != nil {
		t.Fatal(err)
	}
	return consentLink.FindStringSubmatch(mail)[1]
}

// roleUserSession signs an existing user in again.
func (f *fixture) roleUserSession(t *testing.T, login string) (string, string) {
	t.Helper()
	return login, f.signIn(login, testPassword)
}

func TestCareerPageRefusesBadInput(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Designer")
	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) } // not the limiter under test
	send := func(fields map[string]string, files ...[3]string) (*http.Response, string) {
		b, ct := multipartForm(t, fields, files...)
		res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
		return res, body(t, res)
	}
	ok := map[string]string{"name": "Ola Nordmann", "email": "ola@example.org", "submission_id": ""}
	// An executable named .pdf, a damaged PDF, no CV: explained in the ad's language (Swedish).
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"disguised executable", "cv.pdf", "MZ\x90\x00\x03\x00\x00\x00\x04\x00", "error.file_type"},
		{"truncated PDF", "cv.pdf", "%PDF-1.7\n1 0 obj", "error.file_damaged"},
	} {
		res, b := send(ok, [3]string{"cv", tc.file, tc.content})
		want := html.EscapeString(f.srv.I18n.T("sv", tc.want))
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, want) {
			t.Errorf("%s: %d, message missing %q", tc.name, res.StatusCode, tc.want)
		}
	}
	if res, _ := send(ok); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("no CV: %d", res.StatusCode)
	}
	// A document over 10 MB: 413 with the field's message; the form keeps what was typed.
	big := "%PDF-1.7\n" + strings.Repeat("x", recruit.MaxFileBytes)
	res, b := send(ok, [3]string{"cv", "big.pdf", big})
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b, "10 MB") || !strings.Contains(b, "Ola Nordmann") {
		t.Errorf("oversized document: %d", res.StatusCode)
	}
	// A request announcing more than the whole limit is refused before it is read.
	req := request{method: "POST", path: "/careers/acme/" + pos.ID, body: strings.NewReader("x"), contentType: "multipart/form-data; boundary=x",
		header: map[string]string{"Content-Length": "999999999"}}
	if res := f.doLength(req, MaxUploadBytes+1); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("announced oversize: %d", res.StatusCode)
	}
	// Not multipart at all.
	if res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, form: url.Values{"name": {"x"}}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("url-encoded form: %d", res.StatusCode)
	}
	// The honeypot: thanked, nothing kept.
	hp := map[string]string{"name": "Bot", "email": "bot@example.org", "website": "http://spam.example"}
	if res, _ := send(hp, [3]string{"cv", "cv.pdf", testPDF}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("honeypot: %d", res.StatusCode)
	}
	if apps, _ := f.recruit.Applications(ctx, rec, pos.ID); len(apps) != 0 {
		t.Fatalf("%d applications after refused submissions", len(apps))
	}
}

// TestCareerPageRateLimit: five applications from one address to one
// company, then 429 until time passes.
func TestCareerPageRateLimit(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Designer")
	now := time.Now()
	f.srv.applyLimit.now = func() time.Time { return now }
	send := func(fields map[string]string, files ...[3]string) (*http.Response, string) {
		b, ct := multipartForm(t, fields, files...)
		res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
		return res, body(t, res)
	}
	// Five applications from one address, then 429.
	for i := range applyBurst + 1 {
		fields := map[string]string{"name": "Person", "email": "p" + string(rune('a'+i)) + "@example.org"}
		res, _ := send(fields, [3]string{"cv", "cv.pdf", testPDF})
		want := http.StatusSeeOther
		if i == applyBurst {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want {
			t.Fatalf("application %d from one address: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	now = now.Add(applyEvery)
	if res, _ := send(map[string]string{"name": "Later", "email": "later@example.org"}, [3]string{"cv", "cv.pdf", testPDF}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after a while: %d", res.StatusCode)
	}
}

// doLength is do with an announced Content-Length.
func (f *fixture) doLength(r request, length int64) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(r.method, "http://127.0.0.1:8080"+r.path, r.body)
	req.ContentLength = length
	req.Header.Set("Content-Type", r.contentType)
	req.RemoteAddr = "192.0.2.1:1234"
	w := &responseRecorder{header: http.Header{}}
	f.h.ServeHTTP(w, req)
	return &http.Response{StatusCode: w.code, Header: w.header, Body: io.NopCloser(&w.body)}
}

type responseRecorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *responseRecorder) Header() http.Header { return r.header }
func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *responseRecorder) WriteHeader(code int) { r.code = code }

// TestApplicationFormBadBodies sends malformed bodies to the application
// form: the server answers each without an internal error.
func TestApplicationFormBadBodies(t *testing.T) {
	fx := newFixture(t, Options{})
	pos, _ := fx.publishedPosition(t, "Fuzzed")
	var clock atomic.Int64
	fx.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) } // not the limiter under test
	for _, raw := range applicationSeeds() {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080/careers/acme/"+pos.ID, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, raw)
		}
	}
}

const fuzzBoundary = "kandidatfuzzboundary"

func applicationSeeds() [][]byte {
	valid := func(fields map[string]string, file string) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary(fuzzBoundary)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("cv", "cv.pdf")
		fw.Write([]byte(file))
		w.Close()
		return b.Bytes()
	}
	return [][]byte{
		valid(map[string]string{"name": "Ann", "email": "ann@example.org"}, testPDF),
		valid(map[string]string{"name": "\xff\xfe", "email": "x"}, "MZ"),
		valid(map[string]string{"name": "Ann", "email": "ann@example.org", "cover_letter": strings.Repeat("é", 20000)}, "%PDF-1.7\n"),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"../../x.pdf\"\r\n\r\n%PDF-1.4\n%%EOF\r\n--" + fuzzBoundary + "--\r\n"),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn"),
		[]byte("garbage"),
	}
}

// FuzzReadApplication: any body is read without a panic, and what it
// yields respects the limits.
func FuzzReadApplication(f *testing.F) {
	for _, s := range applicationSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		form, in, _, err := readApplication(multipart.NewReader(bytes.NewReader(raw), fuzzBoundary))
		if err != nil {
			return
		}
		if len(form) > 50 {
			t.Fatalf("%d fields", len(form))
		}
		for _, v := range form {
			if len(v) > 64<<10 {
				t.Fatal("a field over 64 KB")
			}
		}
		uploads := in.Attachments
		if in.CV != nil {
			uploads = append(uploads, *in.CV)
		}
		for _, u := range uploads {
			if len(u.Data) == 0 || len(u.Data) > recruit.MaxFileBytes {
				t.Fatalf("upload of %d bytes", len(u.Data))
			}
		}
	})
}

// TestCareerPageCannotRewriteAKnownCandidate: a form sent with a known
// candidate's email and another name, phone, file and the consent ticked
// leaves their stored name and phone, their application's files and the
// consent log as they were; the card shows the proposed change, which the
// recruiter accepts; only then is the name the new one.
func TestCareerPageCannotRewriteAKnownCandidate(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Backend Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) } // not the limiter under test
	send := func(fields map[string]string, files ...[3]string) *http.Response {
		b, ct := multipartForm(t, fields, files...)
		return f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
	}
	if res := send(map[string]string{"name": "Eva Svensson", "email": "eva@example.org", "phone": "+46 70 123 45 67"},
		[3]string{"cv", "eva-cv.pdf", testPDF}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Eva's application: %d", res.StatusCode)
	}
	apps, _ := f.recruit.ListApplications(ctx, rec, recruit.ListFilter{PositionID: pos.ID})
	if len(apps) != 1 {
		t.Fatalf("%d applications", len(apps))
	}
	app := apps[0]
	docsBefore, _ := f.recruit.Documents(ctx, rec, app.ID)
	consentsBefore := f.grantedConsents(t, app.Candidate.ID)

	res := send(map[string]string{"name": "Mallory Imposter", "email": "EVA@example.org", "phone": "+1 555 0100", "talent_pool": "yes",
		"cover_letter": "Please log in at http://evil.example"},
		[3]string{"cv", "mallory.pdf", testPDF}, [3]string{"attachments", "more.txt", "hello"})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other submission: %d %s", res.StatusCode, body(t, res))
	}
	got, err := f.recruit.Application(ctx, rec, app.ID)
	if err != nil || got.Candidate.Name != "Eva Svensson" || got.Candidate.Phone != "+46 70 123 45 67" || got.CoverLetter != "" {
		t.Fatalf("the stored candidate changed: %+v %v", got.Candidate, err)
	}
	docs, _ := f.recruit.Documents(ctx, rec, app.ID)
	if len(docs) != len(docsBefore) || docs[0].ID != docsBefore[0].ID {
		t.Fatalf("the application's documents changed: %+v", docs)
	}
	if n := f.grantedConsents(t, app.Candidate.ID); n != consentsBefore || n != 0 {
		t.Fatalf("%d consents granted", n)
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	name := regexp.MustCompile(`<h1 id="candidate-name">([^<]*)</h1>`).FindStringSubmatch(card)
	if name == nil || name[1] != "Eva Svensson" {
		t.Fatalf("the card's name: %v", name)
	}
	for _, want := range []string{`id="proposal-list"`, "Mallory Imposter", "555 0100", `id="resubmissions"`, "mallory.pdf", "more.txt", "http://evil.example"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	if i, j := strings.Index(card, `id="documents"`), strings.Index(card, "mallory.pdf"); i < 0 || j < 0 || !strings.Contains(card[i:j], `id="resubmissions"`) {
		t.Error("the later submission's documents are listed among the application's")
	}
	proposal := regexp.MustCompile(`name="proposal" value="([^"]+)"`).FindStringSubmatch(card)
	if proposal == nil {
		t.Fatal("the card offers no decision on the proposal")
	}
	decide := func(tok, decision string) int {
		return f.do(request{method: "POST", path: "/applications/" + app.ID + "/proposals", cookie: tok,
			form: url.Values{"proposal": {proposal[1]}, "decision": {decision}}}).StatusCode
	}
	// The line manager sees the card but may not change the candidate.
	if lmCard := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: lmTok})); !strings.Contains(lmCard, "Mallory Imposter") ||
		strings.Contains(lmCard, `name="decision"`) {
		t.Fatal("the line manager's card: the proposal, without the decision")
	}
	if c := decide(lmTok, "accept"); c != http.StatusForbidden {
		t.Fatalf("the line manager accepts: %d", c)
	}
	if c := decide(recTok, "maybe"); c != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown decision: %d", c)
	}
	if c := decide(recTok, "accept"); c != http.StatusSeeOther {
		t.Fatalf("accept: %d", c)
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	if name := regexp.MustCompile(`<h1 id="candidate-name">([^<]*)</h1>`).FindStringSubmatch(card); name == nil || name[1] != "Mallory Imposter" ||
		strings.Contains(card, `id="proposal-list"`) || !strings.Contains(card, f.srv.I18n.T("en", "action.candidate.change_accepted")) {
		t.Fatal("accepting did not apply the proposal, or it stays on the card")
	}
	if c := decide(recTok, "dismiss"); c != http.StatusNotFound {
		t.Fatalf("a decided proposal again: %d", c)
	}
}

// TestAddCandidateRevealsNothingHidden: a recruiter who adds a colleague's
// confidential candidate by their email gets a neutral answer that the
// address is known, with nothing of what is stored.
func TestAddCandidateRevealsNothingHidden(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	secretPos, rolf := f.publishedPosition(t, "Confidential")
	if _, err := f.recruit.AddCandidate(ctx, rolf, secretPos.ID, recruit.CandidateInput{Name: "Secretta Hiddenberg", Email: "secretta@example.org",
		Phone: "+46 70 999 88 77"}, access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	rita, ritaTok := f.roleUser("rita", access.Recruiter)
	pos, err := f.recruit.CreatePosition(ctx, f.actor(rita), recruit.PositionInput{Title: "Rita's", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/applications", cookie: ritaTok,
		form: url.Values{"name": {"Anyone"}, "email": {"secretta@example.org"}}})
	b := body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, html.EscapeString(f.srv.I18n.T("en", "error.email_known"))) {
		t.Fatalf("adding a hidden candidate: %d", res.StatusCode)
	}
	for _, secret := range []string{"Secretta", "Hiddenberg", "999 88 77", "Confidential", secretPos.ID} {
		if strings.Contains(b, secret) {
			t.Errorf("the answer shows %q", secret)
		}
	}
	if apps, _ := f.recruit.Applications(ctx, f.actor(rita), pos.ID); len(apps) != 0 {
		t.Fatalf("%d applications added", len(apps))
	}
}

// signalBody is a request body that tells when it is first read, then
// gives its content only once released.
type signalBody struct {
	r        io.Reader
	started  chan struct{}
	release  chan struct{}
	once     sync.Once
	released bool
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	if !b.released {
		<-b.release
		b.released = true
	}
	return b.r.Read(p)
}

// recordingBody records whether anything read it.
type recordingBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *recordingBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// TestCareerUploadsBoundedBeforeTheBodyIsRead: while two applications from
// one address are being read, a third from it is refused with 429 in the
// visitor's language before a byte of its body is read; another address
// goes on; once one ends, the address may send again. An address past its
// rate limit is refused the same way, unread.
func TestCareerUploadsBoundedBeforeTheBodyIsRead(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Engineer")
	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(1_900_000_000+clock.Load(), 0) }
	post := func(addr string, b io.Reader, ct string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080/careers/acme/"+pos.ID, b)
		req.RemoteAddr = addr + ":40000"
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Accept-Language", "sv")
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
	form := func(email string) ([]byte, string) {
		b, ct := multipartForm(t, map[string]string{"name": "Person", "email": email}, [3]string{"cv", "cv.pdf", testPDF})
		raw, _ := io.ReadAll(b)
		return raw, ct
	}
	const addr = "198.51.100.7"
	var held []*signalBody
	done := make(chan int, uploadsPerAddress)
	for i := range uploadsPerAddress {
		raw, ct := form(fmt.Sprintf("slow%d@example.org", i))
		sb := &signalBody{r: bytes.NewReader(raw), started: make(chan struct{}), release: make(chan struct{})}
		held = append(held, sb)
		go func() { done <- post(addr, sb, ct).Code }()
		<-sb.started // being read: its place is taken
	}
	raw, ct := form("third@example.org")
	third := &recordingBody{r: bytes.NewReader(raw)}
	res := post(addr, third, ct)
	if res.Code != http.StatusTooManyRequests || third.read.Load() || res.Header().Get("Retry-After") == "" ||
		!strings.Contains(res.Body.String(), html.EscapeString(f.srv.I18n.T("sv", "error.429.text"))) {
		t.Fatalf("a third upload at once: %d, read %v", res.Code, third.read.Load())
	}
	// Another address is not held back.
	raw, ct = form("other@example.org")
	if res := post("203.0.113.9", bytes.NewReader(raw), ct); res.Code != http.StatusSeeOther {
		t.Fatalf("another address: %d", res.Code)
	}
	for _, sb := range held {
		close(sb.release)
	}
	for range held {
		if code := <-done; code != http.StatusSeeOther {
			t.Fatalf("a held upload ended with %d", code)
		}
	}
	raw, ct = form("fourth@example.org")
	if res := post(addr, bytes.NewReader(raw), ct); res.Code != http.StatusSeeOther {
		t.Fatalf("after the uploads ended: %d", res.Code)
	}
	// The rate limit, too, is decided before the body is read.
	const busy = "192.0.2.200"
	for i := range applyBurst {
		raw, ct := form(fmt.Sprintf("burst%d@example.org", i))
		if res := post(busy, bytes.NewReader(raw), ct); res.Code != http.StatusSeeOther {
			t.Fatalf("application %d: %d", i+1, res.Code)
		}
	}
	raw, ct = form("late@example.org")
	late := &recordingBody{r: bytes.NewReader(raw)}
	if res := post(busy, late, ct); res.Code != http.StatusTooManyRequests || late.read.Load() {
		t.Fatalf("past the rate limit: %d, read %v", res.Code, late.read.Load())
	}
}

// TestConsentLinkRace: many confirmations of one link at once grant the
// consent once; the others find no link.
func TestConsentLinkRace(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	b, ct := multipartForm(t, map[string]string{"name": "Bo", "email": "bo@example.org", "talent_pool": "yes"}, [3]string{"cv", "cv.pdf", testPDF})
	if res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d", res.StatusCode)
	}
	apps, _ := f.recruit.ListApplications(ctx, rec, recruit.ListFilter{PositionID: pos.ID})
	token := f.consentToken(t)
	const n = 10
	codes := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req := httptest.NewRequest("POST", "http://127.0.0.1:8080/consent/"+token, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusNotFound] != n-1 {
		t.Fatalf("answers: %v", count)
	}
	if g := f.grantedConsents(t, apps[0].Candidate.ID); g != 1 {
		t.Fatalf("%d consents granted", g)
	}
}
