package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// Tests of the whistleblowing administration pages: the channels and the
// settings (the administrator's), the statistics and the dashboard's panel
// (the case handler's).

var (
	formRE     = regexp.MustCompile(`(?s)<form[^>]*id="%s"[^>]*>(.*?)</form>`)
	inputRE    = regexp.MustCompile(`<input\b[^>]*>`)
	textareaRE = regexp.MustCompile(`(?s)<textarea\b([^>]*)>(.*?)</textarea>`)
	selectRE   = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	optionRE   = regexp.MustCompile(`<option\b([^>]*)>`)
	attrRE     = regexp.MustCompile(`([a-z_-]+)(?:="([^"]*)")?`)
)

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// formOf reads the form id of page as a browser would submit it: text,
// hidden and number inputs, checked boxes, textareas and selected options.
func formOf(t *testing.T, page, id string) url.Values {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(formRE.String(), regexp.QuoteMeta(id))).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no form %q", id)
	}
	form := m[1]
	v := url.Values{}
	for _, tag := range inputRE.FindAllString(form, -1) {
		a := attrs(strings.TrimPrefix(tag, "<input"))
		if a["name"] == "" {
			continue
		}
		if a["type"] == "checkbox" || a["type"] == "radio" {
			if _, ok := a["checked"]; ok {
				v.Add(a["name"], a["value"])
			}
			continue
		}
		v.Add(a["name"], a["value"])
	}
	for _, ta := range textareaRE.FindAllStringSubmatch(form, -1) {
		v.Add(attrs(ta[1])["name"], html.UnescapeString(ta[2]))
	}
	for _, s := range selectRE.FindAllStringSubmatch(form, -1) {
		name := attrs(s[1])["name"]
		for _, o := range optionRE.FindAllStringSubmatch(s[2], -1) {
			if a := attrs(o[1]); a["selected"] == "" {
				if _, ok := a["selected"]; ok {
					v.Add(name, a["value"])
				}
			}
		}
	}
	return v
}

// configurer acts on the company's whistleblowing configuration in
// fixtures, as its administrator does (company.settings, no cases.handle).
func (f *caseFixture) configurer() access.Actor {
	return access.Operator(f.company.ID, access.CompanySettings)
}

// admin makes an administrator of the fixture's company (company.settings,
// not cases.handle) and signs them in.
func (f *caseFixture) admin(t *testing.T, login string) (*account.User, *browser) {
	t.Helper()
	u, tok := f.roleUser(login, access.Administrator)
	if p, err := f.accounts.Authenticate(context.Background(), tok); err != nil || !p.Can(access.CompanySettings) || p.Can(access.HandleCases) {
		t.Fatalf("the administrator's permissions: %v", err)
	}
	return u, f.browserOf(tok)
}

// browserOf is a browser holding the session tok.
func (f *caseFixture) browserOf(tok string) *browser {
	b := f.browser()
	b.cookies[SessionCookie] = tok
	return b
}

// betaCompany makes a second company with the module, an enrolled case
// handler and a channel; it returns an actor with the company's settings
// there and the channel's id.
func (f *caseFixture) betaCompany(t *testing.T) (access.Actor, string) {
	t.Helper()
	ctx := context.Background()
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
	p, err := f.accounts.Principal(ctx, b.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ws.Enrol(ctx, p.Actor(), testPassword, false); err != nil {
		t.Fatal(err)
	}
	bConf := access.Operator(b.ID, access.CompanySettings)
	ch, err := f.ws.SaveChannel(ctx, bConf, whistle.Channel{Slug: "beta-line", Name: "Beta secret line", DefaultLanguage: "en",
		Languages: []string{"en"}, RetentionDays: 365, Active: true, Handlers: []string{bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return bConf, ch
}

// unlocked returns h's key opened for service calls.
func (f *caseFixture) unlocked(t *testing.T, h *caseHandlerUser) *whistle.Handler {
	t.Helper()
	ctx := context.Background()
	a := f.actor(h.user)
	env, err := f.ws.Unlock(ctx, a, "test-"+h.user.ID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	wh, _, err := f.ws.Handler(ctx, a, "test-"+h.user.ID, env)
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// submitOn files a report on channel as if on day (the service's clock
// set back, then restored).
func (f *caseFixture) submitOn(t *testing.T, day time.Time, chID, text string) string {
	t.Helper()
	f.ws.SetClock(func() time.Time { return day })
	defer f.ws.SetClock(time.Now)
	if _, err := f.ws.Submit(context.Background(), f.company.ID, chID, whistle.Submission{Language: "en", Category: "fraud", Text: text}); err != nil {
		t.Fatal(err)
	}
	return whistle.Day(day)
}

// caseOn finds the id of a's case received on day.
func (f *caseFixture) caseOn(t *testing.T, a access.Actor, day string) string {
	t.Helper()
	cs, err := f.ws.Cases(context.Background(), a, whistle.CaseFilter{Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ReceivedOn == day {
			return c.ID
		}
	}
	t.Fatalf("no case received on %s", day)
	return ""
}

// TestCaseChannelPages: the company's administrator makes a channel
// through the form (two languages, their categories, a choice and a text
// question, a case handler), finds it in the list with its public address
// and edits it; a stale version and a refused form are shown with their
// messages and the posted values. Case handlers and other roles get 403,
// other companies' channels 404.
func TestCaseChannelPages(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	lea := f.handler(t, "lea") // a case handler without a key yet
	adaUser, ada := f.admin(t, "ada")
	conf := f.actor(adaUser)

	if page := body(t, ada.do("GET", "/settings/whistleblowing/channels", nil)); !strings.Contains(page, `id="channel-empty"`) {
		t.Fatal("the empty list does not say so")
	}
	res := ada.do("GET", "/settings/whistleblowing/channels/new", nil)
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the new channel's form: %d", res.StatusCode)
	}
	for _, want := range []string{`value="` + kim.user.ID + `"`, `id="enrolled-` + kim.user.ID + `"`, `value="` + lea.user.ID + `"`, `id="channel-no-enrolled"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the new channel's form lacks %q", want)
		}
	}
	if strings.Contains(page, `id="enrolled-`+lea.user.ID+`"`) {
		t.Error("the form shows a handler without a key as enrolled")
	}
	if strings.Contains(page, `value="`+adaUser.ID+`"`) {
		t.Error("the form offers the administrator, who does not handle cases, as a handler")
	}

	// The form as the browser sends it, filled in.
	v := formOf(t, page, "channel-form")
	if v.Get("default_language") != "en" || !slices.Equal(v["languages"], []string{"en"}) || v.Get("retention_days") != "365" || v.Get("active") != "1" {
		t.Fatalf("the new channel's defaults: %v", v)
	}
	v.Set("name", "Ethics line")
	v.Set("slug", "ethics")
	v["languages"] = []string{"en", "sv"}
	v.Set("intro_en", "Tell us what happened.")
	v.Set("intro_sv", "Berätta vad som hände.")
	v.Set("categories_en", "Fraud\r\nSafety")
	v.Set("categories_sv", "Bedrägeri\r\nSäkerhet")
	v.Set("q0_kind", whistle.QuestionChoice)
	v.Set("q0_required", "1")
	v.Set("q0_label_en", "Where?")
	v.Set("q0_label_sv", "Var?")
	v.Set("q0_choices_en", "Office\nWarehouse")
	v.Set("q0_choices_sv", "Kontor\nLager")
	v.Set("q1_kind", whistle.QuestionText)
	v.Set("q1_label_en", "When did it start?")
	v.Set("q1_label_sv", "När började det?")
	v.Set("allow_identified", "1")
	v.Set("retention_days", "400")
	v["handlers"] = []string{kim.user.ID}
	res = ada.do("POST", "/settings/whistleblowing/channels", v)
	m := regexp.MustCompile(`^/settings/whistleblowing/channels/([0-9a-f-]+)\?saved=1$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d to %q: %s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	chID := m[1]
	c, err := f.ws.Channel(ctx, conf, chID)
	if err != nil {
		t.Fatal(err)
	}
	wantCats := []whistle.Choice{{Key: "c1", Labels: map[string]string{"en": "Fraud", "sv": "Bedrägeri"}}, {Key: "c2", Labels: map[string]string{"en": "Safety", "sv": "Säkerhet"}}}
	if c.Name != "Ethics line" || c.Slug != "ethics" || !slices.Equal(c.Languages, []string{"en", "sv"}) || c.DefaultLanguage != "en" ||
		c.Intro["sv"] != "Berätta vad som hände." || !c.AllowIdentified || !c.Active || c.RetentionDays != 400 ||
		!slices.Equal(c.Handlers, []string{kim.user.ID}) || fmt.Sprint(c.Categories) != fmt.Sprint(wantCats) {
		t.Fatalf("the stored channel: %+v", c)
	}
	if len(c.Questions) != 2 {
		t.Fatalf("questions: %+v", c.Questions)
	}
	q0, q1 := c.Questions[0], c.Questions[1]
	wantChoices := []whistle.Choice{{Key: "a1", Labels: map[string]string{"en": "Office", "sv": "Kontor"}}, {Key: "a2", Labels: map[string]string{"en": "Warehouse", "sv": "Lager"}}}
	if q0.Kind != whistle.QuestionChoice || !q0.Required || q0.Labels["sv"] != "Var?" || fmt.Sprint(q0.Choices) != fmt.Sprint(wantChoices) ||
		q1.Kind != whistle.QuestionText || q1.Required || q1.Labels["en"] != "When did it start?" || q0.Key == "" || q0.Key == q1.Key {
		t.Fatalf("the stored questions: %+v", c.Questions)
	}

	// The list shows it with its public address.
	page = body(t, ada.do("GET", "/settings/whistleblowing/channels", nil))
	if !strings.Contains(page, `id="channel-`+chID+`"`) || !strings.Contains(page, `href="/report/acme/ethics"`) || !strings.Contains(page, "Ethics line") {
		t.Fatal("the list does not show the channel with its public link")
	}

	// Edit through the form as shown: the keys of categories, questions and
	// choices stay, so that reports already made keep their meaning.
	res = ada.do("GET", "/settings/whistleblowing/channels/"+chID+"?saved=1", nil)
	page = body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="channel-saved"`) || !strings.Contains(page, `href="/report/acme/ethics"`) {
		t.Fatalf("the saved channel: %d", res.StatusCode)
	}
	v = formOf(t, page, "channel-form")
	if v.Get("version") != "1" || v.Get("categories_sv") != "Bedrägeri\nSäkerhet" || v.Get("q0_choices_sv") != "Kontor\nLager" || v.Get("q1_label_sv") != "När började det?" {
		t.Fatalf("the edit form's values: %v", v)
	}
	stale := formOf(t, page, "channel-form")
	v.Set("name", "Ethics and safety line")
	v.Set("categories_en", "Fraud\nSafety\nHarassment")
	v.Set("categories_sv", "Bedrägeri\nSäkerhet\nTrakasserier")
	res = ada.do("POST", "/settings/whistleblowing/channels/"+chID, v)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/whistleblowing/channels/"+chID+"?saved=1" {
		t.Fatalf("edit: %d to %q: %s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	c2, err := f.ws.Channel(ctx, conf, chID)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Name != "Ethics and safety line" || c2.Version != 2 || len(c2.Categories) != 3 || c2.Categories[0].Key != "c1" || c2.Categories[1].Key != "c2" ||
		c2.Categories[2].Key != "c3" || c2.Categories[2].Labels["sv"] != "Trakasserier" || len(c2.Questions) != 2 ||
		c2.Questions[0].Key != q0.Key || c2.Questions[1].Key != q1.Key || fmt.Sprint(c2.Questions[0].Choices) != fmt.Sprint(wantChoices) {
		t.Fatalf("the edited channel: %+v", c2)
	}

	// The form read before the edit is stale: refused with the message, the
	// posted values kept.
	stale.Set("name", "My stale name")
	res = ada.do("POST", "/settings/whistleblowing/channels/"+chID, stale)
	page = body(t, res)
	if res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(page, f.t("whistle.error.stale")) || !strings.Contains(page, `value="My stale name"`) {
		t.Fatalf("a stale edit: %d, want 412 with the message and the posted name", res.StatusCode)
	}
	if c3, _ := f.ws.Channel(ctx, conf, chID); c3.Name != "Ethics and safety line" || c3.Version != 2 {
		t.Fatalf("a stale edit changed the channel: %+v", c3)
	}

	// A bad slug and no language: refused beside their fields, the posted values kept.
	v = formOf(t, body(t, ada.do("GET", "/settings/whistleblowing/channels/new", nil)), "channel-form")
	v.Set("name", "Second line")
	v.Set("slug", "Bad Slug!")
	v.Del("languages")
	v.Set("intro_en", "An intro kept on refusal.")
	v.Set("categories_en", "Kept category")
	res = ada.do("POST", "/settings/whistleblowing/channels", v)
	page = body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a refused channel: %d, want 422", res.StatusCode)
	}
	for _, want := range []string{`id="slug-error"`, f.t("whistle.error.slug"), `id="languages-error"`, f.t("whistle.error.languages"),
		`value="Second line"`, `value="Bad Slug!"`, "An intro kept on refusal.", "Kept category"} {
		if !strings.Contains(page, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	// A slug another channel has.
	v = formOf(t, body(t, ada.do("GET", "/settings/whistleblowing/channels/new", nil)), "channel-form")
	v.Set("name", "Copy")
	v.Set("slug", "ethics")
	if res := ada.do("POST", "/settings/whistleblowing/channels", v); res.StatusCode != http.StatusConflict && res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body(t, res), f.t("whistle.error.slug_taken")) {
		t.Errorf("a taken slug: %d", res.StatusCode)
	}
	// A user who does not handle cases is no handler.
	rolf, _ := f.roleUser("rolf", access.Recruiter)
	v.Set("slug", "third")
	v["handlers"] = []string{rolf.ID}
	if res := ada.do("POST", "/settings/whistleblowing/channels", v); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body(t, res), `id="handlers-error"`) {
		t.Errorf("a recruiter as handler: %d, want 422 beside the handlers", res.StatusCode)
	}
	if chans, _ := f.ws.Channels(ctx, conf); len(chans) != 1 {
		t.Fatalf("refused forms made channels: %d", len(chans))
	}

	// Another company's channel: 404 to read and to write, and untouched.
	bConf, bCh := f.betaCompany(t)
	if res := ada.do("GET", "/settings/whistleblowing/channels/"+bCh, nil); res.StatusCode != http.StatusNotFound || strings.Contains(body(t, res), "Beta secret line") {
		t.Errorf("another company's channel: %d, want 404", res.StatusCode)
	}
	bv := channelValues(&whistle.Channel{Name: "Taken over", Slug: "taken", DefaultLanguage: "en", Languages: []string{"en"}, RetentionDays: 365, Active: true, Version: 1})
	bv.Set("version", "1")
	if res := ada.do("POST", "/settings/whistleblowing/channels/"+bCh, bv); res.StatusCode != http.StatusNotFound {
		t.Errorf("writing another company's channel: %d, want 404", res.StatusCode)
	}
	if bc, err := f.ws.Channel(ctx, bConf, bCh); err != nil || bc.Name != "Beta secret line" || bc.Version != 1 {
		t.Fatalf("another company's channel changed: %+v %v", bc, err)
	}
	if res := ada.do("GET", "/settings/whistleblowing/channels/"+f.company.ID, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown channel: %d, want 404", res.StatusCode)
	}

	// Case handlers (who could route cases to themselves round an
	// exclusion) and other roles: 403, and the channel is untouched.
	_, hr := f.roleUser("hana", access.HRManager)
	for _, who := range []struct {
		name string
		b    *browser
	}{{"a case handler", kim.b}, {"an HR manager", f.browserOf(hr)}} {
		for _, r := range []request{{method: "GET", path: "/settings/whistleblowing/channels"}, {method: "GET", path: "/settings/whistleblowing/channels/new"},
			{method: "GET", path: "/settings/whistleblowing/channels/" + chID}, {method: "POST", path: "/settings/whistleblowing/channels", form: v},
			{method: "POST", path: "/settings/whistleblowing/channels/" + chID, form: v}} {
			res := who.b.do(r.method, r.path, r.form)
			if page := body(t, res); res.StatusCode != http.StatusForbidden || strings.Contains(page, "Ethics and safety line") {
				t.Errorf("%s %s by %s: %d, want 403", r.method, r.path, who.name, res.StatusCode)
			}
		}
	}
	if c4, _ := f.ws.Channel(ctx, conf, chID); c4.Version != 2 {
		t.Fatalf("a refused user changed the channel: %+v", c4)
	}
	if chans, _ := f.ws.Channels(ctx, conf); len(chans) != 1 {
		t.Fatalf("a refused user made a channel: %d", len(chans))
	}
	// Without the module the pages do not exist.
	if err := f.tenants.SetModules(ctx, audit.Operator, f.company.ID, []tenant.Module{tenant.Recruitment}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/settings/whistleblowing/channels", "/settings/whistleblowing/channels/new", "/settings/whistleblowing/channels/" + chID, "/settings/whistleblowing"} {
		if res := ada.do("GET", path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without the module: %d, want 404", path, res.StatusCode)
		}
	}
	if res := ada.do("POST", "/settings/whistleblowing/channels/"+chID, v); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST a channel without the module: %d, want 404", res.StatusCode)
	}
	if res := kim.b.do("GET", "/cases/stats", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /cases/stats without the module: %d, want 404", res.StatusCode)
	}
}

// TestCaseSettingsPage: the company's administrator sets up the escrow
// after a recent password, with no case key; its shares are shown once,
// on a page not stored, and recover a handler's key once the handler has
// unlocked it since. The archive recipient must be an age key; a good one
// is saved and shown, beside the archive signing key. Case handlers and
// other roles reach neither form.
func TestCaseSettingsPage(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	adaUser, ada := f.admin(t, "ada")
	conf := f.actor(adaUser)

	page := body(t, ada.do("GET", "/settings/whistleblowing", nil))
	v := formOf(t, page, "escrow-form")
	if v.Get("shares") != "3" || v.Get("threshold") != "2" || !strings.Contains(page, `id="escrow-state"`) {
		t.Fatalf("the escrow form's defaults: %v", v)
	}
	for _, want := range []string{`id="escrow-custodians"`, f.t("cases.settings.escrow_custodians"), `href="/settings/whistleblowing/channels"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the settings page lacks %q", want)
		}
	}

	// Eleven minutes after signing in, both forms ask for the password again.
	start := time.Now()
	f.accounts.SetClock(func() time.Time { return start.Add(11 * time.Minute) })
	for _, path := range []string{"/settings/whistleblowing/escrow", "/settings/whistleblowing/archive"} {
		res := ada.do("POST", path, url.Values{"shares": {"3"}, "threshold": {"2"}, "archive_recipient": {""}})
		if want := "/reauth?next=" + url.QueryEscape("/settings/whistleblowing"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("POST %s eleven minutes after signing in: %d to %q, want %s", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	if st, err := f.ws.Settings(ctx, conf); err != nil || st.EscrowID != "" {
		t.Fatalf("an escrow was set up without a recent password: %+v %v", st, err)
	}
	if res := ada.do("POST", "/reauth", url.Values{"password": {testPassword}, "next": {"/settings/whistleblowing"}}); res.StatusCode != http.StatusSeeOther ||
		res.Header.Get("Location") != "/settings/whistleblowing" {
		t.Fatalf("re-authentication: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	// A threshold above the shares is refused beside the threshold.
	res := ada.do("POST", "/settings/whistleblowing/escrow", url.Values{"shares": {"3"}, "threshold": {"5"}})
	if page := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="threshold-error"`) ||
		!strings.Contains(page, f.t("whistle.error.escrow_split")) || strings.Contains(page, `id="escrow-shares"`) {
		t.Fatalf("a bad split: %d, want 422 beside the threshold", res.StatusCode)
	}
	res = ada.do("POST", "/settings/whistleblowing/escrow", url.Values{"shares": {"3"}, "threshold": {"2"}})
	page = body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="escrow-shares"`) || !strings.Contains(page, f.t("cases.settings.shares_once")) {
		t.Fatalf("escrow: %d, want 200 with the shares", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("the shares' page may be stored: %q", cc)
	}
	shareRE := regexp.MustCompile(`<code class="escrow-share-value">([^<]+)</code>`)
	var shares []string
	for _, m := range shareRE.FindAllStringSubmatch(page, -1) {
		shares = append(shares, html.UnescapeString(m[1]))
	}
	if len(shares) != 3 || !strings.Contains(page, `id="escrow-share-3"`) || shares[0] == shares[1] {
		t.Fatalf("the page shows %d shares, want 3 different ones", len(shares))
	}
	st, err := f.ws.Settings(ctx, conf)
	if err != nil || st.EscrowID == "" || st.EscrowShares != 3 || st.EscrowThreshold != 2 {
		t.Fatalf("the escrow's settings: %+v %v", st, err)
	}
	if recs, _, err := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.CaseEscrowSetUp}); err != nil || len(recs) != 1 || recs[0].Actor.ID != adaUser.ID {
		t.Fatalf("the escrow is not in the trail as the administrator's: %+v %v", recs, err)
	}
	// Shown once: the settings page never shows them again.
	page = body(t, ada.do("GET", "/settings/whistleblowing", nil))
	for _, s := range shares {
		if strings.Contains(page, html.EscapeString(s)) {
			t.Fatal("the settings page shows a share again")
		}
	}
	if !strings.Contains(page, html.EscapeString(f.srv.I18n.T("en", "cases.settings.escrow_set", "count", 3, "threshold", 2))) {
		t.Fatal("the settings page does not say the escrow is set")
	}
	// Kim's key, enrolled before the escrow, joins it at the next unlock;
	// then two of the shares shown recover it.
	if _, _, err := f.ws.RecoverWithShares(ctx, f.actor(kim.user), "another-session", shares[1:], testPassword); !errors.Is(err, whistle.ErrWrongPassword) {
		t.Fatalf("shares recovered a key not yet in the escrow: %v", err)
	}
	if _, err := f.ws.Unlock(ctx, f.actor(kim.user), "a-session", testPassword); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ws.RecoverWithShares(ctx, f.actor(kim.user), "another-session", shares[1:], testPassword); err != nil {
		t.Fatalf("two of the shown shares do not recover the key: %v", err)
	}

	// The archive recipient: a bad key is refused, its value kept.
	res = ada.do("POST", "/settings/whistleblowing/archive", url.Values{"archive_recipient": {"age1notakey"}})
	page = body(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="archive_recipient-error"`) ||
		!strings.Contains(page, f.t("whistle.error.recipient")) || !strings.Contains(page, `value="age1notakey"`) {
		t.Fatalf("a bad archive recipient: %d, want 422 beside the field", res.StatusCode)
	}
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	recipient := ident.Recipient().String()
	res = ada.do("POST", "/settings/whistleblowing/archive", url.Values{"archive_recipient": {" " + recipient + " "}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/whistleblowing?saved=1" {
		t.Fatalf("a good archive recipient: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page = body(t, ada.do("GET", "/settings/whistleblowing?saved=1", nil))
	if formOf(t, page, "archive-form").Get("archive_recipient") != recipient || !strings.Contains(page, `id="settings-saved"`) {
		t.Fatal("the saved archive recipient is not shown")
	}
	if st, _ := f.ws.Settings(ctx, conf); st.ArchiveRecipient != recipient {
		t.Fatalf("the stored archive recipient: %q", st.ArchiveRecipient)
	}
	signing := base64.StdEncoding.EncodeToString(f.ws.ArchiveSigningKey())
	if m := regexp.MustCompile(`<code id="archive-signing-key">([^<]*)</code>`).FindStringSubmatch(page); m == nil || html.UnescapeString(m[1]) != signing {
		t.Fatalf("the page does not show the archive signing key %q: %v", signing, m)
	}

	// A case handler (who could point the archive or the escrow at their
	// own key) and an HR manager reach neither the page nor its forms.
	own, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, hr := f.roleUser("hana", access.HRManager)
	for _, who := range []struct {
		name string
		b    *browser
	}{{"a case handler", kim.b}, {"an HR manager", f.browserOf(hr)}} {
		if res := who.b.do("GET", "/settings/whistleblowing", nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET /settings/whistleblowing by %s: %d, want 403", who.name, res.StatusCode)
		}
		for _, path := range []string{"/settings/whistleblowing/escrow", "/settings/whistleblowing/archive"} {
			res := who.b.do("POST", path, url.Values{"shares": {"2"}, "threshold": {"2"}, "archive_recipient": {own.Recipient().String()}})
			if page := body(t, res); res.StatusCode != http.StatusForbidden || strings.Contains(page, `id="escrow-shares"`) {
				t.Errorf("POST %s by %s: %d, want 403", path, who.name, res.StatusCode)
			}
		}
	}
	if after, _ := f.ws.Settings(ctx, conf); after.ArchiveRecipient != recipient || after.EscrowID != st.EscrowID {
		t.Fatal("a refused user changed the archive recipient or the escrow")
	}
}

// statOf returns the text of the dd of class in channel chID's section.
func statOf(t *testing.T, page, chID, class string) string {
	t.Helper()
	sec := regexp.MustCompile(`(?s)<section class="channel-stats" id="stats-` + chID + `".*?</section>`).FindString(page)
	m := regexp.MustCompile(`<dd class="` + class + `">([^<]*)</dd>`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("channel %s shows no %s", chID, class)
	}
	return html.UnescapeString(m[1])
}

// statusCount returns the count of status in channel chID's chart.
func statusCount(t *testing.T, page, chID, status string) string {
	t.Helper()
	sec := regexp.MustCompile(`(?s)<section class="channel-stats" id="stats-` + chID + `".*?</section>`).FindString(page)
	m := regexp.MustCompile(`<tr class="status-` + status + `"><th scope="row">[^<]*</th><td>(\d+)</td>`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("channel %s's chart has no %s", chID, status)
	}
	return m[1]
}

// TestCaseStatsPage: the figures of a known set of cases, per channel;
// never any content of a case.
func TestCaseStatsPage(t *testing.T) {
	f := newCaseFixture(t)
	ctx := context.Background()
	kim := f.handler(t, "kim")
	kim.enrol(t)
	chA := f.channel(t, "alpha", kim)
	chB := f.channel(t, "beta", kim)
	wh := f.unlocked(t, kim)
	a := f.actor(kim.user)
	now := time.Now()
	const planted = "PlantedSecretWordQuux"
	at := func(days int) time.Time { return now.AddDate(0, 0, days) }
	// Channel alpha: acknowledged after 2 days with feedback after 4; acknowledged
	// after 16 days (late); one not acknowledged past its deadline.
	d1 := f.submitOn(t, at(-5), chA, "First "+planted)
	d2 := f.submitOn(t, at(-20), chA, "Second "+planted)
	f.submitOn(t, at(-10), chA, "Third "+planted)
	// Channel beta: one today.
	f.submitOn(t, now, chB, "Fourth "+planted)
	c1, c2 := f.caseOn(t, a, d1), f.caseOn(t, a, d2)
	f.ws.SetClock(func() time.Time { return at(-3) })
	if err := f.ws.Acknowledge(ctx, wh, c1, ""); err != nil {
		t.Fatal(err)
	}
	f.ws.SetClock(func() time.Time { return at(-4) })
	if err := f.ws.Acknowledge(ctx, wh, c2, ""); err != nil {
		t.Fatal(err)
	}
	f.ws.SetClock(func() time.Time { return at(-1) })
	if err := f.ws.Reply(ctx, wh, c1, "Feedback "+planted, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := f.ws.Note(ctx, wh, c2, "Note "+planted); err != nil {
		t.Fatal(err)
	}
	f.ws.SetClock(time.Now)

	res := kim.b.do("GET", "/cases/stats", nil)
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stats: %d", res.StatusCode)
	}
	if strings.Contains(page, planted) || strings.Contains(page, "Fraud") {
		t.Fatal("the statistics show a case's content")
	}
	for _, c := range []string{c1, c2} {
		if strings.Contains(page, c) {
			t.Fatal("the statistics name a case")
		}
	}
	tr := func(key string, args ...any) string { return f.srv.I18n.T("en", key, args...) }
	for _, tc := range []struct{ ch, class, want string }{
		{chA, "stat-total", "3"},
		{chA, "stat-ack", tr("cases.stats.of", "x", 1, "y", 2)},
		{chA, "stat-median-ack", f.srv.I18n.N("en", "cases.stats.days", 16)},
		{chA, "stat-feedback", tr("cases.stats.of", "x", 1, "y", 1)},
		{chA, "stat-median-feedback", f.srv.I18n.N("en", "cases.stats.days", 4)},
		{chA, "stat-late", tr("cases.stats.late_counts", "ack", 1, "feedback", 0)},
		{chB, "stat-total", "1"},
		{chB, "stat-ack", tr("cases.stats.of", "x", 0, "y", 0)},
		{chB, "stat-median-ack", tr("cases.stats.none")},
		{chB, "stat-late", tr("cases.stats.late_counts", "ack", 0, "feedback", 0)},
	} {
		if got := statOf(t, page, tc.ch, tc.class); got != tc.want {
			t.Errorf("channel %s %s: %q, want %q", tc.ch, tc.class, got, tc.want)
		}
	}
	for _, tc := range []struct{ ch, status, want string }{
		{chA, whistle.Received, "1"}, {chA, whistle.Acknowledged, "2"}, {chA, whistle.Closed, "0"}, {chB, whistle.Received, "1"}, {chB, whistle.Acknowledged, "0"},
	} {
		if got := statusCount(t, page, tc.ch, tc.status); got != tc.want {
			t.Errorf("channel %s, %s: %s, want %s", tc.ch, tc.status, got, tc.want)
		}
	}
	// An HR manager sees none of it.
	_, hr := f.roleUser("hana", access.HRManager)
	if res := f.do(request{method: "GET", path: "/cases/stats", cookie: hr}); res.StatusCode != http.StatusForbidden {
		t.Errorf("stats by an HR manager: %d, want 403", res.StatusCode)
	}
}

// TestCaseDashboardPanel: a case handler's dashboard counts their open
// cases and those due soon or late, and links only to pages the handler
// may open; an HR manager's and the administrator's have no panel, the
// administrator's navigation leads to the whistleblowing settings.
func TestCaseDashboardPanel(t *testing.T) {
	f := newCaseFixture(t)
	kim, lea := f.handler(t, "kim"), f.handler(t, "lea")
	kim.enrol(t)
	lea.enrol(t)
	ch := f.channel(t, "main", kim)
	other := f.channel(t, "other", lea) // not kim's
	now := time.Now()
	f.submitOn(t, now.AddDate(0, 0, -10), ch, "Late to acknowledge")
	f.submitOn(t, now.AddDate(0, 0, -6), ch, "Due tomorrow")
	f.submitOn(t, now, ch, "Came today")
	f.submitOn(t, now, other, "Lea's")

	page := body(t, kim.b.do("GET", "/dashboard", nil))
	if !strings.Contains(page, `id="case-panel"`) || !strings.Contains(page, `id="nav-cases"`) {
		t.Fatal("a case handler's dashboard has no case panel or navigation entry")
	}
	tr := func(key string, args ...any) string { return html.EscapeString(f.srv.I18n.T("en", key, args...)) }
	for _, want := range []string{`<dd id="case-panel-open">3</dd>`, `<dd id="case-panel-ack">` + tr("cases.dashboard.soon_late", "soon", 1, "late", 1),
		`<dd id="case-panel-feedback">` + tr("cases.dashboard.soon_late", "soon", 0, "late", 0) + `</dd>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the panel lacks %q", want)
		}
	}
	if strings.Contains(page, "Late to acknowledge") || strings.Contains(page, `id="case-panel-key"`) {
		t.Error("the panel shows content, or asks for a key that is unlocked")
	}
	// The configuration is the administrator's: no link to it for a handler.
	if !strings.Contains(page, `id="case-panel-stats"`) || strings.Contains(page, `href="/settings/whistleblowing`) || strings.Contains(page, `id="nav-whistleblowing"`) {
		t.Error("the handler's dashboard lacks the statistics or links to the administrator's pages")
	}
	// Locked: the panel offers to unlock.
	kim.b.do("POST", "/cases/key/lock", url.Values{})
	if page := body(t, kim.b.do("GET", "/dashboard", nil)); !strings.Contains(page, `id="case-panel-key"`) || !strings.Contains(page, `<dd id="case-panel-open">3</dd>`) {
		t.Error("the panel of a locked key does not offer to unlock")
	}
	// A handler's own cases only.
	if page := body(t, lea.b.do("GET", "/dashboard", nil)); !strings.Contains(page, `<dd id="case-panel-open">1</dd>`) {
		t.Error("lea's panel does not count her one case")
	}
	_, hr := f.roleUser("hana", access.HRManager)
	res := f.do(request{method: "GET", path: "/dashboard", cookie: hr})
	if page := body(t, res); res.StatusCode != http.StatusOK || strings.Contains(page, `id="case-panel"`) || strings.Contains(page, `id="nav-cases"`) {
		t.Fatalf("an HR manager's dashboard: %d, shows the case panel or navigation", res.StatusCode)
	}
	_, ada := f.admin(t, "ada")
	res = ada.do("GET", "/dashboard", nil)
	if page := body(t, res); res.StatusCode != http.StatusOK || strings.Contains(page, `id="case-panel"`) || strings.Contains(page, `id="nav-cases"`) ||
		!strings.Contains(page, `<a href="/settings/whistleblowing" id="nav-whistleblowing">`) {
		t.Fatalf("the administrator's dashboard: %d, shows the case panel or lacks the settings' navigation", res.StatusCode)
	}
	// Without the module, no panel and no settings.
	if err := f.tenants.SetModules(context.Background(), audit.Operator, f.company.ID, []tenant.Module{tenant.Recruitment}); err != nil {
		t.Fatal(err)
	}
	if page := body(t, kim.b.do("GET", "/dashboard", nil)); strings.Contains(page, `id="case-panel"`) || strings.Contains(page, `id="nav-cases"`) {
		t.Error("the panel shows without the module")
	}
	if page := body(t, ada.do("GET", "/dashboard", nil)); strings.Contains(page, `id="nav-whistleblowing"`) {
		t.Error("the administrator's navigation leads to the whistleblowing settings without the module")
	}
}
