package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Øyvind Ødegård", "oyvind odegard"},
		{"Šťastný", "stastny"},
		{"Åsa Ångström", "asa angstrom"},
		{"Łukasz Żółć-Więckowski", "lukasz zolc wieckowski"},
		// Czech, then Slovak, in both cases.
		{"aábcčdďeéěfghchiíjklmnňoópqrřsštťuúůvwxyýzž", "aabccddeeefghchiijklmnnoopqrrssttuuuvwxyyzz"},
		{"AÁBCČDĎEÉĚFGHCHIÍJKLMNŇOÓPQRŘSŠTŤUÚŮVWXYÝZŽ", "aabccddeeefghchiijklmnnoopqrrssttuuuvwxyyzz"},
		{"aáäbcčdďdzdžeéfghchiíjklĺľmnňoóôpqrŕsštťuúvwxyýzž", "aaabccdddzdzeefghchiijklllmnnooopqrrssttuuvwxyyzz"},
		{"AÁÄBCČDĎDZDŽEÉFGHCHIÍJKLĹĽMNŇOÓÔPQRŔSŠTŤUÚVWXYÝZŽ", "aaabccdddzdzeefghchiijklllmnnooopqrrssttuuvwxyyzz"},
		{"Ärlig Önskan Åre", "arlig onskan are"},
		{"Æsir Bjørn Ødegården", "aesir bjorn odegarden"},
		{"Straße Þór Guðrún Đorđe", "strasse thor gudrun dorde"},
		{"Œuvre naïve café résumé", "oeuvre naive cafe resume"},
		{"Siŋŋá Ŧeahkká ħabib ĸ", "sinna teahkka habib q"},
		{"ıstanbul İstanbul", "istanbul istanbul"},
		{"ΟΔΥΣΣΕΥΣ οδυσσευς", "οδυσσευσ οδυσσευσ"},
		{"Иван Петров", "иван петров"},
		{"ﬁle Ｈｅｌｌｏ x² ①", "file hello x2 1"},
		{"  C++ / .NET, 10:30!  ", "c net 10 30"},
		{"tab\tnew\nline\x00nul", "tab new line nul"},
		{"", ""},
		{"---", ""},
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTerms(t *testing.T) {
	long := strings.Repeat("a", MaxTermBytes)
	got := Terms("Øyvind " + long + " " + long + "b Ødegård")
	want := []string{"oyvind", long, "odegard"}
	if !slices.Equal(got, want) {
		t.Errorf("Terms = %q, want %q", got, want)
	}
	if got := Terms(" ,; "); got != nil {
		t.Errorf("Terms of punctuation = %q, want none", got)
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Øyvind Ødegård", "Šťastný", "ﬁ ² ㎒", "\xff\xfe", "a\u0301\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded := Fold(s)
		if Fold(folded) != folded {
			t.Fatalf("Fold is not idempotent on %q: %q then %q", s, folded, Fold(folded))
		}
		if !utf8.ValidString(folded) || strings.HasPrefix(folded, " ") || strings.HasSuffix(folded, " ") || strings.Contains(folded, "  ") {
			t.Fatalf("Fold(%q) = %q", s, folded)
		}
		for _, term := range Terms(s) {
			if term == "" || len(term) > MaxTermBytes || strings.Contains(term, " ") {
				t.Fatalf("Terms(%q) has %q", s, term)
			}
		}
	})
}
