package search

import "strings"

// The translations below are built from folded terms only, each one quoted,
// so neither engine ever reads an operator, a quote or a column name the
// user typed: whatever the query, the expression is well formed. Both go to
// the engine as a bound parameter.

// FTS5 returns the text part of q as an SQLite FTS5 MATCH expression, or ""
// when q has no text (a search by filters alone, which runs no MATCH).
// Positive clauses are joined by AND and exclusions follow as NOT, the one
// form FTS5 accepts: it has no NOT without something to take away from.
func (q *Query) FTS5() string {
	if len(q.Text) == 0 {
		return ""
	}
	var pos, neg []string
	for _, c := range q.Text {
		if c.Not {
			neg = append(neg, c.fts5())
		} else {
			pos = append(pos, c.fts5())
		}
	}
	expr := "(" + strings.Join(pos, " AND ") + ")"
	for _, n := range neg {
		expr += " NOT " + n
	}
	return expr
}

// fts5 is the clause's alternatives, in parentheses.
func (c Clause) fts5() string {
	var alts []string
	for _, p := range c.alternatives() {
		alts = append(alts, p.fts5())
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

// alternatives are the clause's phrases and, unless the clause excludes,
// the stems of each single word (stem.go): "developers" also finds the
// documents that say "development". A stem matches only documents, their
// words and stems (stems are not idempotent: "utviklere" gives "utvikler",
// a word of the document, whose own stem is "utvikl"): "hansen" has the
// Norwegian stem "hans", which must not find every candidate named Hans. An exclusion stays literal: -java must
// not take away every document that says "jav".
func (c Clause) alternatives() []Phrase {
	if c.Not {
		return c.Any
	}
	var out []Phrase
	for _, p := range c.Any {
		out = append(out, p)
		if len(p.Terms) == 1 {
			for _, st := range queryStems(p.Terms[0]) {
				out = append(out, Phrase{Terms: []string{st}, stem: true})
			}
		}
	}
	return out
}

// fts5 is the phrase as an FTS5 string: its terms in double quotes (a
// phrase when there are several), and a * when its last term is a prefix.
func (p Phrase) fts5() string {
	s := `"` + strings.ReplaceAll(strings.Join(p.Terms, " "), `"`, `""`) + `"`
	if p.Prefix {
		s += "*"
	}
	if p.stem {
		s = "{documents stems} : " + s
	}
	return s
}

// TSQuery returns the text part of q as the text of a PostgreSQL tsquery,
// for to_tsquery('simple', $1), or "" when q has no text. Phrases are
// chains of <->, a prefix is :*, and exclusions are & !.
func (q *Query) TSQuery() string {
	if len(q.Text) == 0 {
		return ""
	}
	parts := make([]string, len(q.Text))
	for i, c := range q.Text {
		parts[i] = c.tsquery()
	}
	return strings.Join(parts, " & ")
}

// tsquery is the clause's alternatives, in parentheses, negated when Not.
func (c Clause) tsquery() string {
	var alts []string
	for _, p := range c.alternatives() {
		alts = append(alts, p.tsquery())
	}
	s := "(" + strings.Join(alts, " | ") + ")"
	if c.Not {
		s = "!" + s
	}
	return s
}

// tsquery is the phrase's terms as quoted lexemes joined by <->.
func (p Phrase) tsquery() string {
	terms := make([]string, len(p.Terms))
	for i, t := range p.Terms {
		terms[i] = tsLexeme(t)
	}
	if p.Prefix {
		terms[len(terms)-1] += ":*"
	}
	if p.stem {
		terms[0] += ":D" // documents' words and stems
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return "(" + strings.Join(terms, " <-> ") + ")"
}

// tsLexeme quotes a term for a tsquery. Folded terms hold letters and
// digits only; the escaping keeps that assumption from being load-bearing.
func tsLexeme(t string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(t) + "'"
}
