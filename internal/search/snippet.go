package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of a snippet. The fragment is at most SnippetWords words and about
// SnippetBytes bytes of the text (a single longer word is cut); only the
// first SnippetScanBytes of a text are read, so a huge document costs no
// more than a long one.
const (
	SnippetWords     = 30
	SnippetBytes     = 200
	SnippetScanBytes = 1 << 20
	// snippetMaxOut cuts a fragment that one enormous word fills.
	snippetMaxOut = 2 * SnippetBytes
	// snippetLead is how many words a fragment shows before its first hit.
	snippetLead = 4
)

// Part is a piece of a snippet: text to show, as a hit (a word the query
// found) or not. Text is valid UTF-8 with its whitespace collapsed, plain
// text for the template to escape.
type Part struct {
	Text string
	Hit  bool
}

// Fragment is the part of a text that best shows why a query found it.
// Clauses counts the query's required clauses it holds and Hits the words
// it highlights: a caller with several texts shows the one that holds
// more. A text the query does not find gives the zero Fragment.
type Fragment struct {
	Parts   []Part
	Clauses int
	Hits    int
}

// snippetToken is a word of the text: its folded terms (usually one) and
// where it stands, in bytes.
type snippetToken struct {
	terms      []string
	start, end int
}

// Snippet returns the fragment of text (about SnippetWords words) where q
// finds most of what it requires, its hits marked. Words are matched as
// the index matches them: folded (so odegard marks Ødegård), a prefix
// term marks every word it starts, a phrase marks its words only where
// they stand in a row, a word also marks the other forms of it that the
// index finds through their stems, and excluded terms mark nothing. Pass the query as
// the search ran it (the list runs Query.AsYouType). Any text is safe:
// invalid UTF-8 is dropped from the output and only the first
// SnippetScanBytes are read.
func Snippet(text string, q *Query) Fragment {
	if q == nil {
		return Fragment{}
	}
	type want struct {
		clause int
		p      Phrase
		stem   bool // p is the stem of a word typed (stem.go)
	}
	var wants []want
	for i, c := range q.Text {
		if c.Not {
			continue
		}
		for _, p := range c.Any {
			if len(p.Terms) == 0 {
				continue
			}
			wants = append(wants, want{clause: i, p: p})
			if len(p.Terms) == 1 {
				for _, st := range queryStems(p.Terms[0]) {
					wants = append(wants, want{clause: i, p: Phrase{Terms: []string{st}}, stem: true})
				}
			}
		}
	}
	if len(wants) == 0 {
		return Fragment{}
	}
	if len(text) > SnippetScanBytes {
		text = text[:SnippetScanBytes]
	}
	toks := tokenize(text)
	stemCache := map[string][]string{}
	stemsOf := func(t string) []string {
		st, ok := stemCache[t]
		if !ok {
			st = queryStems(t)
			if len(stemCache) < 4096 {
				stemCache[t] = st
			}
		}
		return st
	}

	// The hits: for each token where a phrase starts, the phrase's clause
	// and the bytes it covers.
	type hit struct {
		tok, last, clause int
	}
	var hits []hit
	for i := range toks {
		found := -1 // the last clause found at i: one hit a clause a word
		for _, w := range wants {
			if w.clause == found {
				continue
			}
			if w.stem {
				if stemMatches(toks[i].terms, w.p.Terms[0], stemsOf) {
					hits = append(hits, hit{tok: i, last: i, clause: w.clause})
					found = w.clause
				}
				continue
			}
			if last, ok := matchAt(toks, i, w.p); ok {
				hits = append(hits, hit{tok: i, last: last, clause: w.clause})
				found = w.clause
			}
		}
	}
	if len(hits) == 0 {
		return Fragment{}
	}

	// The best window: from a few words before a hit (or the hit itself,
	// when the words before it are long), at most SnippetWords words and
	// SnippetBytes bytes, holding the most distinct clauses, then the
	// most hits; the earliest wins a tie. A hit is in the window when its
	// first word is. Both ends only move forward, so the walk costs at
	// most SnippetWords steps a hit.
	windowEnd := func(s int) int {
		e := s
		for e+1 < len(toks) && e+1-s < SnippetWords && toks[e+1].end-toks[s].start <= SnippetBytes {
			e++
		}
		return e
	}
	counts := make([]int, len(q.Text))
	distinct, inWin := 0, 0
	lo, hi := 0, 0 // hits[lo:hi] start in the window
	bestStart, bestEnd, bestDistinct, bestHits := 0, 0, 0, 0
	prevStart := -1
	for _, h := range hits {
		s := max(h.tok-snippetLead, 0)
		e := windowEnd(s)
		if e < h.tok {
			s, e = h.tok, windowEnd(h.tok)
		}
		if s <= prevStart {
			continue
		}
		prevStart = s
		for hi < len(hits) && hits[hi].tok <= e {
			if counts[hits[hi].clause] == 0 {
				distinct++
			}
			counts[hits[hi].clause]++
			inWin++
			hi++
		}
		for lo < hi && hits[lo].tok < s {
			counts[hits[lo].clause]--
			if counts[hits[lo].clause] == 0 {
				distinct--
			}
			inWin--
			lo++
		}
		if distinct > bestDistinct || (distinct == bestDistinct && inWin > bestHits) {
			bestStart, bestEnd, bestDistinct, bestHits = s, e, distinct, inWin
		}
	}

	// The marked byte ranges of the window, merged where they touch.
	var marks [][2]int
	for _, h := range hits {
		if h.tok < bestStart || h.tok > bestEnd {
			continue
		}
		r := [2]int{toks[h.tok].start, toks[min(h.last, bestEnd)].end}
		if n := len(marks); n > 0 && r[0] <= marks[n-1][1] {
			marks[n-1][1] = max(marks[n-1][1], r[1])
			continue
		}
		marks = append(marks, r)
	}
	// The fragment runs from its first word to the next word after its
	// last, so that the punctuation that ends a sentence stays.
	from, to := toks[bestStart].start, len(text)
	if bestEnd+1 < len(toks) {
		to = toks[bestEnd+1].start
	}
	if to-from > snippetMaxOut {
		to = from + snippetMaxOut
	}
	var parts []Part
	add := func(s string, hit bool) {
		s = collapse(s)
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Hit == hit {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, Part{Text: s, Hit: hit})
	}
	if bestStart > 0 {
		add("… ", false)
	}
	at := from
	for _, m := range marks {
		if m[0] >= to {
			break
		}
		add(text[at:m[0]], false)
		add(text[m[0]:min(m[1], to)], true)
		at = min(m[1], to)
	}
	add(text[at:to], false)
	if bestEnd+1 < len(toks) {
		if n := len(parts); n > 0 && !parts[n-1].Hit {
			parts[n-1].Text = strings.TrimRight(parts[n-1].Text, " ")
		}
		add(" …", false)
	}
	if len(parts) > 0 && !parts[0].Hit {
		parts[0].Text = strings.TrimLeft(parts[0].Text, " ")
	}
	if n := len(parts); n > 0 && !parts[n-1].Hit {
		parts[n-1].Text = strings.TrimRight(parts[n-1].Text, " ")
	}
	parts = removeEmpty(parts)
	return Fragment{Parts: parts, Clauses: bestDistinct, Hits: bestHits}
}

func removeEmpty(parts []Part) []Part {
	out := parts[:0]
	for _, p := range parts {
		if p.Text != "" {
			out = append(out, p)
		}
	}
	return out
}

// stemMatches says whether a word (its terms) is a form of the stem st, as
// the index finds it through its stems: the stem itself, or a word that
// starts with it and stems to it in one of the languages.
func stemMatches(terms []string, st string, stemsOf func(string) []string) bool {
	if len(terms) != 1 {
		return false
	}
	t := terms[0]
	return t == st || strings.HasPrefix(t, st) && slices.Contains(stemsOf(t), st)
}

// matchAt says whether phrase p starts at token i, and the token where it ends.
func matchAt(toks []snippetToken, i int, p Phrase) (int, bool) {
	// A token may fold into several terms ("½" is 1 2): the phrase runs
	// over the tokens' terms in order.
	t, k := i, 0
	for j, want := range p.Terms {
		for t < len(toks) && k >= len(toks[t].terms) {
			if j == 0 {
				return 0, false
			}
			t, k = t+1, 0
		}
		if t >= len(toks) {
			return 0, false
		}
		got := toks[t].terms[k]
		if j == 0 && k != 0 {
			return 0, false
		}
		if j == len(p.Terms)-1 && p.Prefix {
			if !strings.HasPrefix(got, want) {
				return 0, false
			}
		} else if got != want {
			return 0, false
		}
		k++
	}
	return t, true
}

// tokenize splits text into its words as Fold sees them: runs of letters,
// digits and marks (and of what compatibility decomposition turns into
// them), each with its folded terms. A word without terms (longer than
// MaxTermBytes) matches nothing and, as in the index, which leaves it out,
// a phrase runs across it.
func tokenize(text string) []snippetToken {
	var toks []snippetToken
	wordy := map[rune]bool{}
	isWord := func(r rune) bool {
		if r < utf8.RuneSelf {
			return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		}
		if r == utf8.RuneError {
			return false
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) {
			return true
		}
		w, ok := wordy[r]
		if !ok {
			w = Fold(string(r)) != ""
			if len(wordy) < 4096 {
				wordy[r] = w
			}
		}
		return w
	}
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		toks = append(toks, snippetToken{terms: Terms(text[start:end]), start: start, end: end})
		start = -1
	}
	for i, r := range text {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(text[i:]); size == 1 {
				flush(i)
				continue
			}
		}
		if isWord(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return toks
}

// collapse makes s fit for one line of a snippet: valid UTF-8 without
// invisible formatting characters, every run of spaces and control
// characters one space.
func collapse(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			continue // invisible formatting, bidirectional overrides among them
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
