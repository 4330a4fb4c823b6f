package search

import (
	"slices"
	"strings"
	"testing"
)

func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int // index in stemmers; -1: none
	}{
		{"Project manager who led a team of Java developers in London and the rest of the world.", 0},
		{"Designer i Göteborg med fokus på tillgänglighet. Jag har samarbetat med utvecklare och är van vid att leda.", 1},
		{"Erfaren utvikler med ansvar for betalingsløsninger i Oslo. Jeg har ledet team og er vant til å jobbe med kunder.", 2},
		{"Životopis. Řízení týmu vývojářů, Kubernetes, Praha. Pracoval jsem jako vedoucí vývoje a architekt systémů.", -1},
		{"Java Kotlin Go PostgreSQL Kubernetes Docker", -1},
		{"", -1},
	} {
		got := language(tc.text)
		want := (*stemmer)(nil)
		if tc.want >= 0 {
			want = &stemmers[tc.want]
		}
		if got != want {
			t.Errorf("language(%.30q) = %p, want %p (#%d)", tc.text, got, want, tc.want)
		}
	}
}

func TestDocumentStems(t *testing.T) {
	got := DocumentStems("Utvecklaren arbetade med utvecklingen av systemen och var ansvarig för testerna.")
	for _, w := range []string{"utveckl", "utveckling", "system"} {
		if !slices.Contains(got, w) {
			t.Errorf("stems %v lack %q", got, w)
		}
	}
	for _, st := range got {
		if strings.Contains(" utvecklaren arbetade med utvecklingen av systemen och var ansvarig for testerna ", " "+st+" ") {
			t.Errorf("stem %q repeats a word of the text", st)
		}
	}
	if got := DocumentStems("Řízení týmu vývojářů v Praze a Brně."); got != nil {
		t.Errorf("a Czech text has no stemmer: %v", got)
	}
}

func TestQueryStems(t *testing.T) {
	for _, tc := range []struct {
		term string
		want []string
	}{
		{"developers", []string{"develop", "developer"}},
		{"go", nil},   // too short
		{"2026", nil}, // not a word
		{"java", []string{"jav"}},
	} {
		got := queryStems(tc.term)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("queryStems(%q) = %v, want %v", tc.term, got, tc.want)
		}
	}
}

func FuzzStems(f *testing.F) {
	for _, s := range []string{"utvecklaren", "sykepleierne", "developers", "ǅemal ŉ ﬀ", "\xff\xfe", strings.Repeat("å", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, st := range DocumentStems(s + " och med för att det som en är på") {
			if st == "" || strings.ContainsAny(st, " \t\"'") {
				t.Fatalf("stem %q of %q", st, s)
			}
		}
		for _, term := range Terms(s) {
			for _, st := range queryStems(term) {
				if st == "" || st == term {
					t.Fatalf("query stem %q of %q", st, term)
				}
			}
		}
	})
}
