package account

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// The word lists of zxcvbn (Dropbox, MIT licence), as the trustelem/zxcvbn
// module ships them in its frequency package: its 30,000 most common
// passwords (from leaked password lists, the breached-password check), and,
// ranked, English words from Wikipedia, the female and male names and
// surnames of the US census, and words of US television and film. They come
// in through go.mod; the package builds them as Go slices when a process
// starts (about 1.5 MB), the dictionary below is built from them on the
// first check.

// common-passwords.txt adds the passwords of Kandidat's own languages and
// trade (lösenord, heslo, kandidat) that an English list ranks low or misses.
//
//go:embed common-passwords.txt
var commonList string

// The dictionaries the strength estimate knows, by the names zxcvbn gives
// them.
const (
	dictPasswords uint32 = iota
	dictUserInputs
	dictEnglish
	dictFemaleNames
	dictMaleNames
	dictSurnames
	dictTVAndFilm
	dictCount
)

var dictNames = [dictCount]string{"passwords", "user_inputs", "english_wikipedia", "female_names", "male_names", "surnames", "us_tv_and_film"}

// dictionary holds lower-cased words sorted bytewise, each with its rank
// (1 = most frequent) in the list where it ranks best. It is a few flat
// slices rather than a map, so the ~170,000 words cost about 3 MB and give
// the garbage collector nothing to scan; words sharing a prefix sit together,
// which lets a match extend one character at a time.
type dictionary struct {
	text string   // the words, concatenated in order
	ends []uint32 // ends[i] is where word i ends in text
	meta []uint32 // rank<<4 | breached<<3 | list
	// maxRunes is the longest word, in characters.
	maxRunes int
}

type dictEntry struct {
	word string
	rank uint32
	list uint32
}

// newDictionary sorts entries (lower-cased already) and keeps, for a word in
// several lists, its best rank.
func newDictionary(entries []dictEntry) *dictionary {
	slices.SortFunc(entries, func(a, b dictEntry) int {
		if c := strings.Compare(a.word, b.word); c != 0 {
			return c
		}
		if a.rank != b.rank {
			return int(a.rank) - int(b.rank)
		}
		return int(a.list) - int(b.list)
	})
	d := &dictionary{ends: make([]uint32, 0, len(entries)), meta: make([]uint32, 0, len(entries))}
	var text strings.Builder
	size := 0
	for _, e := range entries {
		size += len(e.word)
	}
	text.Grow(size)
	for i, e := range entries {
		if e.word == "" {
			continue
		}
		if i > 0 && e.word == entries[i-1].word {
			if e.list == dictPasswords { // ranked better elsewhere, but breached too
				d.meta[len(d.meta)-1] |= 1 << 3
			}
			continue
		}
		text.WriteString(e.word)
		d.ends = append(d.ends, uint32(text.Len()))
		meta := e.rank<<4 | e.list
		if e.list == dictPasswords {
			meta |= 1 << 3
		}
		d.meta = append(d.meta, meta)
		d.maxRunes = max(d.maxRunes, utf8.RuneCountInString(e.word))
	}
	d.text = text.String()
	return d
}

func (d *dictionary) len() int { return len(d.ends) }

func (d *dictionary) word(i int) string {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.text[start:d.ends[i]]
}

func (d *dictionary) entry(i int) (rank, list uint32) { return d.meta[i] >> 4, d.meta[i] & 7 }

// narrow returns the part of [lo, hi) whose words start with p, given that
// every word there starts with p minus its last character.
func (d *dictionary) narrow(lo, hi int, p string) (int, int) {
	lo += searchRange(hi-lo, func(k int) bool { return d.word(lo+k) >= p })
	hi = lo + searchRange(hi-lo, func(k int) bool { return !strings.HasPrefix(d.word(lo+k), p) })
	return lo, hi
}

// searchRange is sort.Search without the closure escaping to the heap.
func searchRange(n int, f func(int) bool) int {
	i, j := 0, n
	for i < j {
		h := int(uint(i+j) >> 1)
		if !f(h) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// breached reports whether word is on a list of passwords.
func (d *dictionary) breached(word string) bool {
	i := searchRange(d.len(), func(k int) bool { return d.word(k) >= word })
	return i < d.len() && d.word(i) == word && d.meta[i]&(1<<3) != 0
}

// lowerWord is how the estimate compares words: each character lower-cased
// on its own, so that a password and its lower-cased form have the same
// characters at the same places.
func lowerWord(s string) string {
	return strings.Map(unicode.ToLower, s)
}

// builtin is the dictionary of breached passwords, Kandidat's own list and
// zxcvbn's English words, names and film and television words. It is built
// on first use, not at start: a server that never checks a password does not
// hold it.
var builtin = sync.OnceValue(func() *dictionary {
	d, err := loadBuiltin()
	if err != nil {
		panic(err) // the embedded data is part of the binary; its tests read it
	}
	return d
})

func loadBuiltin() (*dictionary, error) {
	entries := make([]dictEntry, 0, 180000)
	add := func(list uint32, words []string) {
		for i, w := range words {
			if w = lowerWord(strings.TrimSpace(w)); w != "" {
				entries = append(entries, dictEntry{word: w, rank: uint32(i + 1), list: list})
			}
		}
	}
	add(dictPasswords, strings.Split(commonList, "\n"))
	for name, list := range frequency.FrequencyLists {
		id := slices.Index(dictNames[:], name)
		if id < 0 || id == int(dictUserInputs) {
			return nil, fmt.Errorf("word lists: unknown list %q", name)
		}
		add(uint32(id), list)
	}
	return newDictionary(entries), nil
}

// isBreached reports a password (lower-cased) on the breached or the own list.
func isBreached(lower string) bool { return builtin().breached(lower) }
