package search

import (
	"slices"
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/swedish"
)

// Stemming: a CV says "utvecklaren", the recruiter types "utvecklare".
// The index stems a document in its own language where a Snowball stemmer
// exists for it (English, Swedish, Norwegian; Czech and Slovak have none
// that is kept up, and are served by folding and prefixes). Neither engine
// stems these languages alike, and FTS5 stems none but English, so the
// stems are made here, in Go, for both: a document's entry carries, after
// its words, the stems that differ from them, and a query's word also
// matches its stems. The stems follow all the words so that a phrase
// ("senior developer") still finds its words in a row.
//
// A query's language is not known (a Swedish recruiter types English
// skills), so a word is taken in all three languages: "developers" also
// looks for "develop", "utvecklare" for "utveckl". A stem reached this way
// that means something else in another language costs some precision, no
// recall, and ranks below the literal word, which matches twice.

// stemmer is one language's stemmer, with its stop words for telling the
// language of a document.
type stemmer struct {
	stem func(string, bool) string
	stop func(string) bool
}

var stemmers = []stemmer{
	{english.Stem, english.IsStopWord},
	{swedish.Stem, swedish.IsStopWord},
	{norwegian.Stem, norwegian.IsStopWord},
}

// minStemmed: shorter words are left as they are; their stems would be
// shorter still and match too much.
const minStemmed = 4

// detectWords bounds how many words of a document decide its language.
const detectWords = 2000

// stemmable reports whether a folded term is worth stemming: long enough,
// and letters only (a year or a version number has no stem).
func stemmable(t string) bool {
	return len(t) >= minStemmed && !strings.ContainsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
}

// language returns the stemmer of the language most of the text's stop
// words belong to, or nil when the text is in none of them (or too short
// to tell). Stop words are counted before folding: "för" is Swedish, "for"
// English.
func language(text string) *stemmer {
	var hits [3]int
	n := 0
	for w := range strings.FieldsFuncSeq(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for i, s := range stemmers {
			if s.stop(w) {
				hits[i]++
			}
		}
		if n++; n == detectWords {
			break
		}
	}
	best := 0
	for i := range hits {
		if hits[i] > hits[best] {
			best = i
		}
	}
	// Running text is a third stop words or more; a list of skills or a
	// Czech CV has a few by chance ("a", "i", "to"). A tenth decides.
	if hits[best] < 2 || hits[best]*10 < n {
		return nil
	}
	return &stemmers[best]
}

// DocumentStems returns the stems of a document's words, in the language
// the document is written in, that differ from the words themselves:
// what the index adds to a document so that other forms of its words find
// it. It is nil for a text in a language without a stemmer.
func DocumentStems(text string) []string {
	s := language(text)
	if s == nil {
		return nil
	}
	words := map[string]bool{}
	stems := map[string]bool{}
	for _, t := range Terms(text) {
		if words[t] {
			continue
		}
		words[t] = true
		if !stemmable(t) {
			continue
		}
		if st := s.stem(t, true); st != t && st != "" {
			stems[st] = true
		}
	}
	out := make([]string, 0, len(stems))
	for st := range stems {
		out = append(out, st)
	}
	slices.Sort(out)
	return out
}

// queryStems returns the stems of a folded query term in each language
// that differ from it, without repeats.
func queryStems(t string) []string {
	if !stemmable(t) {
		return nil
	}
	var out []string
	for _, s := range stemmers {
		if st := s.stem(t, true); st != t && st != "" && !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out
}
