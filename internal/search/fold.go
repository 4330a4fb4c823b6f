package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxTermBytes bounds one index term. A longer run of letters is no word a
// recruiter types (a hash, a URL's path, a base64 blob in a CV), and both
// engines pay for long terms; such terms are left out of documents and
// queries alike.
const MaxTermBytes = 64

// foldSpecial maps the letters that compatibility decomposition leaves whole
// (they are letters of their own, not a base letter with a mark) to the
// letters people type without them. Norwegian and Danish ø and æ, French and
// Norwegian œ, Croatian and Sámi đ, Polish ł, German ß, Icelandic þ and ð,
// Turkish dotless ı, Sámi ŋ and ŧ, Maltese ħ, and the Greenlandic kra ĸ,
// which the 1973 spelling reform replaced by q (so q, as in ICU's
// Latin-ASCII transliteration, rather than its look-alike k). Greek final
// sigma becomes σ so that a word matches in any position.
var foldSpecial = map[rune]string{
	'ø': "o", 'æ': "ae", 'œ': "oe", 'đ': "d", 'ł': "l", 'ß': "ss",
	'þ': "th", 'ð': "d", 'ı': "i", 'ĸ': "q", 'ŋ': "n", 'ŧ': "t", 'ħ': "h",
	'ς': "σ",
}

// Fold returns s as the index and the queries see it: lower case, without
// diacritics, its letters and digits kept (of every script) and every run
// of anything else one space, with no space at either end. "Øyvind Ødegård"
// folds to "oyvind odegard", "Šťastný" to "stastny".
//
// Documents and queries fold alike, so neither engine has to know about
// diacritics: SQLite's remove_diacritics leaves ø, æ, đ and ł alone and
// PostgreSQL's unaccent is an extension an installation may lack.
// Compatibility decomposition (NFKD) also turns ligatures, full-width forms
// and superscripts into the letters and digits they stand for. Combining
// marks of every kind are dropped rather than made separators, so a word
// of a script that writes vowels as marks stays one word.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		if unicode.IsMark(r) {
			continue
		}
		// Decomposition can yield capitals ("㎒" is "MHz").
		r = unicode.ToLower(r)
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if f, ok := foldSpecial[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Terms splits s, folded, into the terms of the index: its words, leaving
// out those longer than MaxTermBytes.
func Terms(s string) []string {
	var out []string
	for t := range strings.SplitSeq(Fold(s), " ") {
		if t != "" && len(t) <= MaxTermBytes {
			out = append(out, t)
		}
	}
	return out
}
