package i18n

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEveryCatalogueHasEveryKey(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := b.Keys(Fallback)
	if len(want) < 50 {
		t.Fatalf("English catalogue has %d keys; want the full catalogue", len(want))
	}
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, lang := range Languages {
		got := b.Keys(lang)
		for _, k := range want {
			if !slices.Contains(got, k) {
				t.Errorf("%s: missing key %q", lang, k)
				continue
			}
			if a, b := placeholder.FindAllString(b.T(Fallback, k), -1), placeholder.FindAllString(b.T(lang, k), -1); !sameSet(a, b) {
				t.Errorf("%s: key %q has placeholders %v, English has %v", lang, k, b, a)
			}
			if b.T(lang, k) == "" {
				t.Errorf("%s: key %q is empty", lang, k)
			}
			if (b.Forms(Fallback, k) == nil) != (b.Forms(lang, k) == nil) {
				t.Errorf("%s: key %q has plural forms in one of %s and English only", lang, k, lang)
			}
			for cat, text := range b.Forms(lang, k) {
				if a, b := placeholder.FindAllString(b.T(Fallback, k), -1), placeholder.FindAllString(text, -1); !sameSet(a, b) {
					t.Errorf("%s: key %q form %q has placeholders %v, English has %v", lang, k, cat, b, a)
				}
				if text == "" {
					t.Errorf("%s: key %q form %q is empty", lang, k, cat)
				}
			}
		}
		for _, k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("%s: key %q is not in the English catalogue", lang, k)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func TestT(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := b.T("en", "dashboard.welcome", "name", "Ada"); got != "Welcome, Ada" {
		t.Errorf("got %q, want %q", got, "Welcome, Ada")
	}
	if got := b.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: got %q, want the key itself", got)
	}
	if got := b.T("xx", "signin.title"); got != "Sign in" {
		t.Errorf("unknown language: got %q, want the English text", got)
	}
}

func TestPick(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ user, accept, company, want string }{
		{"sk", "sv", "cs", "sk"},
		{"", "sv-SE,sv;q=0.9,en;q=0.5", "cs", "sv"},
		{"", "de-DE,de;q=0.9,nb;q=0.5", "cs", "nb"},
		{"", "no", "en", "nb"},
		{"", "nn-NO", "en", "nb"},
		{"", "de", "cs", "cs"},
		{"", "", "sk", "sk"},
		{"", "", "", "en"},
		{"", "garbage;;;q=x", "", "en"},
		{"xx", "", "sv", "sv"},
		{"", "en-US", "sv", "en"},
	}
	for _, tt := range tests {
		if got := b.Pick(tt.user, tt.accept, tt.company); got != tt.want {
			t.Errorf("Pick(%q, %q, %q) = %q, want %q", tt.user, tt.accept, tt.company, got, tt.want)
		}
	}
}

func FuzzPick(f *testing.F) {
	b, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("sv-SE,sv;q=0.9")
	f.Add("*;q=0.1")
	f.Fuzz(func(t *testing.T, accept string) {
		if got := b.Pick("", accept, ""); !b.Has(got) {
			t.Fatalf("Pick(%q) = %q, not a supported language", accept, got)
		}
	})
}

// TestPluralCategories: the CLDR rules give each language the categories
// its grammar needs for whole numbers, and every message that counts things
// has each of them in each language, so no count falls back to "other".
func TestPluralCategories(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"en": {"one", "other"}, "sv": {"one", "other"}, "nb": {"one", "other"},
		"sk": {"few", "one", "other"}, "cs": {"few", "one", "other"},
	}
	plurals := 0
	for _, lang := range Languages {
		if got := Categories(lang); !slices.Equal(got, want[lang]) {
			t.Errorf("Categories(%s) = %v, want %v", lang, got, want[lang])
		}
		for _, k := range b.Keys(lang) {
			forms := b.Forms(lang, k)
			if forms == nil {
				continue
			}
			plurals++
			for _, cat := range want[lang] {
				if forms[cat] == "" {
					t.Errorf("%s: plural key %q lacks the form %q", lang, k, cat)
				}
			}
			for cat := range forms {
				if !slices.Contains(want[lang], cat) && cat != "many" {
					t.Errorf("%s: plural key %q has the form %q, which %s never uses", lang, k, cat, lang)
				}
			}
		}
	}
	if plurals < 5*5 {
		t.Errorf("found %d plural messages in all languages; the counting messages lost their forms", plurals)
	}
}

func TestPluralRendering(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := []int{0, 1, 2, 5, 21, 22, 25}
	want := map[string][]string{
		"en": {"0 users", "1 user", "2 users", "5 users", "21 users", "22 users", "25 users"},
		"sv": {"0 användare", "1 användare", "2 användare", "5 användare", "21 användare", "22 användare", "25 användare"},
		"nb": {"0 brukere", "1 bruker", "2 brukere", "5 brukere", "21 brukere", "22 brukere", "25 brukere"},
		"sk": {"0 používateľov", "1 používateľ", "2 používatelia", "5 používateľov", "21 používateľov", "22 používateľov", "25 používateľov"},
		"cs": {"0 uživatelů", "1 uživatel", "2 uživatelé", "5 uživatelů", "21 uživatelů", "22 uživatelů", "25 uživatelů"},
	}
	for _, lang := range Languages {
		for i, n := range counts {
			if got := b.N(lang, "roles.holders", n); got != want[lang][i] {
				t.Errorf("N(%s, roles.holders, %d) = %q, want %q", lang, n, got, want[lang][i])
			}
		}
	}
	days := map[string][]string{ // a count inside a longer text, with another placeholder
		"en": {"valid for 1 day.", "valid for 3 days.", "valid for 30 days."},
		"cs": {"platný 1 den.", "platný 3 dny.", "platný 30 dnů."},
		"sk": {"platný 1 deň.", "platný 3 dni.", "platný 30 dní."},
	}
	for lang, texts := range days {
		for i, n := range []int{1, 3, 30} {
			if got := b.N(lang, "career.email.consent_kept", n, "company", "Acme"); !strings.Contains(got, texts[i]) {
				t.Errorf("N(%s, career.email.consent_kept, %d) = %q, want it to say %q", lang, n, got, texts[i])
			}
		}
	}
	// T chooses the form by a whole-number "count" of any integer type,
	// shows "other" without one, and negative counts by their absolute value.
	for _, tt := range []struct {
		args []any
		want string
	}{
		{[]any{"count", int64(3)}, "3 uživatelé"},
		{[]any{"count", uint8(1)}, "1 uživatel"},
		{[]any{"count", -2}, "-2 uživatelé"},
		{[]any{"count", "2"}, "2 uživatelů"},
		{nil, "{count} uživatelů"},
		{[]any{"count", uint64(1<<64 - 1)}, "18446744073709551615 uživatelů"},
	} {
		if got := b.T("cs", "roles.holders", tt.args...); got != tt.want {
			t.Errorf("T(cs, roles.holders, %v) = %q, want %q", tt.args, got, tt.want)
		}
	}
	if got, want := Category("cs", math.MinInt64), "other"; got != want {
		t.Errorf("Category(cs, MinInt64) = %q, want %q", got, want)
	}
	if got, want := Category("en", 1_000_000_001), "other"; got != want {
		t.Errorf("Category(en, 1000000001) = %q, want %q", got, want)
	}
}

// TestPluralFallback: a plural message missing in a language shows the
// English text in the form the English rules choose, not the Czech ones.
func TestPluralFallback(t *testing.T) {
	en, err := parseCatalogue([]byte(`{"x": {"one": "{count} thing", "other": "{count} things"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{catalogues: map[string]map[string]message{"en": en, "cs": {}}}
	if got := b.N("cs", "x", 3); got != "3 things" {
		t.Errorf("got %q, want %q", got, "3 things")
	}
	if got := b.N("cs", "x", 1); got != "1 thing" {
		t.Errorf("got %q, want %q", got, "1 thing")
	}
}

func TestParseCatalogueRefusesBadPlurals(t *testing.T) {
	for _, raw := range []string{
		`{"x": {"one": "a"}}`,
		`{"x": {"one": "a", "several": "b", "other": "c"}}`,
		`{"x": 3}`,
		`{"x": {"other": 3}}`,
	} {
		if _, err := parseCatalogue([]byte(raw)); err == nil {
			t.Errorf("parseCatalogue(%s) succeeded; want an error", raw)
		}
	}
}
