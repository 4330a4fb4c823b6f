package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
)

var consentRequestLink = regexp.MustCompile(`/consent/r/([A-Za-z0-9_-]{43})`)

// consentRequestToken is the secret of the newest consent request emailed.
func (f *fixture) consentRequestToken(t *testing.T) string {
	t.Helper()
	var mail string
	if err := f.db.Read.QueryRow(`SELECT message FROM email_queue WHERE message LIKE '%/consent/r/%' ORDER BY created_at DESC LIMIT 1`).Scan(&mail); err != nil {
		t.Fatal(err)
	}
	return consentRequestLink.FindStringSubmatch(mail)[1]
}

// TestConsentTextsPage: the company's texts per language, saved as versions.
func TestConsentTextsPage(t *testing.T) {
	f := newFixture(t, Options{})
	_, adminTok := f.roleUser("adam", access.Administrator)
	_, recTok := f.roleUser("rita", access.Recruiter)
	page := body(t, f.do(request{method: "GET", path: "/privacy/consent-texts", cookie: adminTok}))
	for _, want := range []string{`id="consent-text-form-en"`, `id="consent-text-form-cs"`, `id="consent-text-form-nb"`, "Keep my application in the talent pool of ACME Ltd"} {
		if !strings.Contains(page, want) {
			t.Errorf("the texts page lacks %q", want)
		}
	}
	if res := f.do(request{method: "GET", path: "/privacy/consent-texts", cookie: recTok}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a recruiter opens the texts: %d, want 403", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/privacy/consent-texts", cookie: adminTok, form: url.Values{"language": {"en"}, "body_en": {"We keep **your** CV for two years."}}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "saved=en") {
		t.Fatalf("save: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// (A browser keeps the fragment to itself.)
	loc, _, _ := strings.Cut(res.Header.Get("Location"), "#")
	page = body(t, f.do(request{method: "GET", path: loc, cookie: adminTok}))
	for _, want := range []string{`id="consent-text-saved"`, "company:1", "We keep <strong>your</strong> CV", `id="versions-en"`} {
		if !strings.Contains(page, want) {
			t.Errorf("after the save the page lacks %q", want)
		}
	}
	res = f.do(request{method: "POST", path: "/privacy/consent-texts", cookie: adminTok, form: url.Values{"language": {"cs"}, "body_cs": {"  "}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="body_cs-error"`) {
		t.Fatalf("an empty text: %d, want 422 with the message beside the Czech text", res.StatusCode)
	}
}

// TestConsentRequestThroughThePages: a recruiter asks from the card, the
// candidate answers on the public page, the link then says it was used.
func TestConsentRequestThroughThePages(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Sara Berg", Email: "sara@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{`id="consent"`, `id="consent-ask"`, `id="consent-manual-form"`, "No consent"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	// The return path is this site's only.
	res := f.do(request{method: "POST", path: "/privacy/consent-requests", cookie: recTok, form: url.Values{"candidate": {app.Candidate.ID}, "kind": {"request"},
		"return": {"https://evil.example/x"}}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/dashboard?") {
		t.Fatalf("foreign return: %d %q, want a redirect to the dashboard", res.StatusCode, res.Header.Get("Location"))
	}
	res = f.do(request{method: "POST", path: "/privacy/consent-requests", cookie: recTok, form: url.Values{"candidate": {app.Candidate.ID}, "kind": {"request"},
		"return": {"/applications/" + app.ID + "#consent"}}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/applications/"+app.ID+"?sent=0&skipped=1#consent" {
		t.Fatalf("second request: %d %q, want skipped (one is waiting)", res.StatusCode, loc)
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + app.ID + "?sent=0&skipped=1", cookie: recTok}))
	if !strings.Contains(card, `id="consent-request-result"`) || !strings.Contains(card, `id="consent-pending"`) || strings.Contains(card, `id="consent-ask"`) {
		t.Fatal("the card does not show the result and the pending request")
	}
	if res := f.do(request{method: "POST", path: "/privacy/consent-requests", cookie: recTok, form: url.Values{"kind": {"request"}, "return": {"/dashboard"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no candidate selected: %d, want 422", res.StatusCode)
	}
	token := f.consentRequestToken(t)
	// The public page, in the position's language (Swedish), with a button per answer.
	res = f.do(request{method: "GET", path: "/consent/r/" + token})
	page := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `lang="sv"`) || !strings.Contains(page, `id="consent-grant"`) || !strings.Contains(page, "talangbanken") {
		t.Fatalf("request page: %d\n%s", res.StatusCode, page)
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the page of a secret link sends a referrer")
	}
	if res := f.do(request{method: "POST", path: "/consent/r/" + token, form: url.Values{"answer": {"maybe"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an answer that is none: %d, want 422", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/consent/r/" + token, form: url.Values{"answer": {"grant"}}})
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="consent-request-granted"`) {
		t.Fatalf("grant: %d\n%s", res.StatusCode, b)
	}
	if n := f.grantedConsents(t, app.Candidate.ID); n != 1 {
		t.Fatalf("%d consents granted, want 1", n)
	}
	res = f.do(request{method: "POST", path: "/consent/r/" + token, form: url.Values{"answer": {"refuse"}}})
	if b := body(t, res); res.StatusCode != http.StatusGone || !strings.Contains(b, "redan använts") {
		t.Fatalf("the used link: %d, want 410 with the Swedish message\n%s", res.StatusCode, b)
	}
	for _, forged := range []string{strings.Repeat("A", 43), "x"} {
		if res := f.do(request{method: "GET", path: "/consent/r/" + forged}); res.StatusCode != http.StatusNotFound || !strings.Contains(body(t, res), `id="consent-request-problem"`) {
			t.Fatalf("a forged link: %d, want 404 with a message", res.StatusCode)
		}
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{"Consent granted, valid until", `id="consent-renew"`, "request by email", `id="consent-withdraw-form"`} {
		if !strings.Contains(card, want) {
			t.Errorf("the card after the grant lacks %q", want)
		}
	}
	// An expired link.
	if err := f.kit.Privacy.RecordWithdrawal(ctx, rec, app.Candidate.ID, ""); err != nil {
		t.Fatal(err)
	}
	if res := f.do(request{method: "POST", path: "/privacy/consent-requests", cookie: recTok, form: url.Values{"candidate": {app.Candidate.ID}, "kind": {"request"}}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a new request: %d", res.StatusCode)
	}
	token = f.consentRequestToken(t)
	f.kit.Privacy.SetClock(func() time.Time { return time.Now().Add(15 * 24 * time.Hour) })
	defer f.kit.Privacy.SetClock(time.Now)
	if res := f.do(request{method: "GET", path: "/consent/r/" + token}); res.StatusCode != http.StatusGone || !strings.Contains(body(t, res), "gått ut") {
		t.Fatalf("an expired link: %d, want 410", res.StatusCode)
	}
}

// TestConsentOnTheCard: a consent entered by hand (with its checks) and a
// withdrawal, and who may.
func TestConsentOnTheCard(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Mona Lind", Email: "mona@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	post := func(tok, path string, form url.Values) *http.Response {
		return f.do(request{method: "POST", path: "/applications/" + app.ID + path, cookie: tok, form: form})
	}
	future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	res := post(recTok, "/consent", url.Values{"consent_date": {future}, "consent_months": {"40"}, "consent_evidence": {""}})
	b := body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad entry: %d, want 422", res.StatusCode)
	}
	for _, want := range []string{`id="consent_months-error"`, `id="consent_evidence-error"`, `value="40"`} {
		if !strings.Contains(b, want) {
			t.Errorf("the refused entry lacks %q", want)
		}
	}
	res = post(recTok, "/consent", url.Values{"consent_date": {future}, "consent_months": {"12"}, "consent_evidence": {"Signed form in the HR binder"}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "cannot be in the future") {
		t.Fatalf("a date in the future: %d, want 422 with the message", res.StatusCode)
	}
	if res := post(lmTok, "/consent", url.Values{"consent_date": {time.Now().Format(time.DateOnly)}, "consent_months": {"12"}, "consent_evidence": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a line manager enters a consent: %d, want 403", res.StatusCode)
	}
	if lmCard := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: lmTok})); !strings.Contains(lmCard, `id="consent-state"`) || strings.Contains(lmCard, `id="consent-manual-form"`) {
		t.Fatal("the line manager's card: want the state without the forms")
	}
	if res := post(recTok, "/consent/withdraw", url.Values{}); res.StatusCode != http.StatusConflict || !strings.Contains(body(t, res), "no consent in force") {
		t.Fatalf("a withdrawal without a consent: %d, want 409", res.StatusCode)
	}
	res = post(recTok, "/consent", url.Values{"consent_date": {time.Now().AddDate(0, 0, -2).Format(time.DateOnly)}, "consent_months": {"12"},
		"consent_evidence": {"Signed form in the HR binder"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/applications/"+app.ID+"#consent" {
		t.Fatalf("entry: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{"Consent granted, valid until", "entered by hand", "Signed form in the HR binder", "Name rolf"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	if res := post(recTok, "/consent/withdraw", url.Values{"withdrawal_note": {"Phoned"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdrawal: %d", res.StatusCode)
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	if !strings.Contains(card, "The candidate withdrew the consent.") || !strings.Contains(card, "Phoned") {
		t.Fatal("the card does not show the withdrawal")
	}
}

// TestConsentLogPageAndExport: the log for the privacy contact, and its CSV.
func TestConsentLogPageAndExport(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, adminTok := f.roleUser("adam", access.Administrator)
	_, recTok := f.roleUserSession(t, "rolf")
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Logged Person", Email: "logged@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.kit.Privacy.RecordManualConsent(ctx, rec, app.Candidate.ID, privacyManual("+cmd evidence")); err != nil {
		t.Fatal(err)
	}
	page := body(t, f.do(request{method: "GET", path: "/privacy/consent-log", cookie: adminTok}))
	for _, want := range []string{"logged@example.org", "Logged Person", "entered by hand", `id="consent-log-export"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if page := body(t, f.do(request{method: "GET", path: "/privacy/consent-log?event=refused", cookie: adminTok})); strings.Contains(page, "logged@example.org") {
		t.Error("the refusals' filter shows a grant")
	}
	if page := body(t, f.do(request{method: "GET", path: "/privacy/consent-log?from=nonsense", cookie: adminTok})); !strings.Contains(page, "YYYY-MM-DD") {
		t.Error("a bad date is not explained")
	}
	if res := f.do(request{method: "GET", path: "/privacy/consent-log", cookie: recTok}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a recruiter opens the log: %d, want 403", res.StatusCode)
	}
	res := f.do(request{method: "GET", path: "/privacy/consent-log/export?event=granted", cookie: adminTok})
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body(t, res))).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "name" || rows[1][2] != "logged@example.org" || rows[1][6] != "manual" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	if res := f.do(request{method: "GET", path: "/privacy/consent-log/export?to=bad", cookie: adminTok}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("export with a bad filter: %d, want 400", res.StatusCode)
	}
}

// privacyManual is a consent given yesterday, for a year, with evidence.
func privacyManual(evidence string) privacy.ManualConsent {
	return privacy.ManualConsent{Date: time.Now().AddDate(0, 0, -1).Format(time.DateOnly), Months: "12", Evidence: evidence}
}

// TestCareerPageShowsCompanyConsentText: the form and the confirmation
// page show the company's own text in the ad's language.
func TestCareerPageShowsCompanyConsentText(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Engineer")
	_, adminTok := f.roleUser("adam", access.Administrator)
	res := f.do(request{method: "POST", path: "/privacy/consent-texts", cookie: adminTok, form: url.Values{"language": {"sv"},
		"body_sv": {"Vi sparar ditt **cv** i två år."}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	form := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID}))
	if !strings.Contains(form, `id="consent-body"`) || !strings.Contains(form, "Vi sparar ditt <strong>cv</strong> i två år.") || strings.Contains(form, "talangbanken hos ACME") {
		t.Fatal("the form does not show the company's text instead of the built-in one")
	}
	b, ct := multipartForm(t, map[string]string{"name": "Nils Holm", "email": "nils@example.org", "talent_pool": "yes", "submission_id": "0190f0e2-0000-7000-8000-0000000consent"},
		[3]string{"cv", "cv.pdf", testPDF})
	if res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d", res.StatusCode)
	}
	confirm := body(t, f.do(request{method: "GET", path: "/consent/" + f.consentToken(t)}))
	if !strings.Contains(confirm, "Vi sparar ditt <strong>cv</strong> i två år.") {
		t.Fatal("the confirmation page does not show the text the candidate saw")
	}
}
