package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestConsentTextShowsItsDate: the application form names the consent
// text by the day it took effect, written in the page's language, not by
// the version's name.
func TestConsentTextShowsItsDate(t *testing.T) {
	f := newFixture(t, Options{})
	rec, _ := f.roleUser("rolf", access.Recruiter)
	a := f.actor(rec)
	if _, err := f.credits.GrantAsOperator(context.Background(), f.company.ID, credit.GrantInput{Amount: 10, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"en": "Consent text in effect since 23 November 2026.",
		"sv": "Samtyckestexten gäller sedan den 23 november 2026.",
		"nb": "Samtykketeksten gjelder fra 23. november 2026.",
		"sk": "Text súhlasu platí od 23. novembra 2026.",
		"cs": "Text souhlasu platí od 23. listopadu 2026.",
	}
	for _, lang := range i18n.Languages {
		pos, err := f.recruit.CreatePosition(context.Background(), a, recruit.PositionInput{Title: "Role " + lang, Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.recruit.Publish(context.Background(), a, pos.ID); err != nil {
			t.Fatal(err)
		}
		res := f.do(request{method: "GET", path: "/careers/acme/" + pos.ID})
		b := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(b, want[lang]) {
			t.Errorf("%s: the form (%d) does not date the consent text: want %q", lang, res.StatusCode, want[lang])
		}
		if strings.Contains(b, recruit.TalentPoolConsentVersion) {
			t.Errorf("%s: the form shows the version's name", lang)
		}
	}
}
