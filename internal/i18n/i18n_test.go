package i18n

import (
	"regexp"
	"slices"
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
