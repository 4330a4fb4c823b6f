package search

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/i18n"
)

func day(s string) time.Time {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in      string
		fts5    string
		filters []FilterClause
	}{
		{in: "", fts5: ""},
		{in: "   \t\n", fts5: ""},
		{in: "Java", fts5: `(("java" OR {documents stems} : "jav"))`},
		{in: "Øyvind Ødegård", fts5: `(("oyvind") AND ("odegard"))`},
		{in: `"project manager" scrum`, fts5: `(("project manager") AND ("scrum"))`},
		{in: `„projektový manažer“`, fts5: `(("projektovy manazer"))`},
		{in: `”projektledare”`, fts5: `(("projektledare" OR {documents stems} : "projektledar" OR {documents stems} : "projektled"))`},
		{in: `«prosjektleder» oslo`, fts5: `(("prosjektleder" OR {documents stems} : "prosjektled") AND ("oslo"))`},
		{in: `"project manag"*`, fts5: `(("project manag"*))`},
		{in: "develop*", fts5: `(("develop"*))`},
		{in: "develop**", fts5: `(("develop"*))`},
		{in: "java -php", fts5: `(("java" OR {documents stems} : "jav")) NOT ("php")`},
		{in: `java -"team lead" -cobol`, fts5: `(("java" OR {documents stems} : "jav")) NOT ("team lead") NOT ("cobol")`},
		{in: "java OR kotlin spring", fts5: `(("java" OR {documents stems} : "jav" OR "kotlin") AND ("spring"))`},
		{in: "java OR () kotlin", fts5: `(("java" OR {documents stems} : "jav" OR "kotlin"))`},
		{in: "a OR b OR c", fts5: `(("a" OR "b" OR "c"))`},
		{in: "java AND spring", fts5: `(("java" OR {documents stems} : "jav") AND ("spring"))`},
		{in: "java or spring", fts5: `(("java" OR {documents stems} : "jav") AND ("or") AND ("spring"))`},
		{in: "-OR java", fts5: `(("java" OR {documents stems} : "jav")) NOT ("or")`},
		{in: "e-mail", fts5: `(("e mail"))`},
		{in: "c++: 10:30", fts5: `(("c") AND ("10 30"))`},
		{in: "skil:java", fts5: `(("skil java"))`},
		{in: "- java -", fts5: `(("java" OR {documents stems} : "jav"))`},
		{in: "* () [] {} ^ ,", fts5: ""},
		{in: "a*b", fts5: `(("a b"))`},
		{in: `x""y`, fts5: `(("x") AND ("y"))`},
		// Engine syntax is text like any other.
		{in: `NEAR(a b) "a" AND col:term {a b} ^start a+b`, fts5: `(("near a") AND ("b") AND ("a") AND ("col term") AND ("a") AND ("b") AND ("start") AND ("a b"))`},
		{in: `'; DROP TABLE candidates; --`, fts5: `(("drop") AND ("table" OR {documents stems} : "tabl") AND ("candidates" OR {documents stems} : "candid" OR {documents stems} : "candidat"))`},
		{in: "a\x00b", fts5: `(("a") AND ("b"))`},
		{in: "skill:python", filters: []FilterClause{{Any: []Filter{{Field: FieldSkill, Value: "python"}}}}},
		{in: "SKILL:Python", filters: []FilterClause{{Any: []Filter{{Field: FieldSkill, Value: "Python"}}}}},
		{in: `position:"data engineer" java`, fts5: `(("java" OR {documents stems} : "jav"))`,
			filters: []FilterClause{{Any: []Filter{{Field: FieldPosition, Value: "data engineer"}}}}},
		{in: `city:„České Budějovice“`, filters: []FilterClause{{Any: []Filter{{Field: FieldCity, Value: "České Budějovice"}}}}},
		{in: "label:senior -stage:rejected source:linkedin", filters: []FilterClause{
			{Any: []Filter{{Field: FieldLabel, Value: "senior"}}},
			{Not: true, Any: []Filter{{Field: FieldStage, Value: "rejected"}}},
			{Any: []Filter{{Field: FieldSource, Value: "linkedin"}}},
		}},
		{in: "-skill:php", filters: []FilterClause{{Not: true, Any: []Filter{{Field: FieldSkill, Value: "php"}}}}},
		{in: "skill:go OR skill:rust OR label:x", filters: []FilterClause{{Any: []Filter{
			{Field: FieldSkill, Value: "go"}, {Field: FieldSkill, Value: "rust"}, {Field: FieldLabel, Value: "x"}}}}},
		{in: "skill:\"a\x00\u200bb\"", filters: []FilterClause{{Any: []Filter{{Field: FieldSkill, Value: "ab"}}}}},
		{in: "applied:>2026-01-01", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-01-02")}}}}}},
		{in: "applied:>=2026-01-01", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-01-01")}}}}}},
		{in: "applied:<2026-01-01", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{To: day("2026-01-01")}}}}}},
		{in: "applied:<=2026-12-31", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{To: day("2027-01-01")}}}}}},
		{in: "applied:=2026-02-28", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-02-28"), To: day("2026-03-01")}}}}}},
		{in: "applied:2026-02-28", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-02-28"), To: day("2026-03-01")}}}}}},
		{in: "applied:2026-01-01..2026-03-31", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-01-01"), To: day("2026-04-01")}}}}}},
		{in: "applied:2026-01-01..2026-01-01", filters: []FilterClause{{Any: []Filter{{Field: FieldApplied, Applied: DateRange{From: day("2026-01-01"), To: day("2026-01-02")}}}}}},
		{in: "consent:Expiring", filters: []FilterClause{{Any: []Filter{{Field: FieldConsent, Consent: ConsentExpiring}}}}},
		{in: "consent:valid OR consent:none", filters: []FilterClause{{Any: []Filter{{Field: FieldConsent, Consent: ConsentValid}, {Field: FieldConsent, Consent: ConsentNone}}}}},
	} {
		q, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := q.FTS5(); got != c.fts5 {
			t.Errorf("Parse(%q).FTS5() = %s, want %s", c.in, got, c.fts5)
		}
		if !reflect.DeepEqual(q.Filters, c.filters) {
			t.Errorf("Parse(%q).Filters = %+v, want %+v", c.in, q.Filters, c.filters)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		in  string
		key string
		pos int
	}{
		{`"project manager`, ErrUnclosedQuote, 0},
		{`java "a" "b`, ErrUnclosedQuote, 9},
		{`skill:"machine learning`, ErrUnclosedQuote, 6},
		{"OR", ErrDanglingOr, 0},
		{"OR java", ErrDanglingOr, 0},
		{"java OR", ErrDanglingOr, 5},
		{"java OR OR kotlin", ErrDanglingOr, 5},
		{"java OR -php", ErrOrExclusion, 8},
		{"-java OR php", ErrOrExclusion, 0},
		{"java OR skill:go", ErrMixedOr, 8},
		{"-java", ErrOnlyExclusions, 0},
		{`-java -"team lead" skill:go`, ErrOnlyExclusions, 0},
		{"skill:", ErrEmptyFilter, 0},
		{"java -label:", ErrEmptyFilter, 5},
		{`city:""`, ErrEmptyFilter, 0},
		{"stage:\x00", ErrEmptyFilter, 0},
		{"applied:yesterday", ErrBadDate, 8},
		{"applied:>2026-13-01", ErrBadDate, 8},
		{"applied:2026-02-30", ErrBadDate, 8},
		{"applied:2026-01-01..", ErrBadDate, 8},
		{"applied:>>2026-01-01", ErrBadDate, 8},
		{"applied:2026-03-31..2026-01-01", ErrBadRange, 8},
		{"consent:maybe", ErrBadConsent, 8},
		{"a*", ErrShortPrefix, 0},
		{"java ø*", ErrShortPrefix, 5},
		{strings.Repeat("a", MaxQueryBytes+1), ErrTooLong, MaxQueryBytes},
		{strings.Repeat("a ", MaxItems+1), ErrTooMany, 2 * MaxItems},
		{"java \xff", ErrInvalidText, 5},
		{"\xed\xa0\x80", ErrInvalidText, 0},
	} {
		q, err := Parse(c.in)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q) = %+v, %v; want %s", c.in, q, err, c.key)
			continue
		}
		if qe.Key != c.key || qe.Pos != c.pos {
			t.Errorf("Parse(%q): %s at %d, want %s at %d", c.in, qe.Key, qe.Pos, c.key, c.pos)
		}
	}
}

func TestParseLimits(t *testing.T) {
	if _, err := Parse(strings.Repeat("a ", MaxItems)); err != nil {
		t.Errorf("%d words: %v", MaxItems, err)
	}
	if _, err := Parse(strings.Repeat("a", MaxQueryBytes)); err != nil {
		t.Errorf("%d bytes: %v", MaxQueryBytes, err)
	}
}

// TestErrorKeysInCatalogues checks that every message a QueryError names
// exists, with the placeholders its Args fill.
func TestErrorKeysInCatalogues(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{ErrTooMany: "{max}", ErrEmptyFilter: "{field}", ErrBadDate: "{value}", ErrBadRange: "{value}", ErrBadConsent: "{value}", ErrShortPrefix: "{min}"}
	for _, lang := range i18n.Languages {
		keys := b.Keys(lang)
		for _, k := range errorKeys {
			if !slices.Contains(keys, k) {
				t.Errorf("%s: no message %s", lang, k)
				continue
			}
			if p := args[k]; p != "" && !strings.Contains(b.T(lang, k), p) {
				t.Errorf("%s: %s lacks %s", lang, k, p)
			}
		}
	}
}

func TestQueryErrorKeepsTheQueryOutOfItsText(t *testing.T) {
	_, err := Parse("consent:Dvořák")
	var qe *QueryError
	if !errors.As(err, &qe) || len(qe.Args) != 2 || qe.Args[1] != "Dvořák" {
		t.Fatalf("Parse: %#v", err)
	}
	if strings.Contains(err.Error(), "Dvořák") {
		t.Errorf("Error() = %q shows what was typed", err.Error())
	}
}
