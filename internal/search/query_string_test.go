package search

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestQueryString: a query written back reads as the same query, and a
// filter clause can be taken out of it.
func TestQueryString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Dvořák java", "dvorak java"},
		{`"project manager" -php develop* "data eng"*`, `"project manager" -php develop* "data eng"*`},
		{"java OR kotlin spring", "java OR kotlin spring"},
		{`stage:interview label:"team lead" -source:linkedin`, `stage:interview label:"team lead" -source:linkedin`},
		{"skill:go OR skill:rust", "skill:go OR skill:rust"},
		{"applied:>2026-01-01", "applied:>=2026-01-02"},
		{"applied:<=2026-01-01 applied:2026-02-03 applied:2026-01-01..2026-03-31", "applied:<=2026-01-01 applied:2026-02-03 applied:2026-01-01..2026-03-31"},
		{"CONSENT:None", "consent:none"},
		{"10:30 label:a:b label:c*", `"10 30" label:a:b label:c*`},
		{"", ""},
	} {
		q := mustParse(t, c.in)
		if got := q.String(); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
		again := mustParse(t, q.String())
		if !reflect.DeepEqual(again, q) {
			t.Errorf("%q: read back as %#v, want %#v", c.in, again, q)
		}
	}
	q := mustParse(t, "java stage:interview -label:junior")
	if got := q.WithoutFilter(0).String(); got != "java -label:junior" {
		t.Errorf("without stage: got %q", got)
	}
	if got := q.WithoutFilter(1).String(); got != "java stage:interview" {
		t.Errorf("without label: got %q", got)
	}
	if !q.HasFilter(Filter{Field: FieldStage, Value: "interview"}) || q.HasFilter(Filter{Field: FieldLabel, Value: "junior"}) {
		t.Errorf("HasFilter: a required filter is not found, or an excluded one is")
	}
}

// TestQueryStringRoundTrip: every query the parser reads, of the hostile
// and random ones, reads back the same from its String.
func TestQueryStringRoundTrip(t *testing.T) {
	queries := append([]string{}, hostile...)
	r := rand.New(rand.NewPCG(7, 11))
	for range 3000 {
		queries = append(queries, randomQuery(r))
	}
	for _, s := range queries {
		checkRoundTrip(t, s)
	}
}

func checkRoundTrip(t *testing.T, s string) {
	q, err := Parse(s)
	if err != nil {
		return
	}
	w := q.String()
	if len(w) > MaxQueryBytes {
		return // folding made it longer than a query may be
	}
	again, err := Parse(w)
	if err != nil {
		t.Fatalf("%q written as %q: %v", s, w, err)
	}
	if !reflect.DeepEqual(again, q) && !(len(q.Text) == 0 && len(q.Filters) == 0 && len(again.Text) == 0 && len(again.Filters) == 0) {
		t.Fatalf("%q written as %q reads %#v, want %#v", s, w, again, q)
	}
}

func FuzzQueryString(f *testing.F) {
	addSeeds(f)
	f.Fuzz(checkRoundTrip)
}
