package account

import (
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn/frequency"
	"github.com/trustelem/zxcvbn/scoring"
)

// zxcvbnDictionary is zxcvbn's own set of dictionaries (its 30,000 passwords
// instead of the breached list), to compare the estimate with trustelem's.
func zxcvbnDictionary() *dictionary {
	var entries []dictEntry
	for list, name := range dictNames {
		if list == int(dictUserInputs) {
			continue
		}
		for i, w := range frequency.FrequencyLists[name] {
			entries = append(entries, dictEntry{word: lowerWord(w), rank: uint32(i + 1), list: uint32(list)})
		}
	}
	return newDictionary(entries)
}

// TestEstimateAgreesWithZxcvbn: with zxcvbn's dictionaries, the estimate is
// zxcvbn's for the reference implementation's sample passwords. The numbers
// are trustelem/zxcvbn's (which passes the reference implementation's tests)
// with the same user inputs and 2026 as the reference year; passwords with
// years after 2019 are left out, as the estimate knows them as recent years
// and zxcvbn 4.4.2 (from 2016) does not.
func TestEstimateAgreesWithZxcvbn(t *testing.T) {
	defer func(y int) { scoring.ReferenceYear = y }(scoring.ReferenceYear)
	scoring.ReferenceYear = 2026
	e := &estimator{dict: zxcvbnDictionary(), user: userDictionary([]string{"alice", "smith", "acme"})}
	for _, c := range []struct {
		password string
		guesses  float64
	}{
		{"zxcvbn", 58},
		{"qwER43@!", 90470621.030783162},
		{"Tr0ub4dour&3", 19058000},
		{"correcthorsebatterystaple", 273500327700640},
		{"coRrecth0rseba++ery9.23.2007staple$", 5.1505626651063039e+20},
		{"p@ssword", 5},
		{"p@$$word", 9},
		{"123456", 2},
		{"123456789", 6},
		{"11111111", 64},
		{"zxcvbnm,./", 3889.0000000000005},
		{"love88", 16600},
		{"angel08", 22804},
		{"monkey13", 12911},
		{"iloveyou", 48},
		{"woaini", 11543},
		{"wang", 883},
		{"tianya", 206500},
		{"zhang198822", 88694780},
		{"li4478", 1000001},
		{"a6a4Aa8a", 100000001},
		{"b6b4Bb8b", 100000001},
		{"z6z4Zz8z", 100000001},
		{"aiIiAaIA", 100000001},
		{"zxXxZzXZ", 100000001},
		{"D0g..................", 442000},
		{"abcdefghijk987654321", 15000},
		{"neverforget13/3/1997", 4920409000},
		{"1qaz2wsx3edc", 1001},
		{"temppass22", 387500},
		{"briansmith", 15000},
		{"briansmith4mayor", 15100000000},
		{"password1", 190},
		{"viking", 244},
		{"thx1138", 209},
		{"ScoRpi0ns", 289664},
		{"do you know", 1000010000},
		{"ryanhunter2000", 100750000},
		{"rianhunter2000", 250000000},
		{"asdfghju7654rewq", 923189026.44306839},
		{"AOEUIDHG&*()LS_", 1280140890.9735801},
		{"12345678", 4},
		{"defghi6789", 25600},
		{"rosebud", 272},
		{"Rosebud", 543},
		{"ROSEBUD", 543},
		{"rosebuD", 543},
		{"ros3bud99", 64200},
		{"r0s3bud99", 118400},
		{"R0$38uD99", 1310800},
		{"verlineVANDERMARK", 24500856400},
		{"eheuczkqyq", 10000000001},
		{"rWibMFACxAUGZmxhVncy", 1e+20},
		{"Ba9ZyWABu99[BK#6MBgbH88Tofv)vs$w", 1.0000000000000001e+32},
		{"alice.smith1987", 15100000000},
		{"12/31/1999", 39421},
		{"1.1.91", 50400},
		{"aabaab", 2003},
		{"aaaaa", 61},
		{"abcabcabc", 40},
		{"97531", 41},
	} {
		if got, _ := e.guesses([]rune(c.password)); math.Abs(got-c.guesses) > 1e-9*c.guesses {
			t.Errorf("%q: %.6g guesses, zxcvbn %.6g", c.password, got, c.guesses)
		}
	}
	// Where trustelem departs from zxcvbn: the unit of a repeat is measured
	// with the user's words too, as the reference implementation does.
	if got, _ := e.guesses([]rune("acmeacmeacme")); got > 100 {
		t.Errorf("acmeacmeacme: %.6g guesses, want the user's word repeated (under 100)", got)
	}
}

// TestEstimateSplitsTheWholePassword: the patterns of the estimate follow each
// other and cover the password, in any script.
func TestEstimateSplitsTheWholePassword(t *testing.T) {
	for _, pw := range []string{"", "a", "correct horse 1", "Lösenord-1987!", "пароль123", "密码密码密码", "ab1ab1ab1",
		"qwerty\u0301uiop", strings.Repeat("é", 200), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "19.19.19.19.19"} {
		guesses, seq := estimate(pw, []string{"lösenord"})
		if guesses < 1 || math.IsNaN(guesses) {
			t.Errorf("%q: %v guesses", pw, guesses)
		}
		want := []rune(pw)
		if len(want) > maxEstimateRunes {
			want = want[:maxEstimateRunes]
		}
		next := 0
		for _, m := range seq {
			if m.I != next || m.J < m.I || len(m.Token) != m.J-m.I+1 {
				t.Fatalf("%q: %s match at %d..%d (%q) after %d", pw, m.Pattern, m.I, m.J, m.Token, next)
			}
			next = m.J + 1
		}
		if next != len(want) {
			t.Errorf("%q: the split ends at %d of %d characters", pw, next, len(want))
		}
	}
}

// TestBuiltinDictionary: the breached list and the own list are known whole
// as passwords; words only in the English lists are not.
func TestBuiltinDictionary(t *testing.T) {
	d := builtin()
	if d.len() < 80000 {
		t.Errorf("%d words, want the breached list and zxcvbn's lists", d.len())
	}
	for _, w := range []string{"123456", "dragon", "sommar", "heslo", "lösenord", "kandidat", "qwertzuiop", "zaq12wsx", "monday"} {
		if !isBreached(w) {
			t.Errorf("%q is not on the breached-password list", w)
		}
	}
	for _, w := range []string{"correcthorsebatterystaple", "placeholder", "dishwasher", ""} {
		if isBreached(w) {
			t.Errorf("%q is on the breached-password list", w)
		}
	}
	// Entries from the end of zxcvbn's 30,000 passwords are there too.
	for _, w := range frequency.FrequencyLists["passwords"][29990:] {
		if !isBreached(w) {
			t.Errorf("%q, near the end of the list, is not on it", w)
		}
	}
}

// TestNoStartUpCost: the package uses only the parts of trustelem/zxcvbn that
// build little when the program starts: its root and matching packages
// build every dictionary as a map at start (about 12 MB); its frequency
// package's word lists (1.5 MB of slices) are the one cost accepted.
func TestNoStartUpCost(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"github.com/trustelem/zxcvbn/adjacency": true, "github.com/trustelem/zxcvbn/match": true,
		"github.com/trustelem/zxcvbn/scoring": true, "github.com/trustelem/zxcvbn/frequency": true}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/trustelem/") && !allowed[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}

// BenchmarkLoadDictionary is the one-time cost of the first password check:
// reading the embedded lists and sorting them.
func BenchmarkLoadDictionary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadBuiltin(); err != nil {
			b.Fatal(err)
		}
	}
}
