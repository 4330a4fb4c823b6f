package extract

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// errFull stops a parser once the text has reached Limits.MaxText: the
// rest of the document need not be read.
var errFull = errors.New("extract: text limit reached")

// textBuilder collects text as it is read and cleans it on the way: control,
// format and private-use characters are dropped, a run of blank space
// becomes one space, line breaks become "\n" with at most one empty line
// in a row, and blank space at the ends of lines and of the text is
// dropped. Cleaning on the way lets the byte limit count the text kept.
type textBuilder struct {
	b         strings.Builder
	max       int
	space     bool // blank space is pending before the next character
	newlines  int  // line breaks are pending before the next character
	afterCR   bool // the last character was "\r", so a "\n" after it adds no break
	truncated bool
}

func newTextBuilder(max int) *textBuilder {
	return &textBuilder{max: max}
}

// write adds text whose line breaks are breaks (plain text, PDF).
func (t *textBuilder) write(s string) error { return t.add(s, false) }

// writeInline adds text in which every blank is a space (an XML text
// node, where a break is an element of its own).
func (t *textBuilder) writeInline(s string) error { return t.add(s, true) }

// newline ends a line (a paragraph, a break element).
func (t *textBuilder) newline() {
	t.newlines++
	t.afterCR = false
}

// blank adds blank space (a tab element, a space element).
func (t *textBuilder) blank() { t.space = true }

func (t *textBuilder) add(s string, inline bool) error {
	for _, r := range s {
		cr := t.afterCR
		t.afterCR = false
		switch {
		case !inline && isBreak(r):
			if r == '\n' && cr {
				continue
			}
			t.newlines++
			t.afterCR = r == '\r'
		case unicode.IsSpace(r):
			t.space = true
		case dropped(r):
		default:
			if err := t.put(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// put writes r after the pending blank space or breaks.
func (t *textBuilder) put(r rune) error {
	sep := ""
	if t.b.Len() > 0 {
		switch {
		case t.newlines > 1:
			sep = "\n\n"
		case t.newlines == 1:
			sep = "\n"
		case t.space:
			sep = " "
		}
	}
	if t.b.Len()+len(sep)+utf8.RuneLen(r) > t.max {
		t.truncated = true
		return errFull
	}
	t.b.WriteString(sep)
	t.b.WriteRune(r)
	t.space, t.newlines = false, 0
	return nil
}

// String returns the text in NFC, still within the byte limit.
func (t *textBuilder) String() string {
	s := norm.NFC.String(t.b.String())
	if len(s) <= t.max {
		return s
	}
	// Composition rarely lengthens text (a few scripts' letters); cut at
	// a character boundary.
	t.truncated = true
	cut := t.max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// isBreak tells the characters that end a line: line feed, carriage
// return, vertical tab, form feed (a page), next line, and the Unicode
// line and paragraph separators.
func isBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// dropped tells the characters, other than blank space, that carry no
// text: controls, format characters (soft hyphens, zero-width and
// bidirectional marks, byte order marks), private-use code points (PDF
// fonts map glyphs there), unassigned code points, noncharacters and the
// replacement character.
func dropped(r rune) bool {
	return r == utf8.RuneError || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
