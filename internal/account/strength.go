package account

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/trustelem/zxcvbn/adjacency"
	"github.com/trustelem/zxcvbn/match"
	"github.com/trustelem/zxcvbn/scoring"
)

// The strength estimate is zxcvbn's (Dropbox, version 4.4.2, as ported to Go
// by trustelem/zxcvbn): the password is split into the patterns a cracker
// tries first (dictionary words as typed, reversed or in l33t, keyboard
// walks, repeats, sequences, years and dates, and the user's own words), and
// the estimate is the number of guesses of the cheapest split. The guesses of
// each pattern come from trustelem/zxcvbn's scoring package.
//
// The matchers and the search are written here rather than imported because
// trustelem/zxcvbn builds its dictionaries as maps when the program starts
// (about 12 MB and 15 ms in every process, also for commands that never see
// a password); here they are built on first use, and positions are counted
// in characters, so that passwords in any script are measured alike.

// maxEstimateRunes bounds the work: the search is quadratic in the length, and
// a password is as strong as any part of it.
const maxEstimateRunes = MaxPasswordLen

// estimate returns zxcvbn's number of guesses for password and the patterns of
// its cheapest split, given the user's own words (lower-cased).
func estimate(password string, userWords []string) (float64, []*match.Match) {
	rs := []rune(password)
	if len(rs) > maxEstimateRunes {
		rs = rs[:maxEstimateRunes]
	}
	e := &estimator{dict: builtin(), user: userDictionary(userWords)}
	return e.guesses(rs)
}

type estimator struct {
	dict, user *dictionary
}

func userDictionary(words []string) *dictionary {
	entries := make([]dictEntry, 0, len(words))
	for i, w := range words {
		entries = append(entries, dictEntry{word: lowerWord(w), rank: uint32(i + 1), list: dictUserInputs})
	}
	return newDictionary(entries)
}

// guesses runs every matcher over rs and returns the cheapest split.
func (e *estimator) guesses(rs []rune) (float64, []*match.Match) {
	key := surrogate(rs)
	return mostGuessable(key, e.omnimatch(rs, key))
}

// surrogate stands for rs in trustelem's scoring, which measures tokens in
// bytes and looks only at ASCII: one byte per character, non-ASCII as 0xff
// (an invalid byte, which counts as one character and is no letter or digit).
func surrogate(rs []rune) string {
	b := make([]byte, len(rs))
	for i, r := range rs {
		if r < 0x80 {
			b[i] = byte(r)
		} else {
			b[i] = 0xff
		}
	}
	return string(b)
}

func (e *estimator) omnimatch(rs []rune, key string) []*match.Match {
	lower := make([]rune, len(rs))
	for i, r := range rs {
		lower[i] = unicode.ToLower(r)
	}
	var ms []*match.Match
	ms = e.dictionaryMatches(ms, lower, key, false)
	ms = e.reverseMatches(ms, lower, key)
	ms = e.l33tMatches(ms, lower, key)
	ms = spatialMatches(ms, rs, key)
	ms = e.repeatMatches(ms, rs, key)
	ms = sequenceMatches(ms, rs, key)
	ms = yearMatches(ms, key)
	ms = dateMatches(ms, key)
	return ms
}

// dictionaryMatches appends every run of lower that is a word of a dictionary.
func (e *estimator) dictionaryMatches(ms []*match.Match, lower []rune, key string, reversed bool) []*match.Match {
	s, offs := encode(lower)
	for _, d := range [...]*dictionary{e.dict, e.user} {
		if d.len() == 0 {
			continue
		}
		for i := range lower {
			lo, hi := 0, d.len()
			for j := i; j < len(lower) && j-i < d.maxRunes; j++ {
				p := s[offs[i]:offs[j+1]]
				if lo, hi = d.narrow(lo, hi, p); lo == hi {
					break
				}
				if d.word(lo) != p {
					continue
				}
				rank, list := d.entry(lo)
				ms = append(ms, &match.Match{
					Pattern: "dictionary", I: i, J: j, Token: key[i : j+1],
					MatchedWord: p, Rank: int(rank), DictionaryName: dictNames[list], Reversed: reversed,
				})
			}
		}
	}
	return ms
}

// encode returns rs as a string and the byte offset of each character (and
// of the end).
func encode(rs []rune) (string, []int) {
	var b strings.Builder
	offs := make([]int, len(rs)+1)
	for i, r := range rs {
		offs[i] = b.Len()
		b.WriteRune(r)
	}
	offs[len(rs)] = b.Len()
	return b.String(), offs
}

func (e *estimator) reverseMatches(ms []*match.Match, lower []rune, key string) []*match.Match {
	n := len(lower)
	rev := slices.Clone(lower)
	slices.Reverse(rev)
	from := len(ms)
	ms = e.dictionaryMatches(ms, rev, reverseString(key), true)
	for _, m := range ms[from:] {
		m.I, m.J = n-1-m.J, n-1-m.I
		m.Token = key[m.I : m.J+1]
	}
	return ms
}

func reverseString(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// l33tTable is zxcvbn's: the characters that stand for a letter.
var l33tTable = map[rune][]rune{
	'a': {'4', '@'}, 'b': {'8'}, 'c': {'(', '{', '[', '<'}, 'e': {'3'},
	'g': {'6', '9'}, 'i': {'1', '!', '|'}, 'l': {'1', '|', '7'}, 'o': {'0'},
	's': {'$', '5'}, 't': {'+', '7'}, 'x': {'%'}, 'z': {'2'},
}

// l33tLetters maps each l33t character to the letters it may stand for.
var l33tLetters = func() map[rune][]rune {
	m := map[rune][]rune{}
	for _, letter := range "abcegilostxz" {
		for _, c := range l33tTable[letter] {
			m[c] = append(m[c], letter)
		}
	}
	return m
}()

// l33tMatches appends the dictionary words found after replacing l33t
// characters by letters, for every way of reading the ambiguous ones (1 is i
// or l, 7 is l or t, | is i or l).
func (e *estimator) l33tMatches(ms []*match.Match, lower []rune, key string) []*match.Match {
	var present []rune
	for _, r := range lower {
		if _, ok := l33tLetters[r]; ok && !slices.Contains(present, r) {
			present = append(present, r)
		}
	}
	if len(present) == 0 {
		return ms
	}
	slices.Sort(present)
	choice := make([]int, len(present))
	subbed := make([]rune, len(lower))
	for {
		sub := map[rune]rune{}
		for k, c := range present {
			sub[c] = l33tLetters[c][choice[k]]
		}
		for i, r := range lower {
			if l, ok := sub[r]; ok {
				subbed[i] = l
			} else {
				subbed[i] = r
			}
		}
		from := len(ms)
		ms = e.dictionaryMatches(ms, subbed, key, false)
		kept := ms[:from]
		for _, m := range ms[from:] {
			token := lower[m.I : m.J+1]
			if len(token) <= 1 || string(token) == m.MatchedWord {
				continue // a lone 1 for i is noise; and no substitution is no l33t
			}
			m.L33t = true
			m.Sub = map[string]string{}
			for c, l := range sub {
				if slices.Contains(token, c) {
					m.Sub[string(c)] = string(l)
				}
			}
			kept = append(kept, m)
		}
		ms = kept
		// The next combination of readings, like an odometer.
		k := 0
		for ; k < len(present); k++ {
			if choice[k]++; choice[k] < len(l33tLetters[present[k]]) {
				break
			}
			choice[k] = 0
		}
		if k == len(present) {
			return ms
		}
	}
}

// shiftedKeys are the characters typed with shift on the keyboards below.
const shiftedKeys = `~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?`

var keyboards = []string{"qwerty", "dvorak", "keypad", "mac_keypad"}

// spatialMatches appends runs of three or more keys next to each other.
func spatialMatches(ms []*match.Match, rs []rune, key string) []*match.Match {
	for _, name := range keyboards {
		graph := adjacency.Graphs[name]
		shiftable := name == "qwerty" || name == "dvorak"
		for i := 0; i < len(rs)-1; {
			j := i + 1
			lastDirection, turns, shifted := -1, 0, 0
			if shiftable && strings.ContainsRune(shiftedKeys, rs[i]) {
				shifted = 1
			}
			for {
				found := false
				if j < len(rs) {
					for direction, adj := range graph.Graph[string(rs[j-1])] {
						idx := strings.IndexRune(adj, rs[j])
						if adj == "" || idx < 0 {
							continue
						}
						found = true
						if idx == 1 { // the second character of a key is its shifted one
							shifted++
						}
						if direction != lastDirection {
							turns++
							lastDirection = direction
						}
						break
					}
				}
				if found {
					j++
					continue
				}
				if j-i > 2 {
					ms = append(ms, &match.Match{Pattern: "spatial", I: i, J: j - 1, Token: key[i:j],
						Graph: name, Turns: turns, ShiftedCount: shifted})
				}
				i = j
				break
			}
		}
	}
	return ms
}

// repeatMatches appends runs of a repeated unit (aaa, abcabc), as zxcvbn's
// regular expressions (.+)\1+ and (.+?)\1+ find them, left to right. The
// unit's own guesses are estimated like a password's.
func (e *estimator) repeatMatches(ms []*match.Match, rs []rune, key string) []*match.Match {
	for from := 0; from < len(rs); {
		start, greedy, lazy := -1, 0, 0
		for i := from; i < len(rs) && start < 0; i++ {
			for unit := (len(rs) - i) / 2; unit >= 1; unit-- {
				if slices.Equal(rs[i:i+unit], rs[i+unit:i+2*unit]) {
					if start < 0 {
						start, greedy = i, unit
					}
					lazy = unit
				}
			}
		}
		if start < 0 {
			break
		}
		greedyLen := greedy * repeats(rs[start:], greedy)
		lazyLen := lazy * repeats(rs[start:], lazy)
		length, unit := lazyLen, lazy
		if greedyLen > lazyLen {
			// aabaab: the greedy unit aab beats a; its own shortest unit
			// is the base (aabaab in aabaabaabaab).
			length, unit = greedyLen, shortestUnit(rs[start:start+greedyLen])
		}
		base := rs[start : start+unit]
		baseGuesses, baseMatches := e.guesses(base)
		ms = append(ms, &match.Match{
			Pattern: "repeat", I: start, J: start + length - 1, Token: key[start : start+length],
			BaseToken: string(base), BaseGuesses: baseGuesses, BaseMatches: baseMatches, RepeatCount: length / unit,
		})
		from = start + length
	}
	return ms
}

// repeats counts how many times rs starts with its first unit characters.
func repeats(rs []rune, unit int) int {
	n := 1
	for (n+1)*unit <= len(rs) && slices.Equal(rs[:unit], rs[n*unit:(n+1)*unit]) {
		n++
	}
	return n
}

// shortestUnit returns the length of the shortest unit rs is a repetition of.
func shortestUnit(rs []rune) int {
	for unit := 1; unit <= len(rs)/2; unit++ {
		if len(rs)%unit == 0 && repeats(rs, unit) == len(rs)/unit {
			return unit
		}
	}
	return len(rs)
}

// sequenceMatches appends runs of characters with the same step of at most
// five (abcdef, 97531, ACEG).
func sequenceMatches(ms []*match.Match, rs []rune, key string) []*match.Match {
	if len(rs) < 2 {
		return ms
	}
	add := func(i, j int, delta rune) {
		abs := delta
		if abs < 0 {
			abs = -abs
		}
		if (j-i > 1 || abs == 1) && abs > 0 && abs <= 5 {
			name, space := "unicode", 26
			switch t := rs[i : j+1]; {
			case allIn(t, 'a', 'z'):
				name = "lower"
			case allIn(t, 'A', 'Z'):
				name = "upper"
			case allIn(t, '0', '9'):
				name, space = "digits", 10
			}
			ms = append(ms, &match.Match{Pattern: "sequence", I: i, J: j, Token: key[i : j+1],
				SequenceName: name, SequenceSpace: space, Ascending: delta > 0})
		}
	}
	i, last := 0, rs[1]-rs[0]
	for k := 2; k < len(rs); k++ {
		if delta := rs[k] - rs[k-1]; delta != last {
			add(i, k-1, last)
			i, last = k-1, delta
		}
	}
	add(i, len(rs)-1, last)
	return ms
}

func allIn(rs []rune, lo, hi rune) bool {
	for _, r := range rs {
		if r < lo || r > hi {
			return false
		}
	}
	return true
}

// recentYear is zxcvbn's, extended to this century's later decades.
var recentYear = regexp.MustCompile(`19\d\d|20\d\d`)

func yearMatches(ms []*match.Match, key string) []*match.Match {
	for _, loc := range recentYear.FindAllStringIndex(key, -1) {
		ms = append(ms, &match.Match{Pattern: "regex", I: loc[0], J: loc[1] - 1, Token: key[loc[0]:loc[1]], RegexName: "recent_year"})
	}
	return ms
}

// dateSplits are zxcvbn's ways to cut 4 to 8 digits into day, month and year.
var dateSplits = map[int][][2]int{
	4: {{1, 2}, {2, 3}},
	5: {{1, 3}, {2, 3}},
	6: {{1, 2}, {2, 4}, {4, 5}},
	7: {{1, 3}, {2, 3}, {4, 5}, {4, 6}},
	8: {{2, 4}, {4, 6}},
}

// dateMatches appends dates of 4 to 8 digits (1191, 19911231) or with
// separators (1.1.91, 1991-12-31), keeping only those not inside another.
func dateMatches(ms []*match.Match, key string) []*match.Match {
	var dates []*match.Match
	for i := 0; i+4 <= len(key); i++ {
		for j := i + 3; j <= i+7 && j < len(key); j++ {
			token := key[i : j+1]
			if !allDigits(token) {
				break
			}
			var best *dmy
			for _, s := range dateSplits[len(token)] {
				if d := mapDMY(token[:s[0]], token[s[0]:s[1]], token[s[1]:]); d != nil &&
					(best == nil || abs(d.year-scoring.ReferenceYear) < abs(best.year-scoring.ReferenceYear)) {
					best = d
				}
			}
			if best != nil {
				dates = append(dates, &match.Match{Pattern: "date", I: i, J: j, Token: token, Year: best.year, Month: best.month, Day: best.day})
			}
		}
	}
	for i := 0; i+6 <= len(key); i++ {
		for j := i + 5; j <= i+9 && j < len(key); j++ {
			token := key[i : j+1]
			if a, sep, b, c, ok := splitDate(token); ok {
				if d := mapDMY(a, b, c); d != nil {
					dates = append(dates, &match.Match{Pattern: "date", I: i, J: j, Token: token, Separator: sep,
						Year: d.year, Month: d.month, Day: d.day})
				}
			}
		}
	}
	for _, m := range dates {
		inside := false
		for _, o := range dates {
			if o != m && o.I <= m.I && o.J >= m.J {
				inside = true
				break
			}
		}
		if !inside {
			ms = append(ms, m)
		}
	}
	return ms
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// splitDate reads 1 to 4 digits, a separator, 1 or 2 digits, the same
// separator and 1 to 4 digits (zxcvbn's ^(\d{1,4})([\s/\\_.-])(\d{1,2})\2(\d{1,4})$).
func splitDate(token string) (a, sep, b, c string, ok bool) {
	cut := strings.IndexFunc(token, func(r rune) bool { return r < '0' || r > '9' })
	if cut < 1 || cut > 4 || !strings.ContainsRune(" \t\n\v\f\r/\\_.-", rune(token[cut])) {
		return "", "", "", "", false
	}
	sep = token[cut : cut+1]
	a = token[:cut]
	b, c, found := strings.Cut(token[cut+1:], sep)
	if !found || len(b) < 1 || len(b) > 2 || len(c) < 1 || len(c) > 4 || !allDigits(b) || !allDigits(c) {
		return "", "", "", "", false
	}
	return a, sep, b, c, true
}

type dmy struct{ day, month, year int }

// mapDMY is zxcvbn's map_ints_to_dmy: a day, a month and a year of two or
// four digits (1000 to 2050) in any sensible order, or nil.
func mapDMY(s1, s2, s3 string) *dmy {
	i1, _ := strconv.Atoi(s1)
	i2, _ := strconv.Atoi(s2)
	i3, _ := strconv.Atoi(s3)
	if i2 > 31 || i2 <= 0 {
		return nil
	}
	over12, over31, under1 := 0, 0, 0
	for _, n := range [3]int{i1, i2, i3} {
		if (n > 99 && n < 1000) || n > 2050 {
			return nil
		}
		if n > 31 {
			over31++
		}
		if n > 12 {
			over12++
		}
		if n <= 0 {
			under1++
		}
	}
	if over31 >= 2 || over12 == 3 || under1 >= 2 {
		return nil
	}
	splits := [2][3]int{{i3, i1, i2}, {i1, i2, i3}} // year last, year first
	for _, s := range splits {
		if s[0] >= 1000 && s[0] <= 2050 {
			return mapDM(s[1], s[2], s[0]) // a four-digit year: the rest must be a day and month
		}
	}
	for _, s := range splits {
		if d := mapDM(s[1], s[2], s[0]); d != nil {
			switch {
			case d.year > 99:
			case d.year > 50:
				d.year += 1900
			default:
				d.year += 2000
			}
			return d
		}
	}
	return nil
}

func mapDM(a, b, year int) *dmy {
	if a >= 1 && a <= 31 && b >= 1 && b <= 12 {
		return &dmy{day: a, month: b, year: year}
	}
	if b >= 1 && b <= 31 && a >= 1 && a <= 12 {
		return &dmy{day: b, month: a, year: year}
	}
	return nil
}

// minGuessesBeforeGrowingSequence is zxcvbn's D: the guesses a cracker spends
// on shorter splits before trying one more pattern.
const minGuessesBeforeGrowingSequence = 10000

type cell struct {
	l     int // patterns in the split
	m     *match.Match
	pi, g float64 // product of the patterns' guesses; the split's guesses
}

// mostGuessable is zxcvbn's most_guessable_match_sequence: the split of key
// into matches and bruteforce runs with the fewest guesses,
// l! * product(guesses) + D^(l-1) for l patterns. optimal[k] holds, for
// each number of patterns, the best split of key[:k+1].
func mostGuessable(key string, matches []*match.Match) (float64, []*match.Match) {
	n := len(key)
	if n == 0 {
		return 1, nil
	}
	byEnd := make([][]*match.Match, n)
	for _, m := range matches {
		byEnd[m.J] = append(byEnd[m.J], m)
	}
	optimal := make([][]cell, n)
	update := func(m *match.Match, l int) {
		k := m.J
		pi := scoring.EstimateGuesses(m, key)
		if l > 1 {
			pi *= find(optimal[m.I-1], l-1).pi
		}
		g := factorial(l)*pi + math.Pow(minGuessesBeforeGrowingSequence, float64(l-1))
		for _, c := range optimal[k] {
			if c.l <= l && c.g <= g {
				return
			}
		}
		optimal[k] = put(optimal[k], cell{l: l, m: m, pi: pi, g: g})
	}
	bruteforce := func(i, k int) *match.Match {
		return &match.Match{Pattern: "bruteforce", I: i, J: k, Token: key[i : k+1]}
	}
	for k := range n {
		slices.SortStableFunc(byEnd[k], func(a, b *match.Match) int { return a.I - b.I })
		for _, m := range byEnd[k] {
			if m.I == 0 {
				update(m, 1)
				continue
			}
			for _, c := range optimal[m.I-1] {
				update(m, c.l+1)
			}
		}
		// A bruteforce run from the start, or after a split that does not
		// already end in one (two runs side by side are one longer run).
		update(bruteforce(0, k), 1)
		for i := 1; i <= k; i++ {
			var m *match.Match
			for _, c := range optimal[i-1] {
				if c.m.Pattern == "bruteforce" {
					continue
				}
				if m == nil {
					m = bruteforce(i, k)
				}
				update(m, c.l+1)
			}
		}
	}
	// Unwind from the end: the best number of patterns, then each one's predecessor.
	best := optimal[n-1][0]
	for _, c := range optimal[n-1][1:] {
		if c.g < best.g {
			best = c
		}
	}
	seq := make([]*match.Match, best.l)
	for k, l := n-1, best.l; k >= 0 && l > 0; l-- {
		c := find(optimal[k], l)
		seq[l-1] = c.m
		k = c.m.I - 1
	}
	return best.g, seq
}

// find returns the cell of l patterns; the search only asks for ones it made.
func find(cells []cell, l int) cell {
	for _, c := range cells {
		if c.l == l {
			return c
		}
	}
	panic("password strength: no split of " + strconv.Itoa(l) + " patterns")
}

// put sets the cell of c.l patterns, keeping cells ordered by l.
func put(cells []cell, c cell) []cell {
	for i := range cells {
		if cells[i].l == c.l {
			cells[i] = c
			return cells
		}
		if cells[i].l > c.l {
			return slices.Insert(cells, i, c)
		}
	}
	return append(cells, c)
}

func factorial(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}
