package web

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestCareerFormAsksForEmailAndSpeaksToTheCandidate: the email of the
// application form is required (the confirmation and the consent link go
// there), and its label says so; a refused form explains itself to the
// candidate, not to the staff.
func TestCareerFormAsksForEmailAndSpeaksToTheCandidate(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Designer") // a Swedish ad
	T := func(key string) string { return html.EscapeString(f.srv.I18n.T("sv", key)) }

	ad := body(t, f.do(request{method: "GET", path: "/careers/acme/" + pos.ID}))
	email := regexp.MustCompile(`<input id="email"[^>]*>`).FindString(ad)
	if !strings.Contains(email, " required") || !strings.Contains(email, `type="email"`) {
		t.Errorf("the email input is not required: %s", email)
	}
	if !strings.Contains(regexp.MustCompile(`<input id="name"[^>]*>`).FindString(ad), " required") {
		t.Error("the name input is not required")
	}
	if strings.Contains(ad, T("field.email")) || !strings.Contains(ad, `<label for="email">`+T("career.email_address")+`</label>`) {
		t.Error("the email is labelled optional, or not labelled as the candidate's address")
	}

	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) }
	b, ct := multipartForm(t, map[string]string{"name": " ", "email": "", "phone": "call me"}, [3]string{"cv", "cv.pdf", testPDF})
	res := f.do(request{method: "POST", path: "/careers/acme/" + pos.ID, body: b, contentType: ct})
	page := html.UnescapeString(body(t, res)) // html/template writes + as &#43;
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an application without name and email: %d", res.StatusCode)
	}
	raw := func(key string) string { return f.srv.I18n.T("sv", key) }
	for _, key := range []string{"career.error_name", "career.error_email", "career.error_phone"} {
		if !strings.Contains(page, raw(key)) {
			t.Errorf("the refused form lacks %s", key)
		}
	}
	for _, staff := range []string{"error.candidate_name", "error.email_format", "error.phone"} {
		if strings.Contains(page, raw(staff)) {
			t.Errorf("the candidate is shown the staff's message %s", staff)
		}
	}
}

// TestAdPagesOfferNoLanguageChoice: an ad, its thank-you page and the
// consent page are shown in the ad's language whatever the visitor chose,
// so they offer no choice that would do nothing; the list of positions,
// which follows the visitor's language, still does.
func TestAdPagesOfferNoLanguageChoice(t *testing.T) {
	f := newFixture(t, Options{})
	pos, _ := f.publishedPosition(t, "Designer")
	for _, p := range []string{"/careers/acme/" + pos.ID, "/careers/acme/" + pos.ID + "/thanks"} {
		if b := body(t, f.do(request{method: "GET", path: p})); strings.Contains(b, `href="/language/`) {
			t.Errorf("%s offers a language choice that changes nothing", p)
		}
	}
	if b := body(t, f.do(request{method: "GET", path: "/careers/acme"})); !strings.Contains(b, `href="/language/sv?next=`) {
		t.Error("the list of positions lost its language choice")
	}
}

// TestFavicon: every page links the icon, served as SVG.
func TestFavicon(t *testing.T) {
	f := newFixture(t, Options{})
	if b := body(t, f.do(request{method: "GET", path: "/signin"})); !strings.Contains(b, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) {
		t.Fatal("the layout links no icon")
	}
	res := f.do(request{method: "GET", path: "/static/favicon.svg"})
	if b := body(t, res); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(b, "<svg") {
		t.Fatalf("favicon: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestInviteFormStartsWithLeastPrivilegedRole: the invitation form's role
// is the line manager until the administrator picks another; a refused
// form keeps the role picked.
func TestInviteFormStartsWithLeastPrivilegedRole(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("root", false)
	tok := f.signIn("root", testPassword)
	selected := func(page string) string {
		sel := regexp.MustCompile(`(?s)<select id="role" name="role">.*?</select>`).FindString(page)
		return regexp.MustCompile(`<option value="([a-z_]*)" selected>`).FindStringSubmatch(sel + `<option value="" selected>`)[1]
	}
	if got := selected(body(t, f.do(request{method: "GET", path: "/users", cookie: tok}))); got != access.LineManager {
		t.Fatalf("the invitation form starts with %q, want %q", got, access.LineManager)
	}
	res := f.do(request{method: "POST", path: "/users/invite", cookie: tok, form: map[string][]string{
		"email": {"not an address"}, "display_name": {"Berit"}, "role": {access.Recruiter}, "language": {"sv"}}})
	if got := selected(body(t, res)); res.StatusCode != http.StatusUnprocessableEntity || got != access.Recruiter {
		t.Fatalf("a refused invitation: %d, role %q, want 422 and %q", res.StatusCode, got, access.Recruiter)
	}
}

// TestColleagueListsOfferOnlyThoseWhoSeeCandidates: sharing a position
// offers colleagues whose role sees candidates (not an administrator or a
// case handler); the interview and task forms of a card offer those who
// may open that card.
func TestColleagueListsOfferOnlyThoseWhoSeeCandidates(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	mk := func(login, role string) *account.User {
		u, err := f.accounts.CreateUser(ctx, access.Operator(f.company.ID), account.CreateUserInput{
			Login: login, DisplayName: "Name " + login, Password: testPassword, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin, cases := mk("adam", access.Administrator), mk("cara", access.CaseHandler)
	shared, other, hr := mk("lina", access.LineManager), mk("leif", access.LineManager), mk("hanna", access.HRManager)
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{shared.ID}); err != nil {
		t.Fatal(err)
	}
	app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Rita", Email: "rita@example.org"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	offered := func(page, input, id string) bool {
		return strings.Contains(page, `name="`+input+`" value="`+id+`"`)
	}

	share := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	for _, u := range []*account.User{shared, other, hr} {
		if !offered(share, "member", u.ID) {
			t.Errorf("sharing does not offer %s", u.Login)
		}
	}
	for _, u := range []*account.User{admin, cases} {
		if offered(share, "member", u.ID) {
			t.Errorf("sharing offers %s, who can never see a candidate", u.Login)
		}
	}

	card := body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok}))
	assignees := regexp.MustCompile(`(?s)<select id="assignee" name="assignee">.*?</select>`).FindString(card)
	for _, u := range []*account.User{shared, hr} {
		if !offered(card, "participant", u.ID) || !strings.Contains(assignees, `<option value="`+u.ID+`"`) {
			t.Errorf("the card does not offer %s, who may open it", u.Login)
		}
	}
	for _, u := range []*account.User{admin, cases, other} {
		if offered(card, "participant", u.ID) || strings.Contains(assignees, u.ID) {
			t.Errorf("the card offers %s, who may not open it", u.Login)
		}
	}
}

// TestCardShowsPlainContactLabels: the card shows the candidate's details
// as data, without the "(optional)" of the forms.
func TestCardShowsPlainContactLabels(t *testing.T) {
	f := newFixture(t, Options{})
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	app, err := f.recruit.AddCandidate(context.Background(), rec, pos.ID,
		recruit.CandidateInput{Name: "Rita", Email: "rita@example.org", Phone: "+46 70 1"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	card := html.UnescapeString(body(t, f.do(request{method: "GET", path: "/applications/" + app.ID, cookie: recTok})))
	for _, want := range []string{"<dt>Email</dt><dd>rita@example.org</dd>", "<dt>Phone</dt><dd>+46 70 1</dd>"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	if strings.Contains(card, "<dt>Email (optional)") || strings.Contains(card, "<dt>Phone (optional)") {
		t.Error("the card labels its data optional")
	}
}
