package recruit

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTextFilter: whatever is typed into the name filter, and whatever a
// candidate's name is, the index terms and the filter's ranges are valid
// UTF-8 of bounded size, the filter binds every value as an argument, and
// a name is found by its own words.
func FuzzTextFilter(f *testing.F) {
	for _, s := range []string{"David Dvořák", "a b c d e f g", "%_\\'", "\xff", "x@y", strings.Repeat("ř", 100), "\u0301\u0301", "Øyvind Sørensen"} {
		f.Add(s, "someone@example.org")
	}
	f.Fuzz(func(t *testing.T, name, email string) {
		for _, term := range candidateTerms(name, email) {
			if !utf8.ValidString(term) && utf8.ValidString(name+email) || len(term) > maxTermBytes || term == "" {
				t.Fatalf("term %q of %q, %q", term, name, email)
			}
		}
		var args []any
		cond, err := textFilter(name, func(v any) string { args = append(args, v); return "$x" })
		if err != nil {
			if err != errNoTerms {
				t.Fatal(err)
			}
			return
		}
		if strings.Contains(cond, name) && name != "" && !strings.Contains("a.candidate_id IN (SELECT t.candidate_id FROM candidate_terms t WHERE t.tenant_id = a.tenant_id AND t.term >= $x AND t.term < $x) AND", name) {
			t.Fatalf("the typed text reached the SQL: %q", cond)
		}
		if len(args)%2 != 0 || len(args) > 10 {
			t.Fatalf("%d arguments", len(args))
		}
		// Each word of a valid name finds the name: its term lies in the range.
		if !utf8.ValidString(name) || strings.Contains(name, "@") {
			return
		}
		terms := candidateTerms(name, email)
		for i := 0; i < len(args); i += 2 {
			lo, hi := args[i].(string), args[i+1].(string)
			found := false
			for _, term := range terms {
				if term >= lo && term < hi {
					found = true
				}
			}
			if !found {
				t.Fatalf("word range [%q, %q) of %q finds none of its terms %q", lo, hi, name, terms)
			}
		}
	})
}
