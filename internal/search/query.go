package search

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/fault"
	"golang.org/x/text/unicode/norm"
)

// Limits of a query. They bound the work one search asks of the engine; a
// recruiter's query is far below them.
const (
	MaxQueryBytes  = 500
	MaxItems       = 32
	MinPrefixRunes = 2
)

// Query is a parsed search: every clause of Text and of Filters must hold.
type Query struct {
	Text    []Clause
	Filters []FilterClause
}

// Clause is one item of the implicit AND: one or more phrases joined by OR,
// or, when Not, a single phrase that must not occur.
type Clause struct {
	Not bool
	Any []Phrase
}

// Phrase is folded terms that must occur in a row; one term is a word. When
// Prefix is set the last term matches every term that starts with it.
type Phrase struct {
	Terms  []string
	Prefix bool
	// stem: a stem a word of the query was given (stem.go), which
	// matches only the stems stored of documents.
	stem bool
}

// FilterClause is filters joined by OR; when Not, a filter that must not hold.
type FilterClause struct {
	Not bool
	Any []Filter
}

// Field is a filter's field name as typed (in lower case).
type Field string

// The fields a filter may name.
const (
	FieldSkill    Field = "skill"
	FieldLabel    Field = "label"
	FieldStage    Field = "stage"
	FieldPosition Field = "position"
	FieldSource   Field = "source"
	FieldCity     Field = "city"
	FieldApplied  Field = "applied"
	FieldConsent  Field = "consent"
)

var fields = []Field{FieldSkill, FieldLabel, FieldStage, FieldPosition, FieldSource, FieldCity, FieldApplied, FieldConsent}

// Consent is a state of a candidate's consent to keeping their data.
type Consent string

// The consent states a filter may name.
const (
	ConsentValid    Consent = "valid"
	ConsentExpiring Consent = "expiring"
	ConsentNone     Consent = "none"
)

// DateRange is the calendar days [From, To); a zero bound is open. Days are
// midnight UTC standing for a date: the caller places them in the company's
// time zone.
type DateRange struct {
	From, To time.Time
}

// Filter is one field:value. Value is the text typed (NFC, without control
// characters) for the text fields; Applied holds the days of FieldApplied and
// Consent the state of FieldConsent.
type Filter struct {
	Field   Field
	Value   string
	Applied DateRange
	Consent Consent
}

// QueryError is a query that cannot be read. Key is the catalogue message
// that says why, with Args its placeholders as i18n's T takes them (name,
// value, ...); Pos is the byte offset in the query of the trouble.
type QueryError struct {
	Key  string
	Args []any
	Pos  int
}

// Is makes a query that cannot be read a refusal of input (fault.ErrInvalid).
func (e *QueryError) Is(target error) bool { return target == fault.ErrInvalid }

// AsYouType returns q with every single word it requires taken as the
// start of a word ("dvor" finds Dvořák), as a list filtered while typing
// expects; phrases and exclusions stay exact. Words shorter than
// MinPrefixRunes stay whole.
func (q *Query) AsYouType() *Query {
	out := &Query{Filters: q.Filters}
	for _, c := range q.Text {
		nc := Clause{Not: c.Not, Any: make([]Phrase, len(c.Any))}
		for i, p := range c.Any {
			np := Phrase{Terms: p.Terms, Prefix: p.Prefix}
			if !c.Not && len(p.Terms) == 1 && utf8.RuneCountInString(p.Terms[0]) >= MinPrefixRunes {
				np.Prefix = true
			}
			nc.Any[i] = np
		}
		out.Text = append(out.Text, nc)
	}
	return out
}

// Error names the message and the place but not the Args, which hold what
// the person typed: a query may name a candidate, and errors reach logs.
func (e *QueryError) Error() string {
	return fmt.Sprintf("search query at byte %d: %s", e.Pos, e.Key)
}

// The catalogue keys of QueryError.
const (
	ErrTooLong        = "search.error.too_long"
	ErrTooMany        = "search.error.too_many"
	ErrInvalidText    = "search.error.invalid_text"
	ErrUnclosedQuote  = "search.error.unclosed_quote"
	ErrDanglingOr     = "search.error.dangling_or"
	ErrOrExclusion    = "search.error.or_exclusion"
	ErrMixedOr        = "search.error.mixed_or"
	ErrOnlyExclusions = "search.error.only_exclusions"
	ErrEmptyFilter    = "search.error.empty_filter"
	ErrBadDate        = "search.error.bad_date"
	ErrBadRange       = "search.error.bad_range"
	ErrBadConsent     = "search.error.bad_consent"
	ErrShortPrefix    = "search.error.short_prefix"
)

// errorKeys lists every Key a QueryError may carry, for the test that the
// catalogues hold them all.
var errorKeys = []string{
	ErrTooLong, ErrTooMany, ErrInvalidText, ErrUnclosedQuote, ErrDanglingOr, ErrOrExclusion,
	ErrMixedOr, ErrOnlyExclusions, ErrEmptyFilter, ErrBadDate, ErrBadRange, ErrBadConsent, ErrShortPrefix,
}

func queryError(pos int, key string, args ...any) *QueryError {
	return &QueryError{Key: key, Args: args, Pos: pos}
}

// Parse reads a query typed by a person (see the package documentation).
// It returns a *QueryError for every query it refuses. A query with nothing
// to search for (empty, or only punctuation) is an empty Query.
func Parse(q string) (*Query, error) {
	if len(q) > MaxQueryBytes {
		return nil, queryError(MaxQueryBytes, ErrTooLong)
	}
	if !utf8.ValidString(q) {
		return nil, queryError(invalidAt(q), ErrInvalidText)
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	groups, err := joinOr(toks)
	if err != nil {
		return nil, err
	}
	return build(groups)
}

// invalidAt is the offset of the first byte of q that is no UTF-8.
func invalidAt(q string) int {
	for i, r := range q {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(q[i:]); size == 1 {
				return i
			}
		}
	}
	return len(q)
}

// token is an item (a phrase or a filter) or an OR.
type token struct {
	pos    int
	or     bool
	not    bool
	phrase *Phrase
	filter *Filter
}

// lexer walks a query rune by rune.
type lexer struct {
	q    string
	i    int
	toks []token
}

// lex reads q into tokens, and refuses more than MaxItems items.
func lex(q string) ([]token, error) {
	l := &lexer{q: q}
	for {
		l.skipSpace()
		if l.i >= len(l.q) {
			break
		}
		if err := l.item(); err != nil {
			return nil, err
		}
	}
	items := 0
	for _, t := range l.toks {
		if t.or {
			continue
		}
		if items++; items > MaxItems {
			return nil, queryError(t.pos, ErrTooMany, "max", MaxItems)
		}
	}
	return l.toks, nil
}

// peek is the rune at the lexer's position and its size; size 0 at the end.
func (l *lexer) peek() (rune, int) {
	if l.i >= len(l.q) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(l.q[l.i:])
}

// separates says whether r ends a word: spaces and control characters.
func separates(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// isQuote says whether r opens or closes a phrase. Any of them closes what
// any opened, since keyboards and word processors mix them.
func isQuote(r rune) bool {
	switch r {
	case '"', '“', '”', '„', '«', '»':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for {
		r, size := l.peek()
		if size == 0 || !separates(r) {
			return
		}
		l.i += size
	}
}

// item reads one word, phrase, filter or OR, with its leading minus.
func (l *lexer) item() error {
	start := l.i
	not := false
	if l.q[l.i] == '-' {
		not = true
		l.i++
		if r, size := l.peek(); size == 0 || separates(r) {
			return nil // a lone minus excludes nothing
		}
	}
	if r, _ := l.peek(); isQuote(r) {
		text, err := l.quoted()
		if err != nil {
			return err
		}
		return l.addPhrase(start, not, text, l.stars())
	}
	word := l.word()
	switch {
	case !not && word == "OR":
		l.toks = append(l.toks, token{pos: start, or: true})
		return nil
	case !not && word == "AND":
		return nil
	}
	if name, value, ok := strings.Cut(word, ":"); ok && isField(name) {
		return l.filter(start, not, Field(strings.ToLower(name)), value)
	}
	prefix := strings.HasSuffix(word, "*")
	return l.addPhrase(start, not, strings.TrimRight(word, "*"), prefix)
}

// word reads up to the next separator or quote.
func (l *lexer) word() string {
	start := l.i
	for {
		r, size := l.peek()
		if size == 0 || separates(r) || isQuote(r) {
			return l.q[start:l.i]
		}
		l.i += size
	}
}

// quoted reads a quoted text, the lexer standing on its opening quote.
func (l *lexer) quoted() (string, error) {
	open := l.i
	_, size := l.peek()
	l.i += size
	start := l.i
	for {
		r, size := l.peek()
		if size == 0 {
			return "", queryError(open, ErrUnclosedQuote)
		}
		if isQuote(r) {
			text := l.q[start:l.i]
			l.i += size
			return text, nil
		}
		l.i += size
	}
}

// stars reads the stars after a phrase and says whether there were any.
func (l *lexer) stars() bool {
	start := l.i
	for l.i < len(l.q) && l.q[l.i] == '*' {
		l.i++
	}
	return l.i > start
}

// addPhrase adds the phrase of text, unless it has no terms: punctuation
// alone searches for nothing and is left out.
func (l *lexer) addPhrase(pos int, not bool, text string, prefix bool) error {
	terms := Terms(text)
	if len(terms) == 0 {
		return nil
	}
	if prefix && utf8.RuneCountInString(terms[len(terms)-1]) < MinPrefixRunes {
		return queryError(pos, ErrShortPrefix, "min", MinPrefixRunes)
	}
	l.toks = append(l.toks, token{pos: pos, not: not, phrase: &Phrase{Terms: terms, Prefix: prefix}})
	return nil
}

func isField(name string) bool {
	for _, f := range fields {
		if strings.EqualFold(name, string(f)) {
			return true
		}
	}
	return false
}

// filter reads the value of a filter whose "field:" the lexer has read,
// value being what followed the colon up to a separator or quote.
func (l *lexer) filter(pos int, not bool, field Field, value string) error {
	valuePos := l.i - len(value)
	if r, _ := l.peek(); value == "" && isQuote(r) {
		var err error
		if value, err = l.quoted(); err != nil {
			return err
		}
	}
	value = cleanValue(value)
	if value == "" {
		return queryError(pos, ErrEmptyFilter, "field", string(field))
	}
	f := Filter{Field: field}
	switch field {
	case FieldApplied:
		days, err := parseDays(value, valuePos)
		if err != nil {
			return err
		}
		f.Applied = days
	case FieldConsent:
		c := Consent(strings.ToLower(value))
		if c != ConsentValid && c != ConsentExpiring && c != ConsentNone {
			return queryError(valuePos, ErrBadConsent, "value", value)
		}
		f.Consent = c
	default:
		f.Value = value
	}
	l.toks = append(l.toks, token{pos: pos, not: not, filter: &f})
	return nil
}

// cleanValue is a filter value in NFC without control or invisible
// formatting characters, which no name holds and which PostgreSQL refuses
// (NUL) in a text parameter.
func cleanValue(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, v)
	return strings.TrimSpace(norm.NFC.String(v))
}

// dateLayout is how a day is written in a filter.
const dateLayout = "2006-01-02"

// parseDays reads the value of applied: a comparison with a day or a range
// of days, both ends included.
func parseDays(v string, pos int) (DateRange, error) {
	day := func(s string) (time.Time, error) {
		d, err := time.Parse(dateLayout, s)
		if err != nil {
			return time.Time{}, queryError(pos, ErrBadDate, "value", v)
		}
		return d, nil
	}
	next := func(d time.Time) time.Time { return d.AddDate(0, 0, 1) }
	if from, to, ok := strings.Cut(v, ".."); ok {
		a, err := day(from)
		if err != nil {
			return DateRange{}, err
		}
		b, err := day(to)
		if err != nil {
			return DateRange{}, err
		}
		if b.Before(a) {
			return DateRange{}, queryError(pos, ErrBadRange, "value", v)
		}
		return DateRange{From: a, To: next(b)}, nil
	}
	for _, op := range []string{">=", "<=", ">", "<", "="} {
		rest, ok := strings.CutPrefix(v, op)
		if !ok {
			continue
		}
		d, err := day(rest)
		if err != nil {
			return DateRange{}, err
		}
		switch op {
		case ">=":
			return DateRange{From: d}, nil
		case "<=":
			return DateRange{To: next(d)}, nil
		case ">":
			return DateRange{From: next(d)}, nil
		case "<":
			return DateRange{To: d}, nil
		}
		return DateRange{From: d, To: next(d)}, nil
	}
	d, err := day(v)
	if err != nil {
		return DateRange{}, err
	}
	return DateRange{From: d, To: next(d)}, nil
}

// joinOr groups the items joined by OR. An OR needs an item on each side.
func joinOr(toks []token) ([][]token, error) {
	var groups [][]token
	join := false
	for i, t := range toks {
		if t.or {
			if len(groups) == 0 || join || i+1 == len(toks) || toks[i+1].or {
				return nil, queryError(t.pos, ErrDanglingOr)
			}
			join = true
			continue
		}
		if join {
			groups[len(groups)-1] = append(groups[len(groups)-1], t)
			join = false
			continue
		}
		groups = append(groups, []token{t})
	}
	return groups, nil
}

// build makes the query of the OR groups: each is a text clause or a
// filter clause, and the text must search for something.
func build(groups [][]token) (*Query, error) {
	q := &Query{}
	for _, g := range groups {
		if len(g) > 1 {
			for _, t := range g {
				if t.not {
					return nil, queryError(t.pos, ErrOrExclusion)
				}
				if (t.filter == nil) != (g[0].filter == nil) {
					return nil, queryError(t.pos, ErrMixedOr)
				}
			}
		}
		if g[0].filter != nil {
			c := FilterClause{Not: g[0].not}
			for _, t := range g {
				c.Any = append(c.Any, *t.filter)
			}
			q.Filters = append(q.Filters, c)
			continue
		}
		c := Clause{Not: g[0].not}
		for _, t := range g {
			c.Any = append(c.Any, *t.phrase)
		}
		q.Text = append(q.Text, c)
	}
	if len(q.Text) > 0 && !q.hasPositiveText() {
		return nil, queryError(firstTextPos(groups), ErrOnlyExclusions)
	}
	return q, nil
}

func (q *Query) hasPositiveText() bool {
	for _, c := range q.Text {
		if !c.Not {
			return true
		}
	}
	return false
}

func firstTextPos(groups [][]token) int {
	for _, g := range groups {
		if g[0].phrase != nil {
			return g[0].pos
		}
	}
	return 0
}

// String writes q back in the query language, such that Parse reads it
// as q. Words come out folded (Dvořák as dvorak), as the search reads them.
func (q *Query) String() string {
	var items []string
	for _, c := range q.Text {
		items = append(items, c.String())
	}
	for _, c := range q.Filters {
		items = append(items, c.String())
	}
	return strings.Join(items, " ")
}

// String writes the clause in the query language.
func (c Clause) String() string {
	var any []string
	for _, p := range c.Any {
		any = append(any, p.String())
	}
	s := strings.Join(any, " OR ")
	if c.Not {
		s = "-" + s
	}
	return s
}

// String writes the phrase in the query language: a word alone, words in
// quotes, with a star when it ends in a prefix.
func (p Phrase) String() string {
	s := strings.Join(p.Terms, " ")
	if len(p.Terms) != 1 {
		s = `"` + s + `"`
	}
	if p.Prefix {
		s += "*"
	}
	return s
}

// String writes the filter clause in the query language.
func (c FilterClause) String() string {
	var any []string
	for _, f := range c.Any {
		any = append(any, f.String())
	}
	s := strings.Join(any, " OR ")
	if c.Not {
		s = "-" + s
	}
	return s
}

// String writes the filter in the query language; a value with spaces is
// quoted.
func (f Filter) String() string {
	v := f.Value
	switch f.Field {
	case FieldApplied:
		v = f.Applied.String()
	case FieldConsent:
		v = string(f.Consent)
	}
	if strings.IndexFunc(v, func(r rune) bool { return separates(r) || isQuote(r) }) >= 0 || v == "" {
		v = `"` + v + `"`
	}
	return string(f.Field) + ":" + v
}

// String writes the days as applied: reads them: a day, a range of days,
// or a comparison when one bound is open.
func (d DateRange) String() string {
	last := d.To.AddDate(0, 0, -1)
	switch {
	case d.From.IsZero() && d.To.IsZero():
		return ""
	case d.From.IsZero():
		return "<=" + last.Format(dateLayout)
	case d.To.IsZero():
		return ">=" + d.From.Format(dateLayout)
	case last.Equal(d.From):
		return d.From.Format(dateLayout)
	}
	return d.From.Format(dateLayout) + ".." + last.Format(dateLayout)
}

// WithoutFilter returns q without its i-th filter clause.
func (q *Query) WithoutFilter(i int) *Query {
	out := &Query{Text: q.Text}
	for j, c := range q.Filters {
		if j != i {
			out.Filters = append(out.Filters, c)
		}
	}
	return out
}

// HasFilter says whether q requires f alone (a clause of that one filter,
// not excluded).
func (q *Query) HasFilter(f Filter) bool {
	for _, c := range q.Filters {
		if !c.Not && len(c.Any) == 1 && c.Any[0].String() == f.String() {
			return true
		}
	}
	return false
}
