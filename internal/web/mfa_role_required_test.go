package web

import (
	"html/template"
	"net/http"
	"testing"

	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/i18n"
)

// TestCaseHandlerIsToldWhyToEnrol: a case handler sent to the second-factor
// page is told, in their language, that their role requires one (not that
// the company does: it does not), and may not turn a factor off.
func TestCaseHandlerIsToldWhyToEnrol(t *testing.T) {
	f := newFixture(t, Options{})
	_, tok := f.roleUser("kim", access.CaseHandler)
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	english := b.T("en", "mfa.role_required")
	if english != "Your role requires a second factor: set one up to continue." {
		t.Fatalf("the English message is %q", english)
	}
	for _, lang := range i18n.Languages {
		want := b.T(lang, "mfa.role_required")
		if want == "mfa.role_required" || lang != "en" && want == english {
			t.Errorf("%s: the message is not translated: %q", lang, want)
		}
		res := f.do(request{method: "GET", path: "/account/mfa", cookie: tok, header: map[string]string{"Accept-Language": lang}})
		page := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, template.HTMLEscapeString(want)) {
			t.Errorf("%s: the second-factor page (%d) does not say why: want %q", lang, res.StatusCode, want)
		}
		if company := b.T(lang, "mfa.required"); strings.Contains(page, template.HTMLEscapeString(company)) {
			t.Errorf("%s: the page says the company requires it", lang)
		}
	}
	for _, path := range []string{"/account/mfa/email/disable", "/account/mfa/sms/disable"} {
		if res := f.do(request{method: "POST", path: path, cookie: tok}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s by a case handler: %d, want 403", path, res.StatusCode)
		}
	}
}
