package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestCandidateProfile: the position's edit form sets what its career form
// asks for; the career form shows those parts (required ones marked and
// checked) and their answers become the new candidate's profile; the card
// shows the profile with its history and edits it without JavaScript,
// showing refused values with their messages; a colleague who may only
// look cannot change it.
func TestCandidateProfile(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Backend Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) }

	// The position asks for the city (required), skills and the salary.
	edit := url.Values{"title": {"Backend Engineer"}, "language": {"sv"}, "employment_type": {"full_time"}, "profile_asks": {"1"},
		"ask_city": {"required"}, "ask_skills": {"optional"}, "ask_salary": {"optional"}}
	bad := url.Values{}
	for k, v := range edit {
		bad[k] = v
	}
	bad.Set("ask_notice", "always")
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID, cookie: recTok, form: bad}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown answer to ask_notice: %d", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/positions/" + pos.ID, cookie: recTok, form: edit}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("position edit: %d %s", res.StatusCode, body(t, res))
	}
	page := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	if !regexp.MustCompile(`(?s)id="ask_city".*?value="required" selected`).MatchString(page) ||
		!regexp.MustCompile(`(?s)id="ask_skills".*?value="optional" selected`).MatchString(page) {
		t.Fatal("the position form does not show what the career form asks")
	}
	// Go is in the vocabulary; Cobol is not.
	if err := f.recruit.SaveProfile(ctx, rec, f.addCandidate(t, rec, pos.ID, "Olle Staff", "olle@example.org"), recruit.ProfileInput{Skills: []string{"Go"}}); err != nil {
		t.Fatal(err)
	}

	career := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID}))
	for _, want := range []string{`id="profile_city"`, `id="profile_country"`, `id="profile_skills"`, `id="profile_salary"`, `id="profile_salary_currency"`} {
		if !strings.Contains(career, want) {
			t.Errorf("the career form lacks %s", want)
		}
	}
	if !regexp.MustCompile(`id="profile_city"[^>]*required`).MatchString(career) || regexp.MustCompile(`id="profile_skills"[^>]*required`).MatchString(career) {
		t.Error("the required city or the optional skills are marked wrongly")
	}
	if strings.Contains(career, `id="profile_employer"`) || strings.Contains(career, `id="profile_notice"`) {
		t.Error("the career form asks for what the position does not")
	}
	send := func(fields map[string]string) *http.Response {
		b, ct := multipartForm(t, fields, [3]string{"cv", "cv.pdf", testPDF})
		return f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
	}
	fields := map[string]string{"name": "Åsa Lind", "email": "asa@example.org", "submission_id": "0190f0e2-0000-7000-8000-0000000prof1",
		"profile_skills": "go, Cobol", "profile_salary": "48 000", "profile_salary_currency": "SEK", "profile_salary_period": "month",
		"profile_employer": "Not asked AB"}
	res := send(fields)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("without the required city: %d", res.StatusCode)
	}
	if b := body(t, res); !strings.Contains(b, html.EscapeString(f.srv.I18n.T("sv", "error.profile_required"))) || !strings.Contains(b, `value="go, Cobol"`) {
		t.Fatal("the refused form does not say what is missing or loses the answers")
	}
	fields["profile_city"], fields["profile_country"] = "Malmö", "SE"
	if res := send(fields); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", res.StatusCode, body(t, res))
	}
	apps, err := f.recruit.ListApplications(ctx, rec, recruit.ListFilter{Text: "city:malmo"})
	if err != nil || len(apps) != 1 || apps[0].Candidate.Name != "Åsa Lind" {
		t.Fatalf("city:malmo finds %v, %v", apps, err)
	}
	app := apps[0]

	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{`id="profile-location">Malmö, `, `<span class="label">Go</span>`, `id="profile-salary">48000 SEK`, `id="profile-form"`,
		`id="profile-history-list"`, html.EscapeString(f.srv.I18n.T("en", "candidate_profile.via.career_page"))} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	if strings.Contains(card, "Cobol") || strings.Contains(card, "Not asked AB") {
		t.Error("the card shows what the form may not set")
	}
	// A refused edit keeps the typed values and names the field.
	form := url.Values{"profile_city": {"Malmö"}, "profile_country": {"SE"}, "profile_title": {"Developer"}, "profile_linkedin": {"http://linkedin.example/asa"},
		"profile_skills": {"Go, Rust"}, "profile_languages": {"sv:native, en:C1"}, "profile_notice": {"4"}}
	res = f.do(request{method: "POST", path: "/applications/" + app.ID + "/profile", cookie: recTok, form: form})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad link: %d", res.StatusCode)
	}
	if b := body(t, res); !strings.Contains(b, html.EscapeString(f.srv.I18n.T("en", "error.profile_link"))) || !strings.Contains(b, `value="Go, Rust"`) {
		t.Fatal("the refused edit does not say why or loses the values")
	}
	form.Set("profile_linkedin", "https://www.linkedin.com/in/asa")
	res = f.do(request{method: "POST", path: "/applications/" + app.ID + "/profile", cookie: recTok, form: form})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "#profile") {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	card = body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	for _, want := range []string{`id="profile-title">Developer`, `<span class="label">Rust</span>`, `href="https://www.linkedin.com/in/asa"`,
		`id="profile-notice">4 `, `id="profile-languages">`, `<span class="profile-new">Go, Rust</span>`, "Name rolf"} {
		if !strings.Contains(card, want) {
			t.Errorf("the saved card lacks %q", want)
		}
	}
	// The line manager sees the profile but neither the form nor the right.
	lmCard := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: lmTok}))
	if !strings.Contains(lmCard, `id="profile-title">Developer`) || strings.Contains(lmCard, `id="profile-form"`) {
		t.Fatal("the line manager's card: the profile, without the form")
	}
	if res := f.do(request{method: "POST", path: "/applications/" + app.ID + "/profile", cookie: lmTok, form: form}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the line manager saves: %d", res.StatusCode)
	}
}

// addCandidate adds a candidate to a position by hand and returns the application's id.
func (f *fixture) addCandidate(t *testing.T, a access.Actor, positionID, name, email string) string {
	t.Helper()
	app, err := f.recruit.AddCandidate(context.Background(), a, positionID, recruit.CandidateInput{Name: name, Email: email}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	return app.ID
}
